//! A person's identifiers beyond the national document on their row
//! (`person_identifiers`, migration 0032), and the follow-up of persons
//! registered without any document (`identity_follow_ups`).
//!
//! The row keeps the national document (CCCD, CMND, Chinese resident ID,
//! passport) as before, so the dose writer, the import and every search by
//! ID number are unchanged; a person without one has `IdType::None` there.
//! Everything else a person is known by — a passport with its country, a
//! partner's medical record number with the partner as authority, insurance
//! and birth certificate numbers — is a row here, unique per (type,
//! authority, value) within a province, looked up in every province before
//! a registration.

use sqlx::{Any, Row, Transaction};
use time::Date;
use vaxgrid_core::identity::{validate_identifier, IdType, Identifier, IdentifierType};

use crate::error::StoreError;
use crate::model::{FollowUp, Guardian, NewIdentity, NewPerson, Person};
use crate::Store;

/// Children under this age have no card of their own yet (Vietnam's
/// citizen ID is compulsory from 14): registered without any identifier,
/// they need a guardian.
pub const CHILD_UNDER_YEARS: i32 = 14;

/// The follow-up a registration will write: the person has no document.
#[derive(Debug, Clone, Default)]
pub struct PlannedFollowUp {
    pub guardian: Option<Guardian>,
}

/// Whole years from `born` to `today`.
fn age_on(born: Date, today: Date) -> i32 {
    let mut years = today.year() - born.year();
    if (u8::from(today.month()), today.day()) < (u8::from(born.month()), born.day()) {
        years -= 1;
    }
    years
}

fn invalid(field: String, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

/// Checks the identifiers and the guardian of a registration without the
/// database: each identifier by its type's rules (field
/// `identifiers[i].value` or `.authority`), none twice; a person without a
/// national document on the row gets the first one given; a person with
/// no document at all is planned for follow-up, and a child given no
/// identifier at all needs a guardian. Returns the person, the identifiers
/// to keep beside the row (each with its field) and the follow-up.
#[allow(clippy::type_complexity)]
pub fn plan_identity(
    mut new: NewPerson,
    identity: NewIdentity,
    today: Date,
) -> Result<
    (
        NewPerson,
        Vec<(String, Identifier)>,
        Option<PlannedFollowUp>,
    ),
    StoreError,
> {
    let given_any = !identity.identifiers.is_empty();
    let mut checked: Vec<(String, Identifier)> = Vec::new();
    for (i, input) in identity.identifiers.iter().enumerate() {
        let field = format!("identifiers[{i}]");
        let ident = validate_identifier(
            input.id_type,
            input.authority.as_deref(),
            &input.value,
            new.birth_date,
            new.sex,
            today,
        )
        .map_err(|e| invalid(format!("{field}.{}", e.part()), e.to_string()))?;
        if let Some((first, _)) = checked.iter().find(|(_, c)| *c == ident) {
            return Err(invalid(field, format!("repeats {first}")));
        }
        checked.push((field, ident));
    }
    if new.id_type == IdType::None {
        if let Some(pos) = checked
            .iter()
            .position(|(_, c)| c.id_type.national().is_some())
        {
            let (_, first) = &checked[pos];
            new.id_type = first.id_type.national().expect("national");
            new.id_number = first.value.clone();
            // A passport keeps its country beside the row.
            if first.authority.is_empty() {
                checked.remove(pos);
            }
        }
    }
    // The row's document given again without an authority adds nothing.
    let row = (IdentifierType::from(new.id_type), new.id_number.trim());
    checked.retain(|(_, c)| {
        new.id_type == IdType::None
            || !(c.id_type == row.0
                && c.authority.is_empty()
                && c.value.eq_ignore_ascii_case(row.1))
    });
    let has_document =
        new.id_type != IdType::None || checked.iter().any(|(_, c)| c.id_type.is_document());
    if has_document {
        return Ok((new, checked, None));
    }
    let guardian = match identity.guardian {
        Some(g) => Some(check_guardian(g)?),
        None => None,
    };
    if !given_any && guardian.is_none() && age_on(new.birth_date, today) < CHILD_UNDER_YEARS {
        return Err(invalid(
            "guardian".into(),
            format!(
                "a child under {CHILD_UNDER_YEARS} registered without any identifier needs a guardian (name, and a phone if there is one)"
            ),
        ));
    }
    Ok((new, checked, Some(PlannedFollowUp { guardian })))
}

fn check_guardian(mut g: Guardian) -> Result<Guardian, StoreError> {
    g.name = vaxgrid_core::names::normalise_full_name(&g.name)
        .map_err(|e| invalid("guardian.name".into(), e.to_string()))?;
    g.phone = g.phone.filter(|p| !p.trim().is_empty());
    if let Some(phone) = &g.phone {
        let digits = phone.strip_prefix('+').unwrap_or(phone);
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "guardian.phone".into(),
                "phone must be 8 to 15 digits, optionally after '+'",
            ));
        }
    }
    g.relationship = g
        .relationship
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if g.relationship
        .as_ref()
        .is_some_and(|r| r.chars().count() > 50 || r.chars().any(char::is_control))
    {
        return Err(invalid(
            "guardian.relationship".into(),
            "relationship is at most 50 characters",
        ));
    }
    Ok(g)
}

/// The refusal of an identifier someone else holds.
pub fn taken_message(ident: &Identifier) -> String {
    if ident.authority.is_empty() {
        format!(
            "a person with {} {} is already registered",
            ident.id_type.as_str(),
            ident.value
        )
    } else {
        format!(
            "a person with {} {} of {} is already registered",
            ident.id_type.as_str(),
            ident.value,
            ident.authority
        )
    }
}

/// Inserts the person's identifiers beside the row (a handful per person).
pub(crate) async fn insert_identifiers(
    tx: &mut Transaction<'static, Any>,
    province: &str,
    person_id: &str,
    identifiers: &[Identifier],
    now: i64,
) -> Result<(), StoreError> {
    for i in identifiers {
        sqlx::query(
            "INSERT INTO person_identifiers (province_code, id_type, authority, value, person_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(province)
        .bind(i.id_type.as_str())
        .bind(&i.authority)
        .bind(&i.value)
        .bind(person_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Records that the person has no document, with their guardian.
pub(crate) async fn insert_follow_up(
    tx: &mut Transaction<'static, Any>,
    province: &str,
    person_id: &str,
    f: &PlannedFollowUp,
    now: i64,
) -> Result<(), StoreError> {
    let g = f.guardian.as_ref();
    sqlx::query(
        "INSERT INTO identity_follow_ups (province_code, person_id, reason, guardian_name, \
         guardian_phone, guardian_relationship, created_at) VALUES ($1, $2, 'no_document', $3, $4, $5, $6)",
    )
    .bind(province)
    .bind(person_id)
    .bind(g.map(|g| g.name.clone()))
    .bind(g.and_then(|g| g.phone.clone()))
    .bind(g.and_then(|g| g.relationship.clone()))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The id of the person holding `ident`, in any province: a row of
    /// `person_identifiers`, or, for a national document given without an
    /// authority, the persons row's own document.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn holder_of(&self, ident: &Identifier) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT person_id FROM person_identifiers WHERE id_type = $1 AND authority = $2 AND value = $3 \
             ORDER BY person_id LIMIT 1",
        )
        .bind(ident.id_type.as_str())
        .bind(&ident.authority)
        .bind(&ident.value)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = row {
            return Ok(Some(row.try_get("person_id")?));
        }
        match ident.id_type.national() {
            Some(t) => self.existing_by_id_number(t, &ident.value).await,
            None => Ok(None),
        }
    }

    /// The person holding `ident` (see [`Store::holder_of`]); a record
    /// merged away answers with the person it was merged into.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn find_by_identifier(
        &self,
        ident: &Identifier,
    ) -> Result<Option<Person>, StoreError> {
        let Some(id) = self.holder_of(ident).await? else {
            return Ok(None);
        };
        let mut person = self.person(&id).await?;
        // Merges point at the survivor; a chain is at most a few long.
        for _ in 0..8 {
            match person.merged_into.clone() {
                Some(next) => person = self.person(&next).await?,
                None => break,
            }
        }
        Ok(Some(person))
    }

    /// Every identifier of the person: the row's national document first
    /// (unless the same document is kept with its authority beside it),
    /// then the others by type and value.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn identifiers_of(&self, p: &Person) -> Result<Vec<Identifier>, StoreError> {
        let rows = sqlx::query(
            "SELECT id_type, authority, value FROM person_identifiers WHERE person_id = $1 \
             ORDER BY id_type, authority, value",
        )
        .bind(&p.id)
        .fetch_all(&self.pool)
        .await?;
        let mut extra = Vec::with_capacity(rows.len());
        for r in &rows {
            let t: String = r.try_get("id_type")?;
            let id_type = IdentifierType::parse(&t).ok_or_else(|| {
                StoreError::invalid(
                    "id_type",
                    format!("stored identifier type '{t}' is unknown"),
                )
            })?;
            extra.push(Identifier {
                id_type,
                authority: r.try_get("authority")?,
                value: r.try_get("value")?,
            });
        }
        let mut all = Vec::with_capacity(extra.len() + 1);
        if p.id_type != IdType::None {
            let t = IdentifierType::from(p.id_type);
            if !extra
                .iter()
                .any(|e| e.id_type == t && e.value == p.id_number)
            {
                all.push(Identifier {
                    id_type: t,
                    authority: String::new(),
                    value: p.id_number.clone(),
                });
            }
        }
        all.extend(extra);
        Ok(all)
    }

    /// The person's open identity follow-up, if they were registered
    /// without any document.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn follow_up_of(&self, person_id: &str) -> Result<Option<FollowUp>, StoreError> {
        let row = sqlx::query(
            "SELECT reason, guardian_name, guardian_phone, guardian_relationship, created_at \
             FROM identity_follow_ups WHERE person_id = $1 AND resolved_at IS NULL",
        )
        .bind(person_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let name: Option<String> = r.try_get("guardian_name")?;
        Ok(Some(FollowUp {
            reason: r.try_get("reason")?,
            guardian: match name {
                Some(name) => Some(Guardian {
                    name,
                    phone: r.try_get("guardian_phone")?,
                    relationship: r.try_get("guardian_relationship")?,
                }),
                None => None,
            },
            created_at: crate::format_instant(r.try_get("created_at")?),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IdentifierInput;
    use time::macros::date;
    use vaxgrid_core::identity::Sex;

    const TODAY: Date = date!(2026 - 12 - 06);

    fn person(born: Date) -> NewPerson {
        NewPerson {
            id: "0193a000-0000-7000-8000-000000000001".into(),
            id_type: IdType::None,
            id_number: String::new(),
            full_name: "Nguyễn Văn An".into(),
            birth_date: born,
            sex: Sex::Male,
            phone: None,
            home_area: "06658".into(),
            occupation: None,
            priority_groups: Vec::new(),
        }
    }

    fn input(t: IdentifierType, a: Option<&str>, v: &str) -> IdentifierInput {
        IdentifierInput {
            id_type: t,
            authority: a.map(str::to_string),
            value: v.into(),
        }
    }

    #[test]
    fn a_child_without_any_identifier_needs_a_guardian() {
        let child = person(date!(2020 - 01 - 01));
        let err = plan_identity(child.clone(), NewIdentity::default(), TODAY).unwrap_err();
        assert!(matches!(err, StoreError::Invalid { ref field, .. } if field == "guardian"));
        let with_guardian = NewIdentity {
            guardian: Some(Guardian {
                name: "  Trần Thị  Bình ".into(),
                phone: Some("0912345678".into()),
                relationship: Some("mother".into()),
            }),
            ..NewIdentity::default()
        };
        let (_, extra, follow) = plan_identity(child.clone(), with_guardian, TODAY).unwrap();
        assert!(extra.is_empty());
        assert_eq!(follow.unwrap().guardian.unwrap().name, "Trần Thị Bình");
        // An adult without a document is registered and followed up.
        let (_, _, follow) =
            plan_identity(person(date!(1960 - 01 - 01)), NewIdentity::default(), TODAY).unwrap();
        assert!(follow.is_some());
        // A child a partner knows by its MRN: followed up, no guardian needed.
        let mrn = NewIdentity {
            identifiers: vec![input(IdentifierType::Mrn, Some("HOSP-A"), "123")],
            guardian: None,
        };
        let (_, extra, follow) = plan_identity(child, mrn, TODAY).unwrap();
        assert_eq!(extra.len(), 1);
        assert!(follow.is_some());
    }

    #[test]
    fn the_first_national_document_goes_on_the_row() {
        let adult = person(date!(1980 - 01 - 01));
        let identity = NewIdentity {
            identifiers: vec![
                input(IdentifierType::Mrn, Some("HOSP-A"), "123"),
                input(IdentifierType::Cccd, None, "022080000123"),
                input(IdentifierType::Passport, Some("vn"), "b1234567"),
            ],
            guardian: None,
        };
        let (new, extra, follow) = plan_identity(adult, identity, TODAY).unwrap();
        assert_eq!(
            (new.id_type, new.id_number.as_str()),
            (IdType::Cccd, "022080000123")
        );
        let kept: Vec<(&str, &str)> = extra
            .iter()
            .map(|(f, i)| (f.as_str(), i.value.as_str()))
            .collect();
        assert_eq!(
            kept,
            [("identifiers[0]", "123"), ("identifiers[2]", "B1234567")]
        );
        assert!(follow.is_none());
    }

    #[test]
    fn bad_or_repeated_identifiers_name_their_field() {
        let adult = person(date!(1980 - 01 - 01));
        let bad = |ids: Vec<IdentifierInput>| match plan_identity(
            adult.clone(),
            NewIdentity {
                identifiers: ids,
                guardian: None,
            },
            TODAY,
        ) {
            Err(StoreError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            bad(vec![input(IdentifierType::Mrn, None, "1")]),
            "identifiers[0].authority"
        );
        assert_eq!(
            bad(vec![
                input(IdentifierType::Insurance, None, "HS4010123456789"),
                input(IdentifierType::Cccd, None, "999080000123"),
            ]),
            "identifiers[1].value"
        );
        assert_eq!(
            bad(vec![
                input(IdentifierType::Mrn, Some("A"), "1"),
                input(IdentifierType::Mrn, Some("A"), " 1 "),
            ]),
            "identifiers[1]"
        );
    }
}
