//! HL7 v2.5.1 VXU samples of shared/data/hl7v2: the valid ones are accepted
//! with their content extracted, the invalid ones refused with a located
//! error, ACKs round-trip through our own parser, and no input (random or
//! mutated sample) makes the codec panic.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use time::macros::{date, offset, time};
use vaxgrid_interop::hl7v2::{
    ack, ack_context, mllp, parse_vxu, product_for_cvx, AckCode, CompletionStatus, ErrorCode,
    Hl7Error, Message, MllpDecoder, Precision, Severity, Vaccination, Vxu,
};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/hl7v2")
}

/// A sample file byte for byte: the files are used as they are.
fn shipped(name: &str) -> String {
    let path = data_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const VALID: &[&str] = &[
    "vxu-vn-astrazeneca-dose1.hl7",
    "vxu-vn-sinopharm-dose2.hl7",
    "vxu-cn-sinovac.hl7",
    "vxu-historical-record.hl7",
    "external/cdc-cvrs-z22-covid-new-vaccine.hl7",
    "external/cdc-cvrs-z22-covid-deferral.hl7",
    "external/lfh-ri-hib-new.hl7",
];
const INVALID: &[&str] = &["vxu-invalid-date.hl7", "vxu-invalid-no-rxa.hl7"];

fn accept(name: &str) -> Vxu {
    parse_vxu(&shipped(name)).unwrap_or_else(|errors| {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("{name} refused: {text:#?}")
    })
}

fn only_vaccination(vxu: &Vxu) -> &Vaccination {
    assert_eq!(vxu.vaccinations.len(), 1);
    &vxu.vaccinations[0]
}

#[test]
fn all_valid_samples_are_accepted_as_shipped() {
    for name in VALID {
        let vxu = accept(name);
        // Every sample follows the CDC layout: nothing to warn about.
        assert!(vxu.warnings.is_empty(), "{name}: {:?}", vxu.warnings);
        assert_eq!(vxu.header.message_code, "VXU", "{name}");
        assert_eq!(vxu.header.trigger_event, "V04", "{name}");
        assert_eq!(vxu.header.version, "2.5.1", "{name}");
    }
}

#[test]
fn astrazeneca_dose1() {
    let vxu = accept("vxu-vn-astrazeneca-dose1.hl7");
    let h = &vxu.header;
    assert_eq!(h.sending_application, "HIS-HALONG");
    assert_eq!(h.sending_facility, "HALONG-CHC");
    assert_eq!(h.receiving_application, "VAXGRID");
    assert_eq!(h.receiving_facility, "QN-CDC");
    assert_eq!(h.control_id, "QN-0001");
    assert_eq!(h.processing_id, "P");
    assert_eq!(h.message_structure.as_deref(), Some("VXU_V04"));
    assert_eq!(h.accept_ack_type.as_deref(), Some("ER"));
    assert_eq!(h.application_ack_type.as_deref(), Some("AL"));
    assert_eq!(h.profile.as_deref(), Some("Z22"));
    let ts = h.timestamp.unwrap();
    assert_eq!(
        (ts.date, ts.time, ts.offset),
        (date!(2021 - 07 - 15), Some(time!(10:15)), Some(offset!(+7)))
    );

    let p = &vxu.patient;
    assert_eq!(p.identifiers.len(), 1);
    assert_eq!(p.identifiers[0].id, "022080000123");
    assert_eq!(p.identifiers[0].assigning_authority.as_deref(), Some("VNM"));
    assert_eq!(p.identifiers[0].identifier_type.as_deref(), Some("NI"));
    assert_eq!(p.family_name, "Nguyễn");
    assert_eq!(p.given_names, "Văn Đức");
    assert_eq!(p.birth_date, Some(date!(1980 - 01 - 01)));
    assert_eq!(p.sex.as_deref(), Some("M"));
    assert_eq!(p.phone.as_deref(), Some("+84912345678"));
    let a = p.address.as_ref().unwrap();
    assert_eq!(a.street.as_deref(), Some("12 Lê Lợi"));
    assert_eq!(a.city.as_deref(), Some("Hạ Long"));
    assert_eq!(a.postal_code.as_deref(), Some("22"));
    assert_eq!(a.country.as_deref(), Some("VNM"));

    let v = only_vaccination(&vxu);
    assert_eq!(v.order_id.as_deref(), Some("QN-IZ-0001"));
    assert_eq!(v.administered_at.date, date!(2021 - 07 - 15));
    assert_eq!(v.administered_at.time, Some(time!(10:00)));
    assert_eq!(v.administered_at.precision, Precision::Second);
    assert_eq!(v.vaccine_code.code, "210");
    assert_eq!(v.vaccine_code.system, "CVX");
    assert_eq!(v.cvx(), Some("210"));
    assert_eq!(product_for_cvx(&v.vaccine_code.code), Some("AZ"));
    assert_eq!(v.amount.as_deref(), Some("0.5"));
    assert_eq!(v.units.as_deref(), Some("mL"));
    assert!(!v.historical);
    assert_eq!(v.facility.as_deref(), Some("HALONG-CHC"));
    assert_eq!(v.lot_number.as_deref(), Some("ABV5678"));
    assert_eq!(v.lot_expiry, Some(date!(2021 - 12 - 31)));
    let mvx = v.manufacturer.as_ref().unwrap();
    assert_eq!((mvx.code.as_str(), mvx.system.as_str()), ("ASZ", "MVX"));
    assert_eq!(v.completion_status, CompletionStatus::Complete);
    assert_eq!(v.action, "A");
    assert_eq!(v.route.as_ref().unwrap().code, "C28161");
    assert_eq!(v.site.as_ref().unwrap().code, "LD");
    assert_eq!(v.refusal_reason, None);
    assert_eq!(v.observations.len(), 1);
    let obx = &v.observations[0];
    assert_eq!(obx.code.code, "30956-7");
    assert_eq!(obx.value_type, "CE");
    assert_eq!(obx.value, "213");
    assert!(vxu.warnings.is_empty(), "{:?}", vxu.warnings);
}

#[test]
fn sinopharm_dose2() {
    let vxu = accept("vxu-vn-sinopharm-dose2.hl7");
    let p = &vxu.patient;
    assert_eq!(p.identifiers[0].id, "022185000456");
    assert_eq!(p.family_name, "Trần");
    assert_eq!(p.given_names, "Thị Hoa");
    assert_eq!(p.birth_date, Some(date!(1985 - 04 - 12)));
    assert_eq!(p.sex.as_deref(), Some("F"));
    assert_eq!(p.phone, None);
    let a = p.address.as_ref().unwrap();
    assert_eq!(a.street.as_deref(), Some("45 Trần Hưng Đạo"));
    assert_eq!(a.city.as_deref(), Some("Cẩm Phả"));
    let v = only_vaccination(&vxu);
    assert_eq!(v.cvx(), Some("510"));
    assert_eq!(product_for_cvx(v.cvx().unwrap()), Some("BIBP"));
    assert_eq!(v.administered_at.date, date!(2021 - 08 - 05));
    assert_eq!(v.administered_at.time, Some(time!(08:45)));
    assert_eq!(v.lot_number.as_deref(), Some("202107B15"));
    assert_eq!(v.lot_expiry, Some(date!(2022 - 06 - 01)));
    assert_eq!(v.manufacturer, None);
    assert_eq!(v.facility.as_deref(), Some("CAMPHA-HOSP"));
    assert_eq!(v.order_id.as_deref(), Some("QN-IZ-0002"));
    assert_eq!(v.site.as_ref().unwrap().code, "LA");
    assert!(v.observations.is_empty());
    assert!(!v.historical);
    assert_eq!(v.completion_status, CompletionStatus::Complete);
    assert_eq!(v.action, "A");
    assert!(vxu.warnings.is_empty(), "{:?}", vxu.warnings);
}

#[test]
fn chinese_sinovac() {
    let vxu = accept("vxu-cn-sinovac.hl7");
    assert_eq!(vxu.header.timestamp.unwrap().offset, Some(offset!(+8)));
    let p = &vxu.patient;
    assert_eq!(p.identifiers[0].id, "11010519491231002X");
    assert_eq!(p.identifiers[0].assigning_authority.as_deref(), Some("CHN"));
    assert_eq!(p.family_name, "王");
    assert_eq!(p.given_names, "秀英");
    assert_eq!(p.birth_date, Some(date!(1949 - 12 - 31)));
    let a = p.address.as_ref().unwrap();
    assert_eq!(a.street, None);
    assert_eq!(a.city.as_deref(), Some("上栗县"));
    assert_eq!(a.postal_code.as_deref(), Some("360322"));
    assert_eq!(a.country.as_deref(), Some("CHN"));
    let v = only_vaccination(&vxu);
    assert_eq!(v.cvx(), Some("511"));
    assert_eq!(product_for_cvx(v.cvx().unwrap()), Some("SINOVAC"));
    assert_eq!(v.administered_at.date, date!(2021 - 06 - 10));
    assert_eq!(v.lot_number.as_deref(), Some("K202105A"));
    assert_eq!(v.lot_expiry, Some(date!(2022 - 01 - 01)));
    assert_eq!(v.facility.as_deref(), Some("SHANGLI-TOWNSHIP-01"));
    assert_eq!(v.order_id.as_deref(), Some("SL-IZ-0001"));
    assert_eq!(v.site.as_ref().unwrap().text, "Right Arm");
    assert_eq!(v.manufacturer, None);
    assert_eq!(v.completion_status, CompletionStatus::Complete);
    assert_eq!(v.action, "A");
    assert!(vxu.warnings.is_empty(), "{:?}", vxu.warnings);
}

#[test]
fn historical_record() {
    let vxu = accept("vxu-historical-record.hl7");
    let v = only_vaccination(&vxu);
    assert!(v.historical);
    assert_eq!(v.cvx(), Some("208"));
    assert_eq!(product_for_cvx(v.cvx().unwrap()), Some("PFIZER"));
    assert_eq!(v.administered_at.date, date!(2021 - 03 - 01));
    assert_eq!(v.administered_at.time, None);
    assert_eq!(v.administered_at.precision, Precision::Day);
    assert_eq!(v.amount, None, "999 means unknown");
    assert_eq!(v.lot_number, None);
    assert_eq!(v.facility, None);
    assert_eq!(v.route, None);
    assert_eq!(v.lot_expiry, None);
    assert_eq!(v.manufacturer, None);
    assert_eq!(v.completion_status, CompletionStatus::Complete);
    assert_eq!(v.action, "A");
    assert!(vxu.warnings.is_empty(), "{:?}", vxu.warnings);
}

#[test]
fn cdc_new_covid_vaccine() {
    let vxu = accept("external/cdc-cvrs-z22-covid-new-vaccine.hl7");
    let h = &vxu.header;
    assert_eq!(h.sending_application, "Test EHR Application");
    assert_eq!(h.sending_facility, "X68");
    assert_eq!(h.receiving_application, "");
    assert_eq!(h.receiving_facility, "NIST Test Iz Reg");
    assert_eq!(h.control_id, "NIST-IZ-001.00");
    assert_eq!(h.timestamp.unwrap().offset, Some(offset!(-5)));
    assert_eq!(h.profile.as_deref(), Some("Z22"));
    let p = &vxu.patient;
    let ids: Vec<(&str, Option<&str>, Option<&str>)> = p
        .identifiers
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.assigning_authority.as_deref(),
                i.identifier_type.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("123456", Some("MYEHR"), Some("MR")),
            ("987633", Some("MYIIS"), Some("SR"))
        ]
    );
    assert_eq!(p.family_name, "Winchester");
    assert_eq!(p.given_names, "Dorothy Amelia");
    assert_eq!(p.birth_date, Some(date!(1984 - 06 - 15)));
    assert_eq!(p.phone.as_deref(), Some("+12155551213"));
    let a = p.address.as_ref().unwrap();
    assert_eq!(a.street.as_deref(), Some("5 Fifth Street"));
    assert_eq!(a.city.as_deref(), Some("Allentown"));
    assert_eq!(a.state_or_province.as_deref(), Some("PA"));
    assert_eq!(a.postal_code.as_deref(), Some("18103"));
    assert_eq!(a.country.as_deref(), Some("USA"));

    let v = only_vaccination(&vxu);
    assert_eq!(v.order_id.as_deref(), Some("197030"));
    // Upstream uses CVX 24 as a stand-in for a COVID-19 code: accepted
    // structurally, unknown to the campaign.
    assert_eq!(v.cvx(), Some("24"));
    assert_eq!(product_for_cvx("24"), None);
    let ndc = v.vaccine_alternate_code.as_ref().unwrap();
    assert_eq!(
        (ndc.code.as_str(), ndc.system.as_str()),
        ("00006-1101-99", "NDC")
    );
    assert_eq!(v.amount.as_deref(), Some("0.5"));
    assert_eq!(v.facility.as_deref(), Some("123456"));
    assert_eq!(v.lot_number.as_deref(), Some("8L7B3418"));
    assert_eq!(v.lot_expiry, Some(date!(2021 - 12 - 31)));
    assert_eq!(v.manufacturer.as_ref().unwrap().code, "PMC");
    assert_eq!(v.route.as_ref().unwrap().code, "C28161");
    assert_eq!(v.site.as_ref().unwrap().code, "RD");
    assert_eq!(v.observations.len(), 7);
    assert_eq!(v.observations[4].value_type, "NM");
    assert_eq!(v.observations[4].value, "1");
}

#[test]
fn cdc_deferral_is_not_administered() {
    let vxu = accept("external/cdc-cvrs-z22-covid-deferral.hl7");
    let v = only_vaccination(&vxu);
    assert_eq!(v.completion_status, CompletionStatus::NotAdministered);
    assert_eq!(v.completion_status.code(), "NA");
    assert_eq!(v.order_id.as_deref(), Some("9999"));
    assert_eq!(v.amount, None);
    assert_eq!(v.lot_number, None);
    assert_eq!(v.observations.len(), 3);
    let contraindication = &v.observations[0];
    assert_eq!(contraindication.code.code, "30945-0");
    assert_eq!(contraindication.value, "VXC23");
    assert_eq!(
        contraindication.value_coded.as_ref().unwrap().system,
        "CDCPHINVS"
    );
    assert_eq!(v.observations[2].value, "20210115");
}

#[test]
fn lfh_rhode_island_hib() {
    let vxu = accept("external/lfh-ri-hib-new.hl7");
    let h = &vxu.header;
    assert_eq!(h.sending_application, "MYEHR2.5");
    assert_eq!(h.receiving_facility, "RIHEALTH");
    assert_eq!(h.control_id, "20130531RI881401010105");
    assert_eq!(h.timestamp.unwrap().precision, Precision::Day);
    assert_eq!(h.accept_ack_type.as_deref(), Some("NE"));
    let p = &vxu.patient;
    assert_eq!(p.identifiers[0].id, "432155");
    assert_eq!(p.identifiers[0].assigning_authority, None);
    assert_eq!(p.identifiers[0].identifier_type.as_deref(), Some("MR"));
    assert_eq!(p.family_name, "Patient");
    assert_eq!(p.given_names, "Johnny New");
    assert_eq!(p.birth_date, Some(date!(2013 - 04 - 14)));
    assert_eq!(
        p.address.as_ref().unwrap().state_or_province.as_deref(),
        Some("WI")
    );
    assert_eq!(p.phone, None, "the phone belongs to NK1, not PID");
    let v = only_vaccination(&vxu);
    assert_eq!(v.order_id.as_deref(), Some("197027"));
    assert_eq!(v.cvx(), Some("48"));
    assert_eq!(v.units.as_deref(), Some("ML"));
    assert_eq!(v.facility.as_deref(), Some("RI2050"));
    assert_eq!(v.lot_number.as_deref(), Some("33k2a"));
    assert_eq!(v.lot_expiry, Some(date!(2013 - 12 - 10)));
    assert_eq!(v.site.as_ref().unwrap().code, "RT");
    assert_eq!(v.observations.len(), 5);
    assert_eq!(v.observations[4].value_type, "ST");
    assert_eq!(v.observations[4].value, "Some text from doctor");
    assert_eq!(v.observations[1].sub_id.as_deref(), Some("2"));
}

fn refuse(name: &str) -> Vec<Hl7Error> {
    match parse_vxu(&shipped(name)) {
        Ok(vxu) => panic!("{name} accepted: {vxu:?}"),
        Err(errors) => errors,
    }
}

/// The impossible administration date is the one problem of the message.
#[test]
fn invalid_date_names_rxa_3() {
    let problems = refuse("vxu-invalid-date.hl7");
    let errors: Vec<&Hl7Error> = problems.iter().filter(|e| e.is_error()).collect();
    assert_eq!(errors.len(), 1, "{problems:?}");
    let e = errors[0];
    assert_eq!((e.segment.as_str(), e.sequence, e.field), ("RXA", 1, 3));
    assert_eq!(e.code, ErrorCode::DataTypeError);
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(
        e.to_string(),
        "RXA-3: not a valid date/time: 20211345250000"
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn missing_rxa_is_named() {
    let errors = refuse("vxu-invalid-no-rxa.hl7");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!((e.segment.as_str(), e.sequence, e.field), ("RXA", 1, 0));
    assert_eq!(e.code, ErrorCode::RequiredFieldMissing);
    assert_eq!(e.code.code(), "101");
}

#[test]
fn ack_of_invalid_messages_round_trips() {
    for (name, control_id, location) in [
        ("vxu-invalid-date.hl7", "QN-BAD2", "RXA^1^3"),
        ("vxu-invalid-no-rxa.hl7", "QN-BAD1", "RXA^1"),
    ] {
        let text = shipped(name);
        let errors = parse_vxu(&text).unwrap_err();
        let code = AckCode::for_errors(&errors);
        assert_eq!(code, AckCode::Error);
        let context = ack_context(&text);
        let reply = ack(&context, code, &errors, "ACK-7", "20210715101600+0700");
        assert!(reply.starts_with(
            "MSH|^~\\&|VAXGRID|QN-CDC|HIS-HALONG|HALONG-CHC|20210715101600+0700||ACK^V04^ACK|ACK-7|P|2.5.1|||NE|NE\r"
        ));
        assert!(
            reply.contains(&format!("\rMSA|AE|{control_id}\r")),
            "{reply}"
        );
        assert!(reply.contains(&format!("\rERR||{location}|")), "{reply}");

        let parsed = Message::parse(&reply).unwrap();
        let ids: Vec<&str> = parsed.segments().iter().map(|s| s.id()).collect();
        assert_eq!(ids[..2], ["MSH", "MSA"]);
        assert_eq!(ids.len(), 2 + errors.len());
        assert!(ids[2..].iter().all(|id| *id == "ERR"));
        let msh = &parsed.segments()[0];
        assert_eq!(msh.value(9, 1), "ACK");
        assert_eq!(msh.value(9, 2), "V04");
        assert_eq!(msh.value(10, 1), "ACK-7");
        let msa = parsed.segment("MSA").unwrap();
        assert_eq!((msa.value(1, 1), msa.value(2, 1)), ("AE", control_id));
        let err = parsed.segment("ERR").unwrap();
        assert_eq!(err.value(2, 1), "RXA");
        assert_eq!(err.value(2, 2), "1");
        assert_eq!(err.value(3, 1), errors[0].code.code());
        assert_eq!(err.value(3, 3), "HL70357");
        assert_eq!(err.value(4, 1), "E");
        assert_eq!(err.value(8, 1), errors[0].to_string());
    }
}

#[test]
fn ack_of_accepted_messages() {
    for name in VALID {
        let text = shipped(name);
        let vxu = parse_vxu(&text).unwrap();
        let reply = ack(
            &ack_context(&text),
            AckCode::for_errors(&vxu.warnings),
            &vxu.warnings,
            "A1",
            "20210715101600+0700",
        );
        let parsed = Message::parse(&reply).unwrap();
        let msa = parsed.segment("MSA").unwrap();
        assert_eq!(msa.value(1, 1), "AA", "{name}");
        assert_eq!(msa.value(2, 1), vxu.header.control_id, "{name}");
        // Nothing to report on a well-formed sample: no ERR at all.
        assert_eq!(parsed.segments_named("ERR").count(), 0, "{name}");
        let msh = &parsed.segments()[0];
        assert_eq!(msh.value(3, 1), vxu.header.receiving_application, "{name}");
        assert_eq!(msh.value(5, 1), vxu.header.sending_application, "{name}");
    }
}

#[test]
fn line_ends_and_mllp_framing_are_tolerated() {
    let text = shipped("vxu-vn-astrazeneca-dose1.hl7");
    let expected = parse_vxu(&text).unwrap();
    let crlf = text.replace('\r', "\r\n");
    let lf = text.replace('\r', "\n");
    let framed = String::from_utf8(mllp::frame(&text)).unwrap();
    for variant in [crlf, lf, framed] {
        assert_eq!(parse_vxu(&variant).unwrap(), expected);
    }
}

#[test]
fn samples_survive_mllp_in_small_reads() {
    let mut stream = Vec::new();
    for name in VALID.iter().chain(INVALID) {
        stream.extend(b"\r\n");
        stream.extend(mllp::frame(&shipped(name)));
    }
    let mut decoder = MllpDecoder::new();
    let mut messages = Vec::new();
    for chunk in stream.chunks(7) {
        decoder.push(chunk);
        while let Some(message) = decoder.next_message() {
            messages.push(message.unwrap());
        }
    }
    let expected: Vec<String> = VALID.iter().chain(INVALID).map(|n| shipped(n)).collect();
    assert_eq!(messages, expected);
}

// ---------------------------------------------------------------------------
// Robustness: nothing panics, every refusal is explained and located.

fn check_outcome(text: &str) -> Result<(), TestCaseError> {
    match parse_vxu(text) {
        Ok(vxu) => {
            prop_assert!(vxu.warnings.iter().all(|w| !w.is_error()));
            prop_assert!(!vxu.vaccinations.is_empty());
            check_errors(&vxu.warnings)?;
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            prop_assert!(errors.iter().any(Hl7Error::is_error));
            check_errors(&errors)?;
            // The ACK stays well-formed whatever the errors say.
            let reply = ack(
                &ack_context(text),
                AckCode::for_errors(&errors),
                &errors,
                "P1",
                "20210715101600+0700",
            );
            let parsed = Message::parse(&reply).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.segments().len(), 2 + errors.len());
            prop_assert!(parsed.segments_named("ERR").count() == errors.len());
            let msa = parsed.segment("MSA");
            prop_assert!(msa.is_some_and(|m| m.value(2, 1) == ack_context(text).control_id.trim()));
        }
    }
    Ok(())
}

fn check_errors(errors: &[Hl7Error]) -> Result<(), TestCaseError> {
    for e in errors {
        prop_assert!(!e.message.is_empty(), "{:?}", e);
        prop_assert!(!e.segment.is_empty(), "{:?}", e);
        prop_assert!(e.sequence >= 1, "{:?}", e);
        prop_assert!(!e.to_string().is_empty());
    }
    Ok(())
}

fn all_samples() -> Vec<Vec<u8>> {
    VALID
        .iter()
        .chain(INVALID)
        .map(|name| shipped(name).into_bytes())
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Insert(usize, u8),
    Replace(usize, u8),
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation], truncate: Option<usize>) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Delete(at) if !bytes.is_empty() => {
                bytes.remove(at % len);
            }
            Mutation::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            Mutation::Replace(at, b) if !bytes.is_empty() => bytes[at % len] = b,
            _ => {}
        }
    }
    if let Some(t) = truncate {
        let keep = t % (bytes.len() + 1);
        bytes.truncate(keep);
    }
    bytes
}

/// Bytes that matter to the parser, so mutations hit structure often.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(b"|^~\\&\r\n\x0b\x1c0129MSHPIDRXAORCOBXRXRZ-+. ".to_vec()),
        1 => any::<u8>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), interesting_byte()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        (any::<usize>(), interesting_byte()).prop_map(|(at, b)| Mutation::Replace(at, b)),
    ]
}

/// Text built from HL7-ish pieces, starting like a real header.
fn hl7ish_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("|".to_string()),
        Just("^".to_string()),
        Just("~".to_string()),
        Just("&".to_string()),
        Just("\\".to_string()),
        Just("\r".to_string()),
        Just("\\F\\".to_string()),
        Just("\\X0D\\".to_string()),
        Just("PID|1||".to_string()),
        Just("RXA|0|1|".to_string()),
        Just("ORC|RE||".to_string()),
        Just("RXR|".to_string()),
        Just("OBX|1|CE|".to_string()),
        Just("20210715".to_string()),
        Just("+0700".to_string()),
        Just("210^X^CVX".to_string()),
        "[A-Z0-9 ]{0,6}",
        "\\PC{0,4}",
    ];
    (
        prop_oneof![
            Just("MSH|^~\\&|A|B|C|D|20210715||VXU^V04|ID|P|2.5.1\r".to_string()),
            Just("MSH|".to_string()),
            Just(String::new()),
        ],
        prop::collection::vec(piece, 0..60),
    )
        .prop_map(|(head, pieces)| head + &pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_strings_never_panic(text in "\\PC{0,300}") {
        check_outcome(&text)?;
    }

    #[test]
    fn hl7_like_strings_never_panic(text in hl7ish_text()) {
        check_outcome(&text)?;
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_outcome(&String::from_utf8_lossy(&bytes))?;
        let mut decoder = MllpDecoder::with_max_frame(64);
        decoder.push(&bytes);
        while let Some(message) = decoder.next_message() {
            if let Ok(text) = message {
                prop_assert!(text.len() <= 64);
                check_outcome(&text)?;
            }
        }
        prop_assert!(decoder.buffered_len() <= 64 + 2);
    }

    #[test]
    fn mutated_samples_never_panic(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 0..12),
        truncate in prop::option::weighted(0.3, any::<usize>()),
        chunk in 1usize..64,
    ) {
        let samples = all_samples();
        let original = index.get(&samples).clone();
        let bytes = apply(original, &mutations, truncate);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        check_outcome(&text)?;

        // The same bytes framed, delivered in small reads.
        let mut stream = vec![mllp::START_BLOCK];
        stream.extend(&bytes);
        stream.extend([mllp::END_BLOCK, mllp::CARRIAGE_RETURN]);
        let mut decoder = MllpDecoder::new();
        for piece in stream.chunks(chunk) {
            decoder.push(piece);
            while let Some(message) = decoder.next_message() {
                if let Ok(text) = message {
                    check_outcome(&text)?;
                }
            }
        }
    }
}

/// A hostile but frame-sized message (1 MiB of broken RXA) is processed in
/// linear time and every problem is still reported.
#[test]
fn large_message_stays_fast() {
    let mut text = String::from(
        "MSH|^~\\&|A|B|C|D|20210715||VXU^V04|ID|P|2.5.1\rPID|1||X^^^^MR||Doe^J||19800101|M",
    );
    let bad = "\rRXA|0|1|20211345||210^AZ^CVX||||00";
    let count = (mllp::MAX_FRAME_BYTES - text.len()) / bad.len();
    for _ in 0..count {
        text.push_str(bad);
    }
    let started = std::time::Instant::now();
    let errors = parse_vxu(&text).unwrap_err();
    assert_eq!(errors.len(), count);
    assert_eq!(errors.last().map(|e| e.sequence), u32::try_from(count).ok());
    let reply = ack(
        &ack_context(&text),
        AckCode::Error,
        &errors,
        "A",
        "20210715",
    );
    assert_eq!(reply.matches("\rERR|").count(), count);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
