//! Records that arrive in the field's exchange formats (FHIR, HL7 v2) become
//! persons and doses here, through the same checks and rules as the JSON
//! API: a person is found by national ID number or by any other identifier
//! (a partner's record number of the same authority is the same person) or
//! registered, with or without a national document; a dose goes
//! through the dose writer. Each format maps its own fields in and names
//! its own fields in errors; this module is what they share.

use vaxgrid_core::area::place_key;
use vaxgrid_core::identity::{validate_identifier, IdType, IdentifierType, Sex};
use vaxgrid_core::product::Product;
use vaxgrid_store::doses::{WriteCommand, WriteOutcome};
use vaxgrid_store::model::{Actor, Area, IdentifierInput, NewIdentity, NewPerson, Person};
use vaxgrid_store::persons::AreaMap;
use vaxgrid_store::persons::PersonQuery;
use vaxgrid_store::StoreError;

use crate::api::doses::{dose_request, DoseBody};
use crate::error::ApiError;
use crate::AppState;

/// Why an incoming record was not taken: the vaxgrid field at fault and
/// the reason, or a store that could not answer (retry later).
#[derive(Debug)]
pub enum Refusal {
    Field { field: String, message: String },
    Unavailable(StoreError),
}

impl Refusal {
    pub fn field(field: &str, message: impl Into<String>) -> Refusal {
        Refusal::Field {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Refusal {
        match e {
            ApiError::Store(s) if is_outage(&s) => Refusal::Unavailable(s),
            other => {
                let (field, message) = other.field_and_message();
                Refusal::Field { field, message }
            }
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        Refusal::from(ApiError::Store(e))
    }
}

/// Failures that say nothing about the record, only about the database.
fn is_outage(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Busy
            | StoreError::Unavailable(_)
            | StoreError::WriterStopped
            | StoreError::Database(_)
            | StoreError::Sqlite(_)
    )
}

/// An identifier as another system sends it.
#[derive(Debug, Clone, Default)]
pub struct ExternalId {
    pub value: String,
    /// HL7 table 0203 / FHIR identifier type code: NI, PPN, MR, …
    pub type_code: Option<String>,
    /// Country (HL7 CX-4: VNM, CHN) or FHIR identifier system.
    pub authority: Option<String>,
}

/// The OID under which Viet Nam's citizen identity numbers are exchanged
/// (the project's FHIR samples use it).
pub const VN_CITIZEN_ID_SYSTEM: &str = "urn:oid:2.16.704.1.0.1";

/// Which kind of national ID number an external identifier is, if any.
/// Medical record numbers and other local ids are not national IDs.
pub fn id_type_of(id: &ExternalId) -> Option<IdType> {
    let value = id.value.trim();
    let type_code = id.type_code.as_deref().unwrap_or("").to_ascii_uppercase();
    let authority = id.authority.as_deref().unwrap_or("").to_ascii_uppercase();
    if type_code == "PPN" {
        return Some(IdType::Passport);
    }
    let national = matches!(type_code.as_str(), "NI" | "NN" | "CZ" | "")
        || authority == VN_CITIZEN_ID_SYSTEM.to_ascii_uppercase();
    if !national || value.is_empty() {
        return None;
    }
    let digits = value.bytes().all(|b| b.is_ascii_digit());
    match (authority.as_str(), value.len()) {
        ("CHN" | "CN", _) | (_, 18) => Some(IdType::CnResident),
        (_, 12) if digits => Some(IdType::Cccd),
        (_, 9) if digits => Some(IdType::Cmnd),
        _ => None,
    }
}

/// One of a sender's identifiers in vaxgrid's terms, or None when it says
/// nothing usable (no value; a record number with no authority and none
/// to assume). National documents are recognised by [`id_type_of`]; HL7
/// table 0203 / FHIR identifier-type codes tell the others: MR, PI, PT, MRN
/// a medical record number (assigned by the authority given, else by
/// `default_authority`: for HL7 the sending facility); SN, MC, MA, NH, HC,
/// JHN an insurance number; BCT a birth certificate; anything else with an
/// authority (a FHIR `system`) another identifier.
pub fn identifier_of(id: &ExternalId, default_authority: Option<&str>) -> Option<IdentifierInput> {
    let value = id.value.trim();
    if value.is_empty() {
        return None;
    }
    let authority = id
        .authority
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    if let Some(t) = id_type_of(id) {
        // A passport keeps its country when the authority is one.
        let country = authority.filter(|a| {
            t == IdType::Passport
                && (2..=3).contains(&a.len())
                && a.bytes().all(|b| b.is_ascii_alphabetic())
        });
        return Some(IdentifierInput {
            id_type: IdentifierType::from(t),
            authority: country.map(str::to_string),
            value: value.to_string(),
        });
    }
    let type_code = id
        .type_code
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    let id_type = match type_code.as_str() {
        "MR" | "MRN" | "PI" | "PT" => IdentifierType::Mrn,
        "SN" | "MC" | "MA" | "NH" | "HC" | "JHN" => IdentifierType::Insurance,
        "BCT" => IdentifierType::BirthCertificate,
        _ => IdentifierType::Other,
    };
    let authority = authority.or(default_authority.map(str::trim).filter(|a| !a.is_empty()));
    if id_type.needs_authority() && authority.is_none() {
        return None;
    }
    Some(IdentifierInput {
        id_type,
        authority: authority.map(str::to_string),
        value: value.to_string(),
    })
}

/// A person as another system sends it.
#[derive(Debug, Clone, Default)]
pub struct ExternalPerson {
    pub ids: Vec<ExternalId>,
    /// Who assigned identifiers that name no authority (HL7: the sending
    /// facility, MSH-4).
    pub default_authority: Option<String>,
    pub full_name: String,
    pub birth_date: Option<time::Date>,
    /// male/female/other/unknown, or HL7 M/F/O/U.
    pub sex: Option<String>,
    pub phone: Option<String>,
    /// Codes of areas the address names (a commune code, a province code).
    pub area_codes: Vec<String>,
    /// Place names of the address, most specific first.
    pub place_names: Vec<String>,
}

/// The commune or village the address names, when it names exactly one
/// (its district or province, when also named, must agree).
pub fn home_area_of(areas: &AreaMap, p: &ExternalPerson) -> Option<String> {
    let local = |a: &Area| areas.levels.is_local(a.depth());
    if let Some(a) = p
        .area_codes
        .iter()
        .filter_map(|c| areas.get(c.trim()))
        .find(|a| local(a))
    {
        return Some(a.code.clone());
    }
    let keys: Vec<String> = p
        .place_names
        .iter()
        .map(|n| place_key(n))
        .filter(|k| !k.is_empty())
        .collect();
    let named =
        |a: &Area| keys.contains(&place_key(&a.name)) || keys.contains(&place_key(&a.name_en));
    let mut matches: Vec<&Area> = areas.values().filter(|a| local(a) && named(a)).collect();
    if matches.len() > 1 {
        // Keep those whose district or province the address also names.
        let ancestors_named = |a: &Area| {
            a.path
                .split('/')
                .filter(|c| !c.is_empty() && *c != a.code)
                .filter_map(|c| areas.get(c))
                .any(|up| named(up) || p.area_codes.iter().any(|c| c.trim() == up.code))
        };
        matches.retain(|a| ancestors_named(a));
    }
    match matches.as_slice() {
        [one] => Some(one.code.clone()),
        _ => None,
    }
}

/// The person's sex in vaxgrid's terms.
fn sex_of(s: Option<&str>) -> Option<Sex> {
    match s?.trim().to_ascii_lowercase().as_str() {
        "m" | "male" => Some(Sex::Male),
        "f" | "female" => Some(Sex::Female),
        "o" | "other" => Some(Sex::Other),
        _ => None,
    }
}

/// What became of an incoming person.
#[derive(Debug)]
pub struct Placed {
    pub person: Person,
    pub created: bool,
    /// Said to the sender, who should fix it (e.g. no usable address).
    pub warnings: Vec<(String, String)>,
}

/// Finds the person by national ID number, or registers them. Without an
/// address naming a commune or village of the registry, a new person is
/// registered at the commune of `fallback_site` (where they were
/// vaccinated), and a warning says so.
pub async fn find_or_register(
    app: &AppState,
    p: &ExternalPerson,
    fallback_site: Option<&str>,
    actor: &Actor,
) -> Result<Placed, Refusal> {
    let plan = plan_person(app, p, fallback_site).await?;
    register(app, plan, actor).await
}

/// Who an incoming person is, decided without writing anything: someone
/// already registered, or a new person whose every field was checked.
#[derive(Debug)]
pub enum PersonPlan {
    Existing(Person),
    New {
        new: NewPerson,
        /// Every identifier the sender gave (the national document too).
        identity: NewIdentity,
        /// Said to the sender (e.g. registered at the site's commune).
        warnings: Vec<(String, String)>,
    },
}

impl PersonPlan {
    /// The person's id, or the id the new person will get.
    pub fn id(&self) -> &str {
        match self {
            PersonPlan::Existing(p) => &p.id,
            PersonPlan::New { new, .. } => &new.id,
        }
    }

    pub fn birth_date(&self) -> Option<time::Date> {
        match self {
            PersonPlan::Existing(p) => vaxgrid_store::parse_date(&p.birth_date),
            PersonPlan::New { new, .. } => Some(new.birth_date),
        }
    }
}

/// Registers the planned person (nothing to do for an existing one).
pub async fn register(app: &AppState, plan: PersonPlan, actor: &Actor) -> Result<Placed, Refusal> {
    match plan {
        PersonPlan::Existing(person) => Ok(Placed {
            person,
            created: false,
            warnings: Vec::new(),
        }),
        PersonPlan::New {
            new,
            identity,
            warnings,
        } => {
            let created = app.store.create_person_with(new, identity, actor).await?;
            Ok(Placed {
                person: created.person,
                created: true,
                warnings,
            })
        }
    }
}

/// Every identifier the sender gives, in vaxgrid's terms.
fn identifier_inputs(p: &ExternalPerson) -> Vec<IdentifierInput> {
    p.ids
        .iter()
        .filter_map(|id| identifier_of(id, p.default_authority.as_deref()))
        .collect()
}

/// The registered person the sender's identifiers name: by national ID
/// number first (unique across the registry, looked up everywhere; what
/// the caller may then do with the person is checked where it is done),
/// then by any other identifier (a partner's record number of the same
/// authority is the same person; a merged record answers with the person
/// it was merged into).
pub async fn find_person(app: &AppState, p: &ExternalPerson) -> Result<Option<Person>, Refusal> {
    if let Some((id_type, number)) = p
        .ids
        .iter()
        .find_map(|id| id_type_of(id).map(|t| (t, id.value.trim().to_string())))
    {
        let query = PersonQuery {
            id_number: Some(number.clone()),
            scope: vaxgrid_store::scope::Scope::All,
            ..PersonQuery::default()
        };
        let found = app.store.search_persons(&query, None, 5).await?;
        if let Some(person) = found.items.into_iter().find(|x| x.id_type == id_type) {
            return Ok(Some(person));
        }
    }
    let today = app.store.today();
    let anyone = time::macros::date!(1900 - 01 - 01);
    for input in &identifier_inputs(p) {
        if input.id_type.national().is_some() && input.authority.is_none() {
            continue; // looked up above, on the row
        }
        // Shape only (the person's birth date is not needed to look up).
        let Ok(ident) = validate_identifier(
            input.id_type,
            input.authority.as_deref(),
            &input.value,
            anyone,
            Sex::Other,
            today,
        ) else {
            continue;
        };
        if let Some(person) = app.store.find_by_identifier(&ident).await? {
            return Ok(Some(person));
        }
    }
    Ok(None)
}

/// What a registration cannot do without: the birth date and the sex.
fn birth_and_sex(p: &ExternalPerson) -> Result<(time::Date, Sex), Refusal> {
    let birth_date = p.birth_date.ok_or_else(|| {
        Refusal::field(
            "birth_date",
            "a birth date is required to register a person",
        )
    })?;
    let sex = sex_of(p.sex.as_deref()).ok_or_else(|| {
        Refusal::field(
            "sex",
            "sex must be male, female or other to register a person",
        )
    })?;
    Ok((birth_date, sex))
}

/// Where a new person lives: the commune or village the address names,
/// else the area of the site where they were seen, with a warning for the
/// sender, who should fix the address.
async fn home_area_or_site(
    app: &AppState,
    areas: &AreaMap,
    p: &ExternalPerson,
    fallback_site: Option<&str>,
) -> Result<(String, Option<(String, String)>), Refusal> {
    if let Some(code) = home_area_of(areas, p) {
        return Ok((code, None));
    }
    let site =
        match fallback_site {
            Some(code) => app.store.site(code).await.map_err(|_| {
                Refusal::field("site_code", format!("site '{code}' does not exist"))
            })?,
            None => {
                return Err(Refusal::field(
                    "home_area",
                    "the address names no commune or village of the registry, \
                 and no site says where the person was seen",
                ))
            }
        };
    let warning = (
        "home_area".to_string(),
        format!(
            "the address names no commune or village of the registry; \
             registered at {} ({}), the area of site {}",
            areas.get(&site.area_code).map_or("", |a| a.name.as_str()),
            site.area_code,
            site.code
        ),
    );
    Ok((site.area_code, Some(warning)))
}

/// A phone number as stored: its digits and plus signs, none when nothing
/// is left.
fn phone_digits(phone: Option<&str>) -> Option<String> {
    phone
        .map(|ph| {
            ph.chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect::<String>()
        })
        .filter(|ph| !ph.is_empty())
}

/// Every field rule of a registration, checked before anything is
/// written: the identifiers (the first national document goes on the
/// row), then the person's own fields.
fn check_registration(
    new: &NewPerson,
    identity: &NewIdentity,
    areas: &AreaMap,
    today: time::Date,
) -> Result<(), Refusal> {
    let (planned, _, _) =
        vaxgrid_store::identifiers::plan_identity(new.clone(), identity.clone(), today).map_err(
            |e| match e {
                StoreError::Invalid { field, message } => Refusal::Field { field, message },
                other => Refusal::from(other),
            },
        )?;
    vaxgrid_store::persons::place_person(planned, areas, today)
        .map_err(|(field, message)| Refusal::Field { field, message })?;
    Ok(())
}

/// Finds the person by national ID number, or checks everything a
/// registration needs (see [`find_or_register`]) without writing.
pub async fn plan_person(
    app: &AppState,
    p: &ExternalPerson,
    fallback_site: Option<&str>,
) -> Result<PersonPlan, Refusal> {
    if let Some(person) = find_person(app, p).await? {
        return Ok(PersonPlan::Existing(person));
    }
    let inputs = identifier_inputs(p);
    let today = app.store.today();
    let (birth_date, sex) = birth_and_sex(p)?;
    let areas = app.store.area_map().await?;
    let (home_area, warning) = home_area_or_site(app, &areas, p, fallback_site).await?;
    let new = NewPerson {
        id: uuid::Uuid::now_v7().to_string(),
        id_type: IdType::None,
        id_number: String::new(),
        full_name: p.full_name.clone(),
        birth_date,
        sex,
        phone: phone_digits(p.phone.as_deref()),
        home_area,
        occupation: None,
        priority_groups: Vec::new(),
    };
    let identity = NewIdentity {
        identifiers: inputs,
        guardian: None,
    };
    check_registration(&new, &identity, &areas, today)?;
    Ok(PersonPlan::New {
        new,
        identity,
        warnings: warning.into_iter().collect(),
    })
}

/// The product whose CVX code this is, from the catalogue.
pub async fn product_for_cvx(app: &AppState, cvx: &str) -> Result<Option<String>, StoreError> {
    let products = app.store.products().await?;
    Ok(catalogue_product_for_cvx(&products, cvx).map(|p| p.code.clone()))
}

/// The catalogue's product for a CVX code: the product whose own code it is
/// (an operator may give a local product any code), else the product that
/// CVX lists this formulation under (Pfizer-BioNTech alone has six codes:
/// dose, diluent, bivalent), when the catalogue has that product. Leading
/// zeros do not count: some senders pad CVX to three digits.
pub fn catalogue_product_for_cvx<'a>(products: &'a [Product], cvx: &str) -> Option<&'a Product> {
    let bare = |c: &str| c.trim().trim_start_matches('0').to_string();
    let cvx = bare(cvx);
    if cvx.is_empty() {
        return None;
    }
    products
        .iter()
        .find(|p| p.cvx.as_deref().map(bare).as_deref() == Some(cvx.as_str()))
        .or_else(|| {
            let code = vaxgrid_interop::hl7v2::product_for_cvx(&cvx)?;
            products.iter().find(|p| p.code == code)
        })
}

pub use vaxgrid_store::visits::dose_id_for;

/// Records a dose through the dose writer, as `POST /api/v1/doses` would.
pub async fn record_dose(
    app: &AppState,
    body: DoseBody,
    by: &Actor,
) -> Result<WriteOutcome, Refusal> {
    let request = dose_request(body, by.clone())?;
    Ok(app
        .writer
        .submit(WriteCommand::Dose(request))
        .await
        .map_err(ApiError::Store)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use vaxgrid_core::area::AreaLevel;

    fn id(value: &str, type_code: &str, authority: &str) -> ExternalId {
        ExternalId {
            value: value.into(),
            type_code: Some(type_code.into()).filter(|s: &String| !s.is_empty()),
            authority: Some(authority.into()).filter(|s: &String| !s.is_empty()),
        }
    }

    #[test]
    fn national_ids_are_told_apart_from_local_ones() {
        assert_eq!(
            id_type_of(&id("022080000123", "NI", "VNM")),
            Some(IdType::Cccd)
        );
        assert_eq!(
            id_type_of(&id("022080000", "NI", "VNM")),
            Some(IdType::Cmnd)
        );
        assert_eq!(
            id_type_of(&id("11010519491231002X", "NI", "CHN")),
            Some(IdType::CnResident)
        );
        assert_eq!(
            id_type_of(&id("B1234567", "PPN", "VNM")),
            Some(IdType::Passport)
        );
        assert_eq!(
            id_type_of(&id("022080000123", "", VN_CITIZEN_ID_SYSTEM)),
            Some(IdType::Cccd)
        );
        assert_eq!(id_type_of(&id("432155", "MR", "MYEHR")), None);
        assert_eq!(id_type_of(&id("ABC", "NI", "VNM")), None);
    }

    #[test]
    fn every_formulation_code_finds_its_catalogue_product() {
        let products = vaxgrid_core::product::standard_products();
        let code = |cvx: &str| catalogue_product_for_cvx(&products, cvx).map(|p| p.code.as_str());
        assert_eq!(code("210"), Some("AZ"));
        assert_eq!(code("0210"), Some("AZ"));
        for cvx in ["208", "217", "218", "219", "300", "301"] {
            assert_eq!(code(cvx), Some("PFIZER"), "{cvx}");
        }
        for cvx in ["207", "221", "227", "228", "229", "230"] {
            assert_eq!(code(cvx), Some("MODERNA"), "{cvx}");
        }
        assert_eq!(code("24"), None);
        assert_eq!(code(""), None);
        assert_eq!(code("000"), None);
        // A product the catalogue does not carry is not found through the
        // formulation table either.
        let without_pfizer: Vec<Product> = products
            .iter()
            .filter(|p| p.code != "PFIZER")
            .cloned()
            .collect();
        assert_eq!(catalogue_product_for_cvx(&without_pfizer, "217"), None);
        // The catalogue's own code wins: a local product may take any code.
        let mut local = products.clone();
        local[0].cvx = Some("999".into());
        let first = local[0].code.clone();
        assert_eq!(
            catalogue_product_for_cvx(&local, "999").map(|p| p.code.clone()),
            Some(first)
        );
    }

    fn area(code: &str, level: AreaLevel, name: &str, path: &str) -> Area {
        Area {
            code: code.into(),
            parent_code: None,
            level,
            name: name.into(),
            name_en: String::new(),
            path: path.into(),
        }
    }

    #[test]
    fn the_address_must_name_exactly_one_commune() {
        let areas: HashMap<String, Area> = [
            area("22", AreaLevel::from("province"), "Quảng Ninh", "/22/"),
            area(
                "193",
                AreaLevel::from("district"),
                "Thành phố Hạ Long",
                "/22/193/",
            ),
            area(
                "195",
                AreaLevel::from("district"),
                "Thành phố Cẩm Phả",
                "/22/195/",
            ),
            area(
                "06658",
                AreaLevel::from("commune"),
                "Phường Hồng Gai",
                "/22/193/06658/",
            ),
            area(
                "06700",
                AreaLevel::from("commune"),
                "Phường Cẩm Trung",
                "/22/195/06700/",
            ),
            area(
                "06701",
                AreaLevel::from("commune"),
                "Phường Hồng Gai",
                "/22/195/06701/",
            ),
        ]
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect();
        let areas = AreaMap {
            areas,
            levels: Default::default(),
        };
        let person = |names: &[&str], codes: &[&str]| ExternalPerson {
            place_names: names.iter().map(|s| s.to_string()).collect(),
            area_codes: codes.iter().map(|s| s.to_string()).collect(),
            ..ExternalPerson::default()
        };
        assert_eq!(
            home_area_of(&areas, &person(&["Cẩm Trung"], &[])),
            Some("06700".into())
        );
        // Two communes of that name: the district decides.
        assert_eq!(home_area_of(&areas, &person(&["Hồng Gai"], &[])), None);
        assert_eq!(
            home_area_of(&areas, &person(&["Hong Gai", "TP. Hạ Long"], &[])),
            Some("06658".into())
        );
        assert_eq!(
            home_area_of(&areas, &person(&["12 Lê Lợi", "Hạ Long"], &["22"])),
            None
        );
        assert_eq!(
            home_area_of(&areas, &person(&[], &["06701"])),
            Some("06701".into())
        );
    }

    #[test]
    fn a_phone_keeps_its_digits_and_plus_signs() {
        assert_eq!(
            phone_digits(Some("+84 (912) 345-678")),
            Some("+84912345678".into())
        );
        assert_eq!(phone_digits(Some(" - ")), None);
        assert_eq!(phone_digits(None), None);
    }

    #[test]
    fn a_registration_needs_a_birth_date_and_a_sex() {
        let field = |p: &ExternalPerson| match birth_and_sex(p) {
            Err(Refusal::Field { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let mut p = ExternalPerson::default();
        assert_eq!(field(&p), "birth_date");
        p.birth_date = Some(time::macros::date!(1990 - 05 - 01));
        p.sex = Some("U".into());
        assert_eq!(field(&p), "sex");
        p.sex = Some(" F ".into());
        assert!(matches!(birth_and_sex(&p), Ok((_, Sex::Female))));
    }
}
