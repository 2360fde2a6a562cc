//! QBP^Q11 in, RSP^K11 out: a partner asks for a person's immunization
//! history (CDC Z34) or their evaluated history and forecast (Z44), over
//! `POST /hl7/v2` or MLLP, as an immunization registry answers partners.
//! The person is found as a VXU finds them (national ID number, then any
//! identifier), else by name and date of birth; a date of birth given
//! that is not the person's finds nobody (NF), as does a person outside
//! the caller's areas. Several matches answer TM, nobody NF.

use std::collections::HashMap;

use vaxgrid_interop::hl7v2::{
    ack_context, cvx_for_product, known_vaccine, parse_query, rsp_k11, AckCode, AnsweredPatient,
    AnsweredVaccination, ErrorCode, Forecast, Hl7Error, Query, QueryProfile, QueryStatus,
};
use vaxgrid_store::doses::History;
use vaxgrid_store::model::{Actor, DoseKind, Person};
use vaxgrid_store::persons::PersonQuery;

use super::{now_stamp, MessageReport};
use crate::exchange::{find_person, identifier_of, ExternalId, ExternalPerson, Refusal};
use crate::AppState;

/// The most persons a name-and-birth-date query looks at.
const NAME_MATCHES: usize = 10;

/// Answers one query.
pub async fn answer_query(app: &AppState, text: &str, by: &Actor) -> MessageReport {
    let context = ack_context(text);
    let id = uuid::Uuid::now_v7().simple().to_string();
    let (code, problems, rsp) = match parse_query(text) {
        Err(problems) => {
            let code = AckCode::for_errors(&problems);
            let status = if code == AckCode::Reject {
                QueryStatus::Reject
            } else {
                QueryStatus::Error
            };
            let rsp = rsp_k11(
                &context,
                None,
                status,
                &problems,
                None,
                &[],
                &[],
                &id[..20],
                &now_stamp(),
            );
            (code, problems, rsp)
        }
        Ok(q) => match answer(app, &q, by).await {
            Ok((status, answer)) => {
                let (patient, vaccinations, forecasts) = answer.unwrap_or_default();
                let rsp = rsp_k11(
                    &q.context,
                    Some(&q),
                    status,
                    &[],
                    patient.as_ref(),
                    &vaccinations,
                    &forecasts,
                    &id[..20],
                    &now_stamp(),
                );
                (AckCode::Accept, Vec::new(), rsp)
            }
            Err(refusal) => {
                let message = match refusal {
                    Refusal::Field { field, message } => format!("{field}: {message}"),
                    Refusal::Unavailable(e) => {
                        format!("the registry could not answer now ({e}); send the query again")
                    }
                };
                let problems = vec![Hl7Error::error(
                    "QPD",
                    1,
                    0,
                    ErrorCode::ApplicationInternalError,
                    message,
                )];
                let rsp = rsp_k11(
                    &q.context,
                    Some(&q),
                    QueryStatus::Error,
                    &problems,
                    None,
                    &[],
                    &[],
                    &id[..20],
                    &now_stamp(),
                );
                (AckCode::Error, problems, rsp)
            }
        },
    };
    MessageReport {
        control_id: context.control_id,
        code,
        problems: problems
            .iter()
            .map(|p| (p.severity, p.to_string()))
            .collect(),
        ack: rsp,
    }
}

type Answer = (
    Option<AnsweredPatient>,
    Vec<AnsweredVaccination>,
    Vec<Forecast>,
);

/// Finds the person and what to say about them.
async fn answer(
    app: &AppState,
    q: &Query,
    by: &Actor,
) -> Result<(QueryStatus, Option<Answer>), Refusal> {
    let sender = ExternalPerson {
        ids: q
            .identifiers
            .iter()
            .map(|i| ExternalId {
                value: i.id.clone(),
                type_code: i.identifier_type.clone(),
                authority: i.assigning_authority.clone(),
            })
            .collect(),
        default_authority: Some(q.context.sending_facility.clone()).filter(|f| !f.is_empty()),
        ..ExternalPerson::default()
    };
    let candidates = candidates(app, q, &sender, by).await?;
    let readable = readable_matches(app, q, &sender, candidates, by).await?;
    // A Z32 answer carries one person: several matches ask the sender
    // for more detail (TM), whatever RCP-2 allows.
    let person = match readable.as_slice() {
        [] => return Ok((QueryStatus::NotFound, None)),
        [one] => one.clone(),
        _ => return Ok((QueryStatus::TooMany, None)),
    };
    let history = app.store.history(&person.id).await?;
    let products = app.store.product_map().await?;
    let vaccinations = answered_vaccinations(app, &history, &products).await?;
    let forecasts = if q.profile == QueryProfile::Forecast {
        forecast(&history, &products)
    } else {
        Vec::new()
    };
    let patient = answered_patient(app, &person).await?;
    Ok((
        QueryStatus::Found,
        Some((Some(patient), vaccinations, forecasts)),
    ))
}

/// The persons the query may name: the one its identifiers find (as a
/// VXU finds them), else those of its name and date of birth.
async fn candidates(
    app: &AppState,
    q: &Query,
    sender: &ExternalPerson,
    by: &Actor,
) -> Result<Vec<Person>, Refusal> {
    Ok(match find_person(app, sender).await? {
        Some(p) => vec![p],
        None if q.birth_date.is_some() && !q.family_name.is_empty() => {
            let query = PersonQuery {
                name: Some(
                    format!("{} {}", q.family_name, q.given_names)
                        .trim()
                        .to_string(),
                ),
                birth_date: q.birth_date.map(vaxgrid_store::format_date),
                scope: by.scope.clone(),
                ..PersonQuery::default()
            };
            app.store
                .search_persons(&query, None, NAME_MATCHES + 1)
                .await?
                .items
        }
        None => Vec::new(),
    })
}

/// Only persons the caller may read, born on the day the query says,
/// holding no identifier of a kind the query names with another value.
async fn readable_matches(
    app: &AppState,
    q: &Query,
    sender: &ExternalPerson,
    candidates: Vec<Person>,
    by: &Actor,
) -> Result<Vec<Person>, Refusal> {
    let named: Vec<vaxgrid_store::model::IdentifierInput> = sender
        .ids
        .iter()
        .filter_map(|i| identifier_of(i, sender.default_authority.as_deref()))
        .collect();
    let mut readable = Vec::with_capacity(candidates.len());
    for p in candidates {
        if q.birth_date
            .is_some_and(|d| vaxgrid_store::format_date(d) != p.birth_date)
        {
            continue;
        }
        let held = app.store.identifiers_of(&p).await?;
        let contradicts = named.iter().any(|n| {
            held.iter().any(|h| {
                h.id_type == n.id_type
                    && h.authority
                        .eq_ignore_ascii_case(n.authority.as_deref().unwrap_or(""))
                    && !h.value.eq_ignore_ascii_case(n.value.trim())
            })
        });
        if contradicts {
            continue;
        }
        match app.store.read_person(&p.id, by).await {
            Ok(_) => readable.push(p),
            Err(vaxgrid_store::StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(readable)
}

/// A product's CVX code (the catalogue's, else the known one) and name.
fn cvx_of(
    products: &HashMap<String, vaxgrid_core::product::Product>,
    code: &str,
) -> (String, String) {
    let product = products.get(code);
    let cvx = product
        .and_then(|p| p.cvx.clone())
        .or_else(|| cvx_for_product(code).map(|(c, _)| c.to_string()))
        .unwrap_or_default();
    (cvx, product.map_or(code.to_string(), |p| p.name.clone()))
}

/// The person's valid doses and the vaccinations kept as history, by
/// date.
async fn answered_vaccinations(
    app: &AppState,
    history: &History,
    products: &HashMap<String, vaxgrid_core::product::Product>,
) -> Result<Vec<AnsweredVaccination>, Refusal> {
    let mut vaccinations: Vec<AnsweredVaccination> =
        vaxgrid_store::doses::valid_records(&history.records)
            .into_iter()
            .map(|d| {
                let (cvx, text) = cvx_of(products, &d.product_code);
                AnsweredVaccination {
                    cvx,
                    cvx_text: text,
                    date: vaxgrid_store::parse_date(&d.administered_on).unwrap_or(time::Date::MIN),
                    lot_number: Some(d.lot_number.clone()).filter(|l| !l.is_empty()),
                    facility: Some(d.site_code.clone()).filter(|s| !s.is_empty()),
                    historical: d.kind != DoseKind::Administered,
                    id: d.id.clone(),
                }
            })
            .collect();
    for o in app.store.other_vaccinations_of(&history.person_id).await? {
        vaccinations.push(AnsweredVaccination {
            cvx_text: known_vaccine(&o.cvx).unwrap_or("").to_string(),
            cvx: o.cvx,
            date: vaxgrid_store::parse_date(&o.administered_on).unwrap_or(time::Date::MIN),
            lot_number: o.lot_number,
            facility: None,
            historical: true,
            id: o.id,
        });
    }
    vaccinations.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    Ok(vaccinations)
}

/// The next dose (Z44), when one is due: of the first dose's product,
/// no earlier than the last dose's minimum interval.
fn forecast(
    history: &History,
    products: &HashMap<String, vaxgrid_core::product::Product>,
) -> Vec<Forecast> {
    let valid = vaxgrid_store::doses::valid_doses(&history.records);
    let (Some(due), Some(last)) = (
        history
            .next_dose_due
            .as_deref()
            .and_then(vaxgrid_store::parse_date),
        valid.last(),
    ) else {
        return Vec::new();
    };
    let first = &valid[0].product_code;
    let (cvx, text) = cvx_of(products, first);
    let min = products
        .get(&last.product_code)
        .map_or(0, |p| p.min_interval_days);
    vec![Forecast {
        cvx,
        cvx_text: text,
        dose_number: valid.len() as u32 + 1,
        due,
        earliest: last.date + time::Duration::days(i64::from(min)),
    }]
}

/// The person as PID carries them: identifiers, name, birth date, sex.
async fn answered_patient(app: &AppState, person: &Person) -> Result<AnsweredPatient, Refusal> {
    let identifiers = app
        .store
        .identifiers_of(person)
        .await?
        .iter()
        .map(pid3_of)
        .collect();
    let birth_date = vaxgrid_store::parse_date(&person.birth_date).unwrap_or(time::Date::MIN);
    let (family, given) = vaxgrid_core::names::split_vietnamese_name(&person.full_name);
    let sex = match person.sex.as_str() {
        "male" => "M",
        "female" => "F",
        _ => "U",
    };
    Ok(AnsweredPatient {
        identifiers,
        family_name: family,
        given_names: given,
        birth_date,
        sex: sex.to_string(),
    })
}

/// An identifier as PID-3 carries it: value, assigning authority, type.
fn pid3_of(i: &vaxgrid_core::identity::Identifier) -> (String, String, String) {
    use vaxgrid_core::identity::IdentifierType as T;
    let (authority, kind) = match i.id_type {
        T::Cccd | T::Cmnd => ("VNM".to_string(), "NI"),
        T::CnResident => ("CHN".to_string(), "NI"),
        T::Passport => (i.authority.clone(), "PPN"),
        T::Mrn => (i.authority.clone(), "MR"),
        T::Insurance => (i.authority.clone(), "SN"),
        T::BirthCertificate => (i.authority.clone(), "BCT"),
        T::Other => (i.authority.clone(), "PI"),
    };
    (i.value.clone(), authority, kind.to_string())
}
