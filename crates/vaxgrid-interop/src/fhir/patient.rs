//! FHIR R4 Patient ⇄ the person vaxgrid registers.
//!
//! Mapped: `id`, every `identifier` (system, value, type.coding[0].code),
//! one name (family, given — or text when that is all there is), `gender`,
//! `birthDate`, the first `telecom` whose system is `phone` (its value) and
//! the first `address`. Everything else, including the unmapped parts of
//! those elements (`use`, `period`, `_family`, other names…), is kept in
//! [`PatientData::extra`] and written back on export.

use serde_json::{json, Value};
use time::Date;

use super::datetime::{clip, format_fhir_date, parse_date_detailed, DateTimePrecision};
use super::json::{
    check_choices, check_limits, child_array, child_object, describe, drop_hollow, element_object,
    extra_object, put_array, put_opt, resource_object, take_array, take_id, take_str,
    take_str_array, with_element, with_object, Choice, Object,
};
use super::outcome::{Issue, IssueCode, Issues};

/// One `Patient.identifier`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identifier {
    pub system: Option<String>,
    pub value: String,
    /// `identifier.type.coding[0].code`, a v2-0203 code such as `NI`
    /// (national id), `PPN` (passport) or `MR` (medical record number).
    /// The coding's `system` and `display` stay in `extra`.
    pub type_code: Option<String>,
}

/// `Patient.gender` (<http://hl7.org/fhir/administrative-gender>). FHIR has
/// `unknown`, which vaxgrid-core's `Sex` has not: the server decides what
/// to do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    Male,
    Female,
    Other,
    Unknown,
}

impl Gender {
    pub const ALL: [Gender; 4] = [Gender::Male, Gender::Female, Gender::Other, Gender::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Other => "other",
            Gender::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Gender> {
        Gender::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// The mapped parts of `Patient.address[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressData {
    pub text: Option<String>,
    pub line: Vec<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

impl AddressData {
    pub fn is_empty(&self) -> bool {
        *self == AddressData::default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatientData {
    pub id: Option<String>,
    pub identifiers: Vec<Identifier>,
    /// From the first name with `use: official`, else the first name.
    /// Empty when that name has only a `text`.
    pub family: String,
    pub given: Vec<String>,
    /// See [`compose_full_name`]; the name's `text` when it has no parts.
    /// Export writes it (as `text`) only when `family` and `given` are empty.
    pub full_name: String,
    /// `None` when the Patient has no birthDate or only a partial one
    /// (`1980`, `1980-05`: valid FHIR, kept verbatim in `extra`). vaxgrid
    /// registers only people with a full birth date: see
    /// [`check_registration`].
    pub birth_date: Option<Date>,
    /// A Patient without `gender` imports as `Unknown` (what an absent
    /// gender means) and is exported with `gender: unknown`.
    pub sex: Gender,
    /// `value` of the first telecom whose system is `phone`. The rest of
    /// that telecom stays in `extra`, `system` included: it marks which
    /// element the phone is written back to.
    pub phone: Option<String>,
    pub address: Option<AddressData>,
    /// The unmapped rest of the resource, verbatim; a JSON object (export
    /// treats anything else as empty).
    pub extra: Value,
}

/// vaxgrid's single full name: the family name, then the given names, each
/// separated by one space — the Vietnamese order "Nguyễn Văn Đức". The same
/// rule is applied to every name, Chinese ones included ("王 小明"): joining
/// without a space would need to know the script, and `name.text`, which
/// carries the name as the person writes it, is kept unchanged in `extra`.
pub fn compose_full_name(family: &str, given: &[String]) -> String {
    std::iter::once(family)
        .chain(given.iter().map(String::as_str))
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

const CHOICES: &[Choice] = &[
    Choice {
        name: "deceased",
        types: &["Boolean", "DateTime"],
    },
    Choice {
        name: "multipleBirth",
        types: &["Boolean", "Integer"],
    },
];

/// Elements whose residual may end up empty after mapping.
const MAPPED_CONTAINERS: &[&str] = &["identifier", "name", "telecom", "address"];

/// Reads a Patient; every problem found is reported, not just the first.
/// Any FHIR Patient vaxgrid can hold is accepted, without a birth date
/// too; [`check_registration`] adds vaxgrid's rules for registering one.
pub fn patient_from_fhir(v: &Value) -> Result<PatientData, Vec<Issue>> {
    let mut issues = Issues::new("Patient");
    check_limits(v, &mut "Patient".to_owned(), &mut issues);
    if issues.has_errors() {
        return issues.finish(None);
    }
    let data = read_patient(v, "Patient", &mut issues);
    issues.finish(data)
}

/// Reads a Patient whose issues are rooted at `root` (a Bundle entry uses
/// `Bundle.entry[i].resource`). The caller has run the size limits.
pub(crate) fn read_patient(v: &Value, root: &str, issues: &mut Issues) -> Option<PatientData> {
    let mut obj = resource_object(v, "Patient", root, issues)?;
    check_choices(&obj, root, CHOICES, issues);
    let id = take_id(&mut obj, root, issues);
    let identifiers = read_identifiers(&mut obj, root, issues);
    let name = read_name(&mut obj, root, issues);
    let sex = read_gender(&mut obj, root, issues);
    let birth_date = read_birth_date(&mut obj, root, issues);
    let phone = read_phone(&mut obj, root, issues);
    let address = read_address(&mut obj, root, issues);
    drop_hollow(&mut obj, MAPPED_CONTAINERS);
    let (family, given, full_name) = name?;
    Some(PatientData {
        id,
        identifiers,
        family,
        given,
        full_name,
        birth_date,
        sex: sex?,
        phone,
        address,
        extra: Value::Object(obj),
    })
}

fn read_identifiers(obj: &mut Object, root: &str, issues: &mut Issues) -> Vec<Identifier> {
    let Some(items) = child_array(obj, "identifier", root, issues) else {
        return Vec::new();
    };
    let path = format!("{root}.identifier");
    let mut out = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        let Some(el) = element_object(items, i, &path, issues) else {
            continue;
        };
        let here = format!("{path}[{i}]");
        let system = take_str(el, "system", &here, issues);
        let value = take_str(el, "value", &here, issues);
        let type_code = read_type_code(el, &here, issues);
        // An identifier without a value (FHIR allows it: `use` and `system`
        // alone, or a data-absent-reason extension) identifies nobody, but
        // it is valid and the rest of the Patient is: it is kept, with an
        // empty value (written back without one), and finds no one.
        out.push(Identifier {
            system,
            value: value.unwrap_or_default(),
            type_code,
        });
    }
    out
}

fn read_type_code(identifier: &mut Object, here: &str, issues: &mut Issues) -> Option<String> {
    let ty = child_object(identifier, "type", here, issues)?;
    let here = format!("{here}.type");
    let codings = child_array(ty, "coding", &here, issues)?;
    let coding = element_object(codings, 0, &format!("{here}.coding"), issues)?;
    take_str(coding, "code", &format!("{here}.coding[0]"), issues)
}

/// The name vaxgrid keeps: the first `official` one, else the first. The
/// same rule finds it again in `extra` on export, because `use` stays there.
fn primary_name_index(names: &[Value]) -> usize {
    names
        .iter()
        .position(|n| n.get("use").and_then(Value::as_str) == Some("official"))
        .unwrap_or(0)
}

/// `(family, given, full_name)`, all empty when the Patient has no usable
/// name (valid FHIR, refused by [`check_registration`]); `None` when a name
/// part is malformed (reported).
fn read_name(
    obj: &mut Object,
    root: &str,
    issues: &mut Issues,
) -> Option<(String, Vec<String>, String)> {
    let Some(names) = child_array(obj, "name", root, issues) else {
        return (!obj.contains_key("name")).then(Default::default);
    };
    if names.is_empty() {
        return Some(Default::default());
    }
    let index = primary_name_index(names);
    let el = element_object(names, index, &format!("{root}.name"), issues)?;
    let here = format!("{root}.name[{index}]");
    let before = issues.count();
    let family = take_str(el, "family", &here, issues).unwrap_or_default();
    let given = take_str_array(el, "given", &here, issues);
    if issues.count() > before {
        return None;
    }
    if !family.is_empty() || !given.is_empty() {
        let full = compose_full_name(&family, &given);
        return Some((family, given, full));
    }
    // Only when there are no parts is `text` the name vaxgrid keeps;
    // otherwise it stays in `extra`, as the sender wrote it.
    let text = take_str(el, "text", &here, issues);
    if issues.count() > before {
        return None;
    }
    Some((String::new(), Vec::new(), text.unwrap_or_default()))
}

fn read_gender(obj: &mut Object, root: &str, issues: &mut Issues) -> Option<Gender> {
    if !obj.contains_key("gender") {
        return Some(Gender::Unknown);
    }
    let s = take_str(obj, "gender", root, issues)?;
    let gender = Gender::parse(&s);
    if gender.is_none() {
        issues.error(
            IssueCode::CodeInvalid,
            format!("{root}.gender"),
            format!(
                "'{}' is not an administrative gender; allowed: male | female | other | unknown",
                clip(&s)
            ),
        );
    }
    gender
}

/// A full birth date. Absent and partial dates give `None`, the partial
/// one staying in the residual; malformed ones are reported.
fn read_birth_date(obj: &mut Object, root: &str, issues: &mut Issues) -> Option<Date> {
    let expr = format!("{root}.birthDate");
    match obj.get("birthDate")? {
        Value::String(s) => match parse_date_detailed(s) {
            Ok((date, DateTimePrecision::Day)) => {
                obj.remove("birthDate");
                Some(date)
            }
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

/// vaxgrid's rules for registering a person, on top of what FHIR requires:
/// a name and a full birth date (`YYYY-MM-DD`). [`parse_transaction`]
/// applies them to every Patient entry; a server importing a lone Patient
/// calls this after [`patient_from_fhir`].
///
/// [`parse_transaction`]: super::parse_transaction
pub fn check_registration(p: &PatientData) -> Result<(), Vec<Issue>> {
    let mut issues = Issues::new("Patient");
    registration_issues(p, "Patient", &mut issues);
    issues.finish(Some(()))
}

pub(crate) fn registration_issues(p: &PatientData, root: &str, issues: &mut Issues) {
    if p.full_name.trim().is_empty() {
        issues.error(
            IssueCode::Required,
            format!("{root}.name"),
            "a name (family and/or given, or text) is required to register a person",
        );
    }
    if p.birth_date.is_none() {
        let expr = format!("{root}.birthDate");
        match p.extra.get("birthDate").and_then(Value::as_str) {
            Some(partial) => issues.error(
                IssueCode::Value,
                expr,
                format!(
                    "birthDate must be a full date YYYY-MM-DD for registration, found '{}'",
                    clip(partial)
                ),
            ),
            None => issues.error(
                IssueCode::Required,
                expr,
                "birthDate is required to register a person (YYYY-MM-DD)",
            ),
        }
    }
}

/// The phone vaxgrid keeps: the first telecom with `system: phone`. Only its
/// `value` is taken, so `system` stays in `extra` and finds it again.
fn phone_index(telecoms: &[Value]) -> Option<usize> {
    telecoms
        .iter()
        .position(|t| t.get("system").and_then(Value::as_str) == Some("phone"))
}

fn read_phone(obj: &mut Object, root: &str, issues: &mut Issues) -> Option<String> {
    let telecoms = child_array(obj, "telecom", root, issues)?;
    let index = phone_index(telecoms)?;
    let el = element_object(telecoms, index, &format!("{root}.telecom"), issues)?;
    take_str(el, "value", &format!("{root}.telecom[{index}]"), issues)
}

fn read_address(obj: &mut Object, root: &str, issues: &mut Issues) -> Option<AddressData> {
    let addresses = child_array(obj, "address", root, issues)?;
    let el = element_object(addresses, 0, &format!("{root}.address"), issues)?;
    let here = format!("{root}.address[0]");
    let address = AddressData {
        text: take_str(el, "text", &here, issues),
        line: take_str_array(el, "line", &here, issues),
        city: take_str(el, "city", &here, issues),
        district: take_str(el, "district", &here, issues),
        state: take_str(el, "state", &here, issues),
        postal_code: take_str(el, "postalCode", &here, issues),
        country: take_str(el, "country", &here, issues),
    };
    (!address.is_empty()).then_some(address)
}

/// Writes a Patient: the mapped values, merged into `extra` at the places
/// they were read from.
pub fn patient_to_fhir(p: &PatientData) -> Value {
    let mut rest = extra_object(&p.extra);
    // The data owns these; stale copies in `extra` must not win.
    rest.remove("resourceType");
    rest.remove("id");
    write_identifiers(&mut rest, &p.identifiers);
    write_name(&mut rest, p);
    rest.insert("gender".into(), p.sex.as_str().into());
    if let Some(date) = p.birth_date {
        rest.insert("birthDate".into(), format_fhir_date(date).into());
    }
    write_phone(&mut rest, p.phone.as_ref());
    if let Some(address) = &p.address {
        write_address(&mut rest, address);
    }

    let mut out = Object::new();
    out.insert("resourceType".into(), "Patient".into());
    if let Some(id) = &p.id {
        out.insert("id".into(), id.clone().into());
    }
    out.extend(rest);
    Value::Object(out)
}

fn write_identifiers(rest: &mut Object, identifiers: &[Identifier]) {
    let mut items = take_array(rest, "identifier");
    // Residual element i belongs to identifier i; dropped identifiers take
    // their residual with them.
    items.truncate(identifiers.len());
    for (i, id) in identifiers.iter().enumerate() {
        with_element(&mut items, i, |el| {
            put_opt(el, "system", id.system.as_ref());
            if id.value.is_empty() {
                el.remove("value");
            } else {
                el.insert("value".into(), id.value.clone().into());
            }
            if let Some(code) = &id.type_code {
                with_object(el, "type", |ty| {
                    let mut codings = take_array(ty, "coding");
                    with_element(&mut codings, 0, |c| {
                        c.insert("code".into(), code.clone().into());
                    });
                    put_array(ty, "coding", codings);
                });
            }
        });
    }
    put_array(rest, "identifier", items);
}

fn write_name(rest: &mut Object, p: &PatientData) {
    let mut names = take_array(rest, "name");
    let has_parts = !p.family.is_empty() || !p.given.is_empty();
    if names.is_empty() && !has_parts && p.full_name.is_empty() {
        return;
    }
    let index = primary_name_index(&names);
    with_element(&mut names, index, |el| {
        if !p.family.is_empty() {
            el.insert("family".into(), p.family.clone().into());
        }
        if !p.given.is_empty() {
            el.insert("given".into(), json!(p.given));
        }
        if !has_parts && !p.full_name.is_empty() {
            el.insert("text".into(), p.full_name.clone().into());
        }
    });
    put_array(rest, "name", names);
}

fn write_phone(rest: &mut Object, phone: Option<&String>) {
    let Some(phone) = phone else {
        return;
    };
    let mut telecoms = take_array(rest, "telecom");
    // A new phone goes after the existing contacts, so their order holds.
    let index = phone_index(&telecoms).unwrap_or(telecoms.len());
    with_element(&mut telecoms, index, |el| {
        el.insert("system".into(), "phone".into());
        el.insert("value".into(), phone.clone().into());
    });
    put_array(rest, "telecom", telecoms);
}

fn write_address(rest: &mut Object, a: &AddressData) {
    let mut addresses = take_array(rest, "address");
    if a.is_empty() && addresses.is_empty() {
        return; // `{}` would be an invalid FHIR address
    }
    with_element(&mut addresses, 0, |el| {
        put_opt(el, "text", a.text.as_ref());
        if !a.line.is_empty() {
            el.insert("line".into(), json!(a.line));
        }
        put_opt(el, "city", a.city.as_ref());
        put_opt(el, "district", a.district.as_ref());
        put_opt(el, "state", a.state.as_ref());
        put_opt(el, "postalCode", a.postal_code.as_ref());
        put_opt(el, "country", a.country.as_ref());
    });
    put_array(rest, "address", addresses);
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn minimal() -> Value {
        json!({
            "resourceType": "Patient",
            "name": [{"family": "Nguyễn", "given": ["Văn", "Đức"]}],
            "birthDate": "1980-01-01"
        })
    }

    fn expressions(r: Result<PatientData, Vec<Issue>>) -> Vec<String> {
        r.unwrap_err().into_iter().map(|i| i.expression).collect()
    }

    #[test]
    fn full_name_is_family_then_given() {
        let given = vec!["Văn".to_owned(), "Đức".to_owned()];
        assert_eq!(compose_full_name("Nguyễn", &given), "Nguyễn Văn Đức");
        assert_eq!(compose_full_name("王", &["小明".to_owned()]), "王 小明");
        assert_eq!(compose_full_name("", &given), "Văn Đức");
        assert_eq!(compose_full_name("Trần", &[]), "Trần");
    }

    #[test]
    fn minimal_patient() {
        let p = patient_from_fhir(&minimal()).unwrap();
        assert_eq!(p.full_name, "Nguyễn Văn Đức");
        assert_eq!(p.birth_date, Some(date!(1980 - 01 - 01)));
        assert_eq!(p.sex, Gender::Unknown);
        assert_eq!(p.extra, json!({}));
        assert_eq!(patient_from_fhir(&patient_to_fhir(&p)).unwrap(), p);
    }

    #[test]
    fn official_name_wins_and_stays_in_place() {
        let mut v = minimal();
        v["name"] = json!([
            {"use": "usual", "given": ["Jim"]},
            {"use": "official", "family": "Chalmers", "given": ["Peter"]}
        ]);
        let p = patient_from_fhir(&v).unwrap();
        assert_eq!(p.full_name, "Chalmers Peter");
        let out = patient_to_fhir(&p);
        assert_eq!(out["name"], v["name"]);
    }

    #[test]
    fn text_only_name() {
        let mut v = minimal();
        v["name"] = json!([{"text": "Lê Thị Hoa"}]);
        let p = patient_from_fhir(&v).unwrap();
        assert_eq!(
            (p.family.as_str(), p.full_name.as_str()),
            ("", "Lê Thị Hoa")
        );
        assert_eq!(patient_to_fhir(&p)["name"], v["name"]);
    }

    #[test]
    fn name_and_birth_date_are_required_for_registration() {
        let v = json!({"resourceType": "Patient", "name": [{"use": "official"}],
                       "gender": "female"});
        let p = patient_from_fhir(&v).unwrap();
        assert_eq!((p.full_name.as_str(), p.birth_date), ("", None));
        assert_eq!(patient_to_fhir(&p), v);
        let issues = check_registration(&p).unwrap_err();
        let expressions: Vec<&str> = issues.iter().map(|i| i.expression.as_str()).collect();
        assert_eq!(expressions, ["Patient.name", "Patient.birthDate"]);
        assert!(check_registration(&patient_from_fhir(&minimal()).unwrap()).is_ok());
    }

    #[test]
    fn partial_birth_date_is_kept_but_not_registered() {
        let mut v = minimal();
        v["gender"] = json!("female");
        v["birthDate"] = json!("1980-05");
        let p = patient_from_fhir(&v).unwrap();
        assert_eq!(p.birth_date, None);
        assert_eq!(patient_to_fhir(&p), v);
        let issues = check_registration(&p).unwrap_err();
        assert_eq!(issues[0].expression, "Patient.birthDate");
        assert!(issues[0].diagnostics.contains("full date YYYY-MM-DD"));
        for bad in [json!("2021-02-30"), json!("01/01/1980"), json!(1980)] {
            v["birthDate"] = bad;
            assert_eq!(expressions(patient_from_fhir(&v)), ["Patient.birthDate"]);
        }
    }

    #[test]
    fn unknown_gender_and_wrong_resource() {
        let mut v = minimal();
        v["gender"] = json!("M");
        let issues = patient_from_fhir(&v).unwrap_err();
        assert_eq!(issues[0].code, IssueCode::CodeInvalid);
        assert_eq!(
            expressions(patient_from_fhir(&json!({"resourceType": "Practitioner"}))),
            ["Patient.resourceType"]
        );
        assert_eq!(expressions(patient_from_fhir(&json!([1]))), ["Patient"]);
    }

    #[test]
    fn identifier_without_value_is_kept_and_fails_nothing() {
        let mut v = minimal();
        v["identifier"] =
            json!([{"system": "urn:x", "value": "1"}, {"use": "usual", "system": "urn:y"}]);
        let p = patient_from_fhir(&v).expect("a valid Patient");
        assert_eq!(p.identifiers.len(), 2);
        assert_eq!(p.identifiers[1].value, "");
        let back = patient_to_fhir(&p);
        assert_eq!(
            back["identifier"][1],
            json!({"use": "usual", "system": "urn:y"})
        );
    }

    #[test]
    fn cleared_phone_is_not_resurrected_from_extra() {
        let mut v = minimal();
        v["telecom"] = json!([{"system": "phone", "value": "+84912345678", "use": "mobile"}]);
        let mut p = patient_from_fhir(&v).unwrap();
        assert_eq!(p.phone.as_deref(), Some("+84912345678"));
        p.phone = None;
        let out = patient_to_fhir(&p);
        assert_eq!(
            out["telecom"],
            json!([{"system": "phone", "use": "mobile"}])
        );
        p.phone = Some("+84900000000".into());
        let out = patient_to_fhir(&p);
        assert_eq!(out["telecom"][0]["value"], "+84900000000");
    }

    #[test]
    fn data_built_by_the_server_exports_cleanly() {
        let p = PatientData {
            id: Some("0190b8e2-7c1e-7d57-9a0e-7d1b8f3f2a11".into()),
            identifiers: vec![Identifier {
                system: Some("urn:oid:2.16.704.1.0.1".into()),
                value: "022080000123".into(),
                type_code: Some("NI".into()),
            }],
            family: "Nguyễn".into(),
            given: vec!["Văn".into(), "Đức".into()],
            full_name: "Nguyễn Văn Đức".into(),
            birth_date: Some(date!(1980 - 01 - 01)),
            sex: Gender::Male,
            phone: Some("+84912345678".into()),
            address: Some(AddressData {
                city: Some("Hạ Long".into()),
                ..AddressData::default()
            }),
            extra: Value::Null,
        };
        let out = patient_to_fhir(&p);
        assert_eq!(out["identifier"][0]["type"]["coding"][0]["code"], "NI");
        assert_eq!(
            out["telecom"],
            json!([{"system": "phone", "value": "+84912345678"}])
        );
        assert_eq!(out["address"], json!([{"city": "Hạ Long"}]));
        let back = patient_from_fhir(&out).unwrap();
        // `system: phone` stays in `extra`: it marks which telecom is mapped.
        let extra = json!({"telecom": [{"system": "phone"}]});
        assert_eq!(back, PatientData { extra, ..p });
    }

    #[test]
    fn unknown_choice_type_is_refused() {
        let mut v = minimal();
        v["deceasedString"] = json!("yes");
        assert_eq!(
            expressions(patient_from_fhir(&v)),
            ["Patient.deceasedString"]
        );
    }
}
