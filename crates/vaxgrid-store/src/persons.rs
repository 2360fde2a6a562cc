//! The population registry.

use std::collections::{HashMap, HashSet};

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use vaxgrid_core::area::{ancestor_at, province_of_path, subtree_upper_bound, AreaLevels};
use vaxgrid_core::coverage::{split_groups, validate_groups, ALL_GROUPS};
use vaxgrid_core::identity::{validate_id, IdType, Sex};
use vaxgrid_core::names::fold_name;

use crate::audit::{self, AuditEntry};
use crate::cells::{bind_all, row_layout, rows_json, Param};
use crate::db::{in_json, json_rows, params, Backend, Col};
use crate::error::StoreError;
use crate::model::{Area, NewIdentity, NewPerson, Page, Person, PersonCreated};
use crate::Store;

row_layout!(PersonRow for PlacedPerson, |p, now: i64| {
    province_code: Text = &p.province_code,
    id: Text = &p.new.id,
    id_type: Text = p.new.id_type.as_str(),
    id_number: Text = &p.new.id_number,
    full_name: Text = &p.new.full_name,
    folded_name: Text = &p.folded_name,
    birth_date: Text = crate::format_date(p.new.birth_date),
    sex: Text = p.new.sex.as_str(),
    phone: Text = &p.new.phone,
    home_area: Text = &p.new.home_area,
    area_path: Text = &p.area_path,
    commune_code: Text = &p.commune_code,
    occupation: Text = &p.new.occupation,
    priority_groups: Text = p.new.priority_groups.join(","),
    merged_into: Text = Param::Null,
    created_at: Int = now,
});

/// The `persons` columns, for statements' text.
pub(crate) const COLUMNS: &str = PersonRow::COLUMNS;

pub(crate) fn person_from_row(row: &AnyRow) -> Result<Person, StoreError> {
    let id_type: String = row.try_get("id_type")?;
    let sex: String = row.try_get("sex")?;
    let groups: String = row.try_get("priority_groups")?;
    let id_type = IdType::parse_stored(&id_type).ok_or_else(|| {
        StoreError::invalid("id_type", format!("stored id type '{id_type}' is unknown"))
    })?;
    Ok(Person {
        id: row.try_get("id")?,
        id_type,
        // A person without a document keeps their own id in the column
        // (the key must be unique); they have no number to show.
        id_number: match id_type {
            IdType::None => String::new(),
            _ => row.try_get("id_number")?,
        },
        full_name: row.try_get("full_name")?,
        birth_date: row.try_get("birth_date")?,
        sex: Sex::parse(&sex)
            .ok_or_else(|| StoreError::invalid("sex", format!("stored sex '{sex}' is unknown")))?,
        phone: row.try_get("phone")?,
        home_area: row.try_get("home_area")?,
        commune_code: row.try_get("commune_code")?,
        province_code: row.try_get("province_code")?,
        occupation: row.try_get("occupation")?,
        priority_groups: split_groups(&groups),
        merged_into: row.try_get("merged_into")?,
        created_at: crate::format_instant(row.try_get("created_at")?),
    })
}

/// A person ready to insert: checked, normalised and placed in the tree.
#[derive(Debug, Clone)]
pub struct PlacedPerson {
    pub new: NewPerson,
    pub folded_name: String,
    pub province_code: String,
    pub area_path: String,
    pub commune_code: String,
}

/// A row of a bulk operation that failed, with the field to correct.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// 1-based data row (the CSV header is row 0).
    pub row: usize,
    pub field: String,
    pub message: String,
}

impl RowError {
    /// An ID number that appeared in an earlier row of the same file.
    pub fn repeated(row: usize, id_type: IdType, number: &str, first: usize) -> RowError {
        RowError {
            row,
            field: "id_number".into(),
            message: format!(
                "{} {number} is repeated; first seen in row {first}",
                id_type.as_str()
            ),
        }
    }

    /// An ID number that is already in the registry.
    pub fn id_taken(row: usize, id: &str) -> RowError {
        RowError {
            row,
            field: "id".into(),
            message: format!("a person with id {id} already exists"),
        }
    }

    pub fn registered(row: usize, id_type: IdType, number: &str) -> RowError {
        RowError {
            row,
            field: "id_number".into(),
            message: format!(
                "a person with {} {number} is already registered",
                id_type.as_str()
            ),
        }
    }
}

/// Checks the fields of a new person that need no database, and places the
/// person under the home area (which must be at the commune's level or
/// below it, as the deployment's levels say).
pub fn place_person(
    mut new: NewPerson,
    areas: &AreaMap,
    today: time::Date,
) -> Result<PlacedPerson, (String, String)> {
    check_identity_fields(&mut new, today)?;
    check_contact_fields(&new)?;
    let Some(area) = areas.get(&new.home_area) else {
        return Err((
            "home_area".to_string(),
            format!("area '{}' does not exist", new.home_area),
        ));
    };
    let commune_code = commune_of(area, &areas.levels)?;
    Ok(PlacedPerson {
        folded_name: fold_name(&new.full_name),
        province_code: province_of_path(&area.path).to_string(),
        area_path: area.path.clone(),
        commune_code,
        new,
    })
}

/// Checks the name, birth date and document of a new person, writing
/// their stored forms (a person without a document is keyed by its id).
fn check_identity_fields(new: &mut NewPerson, today: time::Date) -> Result<(), (String, String)> {
    let err = |f: &str, m: String| Err((f.to_string(), m));
    match vaxgrid_core::names::normalise_full_name(&new.full_name) {
        Ok(name) => new.full_name = name,
        Err(e) => return err("full_name", e.to_string()),
    }
    if new.birth_date > today {
        return err(
            "birth_date",
            format!(
                "birth date {} is in the future",
                crate::format_date(new.birth_date)
            ),
        );
    }
    if new.birth_date.year() < 1890 {
        return err("birth_date", "birth date must be after 1890".into());
    }
    if new.id_type == IdType::None {
        // No document: the row's key column takes the person's own id,
        // unique by construction and matched by no search for a number.
        new.id_number = new.id.clone();
    } else {
        match validate_id(new.id_type, &new.id_number, new.birth_date, new.sex, today) {
            Ok(normalised) => new.id_number = normalised,
            Err(e) => return err("id_number", e.to_string()),
        }
    }
    Ok(())
}

/// Checks a new person's phone, occupation and priority groups.
fn check_contact_fields(new: &NewPerson) -> Result<(), (String, String)> {
    let err = |f: &str, m: String| Err((f.to_string(), m));
    if let Some(phone) = &new.phone {
        let digits = phone.strip_prefix('+').unwrap_or(phone);
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return err(
                "phone",
                "phone must be 8 to 15 digits, optionally after '+'".into(),
            );
        }
    }
    if new
        .occupation
        .as_ref()
        .is_some_and(|o| o.chars().count() > 100)
    {
        return err(
            "occupation",
            "occupation must be at most 100 characters".into(),
        );
    }
    if let Err(m) = validate_groups(&new.priority_groups) {
        return err("priority_groups", m);
    }
    Ok(())
}

/// The commune-level area a home area lies in: a home area is at the
/// commune's level or below it, as the deployment's levels say.
fn commune_of(area: &Area, levels: &AreaLevels) -> Result<String, (String, String)> {
    let local = levels.local_depth();
    match ancestor_at(&area.path, local) {
        Some(code) if area.depth() >= local => Ok(code.to_string()),
        _ => {
            let names = |lang| {
                levels.all()[local..]
                    .iter()
                    .map(|l| l.name(lang).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Err((
                "home_area".to_string(),
                format!(
                    "home area must be one of: {} (the areas where persons live), not a {}",
                    names("en"),
                    area.level.as_str()
                ),
            ))
        }
    }
}

/// Adds `sign` to the population counters of each person's area and groups.
pub(crate) async fn bump_population<'a>(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    people: impl Iterator<Item = (&'a str, &'a str, &'a str, &'a [String])>,
    sign: i64,
) -> Result<(), StoreError> {
    for (sql, rows) in population_writes(backend, people, sign) {
        sqlx::query(&sql).bind(rows).execute(&mut **tx).await?;
    }
    Ok(())
}

/// The population counters' changes for `people` (province, home area,
/// area path, groups) arriving (`sign` 1) or leaving (-1), as statements
/// with their one JSON parameter (see [`PopulationDelta::writes`]).
pub(crate) fn population_writes<'a>(
    backend: Backend,
    people: impl Iterator<Item = (&'a str, &'a str, &'a str, &'a [String])>,
    sign: i64,
) -> Vec<(String, String)> {
    let mut delta = PopulationDelta::default();
    for (province, area, path, groups) in people {
        delta.add(province, area, path, groups, sign);
    }
    delta.writes(backend)
}

/// A person's key in `population_group_sets`: their groups as stored in
/// `persons.priority_groups`, so the migration that filled the table from
/// the persons and the counters kept since agree.
pub fn group_set_key(groups: &[String]) -> String {
    groups.join(",")
}

/// Population counter changes gathered person by person (a bulk import
/// keeps one instead of every imported person's places and groups).
#[derive(Debug, Default)]
pub(crate) struct PopulationDelta {
    /// By home area: its province and path, and the change per group.
    by_area: HashMap<String, (String, String, HashMap<String, i64>)>,
    /// By home area: the change per set of groups (each person once).
    sets: HashMap<String, HashMap<String, i64>>,
}

impl PopulationDelta {
    pub(crate) fn add(
        &mut self,
        province: &str,
        area: &str,
        path: &str,
        groups: &[String],
        sign: i64,
    ) {
        if !self.by_area.contains_key(area) {
            self.by_area.insert(
                area.to_string(),
                (province.to_string(), path.to_string(), HashMap::new()),
            );
        }
        let (_, _, by_group) = self.by_area.get_mut(area).expect("inserted above");
        for g in groups.iter().map(String::as_str).chain([ALL_GROUPS]) {
            match by_group.get_mut(g) {
                Some(n) => *n += sign,
                None => {
                    by_group.insert(g.to_string(), sign);
                }
            }
        }
        *self
            .sets
            .entry(area.to_string())
            .or_default()
            .entry(group_set_key(groups))
            .or_default() += sign;
    }

    /// The changes as the JSON parameter of [`population_sql`]; None when
    /// nothing changes.
    fn rows(&self) -> Option<String> {
        let rows: Vec<serde_json::Value> = self
            .by_area
            .iter()
            .flat_map(|(area, (province, path, by_group))| {
                by_group
                    .iter()
                    .filter(|(_, n)| **n != 0)
                    .map(move |(group, n)| serde_json::json!([province, area, path, group, n]))
            })
            .collect();
        (!rows.is_empty()).then(|| serde_json::Value::Array(rows).to_string())
    }

    /// The changes per set of groups, as the JSON parameter of
    /// [`group_sets_sql`]; None when nothing changes.
    fn set_rows(&self) -> Option<String> {
        let rows: Vec<serde_json::Value> = self
            .sets
            .iter()
            .flat_map(|(area, by_set)| {
                let (province, path, _) = &self.by_area[area];
                by_set
                    .iter()
                    .filter(|(_, n)| **n != 0)
                    .map(move |(set, n)| serde_json::json!([province, area, path, set, n]))
            })
            .collect();
        (!rows.is_empty()).then(|| serde_json::Value::Array(rows).to_string())
    }

    /// The statements that apply the changes, each with its one JSON
    /// parameter: the counters per group, then per set of groups.
    pub(crate) fn writes(&self, backend: Backend) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(rows) = self.rows() {
            out.push((population_sql(backend), rows));
        }
        if let Some(rows) = self.set_rows() {
            out.push((group_sets_sql(backend), rows));
        }
        out
    }
}

/// Adds rows (parameter 1: province, area, path, group, change) to the
/// counters per group.
fn population_sql(backend: Backend) -> String {
    format!(
        "INSERT INTO population_counters (province_code, area_code, area_path, priority_group, population) {} \
         ON CONFLICT (province_code, area_code, priority_group) DO UPDATE SET population = population_counters.population + excluded.population",
        json_rows(backend, 1, &[Col::Text, Col::Text, Col::Text, Col::Text, Col::Int])
    )
}

/// Adds rows (parameter 1: province, area, path, set of groups, change) to
/// the counters per set of groups.
fn group_sets_sql(backend: Backend) -> String {
    format!(
        "INSERT INTO population_group_sets (province_code, area_code, area_path, group_set, population) {} \
         ON CONFLICT (province_code, area_code, group_set) DO UPDATE SET population = population_group_sets.population + excluded.population",
        json_rows(backend, 1, &[Col::Text, Col::Text, Col::Text, Col::Text, Col::Int])
    )
}

/// Inserts one person on the bulk import's direct SQLite connection with
/// `stmt`, prepared from [`insert_person_sqlite_sql`]; false when the id or ID
/// number is already taken (the row is skipped).
pub(crate) fn insert_person_sqlite(
    stmt: &mut rusqlite::CachedStatement<'_>,
    p: &PlacedPerson,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(stmt.execute(rusqlite::params_from_iter(PersonRow::values(p, now)))? == 1)
}

/// The statement of [`insert_person_sqlite`]: the columns of [`COLUMNS`],
/// bound in that order.
pub(crate) fn insert_person_sqlite_sql() -> String {
    format!(
        "INSERT INTO persons ({COLUMNS}) VALUES ({}) ON CONFLICT DO NOTHING",
        params(1, PersonRow::N)
    )
}

/// Inserts placed persons with one statement (rows as one JSON parameter).
pub(crate) async fn insert_placed(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    people: &[PlacedPerson],
    now: i64,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO persons ({COLUMNS}) {}",
        json_rows(backend, 1, &PersonRow::TYPES)
    );
    sqlx::query(&sql)
        .bind(people_json_at(people, now))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The JSON parameter that inserts `people` (see `json_rows`).
pub fn people_json<'a>(people: impl IntoIterator<Item = &'a PlacedPerson>) -> String {
    people_json_at(people, crate::now_micros())
}

fn people_json_at<'a>(people: impl IntoIterator<Item = &'a PlacedPerson>, now: i64) -> String {
    rows_json(
        &people
            .into_iter()
            .map(|p| PersonRow::values(p, now))
            .collect::<Vec<_>>(),
    )
}

/// Inserts the persons of `json` (from [`people_json`]), skipping those
/// whose ID number (or id) is already registered; returns how many were
/// inserted.
pub(crate) async fn insert_people_json(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    json: String,
) -> Result<u64, StoreError> {
    let sql = format!(
        "INSERT INTO persons ({COLUMNS}) {} ON CONFLICT DO NOTHING",
        json_rows(backend, 1, &PersonRow::TYPES)
    );
    Ok(sqlx::query(&sql)
        .bind(json)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// Every area by code, with the deployment's levels (which say where
/// persons may live).
#[derive(Debug, Clone, Default)]
pub struct AreaMap {
    pub areas: HashMap<String, Area>,
    pub levels: AreaLevels,
}

impl std::ops::Deref for AreaMap {
    type Target = HashMap<String, Area>;
    fn deref(&self) -> &HashMap<String, Area> {
        &self.areas
    }
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn area_map(&self) -> Result<AreaMap, StoreError> {
        Ok(AreaMap {
            areas: self
                .all_areas()
                .await?
                .into_iter()
                .map(|a| (a.code.clone(), a))
                .collect(),
            levels: self.area_levels().await?,
        })
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn person(&self, id: &str) -> Result<Person, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM persons WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "person",
                field: "person_id",
                key: id.to_string(),
            })?;
        person_from_row(&row)
    }

    /// The person, if `actor`'s scope covers them (else NotFound, as if
    /// absent); the read is audited.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn read_person(
        &self,
        id: &str,
        actor: &crate::model::Actor,
    ) -> Result<Person, StoreError> {
        let person = self.person_in(id, &actor.scope).await?;
        self.audit(crate::audit::AuditEntry::by(
            actor,
            "read",
            "person",
            id,
            serde_json::json!({}),
        ))
        .await?;
        Ok(person)
    }

    /// The person, if `scope` covers them (else NotFound, as if absent).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn person_in(
        &self,
        id: &str,
        scope: &crate::scope::Scope,
    ) -> Result<Person, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, area_path FROM persons WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let absent = || StoreError::NotFound {
            entity: "person",
            field: "person_id",
            key: id.to_string(),
        };
        let row = row.ok_or_else(absent)?;
        let path: String = row.try_get("area_path")?;
        if !scope.covers_person(id, &path) {
            return Err(absent());
        }
        person_from_row(&row)
    }

    /// Persons (not merged away) with the same folded name, birth date and
    /// commune as `p`, other than `p`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn possible_duplicates(&self, p: &Person) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM persons WHERE folded_name = $1 AND birth_date = $2 AND commune_code = $3 \
             AND id <> $4 AND merged_into IS NULL ORDER BY id LIMIT 20",
        )
        .bind(fold_name(&p.full_name))
        .bind(&p.birth_date)
        .bind(&p.commune_code)
        .bind(&p.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("id")?))
            .collect()
    }

    pub(crate) async fn existing_by_id_number(
        &self,
        id_type: IdType,
        number: &str,
    ) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT id FROM persons WHERE id_number = $1 AND id_type = $2 LIMIT 1")
                .bind(number)
                .bind(id_type.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.try_get::<String, _>("id")).transpose()?)
    }

    /// Registers one person. The same ID number twice is a conflict pointing
    /// at the existing record; a same-name, same-birth-date, same-commune
    /// person is accepted and reported as a possible duplicate.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_person(
        &self,
        new: NewPerson,
        actor: &crate::model::Actor,
    ) -> Result<PersonCreated, StoreError> {
        self.create_person_with(new, NewIdentity::default(), actor)
            .await
    }

    /// Registers one person with identifiers beyond the national document
    /// (`new.id_type` may be `IdType::None`: the first national document
    /// among `identity.identifiers` then goes on the row) and, for a person
    /// without any document, the follow-up (a child needs a guardian when
    /// no identifier at all is given). Every identifier is unique across the
    /// registry (409 naming it); all is written in one transaction.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_person_with(
        &self,
        new: NewPerson,
        identity: NewIdentity,
        actor: &crate::model::Actor,
    ) -> Result<PersonCreated, StoreError> {
        let areas = self.area_map().await?;
        let today = self.today();
        let (new, extra, follow_up) = crate::identifiers::plan_identity(new, identity, today)?;
        let placed = place_person(new, &areas, today)
            .map_err(|(field, message)| StoreError::Invalid { field, message })?;
        if !actor.scope.covers_path(&placed.area_path) {
            return Err(StoreError::NotFound {
                entity: "area",
                field: "home_area",
                key: placed.new.home_area.clone(),
            });
        }
        // ID numbers are unique across the registry.
        if placed.new.id_type != IdType::None {
            if let Some(id) = self
                .existing_by_id_number(placed.new.id_type, &placed.new.id_number)
                .await?
            {
                return Err(id_number_conflict(&placed, actor, id));
            }
        }
        if let Some(taken) = self.identifier_held(&extra, actor).await? {
            return Err(taken);
        }
        let mut tx = self.begin_write().await?;
        let now = self.now_micros();
        match insert_registration(
            &mut tx,
            self.backend,
            &placed,
            &extra,
            &follow_up,
            actor,
            now,
        )
        .await
        {
            Ok(()) => {}
            Err(RegistrationClash::IdNumber) => {
                drop(tx);
                let id = self
                    .existing_by_id_number(placed.new.id_type, &placed.new.id_number)
                    .await?
                    .unwrap_or_else(|| placed.new.id.clone());
                return Err(id_number_conflict(&placed, actor, id));
            }
            Err(RegistrationClash::Identifier) => {
                // Registered meanwhile by another request.
                drop(tx);
                return Err(self
                    .identifier_held(&extra, actor)
                    .await?
                    .unwrap_or_else(|| StoreError::Conflict {
                        field: "identifiers",
                        message: "an identifier was registered meanwhile".into(),
                        existing: None,
                    }));
            }
            Err(RegistrationClash::Store(e)) => return Err(e),
        }
        tx.commit().await?;
        self.registration_answer(&placed).await
    }

    /// The conflict of the first of `extra` (field, identifier) someone
    /// holds, if any.
    async fn identifier_held(
        &self,
        extra: &[(String, vaxgrid_core::identity::Identifier)],
        actor: &crate::model::Actor,
    ) -> Result<Option<StoreError>, StoreError> {
        for (field, ident) in extra {
            if let Some(id) = self.holder_of(ident).await? {
                return Ok(Some(StoreError::Conflict {
                    field: "identifiers",
                    message: format!("{field}: {}", crate::identifiers::taken_message(ident)),
                    existing: person_link(actor, &id),
                }));
            }
        }
        Ok(None)
    }

    /// The person registered, its possible duplicates (kept for the
    /// duplicate review; the record is written either way), identifiers
    /// and follow-up.
    async fn registration_answer(
        &self,
        placed: &PlacedPerson,
    ) -> Result<PersonCreated, StoreError> {
        let person = self.person(&placed.new.id).await?;
        let possible_duplicates = self.possible_duplicates(&person).await?;
        self.keep_duplicates_of(&person.id, &placed.area_path, &possible_duplicates)
            .await?;
        let identifiers = self.identifiers_of(&person).await?;
        let follow_up = self.follow_up_of(&person.id).await?;
        Ok(PersonCreated {
            person,
            possible_duplicates,
            identifiers,
            follow_up,
        })
    }

    /// Checks a whole batch of new persons without writing: field rules, home
    /// areas, ID numbers repeated inside the batch or already registered.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn check_people(
        &self,
        rows: Vec<NewPerson>,
    ) -> Result<(Vec<PlacedPerson>, Vec<RowError>), StoreError> {
        let areas = self.area_map().await?;
        let today = self.today();
        let mut placed = Vec::with_capacity(rows.len());
        let mut errors = Vec::new();
        let mut seen: HashMap<(IdType, String), usize> = HashMap::new();
        for (i, new) in rows.into_iter().enumerate() {
            match place_person(new, &areas, today) {
                Ok(p) => {
                    let key = (p.new.id_type, p.new.id_number.clone());
                    if let Some(first) = seen.get(&key) {
                        errors.push(RowError::repeated(i + 1, key.0, &key.1, *first));
                    } else {
                        seen.insert(key, i + 1);
                        placed.push((i + 1, p));
                    }
                }
                Err((field, message)) => errors.push(RowError {
                    row: i + 1,
                    field,
                    message,
                }),
            }
        }
        // ID numbers already registered, looked up in chunks.
        let mut registered: HashSet<(String, String)> = HashSet::new();
        let sql = format!(
            "SELECT id_type, id_number FROM persons WHERE {}",
            in_json(self.backend, "id_number", 1)
        );
        for chunk in placed.chunks(5000) {
            let numbers: Vec<&str> = chunk
                .iter()
                .map(|(_, p)| p.new.id_number.as_str())
                .collect();
            let list = serde_json::to_string(&numbers).expect("strings serialise");
            for row in sqlx::query(&sql).bind(list).fetch_all(&self.pool).await? {
                registered.insert((row.try_get("id_type")?, row.try_get("id_number")?));
            }
        }
        let ids: Vec<&str> = placed.iter().map(|(_, p)| p.new.id.as_str()).collect();
        let mut conn = self.pool.acquire().await?;
        let taken = crate::import::taken_person_ids(&mut conn, self.backend, &ids).await?;
        drop(conn);
        let mut ok = Vec::with_capacity(placed.len());
        for (row, p) in placed {
            if taken.contains(&p.new.id) {
                errors.push(RowError::id_taken(row, &p.new.id));
            } else if registered
                .contains(&(p.new.id_type.as_str().to_string(), p.new.id_number.clone()))
            {
                errors.push(RowError::registered(row, p.new.id_type, &p.new.id_number));
            } else {
                ok.push(p);
            }
        }
        errors.sort_by_key(|e| e.row);
        Ok((ok, errors))
    }

    /// Inserts checked persons in one transaction with their population
    /// counts; `progress` is called with the number inserted so far.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn insert_people(
        &self,
        people: &[PlacedPerson],
        actor: impl Into<crate::model::Actor>,
        progress: impl Fn(usize),
    ) -> Result<usize, StoreError> {
        let actor: crate::model::Actor = actor.into();
        let mut tx = self.begin_write().await?;
        let mut done = 0;
        for chunk in people.chunks(5000) {
            insert_placed(&mut tx, self.backend, chunk, self.now_micros()).await?;
            done += chunk.len();
            progress(done);
        }
        bump_population(
            &mut tx,
            self.backend,
            people.iter().map(|p| {
                (
                    p.province_code.as_str(),
                    p.new.home_area.as_str(),
                    p.area_path.as_str(),
                    p.new.priority_groups.as_slice(),
                )
            }),
            1,
        )
        .await?;
        audit::append(
            &mut tx,
            self.backend,
            &[AuditEntry::by(
                &actor,
                "import",
                "person",
                "*",
                serde_json::json!({"count": people.len()}),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(people.len())
    }

    /// Finds persons by ID number, phone, name (with or without diacritics;
    /// matches the start of the name or of any word in it) and/or home area
    /// subtree, ordered by id, after the cursor `after`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn search_persons(
        &self,
        q: &PersonQuery,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Person>, StoreError> {
        let mut c = field_conditions(q, after)?;
        if let Some(area) = &q.area {
            let a = self.area(area).await?;
            let lo = c.param(a.path.clone());
            let hi = c.param(subtree_upper_bound(&a.path));
            c.conditions
                .push(format!("area_path >= {lo} AND area_path < {hi}"));
        }
        if let Some((condition, values)) = q.scope.sql("area_path", "id", c.binds.len() + 1) {
            c.binds.extend(values);
            c.conditions.push(condition);
        }
        let limit_param = c.param(String::new());
        let sql = format!(
            "SELECT {COLUMNS} FROM persons WHERE {} ORDER BY id LIMIT {limit_param}",
            c.conditions.join(" AND ")
        );
        let mut query = sqlx::query(&sql);
        let last = c.binds.len() - 1;
        for (i, b) in c.binds.iter().enumerate() {
            query = if i == last {
                query.bind(limit as i64 + 1)
            } else {
                query.bind(b.clone())
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let people = rows
            .iter()
            .map(person_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_rows(people, limit, |p| p.id.clone()))
    }

    /// Number of persons (merged ones excluded).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn count_persons(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM persons WHERE merged_into IS NULL")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// The next `limit` persons by id after `after` (merged ones included:
    /// their doses still name them), for exports.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn persons_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Person>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM persons WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(person_from_row).collect()
    }

    /// Ids of persons in order, for tools that walk the registry.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn person_ids(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM persons WHERE merged_into IS NULL AND id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("id")?))
            .collect()
    }
}

/// Search criteria; all given criteria must match.
#[derive(Debug, Clone, Default)]
pub struct PersonQuery {
    pub id_number: Option<String>,
    /// Any identifier's value: the row's document or one kept beside it,
    /// narrowed by `identifier_type` and `authority` when given.
    pub identifier: Option<String>,
    pub identifier_type: Option<vaxgrid_core::identity::IdentifierType>,
    pub authority: Option<String>,
    /// Only persons registered without a document, not yet followed up.
    pub follow_up: bool,
    /// Born on this day (YYYY-MM-DD); narrows the other criteria.
    pub birth_date: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub area: Option<String>,
    /// Only persons in this scope are found (none by default).
    pub scope: crate::scope::Scope,
}

/// Why a registration's rows could not be inserted: a key already taken
/// (by a request that committed meanwhile), or the database.
#[derive(Debug)]
pub(crate) enum RegistrationClash {
    /// The national document on the row is registered.
    IdNumber,
    /// An identifier beside the row is registered.
    Identifier,
    Store(StoreError),
}

impl From<StoreError> for RegistrationClash {
    fn from(e: StoreError) -> RegistrationClash {
        RegistrationClash::Store(e)
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// The rows of one registration in `tx`: the person, the identifiers
/// beside the row, the follow-up of a person without a document, the
/// population counter and the audit entry. Checked before (see
/// `Store::create_person_with`); a key taken meanwhile is told apart.
pub(crate) async fn insert_registration(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: crate::db::Backend,
    placed: &PlacedPerson,
    extra: &[(String, vaxgrid_core::identity::Identifier)],
    follow_up: &Option<crate::identifiers::PlannedFollowUp>,
    actor: &crate::model::Actor,
    now: i64,
) -> Result<(), RegistrationClash> {
    let sql = format!(
        "INSERT INTO persons ({COLUMNS}) VALUES ({})",
        params(1, PersonRow::N)
    );
    if let Err(e) = bind_all(sqlx::query(&sql), PersonRow::values(placed, now))
        .execute(&mut **tx)
        .await
    {
        return Err(if is_unique_violation(&e) {
            RegistrationClash::IdNumber
        } else {
            RegistrationClash::Store(e.into())
        });
    }
    let extra_ids: Vec<vaxgrid_core::identity::Identifier> =
        extra.iter().map(|(_, i)| i.clone()).collect();
    if let Err(e) = crate::identifiers::insert_identifiers(
        tx,
        &placed.province_code,
        &placed.new.id,
        &extra_ids,
        now,
    )
    .await
    {
        return Err(match e {
            StoreError::Database(db) if is_unique_violation(&db) => RegistrationClash::Identifier,
            other => RegistrationClash::Store(other),
        });
    }
    if let Some(f) = follow_up {
        crate::identifiers::insert_follow_up(tx, &placed.province_code, &placed.new.id, f, now)
            .await?;
    }
    bump_population(
        tx,
        backend,
        std::iter::once((
            placed.province_code.as_str(),
            placed.new.home_area.as_str(),
            placed.area_path.as_str(),
            placed.new.priority_groups.as_slice(),
        )),
        1,
    )
    .await?;
    let mut details = serde_json::json!({"home_area": placed.new.home_area});
    if !extra_ids.is_empty() {
        details["identifiers"] = serde_json::json!(extra_ids.len());
    }
    if follow_up.is_some() {
        details["identity_follow_up"] = serde_json::json!(true);
    }
    audit::append(
        tx,
        backend,
        &[AuditEntry::by(
            actor,
            "create",
            "person",
            &placed.new.id,
            details,
        )],
    )
    .await?;
    Ok(())
}

/// A person's address in the API, given only to a caller who may read
/// every area (the record may lie outside the caller's).
pub(crate) fn person_link(actor: &crate::model::Actor, id: &str) -> Option<String> {
    matches!(actor.scope, crate::scope::Scope::All).then(|| format!("/api/v1/persons/{id}"))
}

/// The conflict of a national document the person `id` already holds.
fn id_number_conflict(
    placed: &PlacedPerson,
    actor: &crate::model::Actor,
    id: String,
) -> StoreError {
    StoreError::Conflict {
        field: "id_number",
        message: format!(
            "a person with {} {} is already registered",
            placed.new.id_type.as_str(),
            placed.new.id_number
        ),
        existing: person_link(actor, &id),
    }
}

/// The WHERE conditions of a person search, with their text parameters
/// (`$1`, `$2`, … in order).
struct SearchConditions {
    conditions: Vec<String>,
    binds: Vec<String>,
}

impl SearchConditions {
    /// Adds a parameter; its placeholder.
    fn param(&mut self, v: String) -> String {
        self.binds.push(v);
        format!("${}", self.binds.len())
    }
}

/// The search's conditions on the person's own fields: live records after
/// the cursor, then ID number, any identifier, birth date, an open
/// follow-up, phone and name.
fn field_conditions(q: &PersonQuery, after: Option<&str>) -> Result<SearchConditions, StoreError> {
    let mut c = SearchConditions {
        conditions: vec!["merged_into IS NULL".to_string(), "id > $1".to_string()],
        binds: vec![after.unwrap_or("").to_string()],
    };
    if let Some(n) = &q.id_number {
        let p = c.param(n.trim().to_uppercase());
        c.conditions.push(format!("id_number = {p}"));
    }
    if let Some(value) = &q.identifier {
        let condition = identifier_condition(q, value, &mut c);
        c.conditions.push(condition);
    }
    if let Some(born) = &q.birth_date {
        let p = c.param(born.clone());
        c.conditions.push(format!("birth_date = {p}"));
    }
    if q.follow_up {
        c.conditions.push(
            "id IN (SELECT person_id FROM identity_follow_ups WHERE resolved_at IS NULL)"
                .to_string(),
        );
    }
    if let Some(phone) = &q.phone {
        let p = c.param(phone.trim().to_string());
        c.conditions.push(format!("phone = {p}"));
    }
    if let Some(name) = &q.name {
        let folded = fold_name(name);
        if folded.is_empty() {
            return Err(StoreError::invalid("name", "name must contain letters"));
        }
        let escaped = folded
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let starts = c.param(format!("{escaped}%"));
        let word = c.param(format!("% {escaped}%"));
        c.conditions.push(format!(
            "(folded_name LIKE {starts} ESCAPE '\\' OR folded_name LIKE {word} ESCAPE '\\')"
        ));
    }
    Ok(c)
}

/// An identifier searched for: the row's document (unless an authority
/// narrows the search to the identifiers kept beside it) or any
/// identifier kept there.
fn identifier_condition(q: &PersonQuery, value: &str, c: &mut SearchConditions) -> String {
    let v = c.param(value.trim().to_string());
    let upper = c.param(value.trim().to_uppercase());
    let mut beside = format!("value = {v}");
    let mut on_row = format!("id_number = {upper}");
    if let Some(t) = q.identifier_type {
        let p = c.param(t.as_str().to_string());
        beside.push_str(&format!(" AND id_type = {p}"));
        match t.national() {
            Some(n) => {
                let p = c.param(n.as_str().to_string());
                on_row.push_str(&format!(" AND id_type = {p}"));
            }
            None => on_row = "1 = 0".to_string(),
        }
    }
    if let Some(a) = &q.authority {
        let p = c.param(a.trim().to_string());
        beside.push_str(&format!(" AND authority = {p}"));
        on_row = "1 = 0".to_string();
    }
    format!("(({on_row}) OR id IN (SELECT person_id FROM person_identifiers WHERE {beside}))")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_searched_for_matches_a_word_start_with_its_wildcards_escaped() {
        let q = PersonQuery {
            name: Some("Lê_Văn".into()),
            ..PersonQuery::default()
        };
        let c = field_conditions(&q, Some("p-9")).unwrap();
        assert_eq!(c.binds, ["p-9", "le\\_van%", "% le\\_van%"]);
        assert_eq!(
            c.conditions.last().map(String::as_str),
            Some("(folded_name LIKE $2 ESCAPE '\\' OR folded_name LIKE $3 ESCAPE '\\')")
        );
        let blank = PersonQuery {
            name: Some("  ".into()),
            ..PersonQuery::default()
        };
        assert!(field_conditions(&blank, None).is_err());
    }

    #[test]
    fn an_identifier_with_an_authority_is_looked_for_beside_the_row_only() {
        let q = PersonQuery {
            identifier: Some(" c1234567 ".into()),
            authority: Some("VNM".into()),
            ..PersonQuery::default()
        };
        let c = field_conditions(&q, None).unwrap();
        assert_eq!(c.binds, ["", "c1234567", "C1234567", "VNM"]);
        assert_eq!(
            c.conditions[2],
            "((1 = 0) OR id IN (SELECT person_id FROM person_identifiers \
             WHERE value = $2 AND authority = $4))"
        );
    }
}
