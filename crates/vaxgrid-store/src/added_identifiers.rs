//! A document brought later: an identifier added to a registered person
//! (a child's first citizen ID, a passport shown at a later visit, a
//! partner's record number). It follows the registration's rules — the
//! type's own validation against the person's birth date and sex, unique
//! across the registry — and a document (not a record number) closes the
//! person's identity follow-up.

use vaxgrid_core::identity::{validate_identifier, IdType, Identifier};

use crate::audit::{self, AuditEntry};
use crate::error::StoreError;
use crate::identifiers::taken_message;
use crate::model::{Actor, FollowUp, IdentifierInput, Person};
use crate::persons::person_link;
use crate::Store;

/// What adding an identifier did.
#[derive(Debug, Clone)]
pub struct IdentifierAdded {
    pub person: Person,
    /// False when the person already held it (nothing written).
    pub added: bool,
    /// Whether this identifier closed the person's identity follow-up.
    pub follow_up_closed: bool,
    /// Every identifier of the person afterwards, the national document first.
    pub identifiers: Vec<Identifier>,
    /// The follow-up still open, if any (an MRN closes none).
    pub follow_up: Option<FollowUp>,
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Store {
    /// Adds `input` to the person `person_id` within the caller's areas
    /// (another area's person is absent). A national document goes on the
    /// person's row when it has none (a passport keeps its country beside
    /// it, as at registration); anything else is kept beside the row. The
    /// identifier held by someone else is a conflict on `value` naming it;
    /// held by this person already, nothing is written. A document closes
    /// the open follow-up. One transaction, audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_identifier(
        &self,
        person_id: &str,
        input: IdentifierInput,
        actor: &Actor,
    ) -> Result<IdentifierAdded, StoreError> {
        let person = self.person_in(person_id, &actor.scope).await?;
        let ident = self.checked_identifier(&person, &input, actor)?;
        // A record merged into this person finds this person: theirs too.
        if let Some(holder) = self.find_by_identifier(&ident).await? {
            if holder.id == person.id {
                return self.identifier_answer(person, false, false).await;
            }
            return Err(taken(&ident, actor, &holder.id));
        }

        let mut tx = self.begin_write().await?;
        let now = self.now_micros();
        let Some(on_row) = place_identifier(&mut tx, &person, &ident, now).await? else {
            drop(tx);
            let holder = self.holder_of(&ident).await?.unwrap_or_default();
            return Err(taken(&ident, actor, &holder));
        };
        let follow_up_closed = if ident.id_type.is_document() {
            close_follow_up(&mut tx, &person, now).await?
        } else {
            false
        };
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                actor,
                "add_identifier",
                "person",
                &person.id,
                audit_details(&ident, follow_up_closed, on_row),
            )],
        )
        .await?;
        tx.commit().await?;
        let person = self.person(&person.id).await?;
        self.identifier_answer(person, true, follow_up_closed).await
    }

    /// The identifier checked by its type's rules against the person's
    /// birth date and sex; a merged record takes none (its survivor does).
    fn checked_identifier(
        &self,
        person: &Person,
        input: &IdentifierInput,
        actor: &Actor,
    ) -> Result<Identifier, StoreError> {
        if let Some(survivor) = &person.merged_into {
            return Err(StoreError::Conflict {
                field: "id",
                message: format!(
                    "this record was merged into person {survivor}: add the identifier there"
                ),
                existing: person_link(actor, survivor),
            });
        }
        let born = crate::parse_date(&person.birth_date).ok_or_else(|| {
            StoreError::invalid("birth_date", "the person's stored birth date is not a date")
        })?;
        validate_identifier(
            input.id_type,
            input.authority.as_deref(),
            &input.value,
            born,
            person.sex,
            self.today(),
        )
        .map_err(|e| StoreError::Invalid {
            field: e.part().to_string(),
            message: e.to_string(),
        })
    }

    async fn identifier_answer(
        &self,
        person: Person,
        added: bool,
        follow_up_closed: bool,
    ) -> Result<IdentifierAdded, StoreError> {
        let identifiers = self.identifiers_of(&person).await?;
        let follow_up = self.follow_up_of(&person.id).await?;
        Ok(IdentifierAdded {
            person,
            added,
            follow_up_closed,
            identifiers,
            follow_up,
        })
    }
}

/// The conflict of an identifier `holder` already holds.
fn taken(ident: &Identifier, actor: &Actor, holder: &str) -> StoreError {
    StoreError::Conflict {
        field: "value",
        message: taken_message(ident),
        existing: person_link(actor, holder),
    }
}

/// Writes the identifier: a national document on the person's row when it
/// has none, anything else (and a passport's country) beside it. Whether it
/// went on the row, or `None` when a unique index found it held by someone
/// else (the transaction is then to be dropped).
async fn place_identifier(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    person: &Person,
    ident: &Identifier,
    now: i64,
) -> Result<Option<bool>, StoreError> {
    let mut on_row = false;
    if let (Some(t), IdType::None) = (ident.id_type.national(), person.id_type) {
        let updated = sqlx::query(
            "UPDATE persons SET id_type = $1, id_number = $2 \
             WHERE id = $3 AND province_code = $4 AND id_type = 'none'",
        )
        .bind(t.as_str())
        .bind(&ident.value)
        .bind(&person.id)
        .bind(&person.province_code)
        .execute(&mut **tx)
        .await;
        match updated {
            Ok(r) => on_row = r.rows_affected() == 1,
            Err(e) if is_unique_violation(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
    // A passport keeps its country beside the row, as at registration.
    if !on_row || !ident.authority.is_empty() {
        match crate::identifiers::insert_identifiers(
            tx,
            &person.province_code,
            &person.id,
            std::slice::from_ref(ident),
            now,
        )
        .await
        {
            Ok(()) => {}
            Err(StoreError::Database(e)) if is_unique_violation(&e) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(on_row))
}

/// Resolves the person's open identity follow-up; whether there was one.
async fn close_follow_up(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    person: &Person,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE identity_follow_ups SET resolved_at = $1 \
         WHERE person_id = $2 AND province_code = $3 AND resolved_at IS NULL",
    )
    .bind(now)
    .bind(&person.id)
    .bind(&person.province_code)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0)
}

/// The audit's details: the type, authority and where it went, never the
/// value (as at registration).
fn audit_details(ident: &Identifier, follow_up_closed: bool, on_row: bool) -> serde_json::Value {
    let mut details = serde_json::json!({
        "id_type": ident.id_type.as_str(),
        "follow_up_closed": follow_up_closed,
    });
    if !ident.authority.is_empty() {
        details["authority"] = serde_json::json!(ident.authority);
    }
    if on_row {
        details["on_record"] = serde_json::json!(true);
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;
    use vaxgrid_core::identity::IdentifierType;

    #[test]
    fn the_audit_names_the_document_but_never_its_value() {
        let passport = Identifier {
            id_type: IdentifierType::Passport,
            authority: "VNM".to_string(),
            value: "C1234567".to_string(),
        };
        let details = audit_details(&passport, true, false);
        assert_eq!(
            details,
            serde_json::json!({
                "id_type": "passport",
                "follow_up_closed": true,
                "authority": "VNM",
            })
        );
        assert!(!details.to_string().contains("C1234567"));
    }
}
