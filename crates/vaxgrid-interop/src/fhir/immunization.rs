//! FHIR R4 Immunization ⇄ a dose record of vaxgrid.
//!
//! Mapped: `id`, `status`, `statusReason.coding[0]`, `vaccineCode.coding`,
//! `patient.reference`, `occurrence[x]`, `primarySource`, `lotNumber`,
//! `expirationDate` (when a full date), `manufacturer.display`,
//! `site.coding[0]`, `location.reference`/`display`,
//! `protocolApplied[0].doseNumber[x]`/`seriesDoses[x]` and
//! `performer[0].actor.display`. The rest (route, doseQuantity, note,
//! reaction, fundingSource, extensions, the unmapped parts of mapped
//! elements…) is kept in [`ImmunizationData::extra`] and written back on
//! export. Codes are never checked against a code system: a server must keep
//! codes it does not know (Australian vaccine codes, CVX, SNOMED…).

use serde_json::Value;
use time::Date;

use super::datetime::{
    clip, format_fhir_date, parse_date_detailed, parse_datetime_detailed, DateTimePrecision,
};
use super::json::{
    check_choices, check_limits, child_array, child_object, describe, drop_hollow, element_object,
    extra_object, is_fhir_id, is_uuid, put_array, put_opt, resource_object, take_array, take_bool,
    take_id, take_positive_int, take_str, with_element, with_object, Choice, Object,
};
use super::outcome::{Issue, IssueCode, Issues};

/// `Immunization.status` (<http://hl7.org/fhir/event-status>, the subset R4
/// binds for Immunization).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImmunizationStatus {
    Completed,
    EnteredInError,
    NotDone,
}

impl ImmunizationStatus {
    pub const ALL: [ImmunizationStatus; 3] = [
        ImmunizationStatus::Completed,
        ImmunizationStatus::EnteredInError,
        ImmunizationStatus::NotDone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImmunizationStatus::Completed => "completed",
            ImmunizationStatus::EnteredInError => "entered-in-error",
            ImmunizationStatus::NotDone => "not-done",
        }
    }

    pub fn parse(s: &str) -> Option<ImmunizationStatus> {
        ImmunizationStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The mapped parts of a FHIR Coding; `version`, `userSelected` and
/// extensions stay in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coding {
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
}

/// When the dose was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Occurrence {
    /// `occurrenceDateTime`. `value` is written back verbatim, so the time
    /// and zone survive; `date` and `precision` are derived from it.
    DateTime {
        value: String,
        date: Date,
        precision: DateTimePrecision,
    },
    /// `occurrenceString`, free text of historical records ("January 2012").
    Text(String),
}

impl Occurrence {
    /// A day-precision occurrence, for records created by vaxgrid.
    pub fn on(date: Date) -> Occurrence {
        Occurrence::DateTime {
            value: format_fhir_date(date),
            date,
            precision: DateTimePrecision::Day,
        }
    }

    /// The (first) day of the occurrence, when known.
    pub fn date(&self) -> Option<Date> {
        match self {
            Occurrence::DateTime { date, .. } => Some(*date),
            Occurrence::Text(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImmunizationData {
    pub id: Option<String>,
    pub status: ImmunizationStatus,
    pub status_reason: Option<Coding>,
    /// `vaccineCode.coding`, in order. May be empty only when the vaccine is
    /// given as `vaccineCode.text` (kept in `extra`).
    pub vaccine: Vec<Coding>,
    /// `Patient/<id>`, an absolute URL ending in `Patient/<id>`, or
    /// `urn:uuid:<uuid>` naming a Patient entry of the same Bundle.
    pub patient_reference: String,
    pub occurrence: Occurrence,
    pub primary_source: Option<bool>,
    pub lot_number: Option<String>,
    /// Only a full date is mapped; a partial one (`2021-12`) stays in `extra`.
    pub expiration_date: Option<Date>,
    pub manufacturer_display: Option<String>,
    /// Body site, `site.coding[0]` (e.g. v3-ActSite `LA`, left arm).
    pub site: Option<Coding>,
    /// Where the dose was given (the vaccination site of the campaign).
    pub location_reference: Option<String>,
    pub location_display: Option<String>,
    /// `protocolApplied[0].doseNumberPositiveInt`, or `doseNumberString`
    /// when it is a plain number ("2"; other text stays in `extra`).
    pub dose_number: Option<u32>,
    /// Same rule for `seriesDoses[x]`.
    pub series_doses: Option<u32>,
    pub performer_display: Option<String>,
    /// The unmapped rest of the resource, verbatim (a JSON object).
    pub extra: Value,
}

const CHOICES: &[Choice] = &[Choice {
    name: "occurrence",
    types: &["DateTime", "String"],
}];

const PROTOCOL_CHOICES: &[Choice] = &[
    Choice {
        name: "doseNumber",
        types: &["PositiveInt", "String"],
    },
    Choice {
        name: "seriesDoses",
        types: &["PositiveInt", "String"],
    },
];

const MAPPED_CONTAINERS: &[&str] = &[
    "statusReason",
    "vaccineCode",
    "patient",
    "manufacturer",
    "site",
    "location",
    "protocolApplied",
    "performer",
];

/// Reads an Immunization; every problem found is reported.
pub fn immunization_from_fhir(v: &Value) -> Result<ImmunizationData, Vec<Issue>> {
    let mut issues = Issues::new("Immunization");
    check_limits(v, &mut "Immunization".to_owned(), &mut issues);
    if issues.has_errors() {
        return issues.finish(None);
    }
    let data = read_immunization(v, "Immunization", &mut issues);
    issues.finish(data)
}

/// Reads an Immunization whose issues are rooted at `root`; the caller has
/// run the size limits.
pub(crate) fn read_immunization(
    v: &Value,
    root: &str,
    issues: &mut Issues,
) -> Option<ImmunizationData> {
    let mut obj = resource_object(v, "Immunization", root, issues)?;
    check_choices(&obj, root, CHOICES, issues);
    let id = take_id(&mut obj, root, issues);
    let status = read_status(&mut obj, root, issues);
    let status_reason = child_object(&mut obj, "statusReason", root, issues)
        .and_then(|cc| take_first_coding(cc, &format!("{root}.statusReason"), issues));
    let vaccine = read_vaccine(&mut obj, root, issues);
    let patient_reference = read_patient_reference(&mut obj, root, issues);
    let occurrence = read_occurrence(&mut obj, root, issues);
    let primary_source = take_bool(&mut obj, "primarySource", root, issues);
    let lot_number = take_str(&mut obj, "lotNumber", root, issues);
    let expiration_date = read_expiration(&mut obj, root, issues);
    let manufacturer_display = child_object(&mut obj, "manufacturer", root, issues)
        .and_then(|m| take_str(m, "display", &format!("{root}.manufacturer"), issues));
    let site = child_object(&mut obj, "site", root, issues)
        .and_then(|cc| take_first_coding(cc, &format!("{root}.site"), issues));
    let (location_reference, location_display) =
        match child_object(&mut obj, "location", root, issues) {
            Some(loc) => {
                let here = format!("{root}.location");
                (
                    take_str(loc, "reference", &here, issues),
                    take_str(loc, "display", &here, issues),
                )
            }
            None => (None, None),
        };
    let (dose_number, series_doses) = read_protocol(&mut obj, root, issues);
    let performer_display = read_performer(&mut obj, root, issues);
    drop_hollow(&mut obj, MAPPED_CONTAINERS);
    Some(ImmunizationData {
        id,
        status: status?,
        status_reason,
        vaccine: vaccine?,
        patient_reference: patient_reference?,
        occurrence: occurrence?,
        primary_source,
        lot_number,
        expiration_date,
        manufacturer_display,
        site,
        location_reference,
        location_display,
        dose_number,
        series_doses,
        performer_display,
        extra: Value::Object(obj),
    })
}

fn read_status(obj: &mut Object, root: &str, issues: &mut Issues) -> Option<ImmunizationStatus> {
    let expr = format!("{root}.status");
    if !obj.contains_key("status") {
        issues.error(
            IssueCode::Required,
            expr,
            "status is required: completed | entered-in-error | not-done",
        );
        return None;
    }
    let s = take_str(obj, "status", root, issues)?;
    let status = ImmunizationStatus::parse(&s);
    if status.is_none() {
        issues.error(
            IssueCode::CodeInvalid,
            expr,
            format!(
                "'{}' is not an Immunization status; allowed: completed | entered-in-error | not-done",
                clip(&s)
            ),
        );
    }
    status
}

/// Takes system, code and display out of a Coding.
fn take_coding(el: &mut Object, here: &str, issues: &mut Issues) -> Coding {
    Coding {
        system: take_str(el, "system", here, issues),
        code: take_str(el, "code", here, issues),
        display: take_str(el, "display", here, issues),
    }
}

/// `coding[0]` of a CodeableConcept; its `text` stays in the residual.
fn take_first_coding(cc: &mut Object, here: &str, issues: &mut Issues) -> Option<Coding> {
    let codings = child_array(cc, "coding", here, issues)?;
    let path = format!("{here}.coding");
    let el = element_object(codings, 0, &path, issues)?;
    Some(take_coding(el, &format!("{path}[0]"), issues))
}

fn read_vaccine(obj: &mut Object, root: &str, issues: &mut Issues) -> Option<Vec<Coding>> {
    let expr = format!("{root}.vaccineCode");
    let Some(vc) = child_object(obj, "vaccineCode", root, issues) else {
        if !obj.contains_key("vaccineCode") {
            issues.error(
                IssueCode::Required,
                expr,
                "vaccineCode is required (a coding or a text)",
            );
        }
        return None;
    };
    let before = issues.count();
    let mut out = Vec::new();
    if let Some(codings) = child_array(vc, "coding", &expr, issues) {
        let path = format!("{expr}.coding");
        for i in 0..codings.len() {
            if let Some(el) = element_object(codings, i, &path, issues) {
                out.push(take_coding(el, &format!("{path}[{i}]"), issues));
            }
        }
    }
    if issues.count() > before {
        return None;
    }
    // A coding with neither code nor display (only a system) names no
    // vaccine; the text alone does, as in historical records.
    let has_text = matches!(vc.get("text"), Some(Value::String(t)) if !t.is_empty());
    let named = out.iter().any(|c| c.code.is_some() || c.display.is_some());
    if !named && !has_text {
        issues.error(
            IssueCode::Required,
            expr,
            "vaccineCode needs a coding with a code (or display), or a text",
        );
        return None;
    }
    Some(out)
}

/// A reference vaxgrid can resolve to a Patient: `Patient/<id>` (optionally
/// versioned), the same at the end of an http(s) URL, or `urn:uuid:` (a
/// Bundle entry). Contained (`#p1`) and other types are not resolvable.
pub(crate) fn is_patient_reference(r: &str) -> bool {
    if let Some(uuid) = r.strip_prefix("urn:uuid:") {
        return is_uuid(uuid);
    }
    let absolute = r
        .strip_prefix("https://")
        .or_else(|| r.strip_prefix("http://"));
    let segments: Vec<&str> = absolute.unwrap_or(r).split('/').collect();
    if absolute.is_some() && segments.first().is_none_or(|host| host.is_empty()) {
        return false;
    }
    // After a scheme at least a host precedes `Patient`; without one the
    // reference must start with `Patient`.
    let tail = match (absolute.is_some(), segments.as_slice()) {
        (true, [_, .., "Patient", id]) | (false, ["Patient", id]) => [*id, "1"],
        (true, [_, .., "Patient", id, "_history", v]) | (false, ["Patient", id, "_history", v]) => {
            [*id, *v]
        }
        _ => return false,
    };
    tail.iter().all(|s| is_fhir_id(s))
}

fn read_patient_reference(obj: &mut Object, root: &str, issues: &mut Issues) -> Option<String> {
    let expr = format!("{root}.patient");
    let Some(patient) = child_object(obj, "patient", root, issues) else {
        if !obj.contains_key("patient") {
            issues.error(IssueCode::Required, expr, "patient is required");
        }
        return None;
    };
    if !patient.contains_key("reference") {
        issues.error(
            IssueCode::Required,
            format!("{expr}.reference"),
            "vaxgrid needs patient.reference (Patient/<id> or urn:uuid:<uuid>)",
        );
        return None;
    }
    let reference = take_str(patient, "reference", &expr, issues)?;
    if !is_patient_reference(&reference) {
        issues.error(
            IssueCode::Value,
            format!("{expr}.reference"),
            format!(
                "'{}' is not a Patient reference (Patient/<id> or urn:uuid:<uuid>)",
                clip(&reference)
            ),
        );
        return None;
    }
    Some(reference)
}

fn read_occurrence(obj: &mut Object, root: &str, issues: &mut Issues) -> Option<Occurrence> {
    // check_choices has reported both variants at once; read both anyway so
    // every problem in them is reported too.
    let before = issues.count();
    let mut found = None;
    if obj.contains_key("occurrenceDateTime") {
        let expr = format!("{root}.occurrenceDateTime");
        if let Some(value) = take_str(obj, "occurrenceDateTime", root, issues) {
            match parse_datetime_detailed(&value) {
                Ok((date, precision)) => {
                    found = Some(Occurrence::DateTime {
                        value,
                        date,
                        precision,
                    })
                }
                Err(why) => issues.error(IssueCode::Value, expr, why),
            }
        }
    }
    if obj.contains_key("occurrenceString") {
        if let Some(text) = take_str(obj, "occurrenceString", root, issues) {
            found = found.or(Some(Occurrence::Text(text)));
        }
    }
    if found.is_none() && issues.count() == before {
        issues.error(
            IssueCode::Required,
            format!("{root}.occurrence"),
            "occurrenceDateTime or occurrenceString is required",
        );
    }
    found
}

fn read_expiration(obj: &mut Object, root: &str, issues: &mut Issues) -> Option<Date> {
    let expr = format!("{root}.expirationDate");
    match obj.get("expirationDate")? {
        Value::String(s) => match parse_date_detailed(s) {
            Ok((date, DateTimePrecision::Day)) => {
                obj.remove("expirationDate");
                Some(date)
            }
            // Valid FHIR that a `Date` cannot hold: kept verbatim.
            Ok(_) => None,
            Err(why) => {
                issues.error(IssueCode::Value, expr, why);
                None
            }
        },
        other => {
            issues.error(
                IssueCode::Structure,
                expr,
                format!("expected a date string, found {}", describe(other)),
            );
            None
        }
    }
}

fn read_protocol(obj: &mut Object, root: &str, issues: &mut Issues) -> (Option<u32>, Option<u32>) {
    let Some(items) = child_array(obj, "protocolApplied", root, issues) else {
        return (None, None);
    };
    let path = format!("{root}.protocolApplied");
    let Some(el) = element_object(items, 0, &path, issues) else {
        return (None, None);
    };
    let here = format!("{path}[0]");
    check_choices(el, &here, PROTOCOL_CHOICES, issues);
    (
        take_count(el, "doseNumber", &here, issues),
        take_count(el, "seriesDoses", &here, issues),
    )
}

/// A count given as `<name>PositiveInt` or as a plain-number `<name>String`.
/// The string form is left in the residual: it records that the sender used
/// text, so export writes the number back as text in the same place.
fn take_count(el: &mut Object, name: &str, here: &str, issues: &mut Issues) -> Option<u32> {
    let int_key = format!("{name}PositiveInt");
    if el.contains_key(&int_key) {
        return take_positive_int(el, &int_key, here, issues);
    }
    let str_key = format!("{name}String");
    match el.get(&str_key)? {
        Value::String(s) => plain_number(s),
        other => {
            issues.error(
                IssueCode::Structure,
                format!("{here}.{str_key}"),
                format!("expected a string, found {}", describe(other)),
            );
            None
        }
    }
}

/// Digits without a leading zero, within positiveInt: exactly the strings
/// `n.to_string()` writes back, so the text form survives the round trip.
fn plain_number(s: &str) -> Option<u32> {
    if s.starts_with('0') || s.len() > 10 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>()
        .ok()
        .filter(|n| (1..=i32::MAX as u32).contains(n))
}

fn read_performer(obj: &mut Object, root: &str, issues: &mut Issues) -> Option<String> {
    let items = child_array(obj, "performer", root, issues)?;
    let path = format!("{root}.performer");
    let el = element_object(items, 0, &path, issues)?;
    let here = format!("{path}[0]");
    let actor = child_object(el, "actor", &here, issues)?;
    take_str(actor, "display", &format!("{here}.actor"), issues)
}

/// Writes an Immunization: the mapped values merged into `extra` at the
/// places they were read from.
pub fn immunization_to_fhir(d: &ImmunizationData) -> Value {
    let mut rest = extra_object(&d.extra);
    rest.remove("resourceType");
    rest.remove("id");
    rest.insert("status".into(), d.status.as_str().into());
    if let Some(reason) = &d.status_reason {
        with_object(&mut rest, "statusReason", |cc| put_first_coding(cc, reason));
    }
    write_vaccine(&mut rest, &d.vaccine);
    with_object(&mut rest, "patient", |p| {
        p.insert("reference".into(), d.patient_reference.clone().into());
    });
    write_occurrence(&mut rest, &d.occurrence);
    if let Some(b) = d.primary_source {
        rest.insert("primarySource".into(), b.into());
    }
    put_opt(&mut rest, "lotNumber", d.lot_number.as_ref());
    if let Some(date) = d.expiration_date {
        rest.insert("expirationDate".into(), format_fhir_date(date).into());
    }
    if let Some(display) = &d.manufacturer_display {
        with_object(&mut rest, "manufacturer", |m| {
            m.insert("display".into(), display.clone().into());
        });
    }
    if let Some(site) = &d.site {
        with_object(&mut rest, "site", |cc| put_first_coding(cc, site));
    }
    if d.location_reference.is_some() || d.location_display.is_some() {
        with_object(&mut rest, "location", |loc| {
            put_opt(loc, "reference", d.location_reference.as_ref());
            put_opt(loc, "display", d.location_display.as_ref());
        });
    }
    write_protocol(&mut rest, d.dose_number, d.series_doses);
    if let Some(display) = &d.performer_display {
        let mut performers = take_array(&mut rest, "performer");
        with_element(&mut performers, 0, |p| {
            with_object(p, "actor", |a| {
                a.insert("display".into(), display.clone().into());
            });
        });
        put_array(&mut rest, "performer", performers);
    }

    let mut out = Object::new();
    out.insert("resourceType".into(), "Immunization".into());
    if let Some(id) = &d.id {
        out.insert("id".into(), id.clone().into());
    }
    out.extend(rest);
    Value::Object(out)
}

fn put_coding(el: &mut Object, c: &Coding) {
    put_opt(el, "system", c.system.as_ref());
    put_opt(el, "code", c.code.as_ref());
    put_opt(el, "display", c.display.as_ref());
}

fn put_first_coding(cc: &mut Object, c: &Coding) {
    let mut codings = take_array(cc, "coding");
    with_element(&mut codings, 0, |el| put_coding(el, c));
    put_array(cc, "coding", codings);
}

fn write_vaccine(rest: &mut Object, vaccine: &[Coding]) {
    if vaccine.is_empty() && !rest.contains_key("vaccineCode") {
        return;
    }
    with_object(rest, "vaccineCode", |vc| {
        let mut codings = take_array(vc, "coding");
        // Residual coding i belongs to vaccine coding i.
        codings.truncate(vaccine.len());
        for (i, c) in vaccine.iter().enumerate() {
            with_element(&mut codings, i, |el| put_coding(el, c));
        }
        put_array(vc, "coding", codings);
    });
}

fn write_occurrence(rest: &mut Object, occurrence: &Occurrence) {
    // One variant only: drop the other one and its extensions.
    let (key, value, other) = match occurrence {
        Occurrence::DateTime { value, .. } => ("occurrenceDateTime", value, "occurrenceString"),
        Occurrence::Text(text) => ("occurrenceString", text, "occurrenceDateTime"),
    };
    rest.remove(other);
    rest.remove(&format!("_{other}"));
    rest.insert(key.into(), value.clone().into());
}

fn write_protocol(rest: &mut Object, dose: Option<u32>, series: Option<u32>) {
    if dose.is_none() && series.is_none() && !rest.contains_key("protocolApplied") {
        return;
    }
    let mut items = take_array(rest, "protocolApplied");
    with_element(&mut items, 0, |el| {
        put_count(el, "doseNumber", dose);
        put_count(el, "seriesDoses", series);
    });
    put_array(rest, "protocolApplied", items);
}

fn put_count(el: &mut Object, name: &str, value: Option<u32>) {
    let str_key = format!("{name}String");
    let as_text = el.get(&str_key).and_then(Value::as_str);
    match value {
        // The sender wrote the count as text: keep that form.
        Some(n) if as_text.is_some() => {
            el.insert(str_key, n.to_string().into());
        }
        Some(n) => {
            el.insert(format!("{name}PositiveInt"), n.into());
        }
        // A plain number in text form was mapped; cleared, it goes. Other
        // text ("booster") was never mapped and stays.
        None => {
            if as_text.and_then(plain_number).is_some() {
                el.remove(&str_key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    fn minimal() -> Value {
        json!({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "210"}]},
            "patient": {"reference": "Patient/p1"},
            "occurrenceDateTime": "2021-07-15"
        })
    }

    fn expressions(v: &Value) -> Vec<String> {
        immunization_from_fhir(v)
            .unwrap_err()
            .into_iter()
            .map(|i| i.expression)
            .collect()
    }

    #[test]
    fn status_values() {
        for s in ImmunizationStatus::ALL {
            assert_eq!(ImmunizationStatus::parse(s.as_str()), Some(s));
        }
        for bad in ["finished", "Completed", "not done", ""] {
            let mut v = minimal();
            v["status"] = json!(bad);
            assert_eq!(expressions(&v), ["Immunization.status"], "{bad}");
        }
        let issues = {
            let mut v = minimal();
            v["status"] = json!("finished");
            immunization_from_fhir(&v).unwrap_err()
        };
        assert_eq!(issues[0].code, IssueCode::CodeInvalid);
        assert!(issues[0].diagnostics.contains("entered-in-error"));
    }

    #[test]
    fn minimal_round_trip() {
        let d = immunization_from_fhir(&minimal()).unwrap();
        assert_eq!(d.occurrence.date(), Some(date!(2021 - 07 - 15)));
        assert_eq!(d.extra, json!({}));
        assert_eq!(immunization_to_fhir(&d), minimal());
    }

    #[test]
    fn calendar_and_format_errors_name_the_element() {
        let mut v = minimal();
        v["occurrenceDateTime"] = json!("2021-02-30");
        assert_eq!(expressions(&v), ["Immunization.occurrenceDateTime"]);
        v["occurrenceDateTime"] = json!("15/07/2021");
        assert_eq!(expressions(&v), ["Immunization.occurrenceDateTime"]);
        v["occurrenceDateTime"] = json!(20210715);
        assert_eq!(expressions(&v), ["Immunization.occurrenceDateTime"]);
    }

    #[test]
    fn occurrence_is_required_and_single() {
        let mut v = minimal();
        v.as_object_mut().unwrap().remove("occurrenceDateTime");
        assert_eq!(expressions(&v), ["Immunization.occurrence"]);
        v["occurrencePeriod"] = json!({"start": "2021"});
        assert_eq!(
            expressions(&v),
            ["Immunization.occurrencePeriod", "Immunization.occurrence"]
        );
        let mut v = minimal();
        v["occurrenceString"] = json!("July 2021");
        assert_eq!(expressions(&v), ["Immunization.occurrence"]);
    }

    #[test]
    fn vaccine_needs_a_coding_or_text() {
        let mut v = minimal();
        v["vaccineCode"] = json!({"text": "Vero Cell"});
        let d = immunization_from_fhir(&v).unwrap();
        assert!(d.vaccine.is_empty());
        assert_eq!(immunization_to_fhir(&d), v);
        for empty in [
            json!({}),
            json!({"coding": []}),
            json!({"coding": [{"system": "x"}]}),
        ] {
            v["vaccineCode"] = empty;
            assert_eq!(expressions(&v), ["Immunization.vaccineCode"]);
        }
    }

    #[test]
    fn patient_references() {
        for ok in [
            "Patient/p1",
            "Patient/p1/_history/2",
            "https://vaxgrid.example/fhir/Patient/p1",
            "urn:uuid:6f1c1f5e-7c1e-4d57-9a0e-7d1b8f3f2a11",
        ] {
            assert!(is_patient_reference(ok), "{ok}");
        }
        for bad in [
            "Practitioner/1",
            "#p1",
            "Patient/",
            "Patient/a/b",
            "x/Patient/p1",
            "urn:uuid:nope",
            "https://Patient/p1",
        ] {
            assert!(!is_patient_reference(bad), "{bad}");
        }
    }

    #[test]
    fn dose_numbers() {
        let mut v = minimal();
        v["protocolApplied"] = json!([{"doseNumberString": "2", "seriesDosesPositiveInt": 3}]);
        let mut d = immunization_from_fhir(&v).unwrap();
        assert_eq!((d.dose_number, d.series_doses), (Some(2), Some(3)));
        assert_eq!(immunization_to_fhir(&d), v);
        d.dose_number = Some(3);
        assert_eq!(
            immunization_to_fhir(&d)["protocolApplied"][0]["doseNumberString"],
            "3"
        );
        v["protocolApplied"] = json!([{"doseNumberString": "booster"}]);
        let d = immunization_from_fhir(&v).unwrap();
        assert_eq!(d.dose_number, None);
        assert_eq!(immunization_to_fhir(&d), v);
        v["protocolApplied"] = json!([{"doseNumberPositiveInt": 0}]);
        assert_eq!(
            expressions(&v),
            ["Immunization.protocolApplied[0].doseNumberPositiveInt"]
        );
        assert_eq!(plain_number("02"), None);
        assert_eq!(plain_number("4294967295"), None);
    }

    #[test]
    fn partial_expiration_is_kept_verbatim() {
        let mut v = minimal();
        v["expirationDate"] = json!("2021-12");
        let d = immunization_from_fhir(&v).unwrap();
        assert_eq!(d.expiration_date, None);
        assert_eq!(immunization_to_fhir(&d), v);
        v["expirationDate"] = json!("2021-12-32");
        assert_eq!(expressions(&v), ["Immunization.expirationDate"]);
    }

    #[test]
    fn server_built_record_exports() {
        let d = ImmunizationData {
            id: Some("i1".into()),
            status: ImmunizationStatus::Completed,
            status_reason: None,
            vaccine: vec![Coding {
                system: Some("http://hl7.org/fhir/sid/cvx".into()),
                code: Some("210".into()),
                display: None,
            }],
            patient_reference: "Patient/p1".into(),
            occurrence: Occurrence::on(date!(2021 - 07 - 15)),
            primary_source: Some(true),
            lot_number: Some("ABV5678".into()),
            expiration_date: None,
            manufacturer_display: Some("AstraZeneca".into()),
            site: None,
            location_reference: Some("Location/ha-long-1".into()),
            location_display: None,
            dose_number: Some(1),
            series_doses: None,
            performer_display: Some("Trần Thị B".into()),
            extra: Value::Null,
        };
        let out = immunization_to_fhir(&d);
        assert_eq!(
            out["performer"],
            json!([{"actor": {"display": "Trần Thị B"}}])
        );
        assert_eq!(
            out["protocolApplied"],
            json!([{"doseNumberPositiveInt": 1}])
        );
        let back = immunization_from_fhir(&out).unwrap();
        assert_eq!(
            back,
            ImmunizationData {
                extra: json!({}),
                ..d
            }
        );
    }
}
