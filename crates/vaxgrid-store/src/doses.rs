//! The append-only dose log and the batch the dose writer commits.
//!
//! `apply_batch` is the hot path: it loads everything a batch of commands
//! needs with a handful of set queries, runs the pure rules of
//! `vaxgrid-core` in memory (each command sees the effect of the ones before
//! it), then writes the new rows, the counter increments and the audit
//! entries, and commits once.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::{Any, Row, Transaction};
use vaxgrid_core::coverage::{contribution, split_groups, Contribution, CoverageDelta};
use vaxgrid_core::dose::{
    check_new_dose, check_reported_dose, next_dose_due, LotFacts, LotStatus, NewDose, ValidDose,
};
use vaxgrid_core::product::Product;
use vaxgrid_core::supply::lot::{verdict, LotAtSite};
use vaxgrid_core::supply::vial::{take_from_pools, Pool};
use vaxgrid_core::training::VACCINATION_TOPIC;

use crate::audit::{self, AuditEntry};
use crate::batch_tx::BatchTx;
use crate::catalog::{product_from_row, PRODUCT_COLUMNS};
use crate::cells::{bind_all, row_layout, rows_json, Cells, FromCells, Param};
use crate::db::{in_json, json_rows, params, Backend};
use crate::direct_sqlite::WriteTx;
use crate::error::StoreError;
use crate::model::{CorrectionRequest, DoseKind, DoseRecord, DoseRequest, Lot, MergeRequest};
use crate::persons::population_writes;
use crate::training::{StaffCertificate, CERTIFICATE_COLUMNS};
use crate::Store;

row_layout!(pub(crate) DoseRow for DoseRecord, |r| {
    province_code: Text = &r.province_code,
    id: Text = &r.id,
    person_id: Text = &r.person_id,
    kind: Text = r.kind.as_str(),
    corrects_id: Text = &r.corrects_id,
    product_code: Text = &r.product_code,
    lot_number: Text = &r.lot_number,
    site_code: Text = &r.site_code,
    dose_number: Int = r.dose_number,
    administered_on: Text = &r.administered_on,
    vaccinator: Text = &r.vaccinator,
    override_reason: Text = &r.override_reason,
    reason: Text = &r.reason,
    author: Text = &r.author,
    area_code: Text = &r.area_code,
    recorded_at: Int = r.recorded_at_micros,
    body_hash: Text = &r.body_hash,
    stock_store: Text = &r.stock_store,
});

/// The `doses` columns, for statements' text.
pub(crate) const DOSE_COLUMNS: &str = DoseRow::COLUMNS;

impl FromCells for DoseRecord {
    fn from_cells<R: Cells>(row: &R) -> Result<DoseRecord, StoreError> {
        dose_from_row(row)
    }
}

pub(crate) fn dose_from_row<R: Cells>(row: &R) -> Result<DoseRecord, StoreError> {
    let kind: String = row.cell("kind")?;
    let recorded_at: i64 = row.cell("recorded_at")?;
    Ok(DoseRecord {
        id: row.cell("id")?,
        person_id: row.cell("person_id")?,
        kind: DoseKind::parse(&kind).ok_or_else(|| {
            StoreError::invalid("kind", format!("stored dose kind '{kind}' is unknown"))
        })?,
        corrects_id: row.cell("corrects_id")?,
        product_code: row.cell("product_code")?,
        lot_number: row.cell("lot_number")?,
        site_code: row.cell("site_code")?,
        dose_number: row.cell("dose_number")?,
        administered_on: row.cell("administered_on")?,
        vaccinator: row.cell("vaccinator")?,
        override_reason: row.cell("override_reason")?,
        reason: row.cell("reason")?,
        author: row.cell("author")?,
        area_code: row.cell("area_code")?,
        recorded_at: crate::format_instant(recorded_at),
        province_code: row.cell("province_code")?,
        recorded_at_micros: recorded_at,
        body_hash: row.cell("body_hash")?,
        stock_store: row.cell("stock_store")?,
    })
}

/// The valid doses among `records`: administered or reported, not entered
/// in error, in date order (recording order, then id, breaks ties).
pub fn valid_doses(records: &[DoseRecord]) -> Vec<ValidDose> {
    valid_records(records)
        .into_iter()
        .filter_map(|r| {
            Some(ValidDose {
                product_code: r.product_code.clone(),
                date: crate::parse_date(&r.administered_on)?,
            })
        })
        .collect()
}

/// The records behind [`valid_doses`], in the same order.
pub fn valid_records(records: &[DoseRecord]) -> Vec<&DoseRecord> {
    let voided: HashSet<&str> = records
        .iter()
        .filter(|r| r.kind == DoseKind::EnteredInError)
        .filter_map(|r| r.corrects_id.as_deref())
        .collect();
    let mut valid: Vec<&DoseRecord> = records
        .iter()
        .filter(|r| r.kind.is_dose() && !voided.contains(r.id.as_str()))
        .collect();
    // The id breaks ties so that every reader orders a history alike: the
    // records of one batch share their recording instant.
    valid.sort_by(|a, b| {
        (
            a.administered_on.as_str(),
            a.recorded_at_micros,
            a.id.as_str(),
        )
            .cmp(&(
                b.administered_on.as_str(),
                b.recorded_at_micros,
                b.id.as_str(),
            ))
    });
    valid
}

/// A command for the dose writer.
#[derive(Debug, Clone)]
pub enum WriteCommand {
    Dose(DoseRequest),
    EnteredInError(CorrectionRequest),
    Merge(MergeRequest),
}

#[derive(Debug, Clone)]
pub enum WriteOutcome {
    /// A new record was committed.
    Created(DoseRecord),
    /// The same id and body were committed before; this is that record.
    Existing(DoseRecord),
    Merged {
        survivor_id: String,
        duplicate_id: String,
        already: bool,
    },
}

/// What the batch knows of one person whose history it may change. Persons
/// merged into another share the survivor's state.
#[derive(Debug, Clone)]
struct PersonState {
    province_code: String,
    home_area: String,
    area_path: String,
    groups: Vec<String>,
    birth_date: time::Date,
    members: Vec<String>,
    records: Vec<DoseRecord>,
    before: Option<Contribution>,
    merged_away: bool,
    touched: bool,
}

struct PersonRow {
    id: String,
    province_code: String,
    home_area: String,
    area_path: String,
    groups: Vec<String>,
    birth_date: time::Date,
    merged_into: Option<String>,
}

/// Rows of `select` whose `column` is one of `keys`, for each (column, keys)
/// pair: one statement whatever the number of keys. A row matching two
/// conditions comes back twice.
async fn fetch_any<T: FromCells>(
    tx: &mut BatchTx<'_>,
    backend: Backend,
    (select, plan): (&str, Plan),
    conditions: &[(&str, Vec<&str>)],
) -> Result<Vec<T>, StoreError> {
    let conditions: Vec<(&str, Vec<&str>)> = conditions
        .iter()
        .map(|(c, keys)| {
            (
                *c,
                keys.iter()
                    .copied()
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, keys)| !keys.is_empty())
        .collect();
    if conditions.is_empty() {
        return Ok(Vec::new());
    }
    // UNION ALL of one indexed lookup per condition: an OR of the two would
    // make both engines scan the table. Callers tolerate repeated rows.
    let branches: Vec<String> = conditions
        .iter()
        .enumerate()
        .map(|(i, (c, _))| format!("{select} WHERE {}", in_json(backend, c, i + 1)))
        .collect();
    let sql = branches.join(" UNION ALL ");
    let binds: Vec<String> = conditions
        .iter()
        .map(|(_, keys)| serde_json::to_string(keys).expect("strings serialise"))
        .collect();
    match plan {
        Plan::Cached => tx.rows(&sql, &binds).await,
        Plan::EachTime => tx.rows_planned_each_time(&sql, &binds).await,
    }
}

/// How a batch's read is planned on PostgreSQL (see `Store::begin_batch`).
#[derive(Clone, Copy)]
enum Plan {
    /// Prepared once, its generic plan kept.
    Cached,
    /// Planned for its parameters and the table as it is, every time: the
    /// reads of `doses`, which grows fastest of all, from nothing when a
    /// campaign starts.
    EachTime,
}

async fn fetch_in<'a, T: FromCells>(
    tx: &mut BatchTx<'_>,
    backend: Backend,
    select: (&str, Plan),
    column: &str,
    keys: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<T>, StoreError> {
    fetch_any(tx, backend, select, &[(column, keys.into_iter().collect())]).await
}

impl FromCells for PersonRow {
    fn from_cells<R: Cells>(row: &R) -> Result<PersonRow, StoreError> {
        person_row(row)
    }
}

fn person_row<R: Cells>(row: &R) -> Result<PersonRow, StoreError> {
    let birth: String = row.cell("birth_date")?;
    Ok(PersonRow {
        id: row.cell("id")?,
        province_code: row.cell("province_code")?,
        home_area: row.cell("home_area")?,
        area_path: row.cell("area_path")?,
        groups: split_groups(&row.cell::<String>("priority_groups")?),
        birth_date: crate::parse_date(&birth).ok_or_else(|| {
            StoreError::invalid(
                "birth_date",
                format!("stored birth date '{birth}' is not a date"),
            )
        })?,
        merged_into: row.cell("merged_into")?,
    })
}

const PERSON_SELECT: &str =
    "SELECT id, province_code, home_area, area_path, priority_groups, birth_date, merged_into FROM persons";

/// Loads the persons with the given ids, the survivors they were merged
/// into, and everyone merged into those survivors, with their dose records
/// (`prefetched` holds the records already read for some of them); returns
/// (id → root id, root id → state).
async fn load_people(
    tx: &mut BatchTx<'_>,
    backend: Backend,
    ids: &HashSet<String>,
    mut prefetched: HashMap<String, Vec<DoseRecord>>,
    products: &HashMap<String, Product>,
) -> Result<(HashMap<String, String>, HashMap<String, PersonState>), StoreError> {
    let rows = read_person_rows(tx, backend, ids).await?;
    let (root_of, mut states) = group_by_root(&rows);
    let unread: Vec<&str> = root_of
        .keys()
        .filter(|id| !prefetched.contains_key(*id))
        .map(String::as_str)
        .collect();
    let select = format!("SELECT {DOSE_COLUMNS} FROM doses");
    for rec in
        fetch_in::<DoseRecord>(tx, backend, (&select, Plan::EachTime), "person_id", unread).await?
    {
        prefetched
            .entry(rec.person_id.clone())
            .or_default()
            .push(rec);
    }
    for (person, records) in prefetched {
        if let Some(state) = root_of.get(&person).and_then(|root| states.get_mut(root)) {
            state.records.extend(records);
        }
    }
    for state in states.values_mut() {
        state.before = contribution(&valid_doses(&state.records), |c| products.get(c));
    }
    Ok((root_of, states))
}

/// Reads the persons with the given ids and everyone merged into them,
/// then, where one of them was merged into a survivor not asked for, that
/// survivor and everyone merged into it.
async fn read_person_rows(
    tx: &mut BatchTx<'_>,
    backend: Backend,
    ids: &HashSet<String>,
) -> Result<HashMap<String, PersonRow>, StoreError> {
    let mut rows: HashMap<String, PersonRow> = HashMap::new();
    let keys: Vec<&str> = ids.iter().map(String::as_str).collect();
    for p in fetch_any::<PersonRow>(
        tx,
        backend,
        (PERSON_SELECT, Plan::Cached),
        &[("id", keys.clone()), ("merged_into", keys)],
    )
    .await?
    {
        rows.insert(p.id.clone(), p);
    }
    // Rare: a requested person was merged into someone not requested.
    let survivors: Vec<String> = rows
        .values()
        .filter_map(|p| p.merged_into.clone())
        .filter(|s| !rows.contains_key(s))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if !survivors.is_empty() {
        let keys: Vec<&str> = survivors.iter().map(String::as_str).collect();
        for p in fetch_any::<PersonRow>(
            tx,
            backend,
            (PERSON_SELECT, Plan::Cached),
            &[("id", keys.clone()), ("merged_into", keys)],
        )
        .await?
        {
            rows.insert(p.id.clone(), p);
        }
    }
    Ok(rows)
}

/// One state per root (a person not merged into anyone) with its members,
/// and each person's root: persons merged into a root not read are left
/// out.
fn group_by_root(
    rows: &HashMap<String, PersonRow>,
) -> (HashMap<String, String>, HashMap<String, PersonState>) {
    let mut root_of = HashMap::new();
    let mut states: HashMap<String, PersonState> = HashMap::new();
    for p in rows.values().filter(|p| p.merged_into.is_none()) {
        states.insert(
            p.id.clone(),
            PersonState {
                province_code: p.province_code.clone(),
                home_area: p.home_area.clone(),
                area_path: p.area_path.clone(),
                groups: p.groups.clone(),
                birth_date: p.birth_date,
                members: vec![p.id.clone()],
                records: Vec::new(),
                before: None,
                merged_away: false,
                touched: false,
            },
        );
        root_of.insert(p.id.clone(), p.id.clone());
    }
    for p in rows.values() {
        if let Some(root) = &p.merged_into {
            if let Some(state) = states.get_mut(root) {
                state.members.push(p.id.clone());
                root_of.insert(p.id.clone(), root.clone());
            }
        }
    }
    (root_of, states)
}

/// A lot as the dose writer reads it: the catalogue's facts, and why it is
/// held back and its last vial monitor stage, if so.
struct BatchLot {
    lot: Lot,
    status_reason: Option<String>,
    vvm_stage: Option<i64>,
}

impl FromCells for BatchLot {
    fn from_cells<R: Cells>(row: &R) -> Result<BatchLot, StoreError> {
        Ok(BatchLot {
            lot: crate::catalog::lot_from_row(row)?,
            status_reason: row.cell("status_reason")?,
            vvm_stage: row.cell("vvm_stage")?,
        })
    }
}

/// Products and sites as the writer last read them. Neither can be changed
/// or removed through the store (only added), so a cached entry stays true;
/// an unknown code makes the writer read the table again.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    products: HashMap<String, Product>,
    sites: HashSet<String>,
}

impl Catalog {
    /// Reads products and sites again if `cmds` name one not cached. Read
    /// on the pool, before the batch's transaction: rows are only added,
    /// so an earlier snapshot can only lack a code, as it would have a
    /// moment before.
    pub(crate) async fn refresh(
        &mut self,
        store: &Store,
        cmds: &[WriteCommand],
    ) -> Result<(), StoreError> {
        let wants = |f: &dyn Fn(&DoseRequest) -> bool| {
            cmds.iter()
                .any(|c| matches!(c, WriteCommand::Dose(d) if f(d)))
        };
        if self.products.is_empty() || wants(&|d| !self.products.contains_key(&d.product_code)) {
            self.products = store_products(store).await?;
        }
        if wants(&|d| !d.historical && !self.sites.contains(&d.site_code)) {
            let rows = sqlx::query("SELECT code FROM sites")
                .fetch_all(store.pool())
                .await?;
            self.sites = rows
                .iter()
                .map(|r| r.try_get::<String, _>("code"))
                .collect::<Result<_, _>>()?;
        }
        Ok(())
    }
}

/// The stock a batch's doses draw from. A site draws from the store whose
/// `site_code` is the site (the first by code if several name it); a site
/// without a store does not track its stock, and its doses decrement
/// nothing. A store's ledger starts on the day it was created: a dose
/// given before that day (entered late, or imported from another system)
/// did not come out of it. On-hand is read in the batch's transaction;
/// each dose sees what the doses before it in the batch took.
#[derive(Debug, Default)]
struct SiteStock {
    /// Site code → its store in `stores`.
    sites: HashMap<String, usize>,
    stores: Vec<SiteStore>,
}

/// A store serving a batch's site, with the lots of the batch it holds.
#[derive(Debug)]
struct SiteStore {
    code: String,
    province_code: String,
    /// The day the store was created (its ledger starts then).
    since: time::Date,
    /// Its counters of the batch's lots (a store holds few lots: a list).
    held: Vec<HeldLot>,
    /// Its open vial pools (of any lot), which the doses taken empty.
    pools: Vec<OpenPool>,
}

/// An open vial pool of a batch's store as read (see `vials.rs`).
#[derive(Debug)]
struct OpenPool {
    id: String,
    product_code: String,
    lot_number: String,
    pool: Pool,
}

/// The pools of [`SiteStoreRow::pools`], in opening order.
fn open_pools(json: &str) -> Result<Vec<OpenPool>, StoreError> {
    let cells: Vec<PoolCells> = serde_json::from_str(json)
        .map_err(|e| StoreError::invalid("open_vials", format!("stored pools unreadable: {e}")))?;
    let count = |v: i64| u64::try_from(v).unwrap_or(0);
    let mut pools: Vec<OpenPool> = cells
        .into_iter()
        .map(
            |(id, product_code, lot_number, opened_at, discard_at, doses, taken)| OpenPool {
                id,
                product_code,
                lot_number,
                pool: Pool {
                    opened_at,
                    discard_at,
                    doses: count(doses),
                    taken: count(taken),
                },
            },
        )
        .collect();
    pools.sort_by(|a, b| (a.pool.opened_at, &a.id).cmp(&(b.pool.opened_at, &b.id)));
    Ok(pools)
}

/// A store's counter of one lot as read, and what the batch takes of it.
#[derive(Debug)]
struct HeldLot {
    product_code: String,
    lot_number: String,
    on_hand: u64,
    /// The counter's rowid on SQLite (the decrement's key there), None on
    /// PostgreSQL.
    row: Option<i64>,
    /// The day line on the row as read (see [`DayLine`]).
    line: DayLine,
    /// Doses of this batch taken from it.
    taken: u64,
}

/// The ledger's line of doses given that an on-hand row carries: its UTC
/// day, the doses given from the row that day and the instant of the last
/// (migration 0081). A batch on a later day moves it into
/// `stock_given_daily` before starting its own day's line.
#[derive(Debug, Default)]
struct DayLine {
    day: Option<String>,
    doses: i64,
    at: i64,
}

impl DayLine {
    /// The finished line a batch on `day` moves out of the row, if any.
    fn finished_before(&self, day: &str) -> Option<(&str, i64, i64)> {
        match &self.day {
            Some(d) if d != day && self.doses > 0 => Some((d, self.doses, self.at)),
            _ => None,
        }
    }
}

/// A store of a batch's site, with its on-hand of one of the batch's lots
/// (none when it holds none of them).
struct SiteStoreRow {
    code: String,
    province_code: String,
    site_code: String,
    created_at: i64,
    product_code: Option<String>,
    lot_number: Option<String>,
    on_hand: Option<i64>,
    row: Option<i64>,
    given_day: Option<String>,
    given_day_doses: Option<i64>,
    given_day_at: Option<i64>,
    /// The store's open vial pools, as a JSON array of [id, product, lot,
    /// opened_at, discard_at, doses, taken] (the same on each of its rows).
    pools: String,
}

/// A pool in [`SiteStoreRow::pools`].
type PoolCells = (String, String, String, i64, i64, i64, i64);

impl FromCells for SiteStoreRow {
    fn from_cells<R: Cells>(row: &R) -> Result<SiteStoreRow, StoreError> {
        Ok(SiteStoreRow {
            code: row.cell("code")?,
            province_code: row.cell("province_code")?,
            site_code: row.cell("site_code")?,
            created_at: row.cell("created_at")?,
            product_code: row.cell("product_code")?,
            lot_number: row.cell("lot_number")?,
            on_hand: row.cell("on_hand")?,
            row: row.cell("row_id")?,
            given_day: row.cell("given_day")?,
            given_day_doses: row.cell("given_day_doses")?,
            given_day_at: row.cell("given_day_at")?,
            pools: row.cell("pools")?,
        })
    }
}

/// A row of [`read_lots_and_stock`]: a lot named by the batch, or a store
/// of one of its sites with its on-hand of one of those lots.
enum LotOrStore {
    Lot(BatchLot),
    Store(SiteStoreRow),
}

impl FromCells for LotOrStore {
    fn from_cells<R: Cells>(row: &R) -> Result<LotOrStore, StoreError> {
        let part: String = row.cell("part")?;
        Ok(if part == "lot" {
            LotOrStore::Lot(BatchLot::from_cells(row)?)
        } else {
            LotOrStore::Store(SiteStoreRow::from_cells(row)?)
        })
    }
}

/// The lots a batch's doses name, by lot number, and the stock of the
/// sites where its doses are given (not historical ones): one statement,
/// a `UNION ALL` of the two reads with their columns side by side (one
/// round trip less per batch on PostgreSQL). The stock is not locked: the
/// batch's decrement is conditional (see [`write_facts`]), so a movement
/// recorded meanwhile is never overwritten, and one that left too few
/// doses makes the batch run again on what is then on hand. On SQLite the
/// counters' rowids come with them: the decrement finds its row by rowid
/// (see [`ON_HAND_TAKE_ROW`]).
async fn read_lots_and_stock(
    tx: &mut BatchTx<'_>,
    backend: Backend,
    cmds: &[WriteCommand],
) -> Result<(HashMap<String, Vec<BatchLot>>, SiteStock), StoreError> {
    let mut lots: HashSet<&str> = HashSet::new();
    let mut sites: HashSet<&str> = HashSet::new();
    for c in cmds {
        if let WriteCommand::Dose(d) = c {
            lots.insert(&d.lot_number);
            if !d.historical {
                sites.insert(&d.site_code);
            }
        }
    }
    let mut by_number: HashMap<String, Vec<BatchLot>> = HashMap::new();
    if lots.is_empty() {
        return Ok((by_number, SiteStock::default()));
    }
    let json = |keys: &HashSet<&str>| serde_json::to_string(keys).expect("strings serialise");
    let mut stores = Vec::new();
    for row in tx
        .rows::<LotOrStore>(&lots_and_stock_sql(backend), &[json(&lots), json(&sites)])
        .await?
    {
        match row {
            LotOrStore::Lot(lot) => by_number
                .entry(lot.lot.lot_number.clone())
                .or_default()
                .push(lot),
            LotOrStore::Store(store) => stores.push(store),
        }
    }
    Ok((by_number, SiteStock::from_rows(stores)?))
}

/// The statement of [`read_lots_and_stock`]: `$1` the lot numbers, `$2`
/// the sites, as JSON arrays.
fn lots_and_stock_sql(backend: Backend) -> String {
    let row_id = match backend {
        Backend::Sqlite => "h.rowid",
        Backend::Postgres => "CAST(NULL AS BIGINT)",
    };
    // The store's open vial pools come with it (no second round trip on
    // the writer's path): few rows, by `open_vials_store`.
    let pool = "v.id, v.product_code, v.lot_number, v.opened_at, v.discard_at, v.doses, v.taken";
    let pools = match backend {
        Backend::Sqlite => format!("json_group_array(json_array({pool}))"),
        Backend::Postgres => {
            format!("COALESCE(json_agg(json_build_array({pool})), '[]'::json)::text")
        }
    };
    let (text, int) = ("CAST(NULL AS TEXT)", "CAST(NULL AS BIGINT)");
    format!(
        "SELECT 'lot' AS part, product_code, lot_number, expiry, status, doses, status_reason, vvm_stage, \
         {text} AS code, {text} AS province_code, {text} AS site_code, {int} AS created_at, \
         {int} AS on_hand, {int} AS row_id, {text} AS given_day, {int} AS given_day_doses, \
         {int} AS given_day_at, {text} AS pools FROM lots WHERE {} \
         UNION ALL \
         SELECT 'store', h.product_code, h.lot_number, {text}, {text}, {int}, {text}, {int}, \
         s.code, s.province_code, s.site_code, s.created_at, h.on_hand, {row_id}, \
         h.given_day, h.given_day_doses, h.given_day_at, \
         (SELECT {pools} FROM open_vials v WHERE v.province_code = s.province_code \
         AND v.store_code = s.code AND v.closed_at IS NULL) \
         FROM stores s LEFT JOIN stock_on_hand h ON h.province_code = s.province_code \
         AND h.store_code = s.code AND {} WHERE {}",
        in_json(backend, "lot_number", 1),
        in_json(backend, "h.lot_number", 1),
        in_json(backend, "s.site_code", 2),
    )
}

impl SiteStock {
    /// The stock of the batch's sites from the store rows of
    /// [`read_lots_and_stock`].
    fn from_rows(mut rows: Vec<SiteStoreRow>) -> Result<SiteStock, StoreError> {
        let mut stock = SiteStock::default();
        // The first store by code serves a site that several name.
        rows.sort_by(|a, b| a.code.cmp(&b.code));
        let mut by_code: HashMap<String, usize> = HashMap::new();
        for r in rows {
            let i = match by_code.get(&r.code) {
                Some(&i) => i,
                None => {
                    let since = time::OffsetDateTime::from_unix_timestamp_nanos(
                        i128::from(r.created_at) * 1000,
                    )
                    .map_or(time::Date::MIN, |t| t.date());
                    stock.stores.push(SiteStore {
                        code: r.code.clone(),
                        province_code: r.province_code,
                        since,
                        held: Vec::new(),
                        pools: open_pools(&r.pools)?,
                    });
                    by_code.insert(r.code, stock.stores.len() - 1);
                    stock.stores.len() - 1
                }
            };
            stock.sites.entry(r.site_code).or_insert(i);
            if let (Some(product_code), Some(lot_number), Some(on_hand)) =
                (r.product_code, r.lot_number, r.on_hand)
            {
                stock.stores[i].held.push(HeldLot {
                    product_code,
                    lot_number,
                    on_hand: u64::try_from(on_hand).unwrap_or(0),
                    row: r.row,
                    line: DayLine {
                        day: r.given_day,
                        doses: r.given_day_doses.unwrap_or(0),
                        at: r.given_day_at.unwrap_or(0),
                    },
                    taken: 0,
                });
            }
        }
        Ok(stock)
    }

    /// The store that tracks dose `d`'s stock: its site's, if the site has
    /// one and had it on the dose's day.
    fn store_of(&self, d: &DoseRequest) -> Option<usize> {
        let &i = self.sites.get(&d.site_code)?;
        (d.administered_on >= self.stores[i].since).then_some(i)
    }

    /// Doses of the lot left at the site's store for dose `d`, or None
    /// when the site has no store, or had none yet on the dose's day
    /// (stock not tracked for it).
    fn available(&self, d: &DoseRequest) -> Option<u64> {
        let i = self.store_of(d)?;
        Some(
            self.stores[i]
                .held
                .iter()
                .find(|h| h.product_code == d.product_code && h.lot_number == d.lot_number)
                .map_or(0, |h| h.on_hand.saturating_sub(h.taken)),
        )
    }

    /// Takes dose `d` from its site's store (`available` said it tracks
    /// it), and names that store.
    fn take(&mut self, d: &DoseRequest) -> Option<String> {
        let i = self.store_of(d)?;
        let held = &mut self.stores[i].held;
        let at = match held
            .iter()
            .position(|h| h.product_code == d.product_code && h.lot_number == d.lot_number)
        {
            Some(at) => at,
            None => {
                held.push(HeldLot {
                    product_code: d.product_code.clone(),
                    lot_number: d.lot_number.clone(),
                    on_hand: 0,
                    row: None,
                    line: DayLine::default(),
                    taken: 0,
                });
                held.len() - 1
            }
        };
        held[at].taken += 1;
        Some(self.stores[i].code.clone())
    }

    /// What the batch took per (store, lot), in key order (province,
    /// store, product, lot): the order the rows are locked in on
    /// PostgreSQL. With it, the doses taken from each open vial pool, as
    /// `supply::vial::take_from_pools` draws them at `now`.
    fn taken(self, now: i64) -> (Vec<StockTaken>, Vec<VialTaken>) {
        let mut given: Vec<StockTaken> = Vec::new();
        let mut vials: Vec<VialTaken> = Vec::new();
        for store in self.stores {
            for h in store.held {
                if h.taken == 0 {
                    continue;
                }
                let of_lot: Vec<&OpenPool> = store
                    .pools
                    .iter()
                    .filter(|p| p.product_code == h.product_code && p.lot_number == h.lot_number)
                    .collect();
                let mut pools: Vec<Pool> = of_lot.iter().map(|p| p.pool.clone()).collect();
                for (j, n) in take_from_pools(&mut pools, now, h.taken) {
                    vials.push(VialTaken {
                        id: of_lot[j].id.clone(),
                        province: store.province_code.clone(),
                        doses: i64::try_from(n).unwrap_or(i64::MAX),
                    });
                }
                given.push(StockTaken {
                    province: store.province_code.clone(),
                    store_code: store.code.clone(),
                    product: h.product_code,
                    lot: h.lot_number,
                    quantity: i64::try_from(h.taken).unwrap_or(i64::MAX),
                    row: h.row,
                    line: h.line,
                    now,
                });
            }
        }
        given.sort_by(|a, b| {
            (&a.province, &a.store_code, &a.product, &a.lot).cmp(&(
                &b.province,
                &b.store_code,
                &b.product,
                &b.lot,
            ))
        });
        vials.sort_by(|a, b| (&a.province, &a.id).cmp(&(&b.province, &b.id)));
        (given, vials)
    }
}

/// The batch's `record_doses` audit entry: its doses (each names the
/// store it was taken from in its row). Written by serde from these
/// structs rather than through `serde_json::Value` (a map allocated per
/// dose); the fields are in key order, so the text is the one `json!`
/// wrote.
#[derive(serde::Serialize)]
struct RecordDoses<'a> {
    doses: &'a [RecordedDose<'a>],
}

/// A new dose in [`RecordDoses`].
#[derive(serde::Serialize)]
struct RecordedDose<'a> {
    address: &'a Option<String>,
    by: &'a str,
    id: &'a str,
    kind: &'static str,
    person_id: &'a str,
    product_code: &'a str,
    site_code: &'a str,
}

/// Every vaccination certificate, not revoked, of the users the batch's
/// doses need one of (see `DoseRequest::requires_certificate`), by user:
/// one read per batch instead of one per request.
async fn current_certificates(
    tx: &mut BatchTx<'_>,
    backend: Backend,
    cmds: &[WriteCommand],
) -> Result<HashMap<String, Vec<StaffCertificate>>, StoreError> {
    let users: HashSet<&str> = cmds
        .iter()
        .filter_map(|c| match c {
            WriteCommand::Dose(d) => d.requires_certificate.as_deref(),
            _ => None,
        })
        .collect();
    let mut held: HashMap<String, Vec<StaffCertificate>> = HashMap::new();
    if users.is_empty() {
        return Ok(held);
    }
    let sql = format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM staff_certificates \
         WHERE LOWER(topic) = $1 AND revoked = 0 AND {}",
        in_json(backend, "username", 2)
    );
    let binds = [
        VACCINATION_TOPIC.to_string(),
        serde_json::to_string(&users).expect("strings serialise"),
    ];
    for certificate in tx.rows::<StaffCertificate>(&sql, &binds).await? {
        held.entry(certificate.username.clone())
            .or_default()
            .push(certificate);
    }
    Ok(held)
}

/// A dose that needs its vaccinator's certificate is refused on field
/// `vaccinator` unless one was current on the day of the dose.
fn check_certificate(
    d: &DoseRequest,
    held: &HashMap<String, Vec<StaffCertificate>>,
) -> Result<(), StoreError> {
    let Some(user) = &d.requires_certificate else {
        return Ok(());
    };
    let on = d.administered_on;
    let current = held
        .get(user)
        .is_some_and(|certificates| certificates.iter().any(|c| c.is_current_on(on)));
    if current {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "vaccinator",
            format!(
                "{user} holds no current {VACCINATION_TOPIC} certificate on {}",
                crate::format_date(on)
            ),
        ))
    }
}

fn conflict_id(id: &str) -> StoreError {
    StoreError::Conflict {
        field: "id",
        message: format!("record id {id} was already used for a different record"),
        existing: Some(format!("/api/v1/doses/{id}")),
    }
}

/// Daily counter key: (province, area code, area path, product, dose number, day).
type DailyKey = (String, String, String, String, i64, String);

/// Applies a batch in one transaction. The outer error means nothing was
/// written; the inner results say what happened to each command.
///
/// `direct` is the dose writer's own SQLite connection, if it has one; the
/// batch then runs there, rows bound natively (see `batch_tx`).
pub(crate) async fn apply_batch(
    store: &Store,
    catalog: &mut Catalog,
    direct: Option<&mut rusqlite::Connection>,
    cmds: &[WriteCommand],
) -> Result<Vec<Result<WriteOutcome, StoreError>>, StoreError> {
    catalog.refresh(store, cmds).await?;
    let mut tx = match direct {
        Some(conn) => BatchTx::Sqlite(WriteTx::begin(conn)?),
        None => BatchTx::Sqlx(store.begin_batch().await?),
    };
    let results = apply_in(store, catalog, &mut tx, cmds).await?;
    tx.commit().await?;
    Ok(results)
}

/// The work of [`apply_batch`] in a transaction the caller commits (or
/// drops: an exchange message whose commands are not all taken writes
/// nothing). `catalog` must have been refreshed for `cmds`. Three steps:
/// read what the batch needs ([`Loaded::read`]), decide each command on
/// it without I/O ([`decide`]), write what was decided ([`write_decided`]).
pub(crate) async fn apply_in(
    store: &Store,
    catalog: &Catalog,
    tx: &mut BatchTx<'_>,
    cmds: &[WriteCommand],
) -> Result<Vec<Result<WriteOutcome, StoreError>>, StoreError> {
    let mut loaded = Loaded::read(tx, store.backend, catalog, cmds).await?;
    let now = store.now_micros();
    let decided = decide(cmds, &mut loaded, catalog, now, store.today());
    write_decided(tx, store.backend, catalog, loaded, decided, now).await
}

/// What a batch reads before deciding: the records already stored under
/// its ids (and correction targets), the persons it names with their
/// histories, its lots, the certificates of its vaccinators and the stock
/// of its sites.
struct Loaded {
    known: HashMap<String, DoseRecord>,
    root_of: HashMap<String, String>,
    states: HashMap<String, PersonState>,
    lots: HashMap<String, Vec<BatchLot>>,
    certificates: HashMap<String, Vec<StaffCertificate>>,
    stock: SiteStock,
}

impl Loaded {
    /// Reads what the batch needs. On PostgreSQL, where several writers
    /// (and the importer's) decide batches at once, the persons the batch
    /// decides on are locked first (see [`lock_people`]), so that no other
    /// batch decides on a person between this one's read and its commit;
    /// a person found to belong to one not locked (a correction's target,
    /// a merge committed meanwhile) is locked and everything read again.
    async fn read(
        tx: &mut BatchTx<'_>,
        backend: Backend,
        catalog: &Catalog,
        cmds: &[WriteCommand],
    ) -> Result<Loaded, StoreError> {
        if backend == Backend::Sqlite {
            return Loaded::read_once(tx, backend, catalog, cmds).await;
        }
        let mut locked = lock_people(tx, &named_people(cmds), PeopleKeys::Named).await?;
        loop {
            let loaded = Loaded::read_once(tx, backend, catalog, cmds).await?;
            let unlocked: Vec<&str> = loaded
                .states
                .keys()
                .filter(|root| !locked.contains(root.as_str()))
                .map(String::as_str)
                .collect();
            if unlocked.is_empty() {
                return Ok(loaded);
            }
            locked.extend(lock_people(tx, &unlocked, PeopleKeys::Roots).await?);
        }
    }

    async fn read_once(
        tx: &mut BatchTx<'_>,
        backend: Backend,
        catalog: &Catalog,
        cmds: &[WriteCommand],
    ) -> Result<Loaded, StoreError> {
        // One read for the records already stored under this batch's ids
        // (and correction targets) and for the histories of the persons
        // it names.
        let mut wanted: Vec<&str> = Vec::new();
        for c in cmds {
            match c {
                WriteCommand::Dose(d) => wanted.push(&d.id),
                WriteCommand::EnteredInError(c) => {
                    wanted.push(&c.id);
                    wanted.push(&c.target_id);
                }
                WriteCommand::Merge(_) => {}
            }
        }
        let named_people = named_people(cmds);
        let select = format!("SELECT {DOSE_COLUMNS} FROM doses");
        let wanted_set: HashSet<&str> = wanted.iter().copied().collect();
        let named_set: HashSet<&str> = named_people.iter().copied().collect();
        let mut known: HashMap<String, DoseRecord> = HashMap::new();
        let mut prefetched: HashMap<String, Vec<DoseRecord>> = named_set
            .iter()
            .map(|p| (p.to_string(), Vec::new()))
            .collect();
        let mut seen: HashSet<String> = HashSet::new();
        for rec in fetch_any::<DoseRecord>(
            tx,
            backend,
            (&select, Plan::EachTime),
            &[("id", wanted), ("person_id", named_people)],
        )
        .await?
        {
            if !seen.insert(rec.id.clone()) {
                continue;
            }
            if wanted_set.contains(rec.id.as_str()) {
                known.insert(rec.id.clone(), rec.clone());
            }
            if let Some(list) = prefetched.get_mut(&rec.person_id) {
                list.push(rec);
            }
        }

        let mut person_ids: HashSet<String> = named_set.iter().map(|p| p.to_string()).collect();
        for c in cmds {
            if let WriteCommand::EnteredInError(c) = c {
                if let Some(t) = known.get(&c.target_id) {
                    person_ids.insert(t.person_id.clone());
                }
            }
        }
        let (root_of, states) =
            load_people(tx, backend, &person_ids, prefetched, &catalog.products).await?;

        let certificates = current_certificates(tx, backend, cmds).await?;
        let (lots, stock) = read_lots_and_stock(tx, backend, cmds).await?;
        Ok(Loaded {
            known,
            root_of,
            states,
            lots,
            certificates,
            stock,
        })
    }
}

/// The persons a batch's commands name (a correction names a dose, not
/// a person).
fn named_people(cmds: &[WriteCommand]) -> Vec<&str> {
    let mut named = Vec::new();
    for c in cmds {
        match c {
            WriteCommand::Dose(d) => named.push(d.person_id.as_str()),
            WriteCommand::EnteredInError(_) => {}
            WriteCommand::Merge(m) => {
                named.push(m.survivor_id.as_str());
                named.push(m.duplicate_id.as_str());
            }
        }
    }
    named
}

/// What the keys given to [`lock_people`] are.
enum PeopleKeys {
    /// Person ids, each standing for the person it was merged into, if any.
    Named,
    /// Ids of persons not merged into anyone.
    Roots,
}

/// Namespace of the persons' transaction locks (the two-key advisory locks,
/// apart from the one-key locks of the audit chain and the area tree).
const PERSON_LOCKS: i32 = 734504;

/// Locks, until the transaction ends, the persons `keys` stand for, by
/// their root id (the person not merged into anyone whose history they
/// share), in the roots' order so that two batches never wait on each
/// other in a circle; returns the roots locked. PostgreSQL only: SQLite
/// has one writer at a time. A lock is taken after the statement's
/// snapshot, so the caller reads the persons again in a later statement
/// (READ COMMITTED: it then sees every batch committed on them before).
async fn lock_people(
    tx: &mut BatchTx<'_>,
    keys: &[&str],
    kind: PeopleKeys,
) -> Result<HashSet<String>, StoreError> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let roots = match kind {
        PeopleKeys::Named => format!(
            "SELECT DISTINCT COALESCE(merged_into, id) AS root FROM persons WHERE {}",
            in_json(Backend::Postgres, "id", 1)
        ),
        PeopleKeys::Roots => {
            "SELECT DISTINCT root FROM json_array_elements_text($1::json) AS root".into()
        }
    };
    // A volatile function of the select list runs after the sort.
    let sql = format!(
        "SELECT root, pg_advisory_xact_lock({PERSON_LOCKS}, hashtext(root)) IS NULL AS locked \
         FROM ({roots}) AS r ORDER BY root"
    );
    let binds = [serde_json::to_string(keys).expect("strings serialise")];
    Ok(tx
        .rows::<LockedRoot>(&sql, &binds)
        .await?
        .into_iter()
        .map(|r| r.0)
        .collect())
}

struct LockedRoot(String);

impl FromCells for LockedRoot {
    fn from_cells<R: Cells>(row: &R) -> Result<LockedRoot, StoreError> {
        Ok(LockedRoot(row.cell("root")?))
    }
}

/// What a batch decided, to be written: each command's answer, the new
/// rows, the day counters' changes, the merges and the audit entries.
#[derive(Default)]
struct Decided<'a> {
    results: Vec<Result<WriteOutcome, StoreError>>,
    inserts: Vec<DoseRecord>,
    /// Index in `inserts` of each id this batch created.
    in_batch: HashMap<String, usize>,
    daily: BTreeMap<DailyKey, i64>,
    merges: Vec<(Vec<String>, String)>,
    population_removed: Vec<(String, String, String, Vec<String>)>,
    audit_entries: Vec<AuditEntry>,
    /// New doses are audited as one entry per batch listing each dose
    /// with who recorded it and from where: the chain grows by one row
    /// per commit, not one per dose. (The dose's actor, the index of its
    /// row in `inserts`.)
    recorded: Vec<(&'a crate::model::Actor, usize)>,
}

impl Decided<'_> {
    /// The record this batch or an earlier one stored under `id`.
    fn earlier<'r>(&'r self, loaded: &'r Loaded, id: &str) -> Option<&'r DoseRecord> {
        self.in_batch
            .get(id)
            .map(|&i| &self.inserts[i])
            .or_else(|| loaded.known.get(id))
    }

    /// Keeps a new record and counts it on its day (`delta` +1 for a
    /// dose, -1 for the correction of `counted`).
    fn keep(&mut self, loaded: &Loaded, rec: DoseRecord, counted: &DoseRecord, delta: i64) {
        let day_key = (
            counted.province_code.clone(),
            counted.area_code.clone(),
            area_path_of(&loaded.states, &loaded.root_of, &counted.person_id),
            counted.product_code.clone(),
            counted.dose_number,
            counted.administered_on.clone(),
        );
        *self.daily.entry(day_key).or_default() += delta;
        self.in_batch.insert(rec.id.clone(), self.inserts.len());
        self.inserts.push(rec);
    }
}

/// Decides each command of a batch in order on what was read, each
/// seeing what the ones before it did; no I/O.
fn decide<'a>(
    cmds: &'a [WriteCommand],
    loaded: &mut Loaded,
    catalog: &Catalog,
    now: i64,
    today: time::Date,
) -> Decided<'a> {
    let mut decided = Decided::default();
    for cmd in cmds {
        let result = match cmd {
            WriteCommand::Dose(d) => decide_dose(d, loaded, catalog, &mut decided, now, today),
            WriteCommand::EnteredInError(c) => decide_correction(c, loaded, &mut decided, now),
            WriteCommand::Merge(m) => decide_merge(m, loaded, &mut decided),
        };
        decided.results.push(result);
    }
    decided
}

fn decide_dose<'a>(
    d: &'a DoseRequest,
    loaded: &mut Loaded,
    catalog: &Catalog,
    decided: &mut Decided<'a>,
    now: i64,
    today: time::Date,
) -> Result<WriteOutcome, StoreError> {
    let hash = d.body_hash();
    if let Some(rec) = decided.earlier(loaded, &d.id) {
        return if rec.body_hash == hash {
            Ok(WriteOutcome::Existing(rec.clone()))
        } else {
            Err(conflict_id(&d.id))
        };
    }
    check_certificate(d, &loaded.certificates)?;
    let rec = record_dose(d, hash, (now, today), catalog, loaded)?;
    decided.recorded.push((&d.by, decided.inserts.len()));
    decided.keep(loaded, rec.clone(), &rec, 1);
    Ok(WriteOutcome::Created(rec))
}

fn decide_correction(
    c: &CorrectionRequest,
    loaded: &mut Loaded,
    decided: &mut Decided<'_>,
    now: i64,
) -> Result<WriteOutcome, StoreError> {
    let hash = c.body_hash();
    if let Some(rec) = decided.earlier(loaded, &c.id) {
        return if rec.body_hash == hash {
            Ok(WriteOutcome::Existing(rec.clone()))
        } else {
            Err(conflict_id(&c.id))
        };
    }
    let target = decided.earlier(loaded, &c.target_id).cloned();
    let (rec, target) = correct_dose(c, target, hash, now, &loaded.root_of, &mut loaded.states)?;
    decided.audit_entries.push(AuditEntry::by(
        &c.by,
        "entered_in_error",
        "dose",
        &c.target_id,
        serde_json::json!({"correction_id": c.id, "reason": c.reason}),
    ));
    decided.keep(loaded, rec.clone(), &target, -1);
    Ok(WriteOutcome::Created(rec))
}

fn decide_merge(
    m: &MergeRequest,
    loaded: &mut Loaded,
    decided: &mut Decided<'_>,
) -> Result<WriteOutcome, StoreError> {
    let outcome = merge_people(m, &mut loaded.root_of, &mut loaded.states)?;
    if let WriteOutcome::Merged { already: false, .. } = outcome {
        let dup = &loaded.states[&m.duplicate_id];
        decided
            .merges
            .push((dup.members.clone(), m.survivor_id.clone()));
        decided.population_removed.push((
            dup.province_code.clone(),
            dup.home_area.clone(),
            dup.area_path.clone(),
            dup.groups.clone(),
        ));
        decided.audit_entries.push(AuditEntry::by(
            &m.by,
            "merge",
            "person",
            &m.survivor_id,
            serde_json::json!({"duplicate_id": m.duplicate_id, "reason": m.reason, "moved_doses": dup.records.len()}),
        ));
    }
    Ok(outcome)
}

/// Writes what a batch decided: merges and the population they remove,
/// the coverage, day and total counters, the dose rows, the stock taken
/// and the audit entries. Returns each command's answer.
async fn write_decided(
    tx: &mut BatchTx<'_>,
    backend: Backend,
    catalog: &Catalog,
    loaded: Loaded,
    decided: Decided<'_>,
    now: i64,
) -> Result<Vec<Result<WriteOutcome, StoreError>>, StoreError> {
    for (members, survivor) in &decided.merges {
        let sql = format!(
            "UPDATE persons SET merged_into = $1 WHERE id IN ({})",
            params(2, members.len())
        );
        let binds: Vec<String> = std::iter::once(survivor).chain(members).cloned().collect();
        tx.execute(&sql, &binds).await?;
    }
    for (sql, rows) in population_writes(
        backend,
        decided
            .population_removed
            .iter()
            .map(|(p, a, path, g)| (p.as_str(), a.as_str(), path.as_str(), g.as_slice())),
        -1,
    ) {
        tx.execute(&sql, &[rows]).await?;
    }
    let (coverage, area_info) = coverage_change(&loaded.states, catalog);
    let coverage_rows: Vec<CoverageChange<'_>> = coverage
        .nonzero()
        .map(|(key, v)| {
            let (province, path) = &area_info[&key.area_code];
            CoverageChange {
                province,
                area: &key.area_code,
                path,
                product: &key.product_code,
                group: &key.priority_group,
                at_least_one: v.at_least_one,
                completed: v.completed,
            }
        })
        .collect();
    let (daily_rows, total_rows) = day_and_total_rows(&decided.daily);
    // What the batch took per (store, lot): the counters' decrements and
    // the day's lines; the dose rows name their store.
    let (given, vials) = loaded.stock.taken(now);
    // The day's lines count the doses given on the commit's UTC day (days
    // of supply read them through the view `stock_consumed`).
    let day = crate::format_date(crate::supply::day_of(now));
    let chain_locked = write_facts(
        tx,
        backend,
        &Facts {
            doses: &decided.inserts,
            coverage: coverage_rows,
            daily: daily_rows,
            totals: total_rows,
            given: &given,
            vials: &vials,
            day: &day,
        },
    )
    .await?;
    let mut audit_entries = decided.audit_entries;
    audit_entries.extend(recorded_doses(&decided.recorded, &decided.inserts));
    match tx {
        BatchTx::Sqlx(t) => audit::append_locked(t, backend, &audit_entries, chain_locked).await?,
        BatchTx::Sqlite(t) => audit::append_sqlite(t.conn(), &audit_entries)?,
    }
    Ok(decided.results)
}

/// Coverage: each touched person's contribution before and after, and
/// the province and path of each home area counted.
fn coverage_change(
    states: &HashMap<String, PersonState>,
    catalog: &Catalog,
) -> (CoverageDelta, HashMap<String, (String, String)>) {
    let mut coverage = CoverageDelta::default();
    let mut area_info: HashMap<String, (String, String)> = HashMap::new();
    for s in states.values().filter(|s| s.touched) {
        let after = if s.merged_away {
            None
        } else {
            contribution(&valid_doses(&s.records), |c| catalog.products.get(c))
        };
        coverage.change(
            (&s.home_area, &s.groups, s.before.as_ref()),
            (&s.home_area, &s.groups, after.as_ref()),
        );
        area_info.insert(
            s.home_area.clone(),
            (s.province_code.clone(), s.area_path.clone()),
        );
    }
    (coverage, area_info)
}

/// The rows of the day counters' increments, and of the same increments
/// without the day: doses by area, product and number (the dashboards'
/// dose figures).
/// The batch's day counts as rows, and their sums over the days as the
/// totals' rows; counts that came to zero are left out.
fn day_and_total_rows(daily: &BTreeMap<DailyKey, i64>) -> (Vec<DoseCount<'_>>, Vec<DoseCount<'_>>) {
    let mut totals: BTreeMap<(&str, &str, &str, &str, i64), i64> = BTreeMap::new();
    for ((province, area, path, product, number, _), n) in daily {
        if *n != 0 {
            *totals
                .entry((
                    province.as_str(),
                    area.as_str(),
                    path.as_str(),
                    product.as_str(),
                    *number,
                ))
                .or_default() += n;
        }
    }
    let total_rows: Vec<DoseCount<'_>> = totals
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(
            |((province, area, path, product, number), doses)| DoseCount {
                province,
                area,
                path,
                product,
                number,
                day: "",
                doses,
            },
        )
        .collect();
    let daily_rows: Vec<DoseCount<'_>> = daily
        .iter()
        .filter(|(_, n)| **n != 0)
        .map(
            |((province, area, path, product, number, day), n)| DoseCount {
                province,
                area,
                path,
                product,
                number: *number,
                day,
                doses: *n,
            },
        )
        .collect();
    (daily_rows, total_rows)
}

/// The batch's `record_doses` audit entry, if it recorded doses.
fn recorded_doses(
    recorded: &[(&crate::model::Actor, usize)],
    inserts: &[DoseRecord],
) -> Option<AuditEntry> {
    let doses: Vec<RecordedDose<'_>> = recorded
        .iter()
        .map(|&(by, i)| {
            let rec = &inserts[i];
            RecordedDose {
                address: &by.address,
                by: &by.name,
                id: &rec.id,
                kind: rec.kind.as_str(),
                person_id: &rec.person_id,
                product_code: &rec.product_code,
                site_code: &rec.site_code,
            }
        })
        .collect();
    let first = doses.first()?.id;
    let details = serde_json::to_string(&RecordDoses { doses: &doses }).expect("strings serialise");
    Some(AuditEntry::with_details(
        "dose writer",
        "record_doses",
        "dose",
        first,
        details,
    ))
}

fn area_path_of(
    states: &HashMap<String, PersonState>,
    root_of: &HashMap<String, String>,
    person: &str,
) -> String {
    root_of
        .get(person)
        .and_then(|r| states.get(r))
        .map(|s| s.area_path.clone())
        .unwrap_or_default()
}

async fn store_products(store: &Store) -> Result<HashMap<String, Product>, StoreError> {
    let rows = sqlx::query(&format!("SELECT {PRODUCT_COLUMNS} FROM products"))
        .fetch_all(store.pool())
        .await?;
    rows.iter()
        .map(|r| product_from_row(r).map(|p| (p.code.clone(), p)))
        .collect()
}

/// A dose given or reported, checked against the person's history as the
/// batch has it so far: its record, kept in that history for the batch's
/// next commands. `(now, today)` are the batch's instant and day.
fn record_dose(
    d: &DoseRequest,
    hash: String,
    (now, today): (i64, time::Date),
    catalog: &Catalog,
    loaded: &mut Loaded,
) -> Result<DoseRecord, StoreError> {
    let root = recording_root(d, &loaded.root_of)?;
    let product = catalog
        .products
        .get(&d.product_code)
        .ok_or_else(|| StoreError::not_found("product", "product_code", &d.product_code))?;
    let state = loaded.states.get_mut(&root).expect("roots have states");
    check_recorder_scope(d, &state.area_path)?;
    let history = valid_doses(&state.records);
    let (kind, number, stock_store) = if d.historical {
        let number = check_reported_dose(&history, state.birth_date, today, d.administered_on)?;
        (DoseKind::Historical, number, None)
    } else {
        let available = loaded.stock.available(d);
        let number = check_given_dose(
            d,
            product,
            catalog,
            &loaded.lots,
            available,
            (&history, state.birth_date, today),
        )?;
        let stock_store = if available.is_some() {
            loaded.stock.take(d)
        } else {
            None
        };
        (DoseKind::Administered, number, stock_store)
    };
    let rec = DoseRecord {
        id: d.id.clone(),
        person_id: d.person_id.clone(),
        kind,
        corrects_id: None,
        product_code: d.product_code.clone(),
        lot_number: d.lot_number.clone(),
        site_code: d.site_code.clone(),
        dose_number: i64::from(number),
        administered_on: crate::format_date(d.administered_on),
        vaccinator: d.vaccinator.clone(),
        override_reason: d.override_reason.clone(),
        reason: None,
        author: d.vaccinator.clone(),
        area_code: state.home_area.clone(),
        recorded_at: crate::format_instant(now),
        province_code: state.province_code.clone(),
        recorded_at_micros: now,
        body_hash: hash,
        stock_store,
    };
    state.records.push(rec.clone());
    state.touched = true;
    Ok(rec)
}

/// The root of the person a dose names: a person merged into another is
/// refused, pointing at the survivor the dose belongs to.
fn recording_root(
    d: &DoseRequest,
    root_of: &HashMap<String, String>,
) -> Result<String, StoreError> {
    let root = root_of
        .get(&d.person_id)
        .ok_or_else(|| StoreError::not_found("person", "person_id", &d.person_id))?;
    if *root != d.person_id {
        return Err(StoreError::Conflict {
            field: "person_id",
            message: format!(
                "person {} was merged into {root}; record the dose there",
                d.person_id
            ),
            existing: Some(format!("/api/v1/persons/{root}")),
        });
    }
    Ok(root.clone())
}

/// The recorder's scope: outside the caller's areas a person is answered
/// as absent, and a dose given now is recorded only at the caller's sites.
fn check_recorder_scope(d: &DoseRequest, area_path: &str) -> Result<(), StoreError> {
    if !d.by.scope.covers_person(&d.person_id, area_path) {
        return Err(StoreError::not_found("person", "person_id", &d.person_id));
    }
    if !d.historical && !d.by.scope.covers_site(&d.site_code) {
        return Err(StoreError::Forbidden {
            field: "site_code",
            message: format!(
                "{} may record doses only at their own site(s), not at {}",
                d.by.name, d.site_code
            ),
        });
    }
    Ok(())
}

/// The rules for a dose given here: lot and site known and usable, then
/// the schedule. Returns the dose number.
fn check_given_dose(
    d: &DoseRequest,
    product: &Product,
    catalog: &Catalog,
    lots: &HashMap<String, Vec<BatchLot>>,
    available: Option<u64>,
    (history, birth_date, today): (&[ValidDose], time::Date, time::Date),
) -> Result<u32, StoreError> {
    let candidates = lots
        .get(&d.lot_number)
        .ok_or_else(|| StoreError::not_found("lot", "lot_number", &d.lot_number))?;
    let held = candidates
        .iter()
        .find(|l| l.lot.product_code == d.product_code)
        .unwrap_or(&candidates[0]);
    let lot = &held.lot;
    if !catalog.sites.contains(&d.site_code) {
        return Err(StoreError::not_found("site", "site_code", &d.site_code));
    }
    let expiry = crate::parse_date(&lot.expiry).ok_or_else(|| {
        StoreError::invalid(
            "lot_number",
            format!("lot {} has no valid expiry", lot.lot_number),
        )
    })?;
    if lot.product_code == d.product_code {
        check_lot_at_site(held, d.administered_on, expiry, available)?;
    }
    let facts = LotFacts {
        product_code: lot.product_code.clone(),
        expiry,
        status: lot.status,
    };
    let new = NewDose {
        product,
        lot: &facts,
        date: d.administered_on,
        dose_number: d.dose_number,
        override_reason: d.override_reason.as_deref(),
    };
    Ok(check_new_dose(history, birth_date, today, &new, |c| {
        catalog.products.get(c)
    })?)
}

/// Whether the lot may be used at the site on the day: a lot held back
/// (quarantined after an excursion, recalled), expired, past its vial
/// monitor's discard point or not in stock at the site's store
/// (`available`; None where the site keeps no store) is refused naming
/// the lot and why.
fn check_lot_at_site(
    held: &BatchLot,
    day: time::Date,
    expiry: time::Date,
    available: Option<u64>,
) -> Result<(), StoreError> {
    let lot = &held.lot;
    let vvm_stage = held.vvm_stage.and_then(|v| u8::try_from(v).ok());
    // A hold at vial monitor stage 3–4 says so beside its reason.
    let why = || {
        let reason = held
            .status_reason
            .clone()
            .unwrap_or_else(|| "no reason recorded".to_string());
        match vvm_stage {
            Some(stage @ 3..) => {
                format!("{reason} (vaccine vial monitor stage {stage}: past its discard point)")
            }
            _ => reason,
        }
    };
    let at_site = LotAtSite {
        lot: lot.lot_number.clone(),
        expiry,
        quarantine: (lot.status == LotStatus::Quarantined).then(why),
        recall: (lot.status == LotStatus::Recalled).then(why),
        vvm_stage,
        on_hand: available.unwrap_or(u64::MAX),
    };
    verdict(&at_site, day, 1).map_err(|e| StoreError::invalid(e.field(), e.to_string()))
}

fn correct_dose(
    c: &CorrectionRequest,
    target: Option<DoseRecord>,
    hash: String,
    now: i64,
    root_of: &HashMap<String, String>,
    states: &mut HashMap<String, PersonState>,
) -> Result<(DoseRecord, DoseRecord), StoreError> {
    let target = target.ok_or_else(|| StoreError::not_found("dose", "dose_id", &c.target_id))?;
    if !target.kind.is_dose() {
        return Err(StoreError::invalid(
            "dose_id",
            "an entered-in-error record cannot itself be entered in error",
        ));
    }
    let root = root_of
        .get(&target.person_id)
        .ok_or_else(|| StoreError::not_found("person", "person_id", &target.person_id))?;
    let state = states.get_mut(root).expect("roots have states");
    if !c
        .by
        .scope
        .covers_person(&target.person_id, &state.area_path)
    {
        return Err(StoreError::not_found("dose", "dose_id", &c.target_id));
    }
    // As a dose is recorded only at the caller's sites, only a dose given
    // there is entered in error by a caller who works at sites.
    if !c.by.scope.covers_site(&target.site_code) {
        return Err(StoreError::Forbidden {
            field: "dose_id",
            message: format!(
                "{} may enter in error only doses given at their own site(s); dose {} was given at {}",
                c.by.name, target.id, target.site_code
            ),
        });
    }
    if let Some(earlier) = state.records.iter().find(|r| {
        r.kind == DoseKind::EnteredInError && r.corrects_id.as_deref() == Some(target.id.as_str())
    }) {
        return Err(StoreError::Conflict {
            field: "dose_id",
            message: format!(
                "dose {} was already entered in error by record {}",
                target.id, earlier.id
            ),
            existing: Some(format!("/api/v1/doses/{}", earlier.id)),
        });
    }
    let rec = DoseRecord {
        id: c.id.clone(),
        person_id: target.person_id.clone(),
        kind: DoseKind::EnteredInError,
        corrects_id: Some(target.id.clone()),
        product_code: target.product_code.clone(),
        lot_number: target.lot_number.clone(),
        site_code: target.site_code.clone(),
        dose_number: target.dose_number,
        administered_on: target.administered_on.clone(),
        vaccinator: None,
        override_reason: None,
        reason: Some(c.reason.clone()),
        author: Some(c.author.clone()),
        area_code: target.area_code.clone(),
        recorded_at: crate::format_instant(now),
        province_code: target.province_code.clone(),
        recorded_at_micros: now,
        body_hash: hash,
        stock_store: None,
    };
    state.records.push(rec.clone());
    state.touched = true;
    Ok((rec, target))
}

fn merge_people(
    m: &MergeRequest,
    root_of: &mut HashMap<String, String>,
    states: &mut HashMap<String, PersonState>,
) -> Result<WriteOutcome, StoreError> {
    let survivor_root = root_of
        .get(&m.survivor_id)
        .ok_or_else(|| StoreError::not_found("person", "survivor_id", &m.survivor_id))?
        .clone();
    let dup_root = root_of
        .get(&m.duplicate_id)
        .ok_or_else(|| StoreError::not_found("person", "duplicate_id", &m.duplicate_id))?
        .clone();
    for (field, id, root) in [
        ("survivor_id", &m.survivor_id, &survivor_root),
        ("duplicate_id", &m.duplicate_id, &dup_root),
    ] {
        let path = states.get(root).map_or("", |s| s.area_path.as_str());
        if !m.by.scope.covers_person(id, path) {
            return Err(StoreError::not_found("person", field, id));
        }
    }
    if m.survivor_id == m.duplicate_id {
        return Err(StoreError::invalid(
            "duplicate_id",
            "a person cannot be merged into itself",
        ));
    }
    if survivor_root != m.survivor_id {
        return Err(StoreError::Conflict {
            field: "survivor_id",
            message: format!(
                "person {} was itself merged into {survivor_root}",
                m.survivor_id
            ),
            existing: Some(format!("/api/v1/persons/{survivor_root}")),
        });
    }
    if dup_root == survivor_root {
        return Ok(WriteOutcome::Merged {
            survivor_id: m.survivor_id.clone(),
            duplicate_id: m.duplicate_id.clone(),
            already: true,
        });
    }
    if dup_root != m.duplicate_id {
        return Err(StoreError::Conflict {
            field: "duplicate_id",
            message: format!(
                "person {} was already merged into {dup_root}",
                m.duplicate_id
            ),
            existing: Some(format!("/api/v1/persons/{dup_root}")),
        });
    }
    let dup = states.get_mut(&dup_root).expect("roots have states");
    dup.merged_away = true;
    dup.touched = true;
    let members = dup.members.clone();
    let records = dup.records.clone();
    let survivor = states.get_mut(&survivor_root).expect("roots have states");
    survivor.members.extend(members.iter().cloned());
    survivor.records.extend(records);
    survivor.touched = true;
    for id in members {
        root_of.insert(id, survivor_root.clone());
    }
    Ok(WriteOutcome::Merged {
        survivor_id: m.survivor_id.clone(),
        duplicate_id: m.duplicate_id.clone(),
        already: false,
    })
}

/// A batch's change to one coverage counter row: persons with at least
/// one dose and persons with a complete course, in an area, of a product
/// and priority group.
struct CoverageChange<'a> {
    province: &'a str,
    area: &'a str,
    path: &'a str,
    product: &'a str,
    group: &'a str,
    at_least_one: i64,
    completed: i64,
}

row_layout!(CoverageRow for CoverageChange<'_>, |c| {
    province_code: Text = c.province,
    area_code: Text = c.area,
    area_path: Text = c.path,
    product_code: Text = c.product,
    priority_group: Text = c.group,
    at_least_one: Int = c.at_least_one,
    completed: Int = c.completed,
});

/// A batch's doses of a product and dose number given in an area, on one
/// day (`day` set) or on any day (the totals, `day` None).
struct DoseCount<'a> {
    province: &'a str,
    area: &'a str,
    path: &'a str,
    product: &'a str,
    number: i64,
    day: &'a str,
    doses: i64,
}

row_layout!(DailyRow for DoseCount<'_>, |c| {
    province_code: Text = c.province,
    area_code: Text = c.area,
    area_path: Text = c.path,
    product_code: Text = c.product,
    dose_number: Int = c.number,
    day: Text = c.day,
    doses: Int = c.doses,
});

row_layout!(TotalRow for DoseCount<'_>, |c| {
    province_code: Text = c.province,
    area_code: Text = c.area,
    area_path: Text = c.path,
    product_code: Text = c.product,
    dose_number: Int = c.number,
    doses: Int = c.doses,
});

/// Adds coverage changes to their counter rows; `rows` is where they come
/// from (`VALUES (…)`, or a SELECT from a JSON parameter).
fn coverage_upsert(rows: &str) -> String {
    format!(
        "INSERT INTO coverage_counters ({}) {rows} \
         ON CONFLICT (province_code, area_code, product_code, priority_group) DO UPDATE SET \
         at_least_one = coverage_counters.at_least_one + excluded.at_least_one, \
         completed = coverage_counters.completed + excluded.completed",
        CoverageRow::COLUMNS
    )
}

/// Adds doses to their day's counter rows, as [`coverage_upsert`].
fn daily_upsert(rows: &str) -> String {
    format!(
        "INSERT INTO daily_dose_counters ({}) {rows} \
         ON CONFLICT (province_code, area_code, product_code, dose_number, day) DO UPDATE SET \
         doses = daily_dose_counters.doses + excluded.doses",
        DailyRow::COLUMNS
    )
}

/// Adds doses to their total counter rows, as [`coverage_upsert`].
fn total_upsert(rows: &str) -> String {
    format!(
        "INSERT INTO dose_counters ({}) {rows} \
         ON CONFLICT (province_code, area_code, product_code, dose_number) DO UPDATE SET \
         doses = dose_counters.doses + excluded.doses",
        TotalRow::COLUMNS
    )
}

/// The doses a batch gave from one lot at one site's store.
struct StockTaken {
    province: String,
    store_code: String,
    product: String,
    lot: String,
    quantity: i64,
    /// The counter's rowid on SQLite (see [`read_lots_and_stock`]).
    row: Option<i64>,
    /// The day line on the counter's row as read.
    line: DayLine,
    now: i64,
}

/// Doses a batch took from one open vial pool.
struct VialTaken {
    id: String,
    province: String,
    doses: i64,
}

impl VialTaken {
    /// The values of [`VIAL_TAKE`], in order.
    fn values(&self) -> [Param<'_>; 3] {
        [
            self.doses.into(),
            (&self.id).into(),
            (&self.province).into(),
        ]
    }
}

impl StockTaken {
    /// The values of [`FINISHED_DAY_UPSERT`] for the day line this batch
    /// moves off the counter's row, if the row holds an earlier day's.
    fn finished_line<'a>(&'a self, day: &str) -> Option<[Param<'a>; 7]> {
        let (finished, doses, at) = self.line.finished_before(day)?;
        Some([
            (&self.province).into(),
            (&self.store_code).into(),
            (&self.product).into(),
            (&self.lot).into(),
            finished.to_string().into(),
            doses.into(),
            at.into(),
        ])
    }

    /// A row of the PostgreSQL statement's `v` (see [`write_facts`]): the
    /// key, the doses taken, the instant, and the day line as read.
    fn values(&self) -> [Param<'_>; 9] {
        [
            (&self.province).into(),
            (&self.store_code).into(),
            (&self.product).into(),
            (&self.lot).into(),
            self.quantity.into(),
            self.now.into(),
            (&self.line.day).into(),
            self.line.doses.into(),
            self.line.at.into(),
        ]
    }

    /// The statement that decrements this movement's counter and counts
    /// the doses on its day line on SQLite, and its values in order: by
    /// rowid where it was read (see [`ON_HAND_TAKE_ROW`]), else by key.
    fn decrement<'a>(&'a self, day: &'a str) -> (&'static str, Vec<Param<'a>>) {
        let mut values = vec![self.quantity.into(), self.now.into(), day.into()];
        match self.row {
            Some(row) => {
                values.push(row.into());
                (ON_HAND_TAKE_ROW, values)
            }
            None => {
                values.extend([
                    (&self.province).into(),
                    (&self.store_code).into(),
                    (&self.product).into(),
                    (&self.lot).into(),
                ]);
                (ON_HAND_TAKE, values)
            }
        }
    }
}

/// A finished day line moved off an on-hand row (the values: province,
/// store, product, lot, day, doses, instant of the last). The same day
/// can come back to the row (servers whose clocks disagree), so the line
/// adds to one already there.
const FINISHED_DAY_UPSERT: &str = "INSERT INTO stock_given_daily (province_code, store_code, product_code, lot_number, \
     day, given, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (province_code, store_code, product_code, lot_number, day) \
     DO UPDATE SET given = stock_given_daily.given + excluded.given, updated_at = excluded.updated_at";
/// Doses taken from an open vial pool; a pool closed meanwhile (at its
/// limit) is left as closed, the doses came from elsewhere.
pub(crate) const VIAL_TAKE: &str =
    "UPDATE open_vials SET taken = taken + $1 WHERE id = $2 AND province_code = $3 \
     AND closed_at IS NULL";
/// What a batch on a day does to an on-hand row it took doses from: the
/// counter goes down, and the row's day line counts the doses, starting
/// afresh on a new day (the finished line was moved out first, see
/// [`FINISHED_DAY_UPSERT`]). `$1` doses, `$2` the instant, `$3` the day;
/// the expressions read the row as it was before the update. The counter
/// was read in the same transaction (SQLite's is exclusive) and the doses
/// checked against it; `CHECK (on_hand >= 0)` is the backstop.
const ON_HAND_TAKE: &str = "UPDATE stock_on_hand SET on_hand = on_hand - $1, updated_at = $2, \
     given_day_doses = CASE WHEN given_day = $3 THEN given_day_doses + $1 ELSE $1 END, \
     given_day = $3, given_day_at = $2 \
     WHERE province_code = $4 AND store_code = $5 AND product_code = $6 AND lot_number = $7";
/// [`ON_HAND_TAKE`] by the rowid read in the same transaction, as the
/// dose writer does on SQLite. By key, the statement was prepared again at
/// every execution: with SQLite's STAT4 statistics (the bundled library
/// has them) the planner weighs `stock_on_hand_lot` using the bound
/// product and lot, and a statement whose plan used a bound value expires
/// when that parameter is bound again. Re-preparing it was half of the
/// stock decrement's cost in the writer (callgrind, see
/// docs/benchmarks.md); a rowid lookup uses no statistics.
const ON_HAND_TAKE_ROW: &str = "UPDATE stock_on_hand SET on_hand = on_hand - $1, updated_at = $2, \
     given_day_doses = CASE WHEN given_day = $3 THEN given_day_doses + $1 ELSE $1 END, \
     given_day = $3, given_day_at = $2 WHERE rowid = $4";

/// What a batch writes: its dose rows, the counters' increments and the
/// stock it took.
struct Facts<'a> {
    doses: &'a [DoseRecord],
    coverage: Vec<CoverageChange<'a>>,
    daily: Vec<DoseCount<'a>>,
    /// Doses by counter row over the batch's days (their `day` unused).
    totals: Vec<DoseCount<'a>>,
    given: &'a [StockTaken],
    vials: &'a [VialTaken],
    /// The commit's UTC day (the day lines count the doses given on it).
    day: &'a str,
}

/// Writes a batch's dose rows, counter increments and stock movements. On
/// PostgreSQL the statements travel as one (data-modifying CTEs, see
/// [`POSTGRES_WRITE`]) to save round trips on the writer's critical path,
/// and that statement ends by taking the audit chain's lock
/// (`audit::CHAIN_LOCK`, after every row lock of the batch, the order the
/// API's writes take them in): true is returned then. SQLite runs them
/// in-process, one after another.
async fn write_facts(
    tx: &mut BatchTx<'_>,
    backend: Backend,
    facts: &Facts<'_>,
) -> Result<bool, StoreError> {
    match (tx, backend) {
        (BatchTx::Sqlite(t), _) => {
            write_facts_sqlite(t.conn(), facts)?;
            Ok(false)
        }
        (BatchTx::Sqlx(t), Backend::Postgres) => write_facts_postgres(t, facts).await,
        (BatchTx::Sqlx(t), Backend::Sqlite) => {
            write_facts_sqlx_sqlite(t, facts).await?;
            Ok(false)
        }
    }
}

/// The PostgreSQL statement of [`write_facts`], built once.
///
/// `s` decrements the counters of the batch's (store, lot) pairs and counts
/// the doses on their day lines, only where enough is left and the day
/// line is still the one read: the stock was read unlocked. The
/// sub-statements run in the order the final SELECT reads them: the open
/// vial pools `o` first, then the counters `s`, the order the open-vial
/// limit's closing locks them in (the other order deadlocks with it); the
/// finished day lines `m` (a row's first batch of a day), which only the
/// writer writes, last. The (store, lot) rows are read out of their JSON
/// once (`v`, referenced twice, is computed once). Another writer's batch
/// may have taken from the same open vial pool since it was read: a pool
/// never counts more doses taken than it held (the rest came from
/// elsewhere, as from a pool closed meanwhile).
static POSTGRES_WRITE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH d AS (INSERT INTO doses ({DOSE_COLUMNS}) {} RETURNING 1), \
         c AS ({} RETURNING 1), y AS ({} RETURNING 1), t AS ({} RETURNING 1), \
         v AS (SELECT r->>0 AS p, r->>1 AS s, r->>2 AS pr, r->>3 AS l, \
         (r->>4)::bigint AS q, (r->>5)::bigint AS t, r->>6 AS od, (r->>7)::bigint AS oq, \
         (r->>8)::bigint AS oa FROM jsonb_array_elements($5::jsonb) AS r), \
         o AS (UPDATE open_vials ov SET taken = LEAST(ov.doses, ov.taken + (x->>0)::bigint) \
         FROM jsonb_array_elements($7::jsonb) AS x \
         WHERE ov.id = x->>1 AND ov.province_code = x->>2 AND ov.closed_at IS NULL RETURNING 1), \
         m AS (INSERT INTO stock_given_daily (province_code, store_code, product_code, lot_number, \
         day, given, updated_at) SELECT p, s, pr, l, od, oq, oa FROM v WHERE od <> $6 AND oq > 0 \
         ON CONFLICT (province_code, store_code, product_code, lot_number, day) \
         DO UPDATE SET given = stock_given_daily.given + excluded.given, \
         updated_at = excluded.updated_at RETURNING 1), \
         s AS (UPDATE stock_on_hand h SET on_hand = h.on_hand - v.q, updated_at = v.t, \
         given_day_doses = CASE WHEN h.given_day = $6 THEN h.given_day_doses + v.q ELSE v.q END, \
         given_day = $6, given_day_at = v.t FROM v \
         WHERE h.province_code = v.p AND h.store_code = v.s AND h.product_code = v.pr \
         AND h.lot_number = v.l AND h.on_hand >= v.q \
         AND h.given_day IS NOT DISTINCT FROM v.od RETURNING 1) \
         SELECT (SELECT count(*) FROM o) AS vials, (SELECT count(*) FROM s) AS decremented, \
         (SELECT count(*) FROM d) + (SELECT count(*) FROM c) + (SELECT count(*) FROM y) \
         + (SELECT count(*) FROM t) + (SELECT count(*) FROM m) AS n, \
         {} IS NULL AS chain_locked",
        json_rows(Backend::Postgres, 1, &DoseRow::TYPES),
        coverage_upsert(&json_rows(Backend::Postgres, 2, &CoverageRow::TYPES)),
        daily_upsert(&json_rows(Backend::Postgres, 3, &DailyRow::TYPES)),
        total_upsert(&json_rows(Backend::Postgres, 4, &TotalRow::TYPES)),
        audit::CHAIN_LOCK,
    )
});

/// [`write_facts`] on PostgreSQL: [`POSTGRES_WRITE`], one round trip.
async fn write_facts_postgres(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    facts: &Facts<'_>,
) -> Result<bool, StoreError> {
    let lines: Vec<[Param<'_>; 9]> = facts.given.iter().map(StockTaken::values).collect();
    let vial_rows: Vec<[Param<'_>; 3]> = facts.vials.iter().map(VialTaken::values).collect();
    let row = sqlx::query(&POSTGRES_WRITE)
        .bind(dose_rows_json(facts.doses))
        .bind(counter_rows_json(&facts.coverage, CoverageRow::values))
        .bind(counter_rows_json(&facts.daily, DailyRow::values))
        .bind(counter_rows_json(&facts.totals, TotalRow::values))
        .bind(rows_json(&lines))
        .bind(facts.day)
        .bind(rows_json(&vial_rows))
        .fetch_one(&mut **tx)
        .await?;
    // The stock was read unlocked: a movement committed since then
    // (a wastage through the API, another writer's batch) may have
    // left fewer doses than the batch took, or another writer
    // moved the day line on. Nothing is kept; the writer runs the
    // batch again on what is on hand now.
    let decremented: i64 = row.try_get("decremented")?;
    if usize::try_from(decremented).ok() != Some(facts.given.len()) {
        return Err(StoreError::Busy);
    }
    Ok(true)
}

/// [`write_facts`] on a sqlx SQLite transaction (the exchange's): one
/// statement per stock row, the counters as JSON rows.
async fn write_facts_sqlx_sqlite(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    facts: &Facts<'_>,
) -> Result<(), StoreError> {
    let backend = Backend::Sqlite;
    for v in facts.vials {
        bind_all(sqlx::query(VIAL_TAKE), v.values())
            .execute(&mut **tx)
            .await?;
    }
    for g in facts.given {
        if let Some(line) = g.finished_line(facts.day) {
            bind_all(sqlx::query(FINISHED_DAY_UPSERT), line)
                .execute(&mut **tx)
                .await?;
        }
        let (sql, values) = g.decrement(facts.day);
        bind_all(sqlx::query(sql), values)
            .execute(&mut **tx)
            .await?;
    }
    insert_dose_rows(tx, backend, facts.doses).await?;
    for (sql, rows) in [
        (
            coverage_upsert(&json_rows(backend, 1, &CoverageRow::TYPES)),
            counter_rows_json(&facts.coverage, CoverageRow::values),
        ),
        (
            daily_upsert(&json_rows(backend, 1, &DailyRow::TYPES)),
            counter_rows_json(&facts.daily, DailyRow::values),
        ),
        (
            total_upsert(&json_rows(backend, 1, &TotalRow::TYPES)),
            counter_rows_json(&facts.totals, TotalRow::values),
        ),
    ] {
        if rows != "[]" {
            sqlx::query(&sql).bind(rows).execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// [`write_facts`] on the writer's direct SQLite connection: each row bound
/// to a prepared statement.
fn write_facts_sqlite(conn: &rusqlite::Connection, facts: &Facts<'_>) -> Result<(), StoreError> {
    for v in facts.vials {
        conn.prepare_cached(VIAL_TAKE)?
            .execute(rusqlite::params_from_iter(v.values()))?;
    }
    for g in facts.given {
        if let Some(line) = g.finished_line(facts.day) {
            conn.prepare_cached(FINISHED_DAY_UPSERT)?
                .execute(rusqlite::params_from_iter(line))?;
        }
        let (sql, values) = g.decrement(facts.day);
        conn.prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(values))?;
    }
    insert_dose_rows_sqlite(conn, facts.doses)?;
    upsert_each(conn, coverage_upsert, &facts.coverage, CoverageRow::values)?;
    upsert_each(conn, daily_upsert, &facts.daily, DailyRow::values)?;
    upsert_each(conn, total_upsert, &facts.totals, TotalRow::values)?;
    Ok(())
}

/// Counter rows as one JSON parameter: an array of their values.
fn counter_rows_json<'r, R, const N: usize>(
    rows: &'r [R],
    values: fn(&'r R) -> [Param<'r>; N],
) -> String {
    let rows: Vec<[Param<'r>; N]> = rows.iter().map(values).collect();
    // serde serialises arrays of a fixed length only, slices of any.
    let rows: Vec<&[Param<'r>]> = rows.iter().map(|r| &r[..]).collect();
    rows_json(&rows)
}

/// Runs an upsert (see [`coverage_upsert`]) once per row on a direct SQLite
/// connection, the statement prepared once.
fn upsert_each<'r, R, const N: usize>(
    conn: &rusqlite::Connection,
    upsert: fn(&str) -> String,
    rows: &'r [R],
    values: fn(&'r R) -> [Param<'r>; N],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut statement = conn.prepare_cached(&upsert(&format!("VALUES ({})", params(1, N))))?;
    for row in rows {
        statement.execute(rusqlite::params_from_iter(values(row)))?;
    }
    Ok(())
}

/// Inserts dose rows on a direct SQLite connection.
pub(crate) fn insert_dose_rows_sqlite(
    conn: &rusqlite::Connection,
    rows: &[DoseRecord],
) -> Result<(), StoreError> {
    let mut insert = conn.prepare_cached(&format!(
        "INSERT INTO doses ({DOSE_COLUMNS}) VALUES ({})",
        params(1, DoseRow::N)
    ))?;
    for r in rows {
        insert.execute(rusqlite::params_from_iter(DoseRow::values(r)))?;
    }
    Ok(())
}

fn dose_rows_json(rows: &[DoseRecord]) -> String {
    rows_json(&rows.iter().map(DoseRow::values).collect::<Vec<_>>())
}

/// Inserts dose rows with one statement (rows as one JSON parameter).
pub(crate) async fn insert_dose_rows(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[DoseRecord],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO doses ({DOSE_COLUMNS}) {}",
        json_rows(backend, 1, &DoseRow::TYPES)
    );
    sqlx::query(&sql)
        .bind(dose_rows_json(rows))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A person's dose history with what it means.
#[derive(Debug, Clone, serde::Serialize)]
pub struct History {
    pub person_id: String,
    /// Every record, including entered-in-error ones and those of persons
    /// merged into this one, in recording order.
    pub records: Vec<DoseRecord>,
    pub valid_doses: usize,
    pub series_complete: bool,
    pub next_dose_due: Option<String>,
}

impl Store {
    pub async fn dose(&self, id: &str) -> Result<DoseRecord, StoreError> {
        let row = sqlx::query(&format!("SELECT {DOSE_COLUMNS} FROM doses WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found("dose", "id", id))?;
        dose_from_row(&row)
    }

    /// The history of a person `actor`'s scope covers; the read is audited.
    pub async fn read_history(
        &self,
        person_id: &str,
        actor: &crate::model::Actor,
    ) -> Result<History, StoreError> {
        self.read_person(person_id, actor).await?;
        self.history(person_id).await
    }

    /// A dose record whose person `scope` covers (else NotFound).
    pub async fn dose_in(
        &self,
        id: &str,
        scope: &crate::scope::Scope,
    ) -> Result<DoseRecord, StoreError> {
        let dose = self.dose(id).await?;
        self.person_in(&dose.person_id, scope)
            .await
            .map_err(|_| StoreError::not_found("dose", "dose_id", id))?;
        Ok(dose)
    }

    pub async fn history(&self, person_id: &str) -> Result<History, StoreError> {
        let person = self.person(person_id).await?;
        let root = person.merged_into.clone().unwrap_or(person.id.clone());
        let records = self.records_of_roots(&[&root]).await?;
        self.history_of(root, records).await
    }

    /// What `survivor`'s history would be once `duplicate` (and the
    /// records merged into it) were merged into them: both records' doses
    /// in recording order, judged by the same rules as any history. Nothing
    /// is written.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn merge_preview(
        &self,
        survivor: &str,
        duplicate: &str,
    ) -> Result<History, StoreError> {
        let records = self.records_of_roots(&[survivor, duplicate]).await?;
        self.history_of(survivor.to_string(), records).await
    }

    /// Every dose record of these persons and of the records merged into
    /// them, in recording order.
    async fn records_of_roots(&self, roots: &[&str]) -> Result<Vec<DoseRecord>, StoreError> {
        let mut records = Vec::new();
        for root in roots {
            let rows = sqlx::query(&format!(
                "SELECT {DOSE_COLUMNS} FROM doses WHERE person_id IN \
                 (SELECT id FROM persons WHERE id = $1 OR merged_into = $1)"
            ))
            .bind(*root)
            .fetch_all(&self.pool)
            .await?;
            for row in &rows {
                records.push(dose_from_row(row)?);
            }
        }
        records.sort_by(|a, b| (a.recorded_at_micros, &a.id).cmp(&(b.recorded_at_micros, &b.id)));
        Ok(records)
    }

    async fn history_of(
        &self,
        root: String,
        records: Vec<DoseRecord>,
    ) -> Result<History, StoreError> {
        let products = self.product_map().await?;
        let valid = valid_doses(&records);
        let c = contribution(&valid, |code| products.get(code));
        Ok(History {
            person_id: root,
            valid_doses: valid.len(),
            series_complete: c.is_some_and(|c| c.completed),
            next_dose_due: next_dose_due(&valid, |code| products.get(code)).map(crate::format_date),
            records,
        })
    }

    /// Doses in id order after `after`, for export.
    pub async fn doses_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DoseRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DOSE_COLUMNS} FROM doses WHERE id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(dose_from_row).collect()
    }

    /// The records of the next `persons` persons (by id) after `after_person`
    /// that have any, each person's in recording order: the order an import
    /// must replay them in (dose numbers follow the history; a correction
    /// follows its dose). Also returns the last person of the page.
    pub async fn doses_by_person_after(
        &self,
        after_person: Option<&str>,
        persons: usize,
    ) -> Result<(Vec<DoseRecord>, Option<String>), StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT person_id FROM doses WHERE person_id > $1 ORDER BY person_id LIMIT $2",
        )
        .bind(after_person.unwrap_or(""))
        .bind(persons as i64)
        .fetch_all(&self.pool)
        .await?;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>("person_id"))
            .collect::<Result<_, _>>()?;
        let Some(last) = ids.last().cloned() else {
            return Ok((Vec::new(), None));
        };
        let rows = sqlx::query(&format!(
            "SELECT {DOSE_COLUMNS} FROM doses WHERE {} ORDER BY person_id, recorded_at, id",
            in_json(self.backend, "person_id", 1)
        ))
        .bind(serde_json::to_string(&ids).unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        Ok((
            rows.iter().map(dose_from_row).collect::<Result<_, _>>()?,
            Some(last),
        ))
    }

    /// Inserts ready-made dose rows with no rules and no counters, one
    /// durable transaction per `batch` rows, with the insert the dose writer
    /// uses (on SQLite its direct connection, rows bound natively): the
    /// baseline the dose benchmark compares the HTTP path with, and the bulk
    /// path of demo seeding (which counts after). Gives the rows back.
    pub async fn insert_doses_raw(
        &self,
        rows: Vec<DoseRecord>,
        batch: usize,
    ) -> Result<Vec<DoseRecord>, StoreError> {
        let batch = batch.max(1);
        if self.backend == Backend::Sqlite {
            let url = self.url.to_string();
            return tokio::task::spawn_blocking(move || {
                let mut conn = crate::direct_sqlite::open(&url)?;
                for chunk in rows.chunks(batch) {
                    let tx = WriteTx::begin(&mut conn)?;
                    insert_dose_rows_sqlite(tx.conn(), chunk)?;
                    tx.commit()?;
                }
                Ok(rows)
            })
            .await
            .map_err(|_| StoreError::Unavailable("the insert's thread failed".into()))?;
        }
        for chunk in rows.chunks(batch) {
            let mut tx = self.begin_write().await?;
            for part in chunk.chunks(5000) {
                insert_dose_rows(&mut tx, self.backend, part).await?;
            }
            tx.commit().await?;
        }
        Ok(rows)
    }

    pub async fn count_doses(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM doses")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}

/// Builds a dose row for bulk paths (seeding, benchmark baseline).
#[allow(clippy::too_many_arguments)]
pub fn raw_dose(
    id: String,
    person_id: String,
    province_code: String,
    area_code: String,
    product_code: &str,
    lot_number: &str,
    site_code: &str,
    dose_number: i64,
    administered_on: time::Date,
) -> DoseRecord {
    let now = crate::now_micros();
    DoseRecord {
        body_hash: crate::model::body_hash(&["raw", &id]),
        id,
        person_id,
        kind: DoseKind::Administered,
        corrects_id: None,
        product_code: product_code.to_string(),
        lot_number: lot_number.to_string(),
        site_code: site_code.to_string(),
        dose_number,
        administered_on: crate::format_date(administered_on),
        vaccinator: None,
        override_reason: None,
        reason: None,
        author: None,
        area_code,
        recorded_at: crate::format_instant(now),
        province_code,
        recorded_at_micros: now,
        stock_store: None,
    }
}

#[cfg(test)]
mod tests {
    use super::{dose_from_row, insert_dose_rows_sqlite, DayLine, DoseRow, DOSE_COLUMNS};
    use crate::model::{DoseKind, DoseRecord};

    /// The layout's values go in under its columns and come back, by name,
    /// as the same record: the declaration and the mapper agree.
    #[test]
    fn a_dose_row_is_written_in_its_layout_and_read_back_whole() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let types: Vec<String> = DOSE_COLUMNS
            .split(", ")
            .zip(DoseRow::TYPES)
            .map(|(c, t)| {
                format!(
                    "{c} {}",
                    if t == crate::db::Col::Int {
                        "BIGINT"
                    } else {
                        "TEXT"
                    }
                )
            })
            .collect();
        assert_eq!(types.len(), DoseRow::N);
        conn.execute_batch(&format!("CREATE TABLE doses ({})", types.join(", ")))
            .unwrap();
        let micros = 1_780_000_000_123_456;
        let rec = DoseRecord {
            id: "d1".into(),
            person_id: "p1".into(),
            kind: DoseKind::Administered,
            corrects_id: Some("d0".into()),
            product_code: "AZ".into(),
            lot_number: "L1".into(),
            site_code: "S1".into(),
            dose_number: 2,
            administered_on: "2026-03-02".into(),
            vaccinator: Some("lan".into()),
            override_reason: None,
            reason: Some("why".into()),
            author: None,
            area_code: "0665801".into(),
            recorded_at: crate::format_instant(micros),
            province_code: "66".into(),
            recorded_at_micros: micros,
            body_hash: "h".into(),
            stock_store: Some("KS1".into()),
        };
        insert_dose_rows_sqlite(&conn, std::slice::from_ref(&rec)).unwrap();
        let read = conn
            .query_row(&format!("SELECT {DOSE_COLUMNS} FROM doses"), [], |r| {
                Ok(dose_from_row(r).unwrap())
            })
            .unwrap();
        assert_eq!(read, rec);
    }

    fn line(day: Option<&str>, doses: i64) -> DayLine {
        DayLine {
            day: day.map(str::to_string),
            doses,
            at: 7,
        }
    }

    #[test]
    fn a_day_line_is_moved_off_its_row_only_when_a_later_day_takes_from_it() {
        // A row never given from, or given from today: nothing to move.
        assert_eq!(line(None, 0).finished_before("2021-08-02"), None);
        assert_eq!(
            line(Some("2021-08-02"), 5).finished_before("2021-08-02"),
            None
        );
        // Yesterday's doses move out as yesterday's line, with its instant.
        assert_eq!(
            line(Some("2021-08-01"), 5).finished_before("2021-08-02"),
            Some(("2021-08-01", 5, 7))
        );
        // A day with no doses left nothing to move.
        assert_eq!(
            line(Some("2021-08-01"), 0).finished_before("2021-08-02"),
            None
        );
    }
}
