//! One message of an exchange format (an HL7 VXU, a FHIR Bundle or
//! resource) written whole or not at all: the persons it registers, its
//! doses and corrections, its vaccinations outside the catalogue and their
//! audit entries, in one transaction. The dose writer runs it (see
//! `writer::DoseWriter::submit_exchange`), so it is serialised with every
//! other dose write: two first messages about the same person cannot both
//! register them, and the dose rules see every dose committed before.

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};
use vaxgrid_core::identity::{IdType, Identifier};

use crate::audit::{self, AuditEntry};
use crate::batch_tx::BatchTx;
use crate::doses::{apply_in, Catalog, WriteCommand, WriteOutcome};
use crate::error::StoreError;
use crate::model::{body_hash, Actor, NewIdentity, NewPerson};
use crate::persons::{insert_registration, place_person, RegistrationClash};
use crate::Store;

/// A person the message registers unless someone holds one of their
/// documents or identifiers by the time it is written (then that person
/// is used: the message was about them).
#[derive(Debug, Clone)]
pub struct Registration {
    pub new: NewPerson,
    pub identity: NewIdentity,
}

/// A vaccination with a vaccine outside the catalogue, kept as history.
#[derive(Debug, Clone)]
pub struct OtherVaccinationInput {
    /// Stable: derived from the sender's identifiers of the record.
    pub id: String,
    /// A stored person, or the id planned for a registration of the same
    /// message.
    pub person_id: String,
    pub cvx: String,
    pub administered_on: time::Date,
    pub lot_number: Option<String>,
    /// `hl7` or `fhir`.
    pub source: String,
    /// The sending system (HL7 MSH-4), or ''.
    pub sender: String,
    /// Set when this record withdraws the record it names.
    pub corrects_id: Option<String>,
}

impl OtherVaccinationInput {
    fn body_hash(&self, person_id: &str) -> String {
        body_hash(&[
            person_id,
            &self.cvx,
            &crate::format_date(self.administered_on),
            self.lot_number.as_deref().unwrap_or(""),
            self.corrects_id.as_deref().unwrap_or(""),
        ])
    }
}

/// A stored vaccination outside the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OtherVaccination {
    pub id: String,
    pub person_id: String,
    /// `given` or `entered_in_error`.
    pub kind: String,
    pub corrects_id: Option<String>,
    pub cvx: String,
    pub administered_on: String,
    pub lot_number: Option<String>,
    pub source: String,
    pub sender: String,
    pub recorded_at: String,
}

/// One page of an area's bulk export (see `Store::export_page`).
#[derive(Debug, Default)]
pub struct ExportPage {
    pub persons: Vec<crate::model::Person>,
    /// Every dose record of those persons, corrections included.
    pub doses: Vec<crate::model::DoseRecord>,
    pub others: Vec<OtherVaccination>,
    /// A merged-away record's id → the person of this page it was merged
    /// into (records name the person they were given to).
    pub survivor: HashMap<String, String>,
    /// The cursor of the next page, None after the last.
    pub next: Option<String>,
}

/// Everything one message writes.
#[derive(Debug, Clone)]
pub struct ExchangeWrite {
    pub persons: Vec<Registration>,
    /// Doses and corrections; a dose may name a registration's planned id.
    pub commands: Vec<WriteCommand>,
    pub history: Vec<OtherVaccinationInput>,
    pub by: Actor,
}

/// Which part of a message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangePart {
    Person(usize),
    Command(usize),
    History(usize),
}

/// What became of a message. When `refused` is set nothing was written.
#[derive(Debug)]
pub struct ExchangeOutcome {
    /// Per registration: the person's id and whether they were created
    /// (false: someone already held their document or identifier).
    pub persons: Vec<(String, bool)>,
    pub refused: Option<(ExchangePart, StoreError)>,
    /// Per command (empty when refused).
    pub results: Vec<WriteOutcome>,
    /// Per history record: whether it was new (false: sent before).
    pub history: Vec<bool>,
}

impl ExchangeOutcome {
    fn refused(part: ExchangePart, e: StoreError) -> ExchangeOutcome {
        ExchangeOutcome {
            persons: Vec::new(),
            refused: Some((part, e)),
            results: Vec::new(),
            history: Vec::new(),
        }
    }
}

const OTHER_COLUMNS: &str = "id, person_id, kind, corrects_id, cvx, administered_on, lot_number, \
     source, sender, recorded_at";

fn other_from_row(r: &sqlx::any::AnyRow) -> Result<OtherVaccination, StoreError> {
    Ok(OtherVaccination {
        id: r.try_get("id")?,
        person_id: r.try_get("person_id")?,
        kind: r.try_get("kind")?,
        corrects_id: r.try_get("corrects_id")?,
        cvx: r.try_get("cvx")?,
        administered_on: r.try_get("administered_on")?,
        lot_number: r.try_get("lot_number")?,
        source: r.try_get("source")?,
        sender: r.try_get("sender")?,
        recorded_at: crate::format_instant(r.try_get("recorded_at")?),
    })
}

/// The person holding `ident` as seen by `tx` (see `Store::holder_of`).
async fn holder_in(
    tx: &mut Transaction<'static, Any>,
    ident: &Identifier,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT person_id FROM person_identifiers WHERE id_type = $1 AND authority = $2 AND value = $3 \
         ORDER BY person_id LIMIT 1",
    )
    .bind(ident.id_type.as_str())
    .bind(&ident.authority)
    .bind(&ident.value)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(row) = row {
        return Ok(Some(row.try_get("person_id")?));
    }
    match ident.id_type.national() {
        Some(t) => by_id_number_in(tx, t, &ident.value).await,
        None => Ok(None),
    }
}

async fn by_id_number_in(
    tx: &mut Transaction<'static, Any>,
    id_type: IdType,
    number: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT id FROM persons WHERE id_number = $1 AND id_type = $2 LIMIT 1")
        .bind(number)
        .bind(id_type.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|r| r.try_get::<String, _>("id")).transpose()?)
}

/// A registration of the message: the person already holding one of its
/// documents, or a new person written in `tx`.
enum Registered {
    Held(String),
    Created { id: String, area_path: String },
}

async fn register(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    reg: &Registration,
    areas: &crate::persons::AreaMap,
    by: &Actor,
    now: i64,
) -> Result<Result<Registered, StoreError>, RegistrationClash> {
    let today = store.today();
    let (new, extra, follow_up) =
        match crate::identifiers::plan_identity(reg.new.clone(), reg.identity.clone(), today) {
            Ok(planned) => planned,
            Err(e) => return Ok(Err(e)),
        };
    if new.id_type != IdType::None {
        if let Some(id) = by_id_number_in(tx, new.id_type, &new.id_number).await? {
            return Ok(Ok(Registered::Held(id)));
        }
    }
    for (_, ident) in &extra {
        if let Some(id) = holder_in(tx, ident).await? {
            return Ok(Ok(Registered::Held(id)));
        }
    }
    let placed = match place_person(new, areas, today) {
        Ok(p) => p,
        Err((field, message)) => return Ok(Err(StoreError::Invalid { field, message })),
    };
    if !by.scope.covers_path(&placed.area_path) {
        return Ok(Err(StoreError::NotFound {
            entity: "area",
            field: "home_area",
            key: placed.new.home_area.clone(),
        }));
    }
    insert_registration(tx, store.backend, &placed, &extra, &follow_up, by, now).await?;
    Ok(Ok(Registered::Created {
        id: placed.new.id.clone(),
        area_path: placed.area_path.clone(),
    }))
}

/// Applies one message in one transaction (the dose writer calls it). A
/// refused part leaves everything unwritten; the outer error is the
/// database's. A registration that meets a document registered meanwhile
/// by another request is tried once more, and then finds that person.
pub(crate) async fn apply_exchange(
    store: &Store,
    catalog: &mut Catalog,
    w: &ExchangeWrite,
) -> Result<ExchangeOutcome, StoreError> {
    let mut attempt = 0;
    loop {
        match attempt_exchange(store, catalog, w).await {
            Err(RegistrationClash::Store(e)) => return Err(e),
            Err(RegistrationClash::IdNumber | RegistrationClash::Identifier) if attempt == 0 => {
                attempt += 1;
            }
            Err(RegistrationClash::IdNumber | RegistrationClash::Identifier) => {
                return Ok(ExchangeOutcome::refused(
                    ExchangePart::Person(0),
                    StoreError::Conflict {
                        field: "identifiers",
                        message: "a document of this person was registered meanwhile; send the message again".into(),
                        existing: None,
                    },
                ))
            }
            Ok(outcome) => return Ok(outcome),
        }
    }
}

async fn attempt_exchange(
    store: &Store,
    catalog: &mut Catalog,
    w: &ExchangeWrite,
) -> Result<ExchangeOutcome, RegistrationClash> {
    let areas = if w.persons.is_empty() {
        crate::persons::AreaMap::default()
    } else {
        store.area_map().await?
    };
    catalog.refresh(store, &w.commands).await?;
    let mut tx = store.begin_batch().await?;
    let now = store.now_micros();
    let registered = match register_persons(&mut tx, store, w, &areas, now).await? {
        Ok(r) => r,
        Err((part, e)) => return Ok(ExchangeOutcome::refused(part, e)),
    };
    let commands = commands_for_persons(&w.commands, &registered.id_map);
    let mut btx = BatchTx::Sqlx(tx);
    let mut results = Vec::with_capacity(commands.len());
    if !commands.is_empty() {
        for (i, r) in apply_in(store, catalog, &mut btx, &commands)
            .await?
            .into_iter()
            .enumerate()
        {
            match r {
                Ok(o) => results.push(o),
                Err(e) => return Ok(ExchangeOutcome::refused(ExchangePart::Command(i), e)),
            }
        }
    }
    let BatchTx::Sqlx(mut tx) = btx else {
        unreachable!("an exchange runs on a sqlx transaction")
    };
    let history = match write_history(&mut tx, store, w, &registered.id_map, now).await? {
        Ok(h) => h,
        Err((part, e)) => return Ok(ExchangeOutcome::refused(part, e)),
    };
    tx.commit().await.map_err(StoreError::from)?;
    keep_for_duplicate_review(store, &registered.created).await;
    Ok(ExchangeOutcome {
        persons: registered.persons,
        refused: None,
        results,
        history,
    })
}

/// Writes one history record: Ok(true) new, Ok(false) the same record sent
/// before; a different record under the same id, or a correction naming
/// nothing, is refused.
async fn write_other(
    tx: &mut Transaction<'static, Any>,
    h: &OtherVaccinationInput,
    person_id: &str,
    now: i64,
) -> Result<Result<bool, StoreError>, StoreError> {
    let hash = h.body_hash(person_id);
    let existing = sqlx::query("SELECT body_hash FROM other_vaccinations WHERE id = $1")
        .bind(&h.id)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(row) = existing {
        let stored: String = row.try_get("body_hash")?;
        return Ok(if stored == hash {
            Ok(false)
        } else {
            Err(StoreError::Conflict {
                field: "id",
                message: format!("record id {} was already used for a different record", h.id),
                existing: None,
            })
        });
    }
    if let Some(target) = &h.corrects_id {
        let found =
            sqlx::query("SELECT id FROM other_vaccinations WHERE id = $1 AND kind = 'given'")
                .bind(target)
                .fetch_optional(&mut **tx)
                .await?;
        if found.is_none() {
            return Ok(Err(StoreError::NotFound {
                entity: "vaccination",
                field: "id",
                key: target.clone(),
            }));
        }
    }
    let province = sqlx::query("SELECT province_code FROM persons WHERE id = $1")
        .bind(person_id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(province) = province else {
        return Ok(Err(StoreError::NotFound {
            entity: "person",
            field: "person_id",
            key: person_id.to_string(),
        }));
    };
    let province: String = province.try_get("province_code")?;
    sqlx::query(
        "INSERT INTO other_vaccinations (province_code, id, person_id, kind, corrects_id, cvx, \
         administered_on, lot_number, source, sender, body_hash, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(province)
    .bind(&h.id)
    .bind(person_id)
    .bind(if h.corrects_id.is_some() {
        "entered_in_error"
    } else {
        "given"
    })
    .bind(h.corrects_id.clone())
    .bind(&h.cvx)
    .bind(crate::format_date(h.administered_on))
    .bind(h.lot_number.clone())
    .bind(&h.source)
    .bind(&h.sender)
    .bind(hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Ok(true))
}

impl Store {
    /// The person's vaccinations outside the catalogue (and those of every
    /// record merged into them), by date, withdrawn ones left out.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn other_vaccinations_of(
        &self,
        person_id: &str,
    ) -> Result<Vec<OtherVaccination>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {OTHER_COLUMNS} FROM other_vaccinations o WHERE kind = 'given' \
             AND person_id IN (SELECT id FROM persons WHERE id = $1 OR merged_into = $1) \
             AND NOT EXISTS (SELECT 1 FROM other_vaccinations c WHERE c.corrects_id = o.id) \
             ORDER BY administered_on, id"
        ))
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(other_from_row).collect()
    }

    /// One stored history record (a correction too), by id.
    pub async fn other_vaccination(&self, id: &str) -> Result<OtherVaccination, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {OTHER_COLUMNS} FROM other_vaccinations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "vaccination",
            field: "id",
            key: id.to_string(),
        })?;
        other_from_row(&row)
    }

    /// A page of an area's records for a bulk export: the next `limit`
    /// persons by id after `after` whose home is under `area_path` (merged
    /// records left out: their survivor carries them), the dose records of
    /// each (and of the records merged into them), corrections included,
    /// and their vaccinations outside the catalogue, withdrawn ones left
    /// out. Three reads whatever the page size.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn export_page(
        &self,
        area_path: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ExportPage, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM persons WHERE merged_into IS NULL AND area_path >= $1 AND area_path < $2 \
             AND id > $3 ORDER BY id LIMIT $4",
            crate::persons::COLUMNS
        ))
        .bind(area_path)
        .bind(vaxgrid_core::area::subtree_upper_bound(area_path))
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        let persons = rows
            .iter()
            .map(crate::persons::person_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        if persons.is_empty() {
            return Ok(ExportPage::default());
        }
        let ids: Vec<&str> = persons.iter().map(|p| p.id.as_str()).collect();
        let list = crate::db::params(1, ids.len());
        let members =
            format!("SELECT id FROM persons WHERE id IN ({list}) OR merged_into IN ({list})");
        let sql = format!(
            "SELECT {} FROM doses WHERE person_id IN ({members}) ORDER BY person_id, recorded_at, id",
            crate::doses::DOSE_COLUMNS
        );
        let mut q = sqlx::query(&sql);
        for id in &ids {
            q = q.bind(*id);
        }
        let doses = q
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(crate::doses::dose_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let sql = format!(
            "SELECT {OTHER_COLUMNS} FROM other_vaccinations o WHERE kind = 'given' \
             AND person_id IN ({members}) \
             AND NOT EXISTS (SELECT 1 FROM other_vaccinations c WHERE c.corrects_id = o.id) \
             ORDER BY person_id, administered_on, id"
        );
        let mut q = sqlx::query(&sql);
        for id in &ids {
            q = q.bind(*id);
        }
        let others = q
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(other_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        // Records of merged-away persons go with their survivor.
        let survivor: HashMap<String, String> = {
            let sql = format!("SELECT id, merged_into FROM persons WHERE merged_into IN ({list})");
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            q.fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("merged_into")?)))
                .collect::<Result<_, StoreError>>()?
        };
        let next = persons.last().map(|p| p.id.clone());
        Ok(ExportPage {
            persons,
            doses,
            others,
            survivor,
            next: next.filter(|_| rows.len() == limit),
        })
    }

    /// Every history record row (corrections too), for tests and checks.
    pub async fn count_other_vaccinations(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM other_vaccinations")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}

/// The part of a message refused, and why.
type Refusal = (ExchangePart, StoreError);

/// What registering a message's persons did.
struct Registrations<'a> {
    /// Each person's id and whether it was created, in message order.
    persons: Vec<(String, bool)>,
    /// The persons created, with their area's path.
    created: Vec<(String, String)>,
    /// A registration's planned id → the person found holding its document.
    id_map: HashMap<&'a str, String>,
}

/// Registers the message's persons (or finds them by their documents).
async fn register_persons<'a>(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    w: &'a ExchangeWrite,
    areas: &crate::persons::AreaMap,
    now: i64,
) -> Result<Result<Registrations<'a>, Refusal>, RegistrationClash> {
    let mut done = Registrations {
        persons: Vec::with_capacity(w.persons.len()),
        created: Vec::new(),
        id_map: HashMap::new(),
    };
    for (i, reg) in w.persons.iter().enumerate() {
        match register(tx, store, reg, areas, &w.by, now).await? {
            Ok(Registered::Held(id)) => {
                done.id_map.insert(&reg.new.id, id.clone());
                done.persons.push((id, false));
            }
            Ok(Registered::Created { id, area_path }) => {
                done.created.push((id.clone(), area_path));
                done.persons.push((id, true));
            }
            Err(e) => return Ok(Err((ExchangePart::Person(i), e))),
        }
    }
    Ok(Ok(done))
}

/// The person a message's id names: the one found holding the
/// registration's document, or the id itself.
fn person_of(id_map: &HashMap<&str, String>, id: &str) -> String {
    id_map.get(id).cloned().unwrap_or_else(|| id.to_string())
}

/// The commands with each dose's person id pointed at the person found.
fn commands_for_persons(
    commands: &[WriteCommand],
    id_map: &HashMap<&str, String>,
) -> Vec<WriteCommand> {
    commands
        .iter()
        .map(|c| match c {
            WriteCommand::Dose(d) => {
                let mut d = d.clone();
                d.person_id = person_of(id_map, &d.person_id);
                WriteCommand::Dose(d)
            }
            other => other.clone(),
        })
        .collect()
}

/// Writes the history records (whether each is new) and audits the new
/// ones in one entry.
async fn write_history(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    w: &ExchangeWrite,
    id_map: &HashMap<&str, String>,
    now: i64,
) -> Result<Result<Vec<bool>, Refusal>, RegistrationClash> {
    let mut history = Vec::with_capacity(w.history.len());
    let mut recorded = Vec::new();
    for (i, h) in w.history.iter().enumerate() {
        let person_id = person_of(id_map, &h.person_id);
        match write_other(tx, h, &person_id, now).await? {
            Ok(new) => {
                if new {
                    recorded.push(serde_json::json!({
                        "id": h.id, "person_id": person_id, "cvx": h.cvx,
                        "kind": if h.corrects_id.is_some() { "entered_in_error" } else { "given" },
                    }));
                }
                history.push(new);
            }
            Err(e) => return Ok(Err((ExchangePart::History(i), e))),
        }
    }
    if !recorded.is_empty() {
        let first = recorded[0]["id"].as_str().unwrap_or("").to_string();
        audit::append(
            tx,
            store.backend,
            &[AuditEntry::by(
                &w.by,
                "record_other_vaccinations",
                "other_vaccination",
                &first,
                serde_json::json!({ "records": recorded }),
            )],
        )
        .await?;
    }
    Ok(Ok(history))
}

/// Keeps the persons created for the duplicate review, as a registration
/// by the API is; a failure is logged, the message being written.
async fn keep_for_duplicate_review(store: &Store, created: &[(String, String)]) {
    for (id, area_path) in created {
        let kept = async {
            let person = store.person(id).await?;
            let others = store.possible_duplicates(&person).await?;
            store.keep_duplicates_of(id, area_path, &others).await
        };
        if let Err(e) = kept.await {
            tracing::warn!(error = %e, "possible duplicates of a registration not kept");
        }
    }
}
