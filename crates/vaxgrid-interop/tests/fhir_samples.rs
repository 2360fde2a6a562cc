//! The FHIR samples in shared/data/fhir (project-written and the official
//! R4 examples) through the codec, and property tests feeding it arbitrary
//! and mutated JSON.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};
use time::macros::date;
use vaxgrid_interop::fhir::{
    capability_statement, check_registration, immunization_from_fhir, immunization_to_fhir,
    operation_outcome, parse_transaction, patient_from_fhir, patient_to_fhir, search_bundle,
    transaction_response, DateTimePrecision, EntryOutcome, Gender, ImmunizationStatus, Issue,
    IssueCode, Method, Occurrence, Resource,
};

const PATIENTS: &[&str] = &[
    "patient-vn.json",
    "hl7-r4-examples/Patient-example.json",
    "hl7-r4-examples/Patient-pat1.json",
];

const IMMUNIZATIONS: &[&str] = &[
    "immunization-vn.json",
    "hl7-r4-examples/Immunization-example.json",
    "hl7-r4-examples/Immunization-historical.json",
    "hl7-r4-examples/Immunization-notGiven.json",
];

const BUNDLE: &str = "bundle-transaction.json";

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fhir")
}

fn load(name: &str) -> Value {
    let path = data_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// True for a value holding only empty objects and arrays: invalid in FHIR
/// (ele-1), so the codec need not reproduce it.
fn is_hollow(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.values().all(is_hollow),
        Value::Array(a) => a.iter().all(is_hollow),
        _ => false,
    }
}

/// Every leaf of `input` whose path is missing from `output` or has another
/// value there.
fn lost_paths(input: &Value, output: &Value) -> Vec<String> {
    fn walk(input: &Value, output: Option<&Value>, path: &str, lost: &mut Vec<String>) {
        match input {
            Value::Object(m) => {
                for (k, v) in m {
                    let o = output.and_then(|o| o.get(k));
                    walk(v, o, &format!("{path}.{k}"), lost);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    let o = output.and_then(|o| o.get(i));
                    walk(v, o, &format!("{path}[{i}]"), lost);
                }
            }
            leaf => {
                if output != Some(leaf) {
                    lost.push(format!("{path} = {leaf}, exported {output:?}"));
                }
            }
        }
    }
    let mut lost = Vec::new();
    if !is_hollow(input) {
        walk(input, Some(output), "", &mut lost);
    }
    lost
}

fn assert_nothing_lost(name: &str, input: &Value, output: &Value) {
    let lost = lost_paths(input, output);
    assert!(lost.is_empty(), "{name}: export lost {lost:#?}");
}

#[test]
fn patient_samples_round_trip_every_element() {
    for name in PATIENTS {
        let input = load(name);
        let data = patient_from_fhir(&input).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let output = patient_to_fhir(&data);
        assert_nothing_lost(name, &input, &output);
        let again = patient_from_fhir(&output).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(again, data, "{name}: from → to → from");
        assert_eq!(patient_to_fhir(&again), output, "{name}: export is stable");
    }
}

#[test]
fn immunization_samples_round_trip_every_element() {
    for name in IMMUNIZATIONS {
        let input = load(name);
        let data = immunization_from_fhir(&input).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let output = immunization_to_fhir(&data);
        assert_nothing_lost(name, &input, &output);
        let again = immunization_from_fhir(&output).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(again, data, "{name}: from → to → from");
        assert_eq!(
            immunization_to_fhir(&again),
            output,
            "{name}: export is stable"
        );
    }
}

#[test]
fn patient_vn_maps_the_vaxgrid_fields() {
    let p = patient_from_fhir(&load("patient-vn.json")).unwrap();
    assert_eq!(p.id.as_deref(), Some("vn-022080000123"));
    assert_eq!(p.identifiers.len(), 1);
    assert_eq!(p.identifiers[0].value, "022080000123");
    assert_eq!(
        p.identifiers[0].system.as_deref(),
        Some("urn:oid:2.16.704.1.0.1")
    );
    assert_eq!(p.identifiers[0].type_code, None);
    assert_eq!(p.family, "Nguyễn");
    assert_eq!(p.given, ["Văn", "Đức"]);
    assert_eq!(p.full_name, "Nguyễn Văn Đức");
    assert_eq!(p.birth_date, Some(date!(1980 - 01 - 01)));
    assert!(check_registration(&p).is_ok());
    assert_eq!(p.sex, Gender::Male);
    assert_eq!(p.phone.as_deref(), Some("+84912345678"));
    let address = p.address.as_ref().unwrap();
    assert_eq!(address.line, ["12 Lê Lợi"]);
    assert_eq!(address.city.as_deref(), Some("Hạ Long"));
    assert_eq!(address.state.as_deref(), Some("Quảng Ninh"));
    assert_eq!(address.country.as_deref(), Some("VN"));
    // Kept: the identifier type's text, the name's text, the phone marker.
    assert_eq!(
        p.extra["identifier"][0]["type"]["text"],
        "Căn cước công dân"
    );
    assert_eq!(p.extra["name"][0]["text"], "Nguyễn Văn Đức");
}

#[test]
fn official_patient_example_keeps_unmapped_elements() {
    let p = patient_from_fhir(&load("hl7-r4-examples/Patient-example.json")).unwrap();
    assert_eq!(p.full_name, "Chalmers Peter James");
    assert_eq!(p.identifiers[0].type_code.as_deref(), Some("MR"));
    assert_eq!(p.phone.as_deref(), Some("(03) 5555 6473"));
    assert_eq!(p.birth_date, Some(date!(1974 - 12 - 25)));
    assert_eq!(
        p.address.as_ref().unwrap().postal_code.as_deref(),
        Some("3999")
    );
    assert_eq!(
        p.extra["_birthDate"]["extension"][0]["valueDateTime"],
        "1974-12-25T14:35:45-05:00"
    );
    assert_eq!(p.extra["name"][2]["family"], "Windsor");
    assert_eq!(
        p.extra["contact"][0]["name"]["_family"]["extension"][0]["valueString"],
        "VV"
    );
    assert_eq!(p.extra["deceasedBoolean"], false);

    let pat1 = patient_from_fhir(&load("hl7-r4-examples/Patient-pat1.json")).unwrap();
    assert_eq!(pat1.full_name, "Donald Duck");
    assert_eq!(pat1.phone, None);
    assert_eq!(pat1.address, None);
    // pat1 has no birthDate: valid FHIR, kept as it is, but vaxgrid cannot
    // register that person.
    assert_eq!(pat1.birth_date, None);
    let issues = check_registration(&pat1).unwrap_err();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].expression, "Patient.birthDate");
    assert_eq!(issues[0].code, IssueCode::Required);
    for kept in [
        "link",
        "photo",
        "contact",
        "managingOrganization",
        "text",
        "active",
    ] {
        assert!(pat1.extra.get(kept).is_some(), "Patient-pat1 lost {kept}");
    }
}

#[test]
fn official_immunization_examples() {
    let ex = immunization_from_fhir(&load("hl7-r4-examples/Immunization-example.json")).unwrap();
    assert_eq!(ex.status, ImmunizationStatus::Completed);
    assert_eq!(
        ex.vaccine[0].system.as_deref(),
        Some("urn:oid:1.2.36.1.2001.1005.17")
    );
    assert_eq!(ex.vaccine[0].code.as_deref(), Some("FLUVAX"));
    assert_eq!(
        ex.occurrence,
        Occurrence::DateTime {
            value: "2013-01-10".into(),
            date: date!(2013 - 01 - 10),
            precision: DateTimePrecision::Day
        }
    );
    assert_eq!(ex.patient_reference, "Patient/example");
    assert_eq!(ex.lot_number.as_deref(), Some("AAJN11K"));
    assert_eq!(ex.expiration_date, Some(date!(2015 - 02 - 15)));
    assert_eq!(ex.location_reference.as_deref(), Some("Location/1"));
    assert_eq!(ex.site.as_ref().and_then(|s| s.code.as_deref()), Some("LA"));
    assert_eq!(ex.manufacturer_display, None);
    for kept in [
        "fundingSource",
        "programEligibility",
        "education",
        "note",
        "route",
        "doseQuantity",
    ] {
        assert!(
            ex.extra.get(kept).is_some(),
            "Immunization-example lost {kept}"
        );
    }
    assert_eq!(ex.extra["vaccineCode"]["text"], "Fluvax (Influenza)");

    let hist =
        immunization_from_fhir(&load("hl7-r4-examples/Immunization-historical.json")).unwrap();
    assert_eq!(hist.occurrence, Occurrence::Text("January 2012".into()));
    assert_eq!(hist.primary_source, Some(false));
    assert_eq!(hist.extra["reportOrigin"]["coding"][0]["code"], "record");

    let not_given =
        immunization_from_fhir(&load("hl7-r4-examples/Immunization-notGiven.json")).unwrap();
    assert_eq!(not_given.status, ImmunizationStatus::NotDone);
    let reason = not_given.status_reason.unwrap();
    assert_eq!(reason.code.as_deref(), Some("MEDPREC"));
    assert_eq!(reason.display.as_deref(), Some("medical precaution"));

    let vn = immunization_from_fhir(&load("immunization-vn.json")).unwrap();
    assert_eq!((vn.dose_number, vn.series_doses), (Some(1), Some(2)));
    assert_eq!(vn.occurrence.date(), Some(date!(2021 - 07 - 15)));
}

#[test]
fn invalid_immunization_is_refused_precisely() {
    let issues = immunization_from_fhir(&load("immunization-invalid.json")).unwrap_err();
    let status = issues
        .iter()
        .find(|i| i.expression == "Immunization.status")
        .expect("an issue on Immunization.status");
    assert_eq!(status.code, IssueCode::CodeInvalid);
    assert!(status.diagnostics.contains("finished"));
    assert!(status
        .diagnostics
        .contains("completed | entered-in-error | not-done"));
    let date = issues
        .iter()
        .find(|i| i.expression == "Immunization.occurrenceDateTime")
        .expect("an issue on Immunization.occurrenceDateTime");
    assert_eq!(date.code, IssueCode::Value);
    assert!(date.diagnostics.contains("2021-13-40"));
    assert_eq!(issues.len(), 2, "{issues:#?}");

    let oo = operation_outcome(&issues);
    assert_eq!(oo["resourceType"], "OperationOutcome");
    let list = oo["issue"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for (json, issue) in list.iter().zip(&issues) {
        assert_eq!(json["severity"], "error");
        assert_eq!(json["code"], issue.code.as_str());
        assert_eq!(json["expression"], json!([issue.expression]));
        assert_eq!(json["diagnostics"], issue.diagnostics.as_str());
    }
}

#[test]
fn transaction_bundle_links_immunization_to_patient() {
    let input = load(BUNDLE);
    let tx = parse_transaction(&input).unwrap();
    assert_eq!(tx.entries.len(), 2);
    let (patient_entry, imm_entry) = (&tx.entries[0], &tx.entries[1]);
    assert_eq!(patient_entry.method, Method::Post);
    assert_eq!(patient_entry.url, "Patient");
    let Resource::Patient(patient) = &patient_entry.resource else {
        panic!("entry 0 is not a Patient");
    };
    assert_eq!(patient.full_name, "Nguyễn Văn Đức");
    let Resource::Immunization(imm) = &imm_entry.resource else {
        panic!("entry 1 is not an Immunization");
    };
    assert_eq!(imm_entry.url, "Immunization");
    assert_eq!(
        Some(imm.patient_reference.as_str()),
        patient_entry.full_url.as_deref()
    );
    assert_eq!(
        patient_entry.full_url.as_deref(),
        Some("urn:uuid:6f1c1f5e-7c1e-4d57-9a0e-7d1b8f3f2a11")
    );

    // Each resource of the Bundle round-trips like the single samples.
    for (i, entry) in tx.entries.iter().enumerate() {
        let resource_in = &input["entry"][i]["resource"];
        let out = entry.resource.to_fhir();
        assert_nothing_lost(&format!("bundle entry {i}"), resource_in, &out);
    }

    let response = transaction_response(&[
        EntryOutcome::created("Patient/p1/_history/1"),
        EntryOutcome::created("Immunization/i1/_history/1"),
    ]);
    assert_eq!(response["resourceType"], "Bundle");
    assert_eq!(response["type"], "transaction-response");
    assert_eq!(response["entry"][1]["response"]["status"], "201 Created");
    assert_eq!(
        response["entry"][1]["response"]["location"],
        "Immunization/i1/_history/1"
    );
}

#[test]
fn capability_statement_declares_r4_and_patient_search() {
    let cs = capability_statement("https://vaxgrid.example/fhir", "0.1.0");
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    assert_eq!(cs["status"], "active");
    assert_eq!(cs["kind"], "instance");
    let resources = cs["rest"][0]["resource"].as_array().unwrap();
    let imm = resources
        .iter()
        .find(|r| r["type"] == "Immunization")
        .unwrap();
    let params = imm["searchParam"].as_array().unwrap();
    assert!(params
        .iter()
        .any(|p| p["name"] == "patient" && p["type"] == "reference"));
    let codes: Vec<&Value> = imm["interaction"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["code"])
        .collect();
    assert!(codes.contains(&&json!("search-type")) && codes.contains(&&json!("read")));
    let patient = resources.iter().find(|r| r["type"] == "Patient").unwrap();
    assert_eq!(patient["interaction"][0]["code"], "read");
    assert_eq!(cs["rest"][0]["interaction"][0]["code"], "transaction");
}

#[test]
fn search_bundle_of_exported_immunizations() {
    let resources: Vec<Value> = IMMUNIZATIONS
        .iter()
        .map(|n| immunization_to_fhir(&immunization_from_fhir(&load(n)).unwrap()))
        .collect();
    let bundle = search_bundle("https://vaxgrid.example/fhir", resources);
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(bundle["total"], 4);
    assert_eq!(
        bundle["entry"][1]["fullUrl"],
        "https://vaxgrid.example/fhir/Immunization/example"
    );
    assert_eq!(bundle["entry"][1]["search"]["mode"], "match");
}

// ---------------------------------------------------------------- properties

/// Strings the codec reacts to, so random documents reach past the first
/// checks, mixed with arbitrary text.
fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Patient",
            "Immunization",
            "Bundle",
            "transaction",
            "batch",
            "completed",
            "not-done",
            "finished",
            "official",
            "phone",
            "male",
            "unknown",
            "1980-01-01",
            "2021-02-30",
            "2021",
            "2021-07-15T10:00:00+07:00",
            "2021-07-15T10:00:00",
            "POST",
            "PUT",
            "DELETE",
            "Patient/p1",
            "Patient/",
            "urn:uuid:6f1c1f5e-7c1e-4d57-9a0e-7d1b8f3f2a11",
            "2",
            "02",
            "",
            " ",
            "Đức",
        ])
        .prop_map(str::to_owned),
        ".{0,12}",
    ]
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "resourceType", "id", "name", "family", "given", "text", "use", "birthDate",
            "gender", "identifier", "value", "system", "code", "coding", "type", "telecom",
            "address", "line", "status", "statusReason", "vaccineCode", "patient",
            "reference", "occurrenceDateTime", "occurrenceString", "occurrencePeriod",
            "primarySource", "lotNumber", "expirationDate", "protocolApplied",
            "doseNumberPositiveInt", "doseNumberString", "performer", "actor", "display",
            "entry", "resource", "request", "method", "url", "fullUrl", "deceasedFoo",
            "_birthDate", "extension",
        ])
        .prop_map(str::to_owned),
        1 => "[a-zA-Z_]{0,10}",
    ]
}

fn arb_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (0u32..4).prop_map(|n| json!(n)),
        (-1e9f64..1e9).prop_map(|f| json!(f)),
        arb_string().prop_map(Value::String),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    arb_scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(arb_key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Random documents that at least claim a resource type the codec handles.
fn arb_resource() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["Patient", "Immunization", "Bundle"]),
        prop::collection::btree_map(arb_key(), arb_json(), 0..10),
    )
        .prop_map(|(ty, fields)| {
            let mut m: serde_json::Map<String, Value> = fields.into_iter().collect();
            m.insert("resourceType".into(), ty.into());
            Value::Object(m)
        })
}

/// Each way to reach a node below the root: object keys and array indices.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    At(usize),
}

fn node_paths(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(Step::Key(k.clone()));
                out.push(prefix.clone());
                node_paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(Step::At(i));
                out.push(prefix.clone());
                node_paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Drop,
    Replace(Value),
}

fn arb_mutations() -> impl Strategy<Value = Vec<(Index, Mutation)>> {
    let mutation = prop_oneof![
        Just(Mutation::Drop),
        arb_scalar().prop_map(Mutation::Replace),
    ];
    prop::collection::vec((any::<Index>(), mutation), 1..4)
}

fn mutate(mut v: Value, mutations: &[(Index, Mutation)]) -> Value {
    for (index, mutation) in mutations {
        let mut paths = Vec::new();
        node_paths(&v, &mut Vec::new(), &mut paths);
        if paths.is_empty() {
            break;
        }
        let path = &paths[index.index(paths.len())];
        let Some((last, parents)) = path.split_last() else {
            continue;
        };
        let mut node = &mut v;
        for step in parents {
            node = match step {
                Step::Key(k) => &mut node[k.as_str()],
                Step::At(i) => &mut node[*i],
            };
        }
        match (mutation, last, node) {
            (Mutation::Drop, Step::Key(k), Value::Object(m)) => {
                m.remove(k);
            }
            (Mutation::Drop, Step::At(i), Value::Array(a)) => {
                a.remove(*i);
            }
            (Mutation::Replace(s), Step::Key(k), Value::Object(m)) => {
                m.insert(k.clone(), s.clone());
            }
            (Mutation::Replace(s), Step::At(i), Value::Array(a)) => {
                a[*i] = s.clone();
            }
            _ => unreachable!("paths lead to existing nodes"),
        }
    }
    v
}

fn check_refusal(root: &str, issues: &[Issue]) -> Result<(), TestCaseError> {
    prop_assert!(!issues.is_empty(), "an Err without issues");
    for issue in issues {
        prop_assert!(
            issue.expression.starts_with(root),
            "expression {:?} does not start with {root}",
            issue.expression
        );
        prop_assert!(!issue.diagnostics.is_empty());
    }
    let oo = operation_outcome(issues);
    prop_assert_eq!(oo["issue"].as_array().map(Vec::len), Some(issues.len()));
    Ok(())
}

/// Runs all three readers on `v`: refusals are well formed, and what is
/// accepted exports without loss and reads back to the same data.
fn check_all(v: &Value) -> Result<(), TestCaseError> {
    match patient_from_fhir(v) {
        Err(issues) => check_refusal("Patient", &issues)?,
        Ok(p) => {
            let out = patient_to_fhir(&p);
            prop_assert_eq!(lost_paths(v, &out), Vec::<String>::new());
            prop_assert_eq!(patient_from_fhir(&out).ok(), Some(p));
        }
    }
    match immunization_from_fhir(v) {
        Err(issues) => check_refusal("Immunization", &issues)?,
        Ok(d) => {
            let out = immunization_to_fhir(&d);
            prop_assert_eq!(lost_paths(v, &out), Vec::<String>::new());
            prop_assert_eq!(immunization_from_fhir(&out).ok(), Some(d));
        }
    }
    match parse_transaction(v) {
        Err(issues) => check_refusal("Bundle", &issues)?,
        Ok(tx) => {
            for (i, entry) in tx.entries.iter().enumerate() {
                let out = entry.resource.to_fhir();
                prop_assert_eq!(
                    lost_paths(&v["entry"][i]["resource"], &out),
                    Vec::<String>::new()
                );
                let back = match &entry.resource {
                    Resource::Patient(_) => patient_from_fhir(&out).map(Resource::Patient),
                    Resource::Immunization(_) => {
                        immunization_from_fhir(&out).map(Resource::Immunization)
                    }
                };
                prop_assert_eq!(back.ok(), Some(entry.resource.clone()));
            }
        }
    }
    Ok(())
}

/// Every sample, read once for all property cases.
fn all_samples() -> &'static [Value] {
    static SAMPLES: OnceLock<Vec<Value>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        PATIENTS
            .iter()
            .chain(IMMUNIZATIONS)
            .chain([&BUNDLE, &"immunization-invalid.json"])
            .map(|n| load(n))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        check_all(&v)?;
    }

    #[test]
    fn arbitrary_resources_never_panic(v in arb_resource()) {
        check_all(&v)?;
    }

    #[test]
    fn mutated_samples_never_panic(sample in any::<Index>(), mutations in arb_mutations()) {
        let samples = all_samples();
        let v = mutate(samples[sample.index(samples.len())].clone(), &mutations);
        check_all(&v)?;
    }
}

#[test]
fn samples_check_out_unmutated() {
    for v in all_samples() {
        check_all(v).unwrap();
    }
}

#[test]
fn oversized_strings_are_refused_without_panic() {
    let mut v = load("patient-vn.json");
    v["name"][0]["family"] = json!("N".repeat(10_000));
    let issues = patient_from_fhir(&v).unwrap_err();
    assert_eq!(issues[0].expression, "Patient.name[0].family");
    assert_eq!(issues[0].code, IssueCode::TooLong);

    let mut b = load(BUNDLE);
    b["entry"][1]["resource"]["lotNumber"] = json!("L".repeat(5_000));
    let issues = parse_transaction(&b).unwrap_err();
    assert_eq!(issues[0].expression, "Bundle.entry[1].resource.lotNumber");
}
