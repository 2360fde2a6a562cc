//! Likely duplicate records and the decisions on them: what the registry's
//! duplicate review lists. The finder proposes pairs (same ID number under
//! another type or in another province; same folded name, birth date and
//! commune); a pair leaves the list when one of its records is merged away
//! or when someone decides the two are different people (kept, so the
//! finder never proposes the pair again). The same identifier of another
//! kind (a partner's MRN of one authority, a passport with its country)
//! held by two records is proposed as the same ID number is.

use sqlx::Row;

use crate::audit::AuditEntry;
use crate::error::StoreError;
use crate::model::Actor;
use crate::scope::Scope;
use crate::Store;

/// Why two records look like one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// The same ID number, under another ID type or in another province.
    IdNumber,
    /// The same folded name, birth date and commune.
    NameBirthArea,
}

impl DuplicateReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateReason::IdNumber => "id_number",
            DuplicateReason::NameBirthArea => "name_birth_area",
        }
    }

    fn parse(s: &str) -> DuplicateReason {
        match s {
            "id_number" => DuplicateReason::IdNumber,
            _ => DuplicateReason::NameBirthArea,
        }
    }
}

/// A proposed pair, `person_a` < `person_b`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DuplicatePair {
    pub person_a: String,
    pub person_b: String,
    pub reason: DuplicateReason,
    pub found_at_micros: i64,
    /// Decided "not the same person" (by whom): no longer listed.
    pub dismissed_by: Option<String>,
}

/// The pair's key: the two ids in order.
pub fn pair_key<'a>(x: &'a str, y: &'a str) -> (&'a str, &'a str) {
    if x <= y {
        (x, y)
    } else {
        (y, x)
    }
}

/// The scope condition on both persons of a pair (`a` and `b` aliases),
/// with parameters from `$first` on.
fn both_in_scope(scope: &Scope, first: usize) -> (String, Vec<String>) {
    let Some((on_a, mut binds)) = scope.sql("a.area_path", "a.id", first) else {
        return ("1 = 1".to_string(), Vec::new());
    };
    let (on_b, more) = scope
        .sql("b.area_path", "b.id", first + binds.len())
        .expect("a limited scope stays limited");
    binds.extend(more);
    (format!("{on_a} AND {on_b}"), binds)
}

fn pair_from_row(r: &sqlx::any::AnyRow) -> Result<DuplicatePair, StoreError> {
    Ok(DuplicatePair {
        person_a: r.try_get("person_a")?,
        person_b: r.try_get("person_b")?,
        reason: DuplicateReason::parse(&r.try_get::<String, _>("reason")?),
        found_at_micros: r.try_get("found_at")?,
        dismissed_by: r.try_get("decided_by")?,
    })
}

impl Store {
    /// Looks for likely duplicates among the records (not merged away) in
    /// `scope` and keeps the pairs not yet known; returns how many are new.
    /// One statement per reason, through the ID-number and duplicate-key
    /// indexes.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn find_duplicates(&self, scope: &Scope) -> Result<u64, StoreError> {
        let (cond, binds) = both_in_scope(scope, 2);
        let joins = [
            (
                DuplicateReason::NameBirthArea,
                "b.folded_name = a.folded_name AND b.birth_date = a.birth_date \
                 AND b.commune_code = a.commune_code",
            ),
            (
                DuplicateReason::IdNumber,
                "b.id_number = a.id_number \
                 AND (b.id_type <> a.id_type OR b.province_code <> a.province_code)",
            ),
        ];
        let mut tx = self.begin_write().await?;
        let mut found = 0;
        for (reason, on) in joins {
            let sql = format!(
                "INSERT INTO duplicate_candidates (person_a, person_b, reason, area_path, found_at) \
                 SELECT a.id, b.id, '{reason}', a.area_path, $1 \
                 FROM persons a JOIN persons b ON {on} AND b.id > a.id \
                 WHERE a.merged_into IS NULL AND b.merged_into IS NULL AND {cond} \
                 ON CONFLICT (person_a, person_b) DO NOTHING",
                reason = reason.as_str(),
            );
            let mut q = sqlx::query(&sql).bind(self.now_micros());
            for b in &binds {
                q = q.bind(b);
            }
            found += q.execute(&mut *tx).await?.rows_affected();
        }
        // The same identifier kept beside two records (a partner's MRN of
        // the same authority registered in two provinces), or kept beside
        // one and on the other's row (a passport): reason `id_number`.
        for sql in [
            "SELECT ia.person_id AS x, ib.person_id AS y FROM person_identifiers ia \
             JOIN person_identifiers ib ON ib.id_type = ia.id_type AND ib.authority = ia.authority \
             AND ib.value = ia.value AND ib.person_id > ia.person_id",
            "SELECT ia.person_id AS x, ob.id AS y FROM person_identifiers ia \
             JOIN persons ob ON ob.id_number = ia.value AND ob.id_type = ia.id_type \
             AND ob.id <> ia.person_id",
        ] {
            let sql = format!(
                "INSERT INTO duplicate_candidates (person_a, person_b, reason, area_path, found_at) \
                 SELECT CASE WHEN m.x < m.y THEN m.x ELSE m.y END, CASE WHEN m.x < m.y THEN m.y ELSE m.x END, \
                 'id_number', a.area_path, $1 \
                 FROM ({sql}) m JOIN persons a ON a.id = m.x JOIN persons b ON b.id = m.y \
                 WHERE a.merged_into IS NULL AND b.merged_into IS NULL AND {cond} \
                 ON CONFLICT (person_a, person_b) DO NOTHING"
            );
            let mut q = sqlx::query(&sql).bind(self.now_micros());
            for b in &binds {
                q = q.bind(b);
            }
            found += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(found)
    }

    /// Keeps the pairs `person` forms with `others` (found when the record
    /// was registered), each ordered.
    pub(crate) async fn keep_duplicates_of(
        &self,
        person: &str,
        area_path: &str,
        others: &[String],
    ) -> Result<(), StoreError> {
        if others.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for other in others {
            let (a, b) = pair_key(person, other);
            sqlx::query(
                "INSERT INTO duplicate_candidates (person_a, person_b, reason, area_path, found_at) \
                 VALUES ($1, $2, 'name_birth_area', $3, $4) ON CONFLICT (person_a, person_b) DO NOTHING",
            )
            .bind(a)
            .bind(b)
            .bind(area_path)
            .bind(self.now_micros())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The undecided pairs whose two records are both in `scope` and not
    /// merged away, by area: `limit` of them from `offset`, and whether
    /// more follow.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_duplicates(
        &self,
        scope: &Scope,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<DuplicatePair>, bool), StoreError> {
        let (cond, binds) = both_in_scope(scope, 3);
        let sql = format!(
            "SELECT d.person_a, d.person_b, d.reason, d.found_at, d.decided_by \
             FROM duplicate_candidates d \
             JOIN persons a ON a.id = d.person_a JOIN persons b ON b.id = d.person_b \
             WHERE d.decision IS NULL AND a.merged_into IS NULL AND b.merged_into IS NULL AND {cond} \
             ORDER BY d.area_path, d.person_a, d.person_b LIMIT $1 OFFSET $2"
        );
        let mut q = sqlx::query(&sql)
            .bind((limit + 1) as i64)
            .bind(offset as i64);
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut pairs = rows
            .iter()
            .map(pair_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let more = pairs.len() > limit;
        pairs.truncate(limit);
        Ok((pairs, more))
    }

    /// What is kept about the pair of these two records (either order),
    /// if the finder proposed it or someone decided on it. The caller has
    /// checked that both records are theirs to see.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn duplicate_pair(
        &self,
        x: &str,
        y: &str,
    ) -> Result<Option<DuplicatePair>, StoreError> {
        let (a, b) = pair_key(x, y);
        let row = sqlx::query(
            "SELECT person_a, person_b, reason, found_at, decided_by \
             FROM duplicate_candidates WHERE person_a = $1 AND person_b = $2",
        )
        .bind(a)
        .bind(b)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(pair_from_row).transpose()
    }

    /// Records that the two records are different people, with a reason
    /// (audited); the pair is no longer listed nor proposed again. Both
    /// records must be in the caller's scope (absent otherwise).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dismiss_duplicate(
        &self,
        x: &str,
        y: &str,
        reason: &str,
        by: &Actor,
    ) -> Result<(), StoreError> {
        let first = self.person_in(x, &by.scope).await?;
        let second = self.person_in(y, &by.scope).await?;
        if first.id == second.id {
            return Err(StoreError::invalid(
                "duplicate_id",
                "a record is not a duplicate of itself",
            ));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid(
                "reason",
                "say why these are different people",
            ));
        }
        let why = if first.id_number == second.id_number {
            DuplicateReason::IdNumber
        } else {
            DuplicateReason::NameBirthArea
        };
        let (a, b) = pair_key(&first.id, &second.id);
        let path = self.area_path_of_person(a).await?;
        let now = self.now_micros();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO duplicate_candidates (person_a, person_b, reason, area_path, found_at, \
             decision, decided_by, decided_at, decision_reason) \
             VALUES ($1, $2, $3, $4, $5, 'not_duplicate', $6, $5, $7) \
             ON CONFLICT (person_a, person_b) DO UPDATE SET decision = 'not_duplicate', \
             decided_by = excluded.decided_by, decided_at = excluded.decided_at, \
             decision_reason = excluded.decision_reason",
        )
        .bind(a)
        .bind(b)
        .bind(why.as_str())
        .bind(&path)
        .bind(now)
        .bind(&by.name)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        crate::audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                by,
                "dismiss_duplicate",
                "person",
                a,
                serde_json::json!({"other": b, "reason": reason}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn area_path_of_person(&self, id: &str) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT area_path FROM persons WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("area_path")?)
    }
}
