//! Adverse events following immunization as safety reports read them:
//! one `aefi_events` row per report (written with the visit's event), the
//! AEFI report of an area (counts and rates per 100,000 doses by product,
//! lot, child area, wave, severity, seriousness and outcome) and the list
//! behind each figure. Rates and rules are `vaxgrid_core::aefi`'s.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;
use vaxgrid_core::aefi::{rate_per_100k, AefiOutcome};
use vaxgrid_core::area::subtree_upper_bound;
use vaxgrid_core::visit::{AefiReport, Severity};

use crate::audit::AuditEntry;
use crate::error::StoreError;
use crate::model::{Actor, Area, Page};
use crate::paging::PageRequest;
use crate::scope::Scope;
use crate::Store;

/// An adverse event to store beside its visit's event.
#[derive(Debug, Clone)]
pub struct NewAefiEvent {
    pub id: String,
    pub visit_id: String,
    pub person_id: String,
    pub investigation_id: Option<String>,
    pub report: AefiReport,
}

/// What the reports and lists filter on; `area` is required (a subtree
/// the caller's scope covers whole).
#[derive(Debug, Clone, Default)]
pub struct AefiFilter {
    pub area: String,
    /// With `wave`: doses given in the wave's days, of the campaign's products.
    pub campaign: Option<String>,
    pub wave: Option<String>,
    pub product: Option<String>,
    pub lot: Option<String>,
    /// Doses given on or after / on or before (YYYY-MM-DD).
    pub from: Option<String>,
    pub to: Option<String>,
    pub severity: Option<Severity>,
    pub serious: Option<bool>,
    pub outcome: Option<AefiOutcome>,
}

/// One figure of the report: events, of them serious and deaths, over the
/// doses of the same slice (None where a slice has no dose count, as for
/// severity: the rate is then over all doses of the report).
#[derive(Debug, Clone, PartialEq)]
pub struct AefiFigure {
    pub key: String,
    pub label: String,
    pub events: i64,
    pub serious: i64,
    pub deaths: i64,
    pub doses: i64,
    pub rate_per_100k: Option<f64>,
    /// The filters that narrow the report to this figure (query keys and
    /// values), for the list behind it.
    pub filter: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AefiReportOf {
    pub area_code: String,
    pub area_name: String,
    pub total: AefiFigure,
    pub by_product: Vec<AefiFigure>,
    pub by_lot: Vec<AefiFigure>,
    pub by_area: Vec<AefiFigure>,
    /// Each wave of the campaign asked for (empty without one).
    pub by_wave: Vec<AefiFigure>,
    pub by_severity: Vec<AefiFigure>,
    pub by_seriousness: Vec<AefiFigure>,
    pub by_outcome: Vec<AefiFigure>,
}

/// One event of the list behind a figure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AefiEventRow {
    pub id: String,
    pub visit_id: String,
    pub person_id: String,
    pub full_name: String,
    pub product_code: String,
    pub lot_number: String,
    pub site_code: String,
    pub area_code: String,
    pub dose_on: String,
    pub onset: String,
    pub severity: String,
    pub serious: bool,
    pub outcome: String,
    pub treatment: Option<String>,
    pub symptoms: Vec<String>,
    pub investigation_id: Option<String>,
}

/// An event as stored, for the counts.
struct Counted {
    product: String,
    lot: String,
    child: Option<String>,
    dose_on: String,
    severity: String,
    serious: bool,
    outcome: String,
}

/// The area and day range a report or list reads, resolved and checked.
struct Slice {
    area: Area,
    /// Inclusive days; the wave's when one is asked for, narrowed by from/to.
    from: Option<String>,
    to: Option<String>,
    /// The campaign's products when a wave is asked for.
    products: Option<Vec<String>>,
    waves: Vec<crate::campaigns::Wave>,
}

fn bad(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::invalid(field, message)
}

impl Store {
    /// Writes an adverse event's row in the visit's transaction, with the
    /// dose it follows (product, lot, site, the person's area then, its
    /// day). A visit without its dose record writes nothing here.
    pub(crate) async fn insert_aefi_event(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        new: &NewAefiEvent,
        dose: &crate::model::DoseRecord,
    ) -> Result<(), StoreError> {
        let r = &new.report;
        let onset = r
            .onset
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|_| bad("onset", "the onset cannot be written"))?;
        sqlx::query(
            "INSERT INTO aefi_events (province_code, id, visit_id, person_id, dose_id, product_code, \
             lot_number, site_code, area_code, dose_on, onset, severity, serious, outcome, treatment, \
             symptoms, investigation_id, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(&dose.province_code)
        .bind(&new.id)
        .bind(&new.visit_id)
        .bind(&new.person_id)
        .bind(&dose.id)
        .bind(&dose.product_code)
        .bind(&dose.lot_number)
        .bind(&dose.site_code)
        .bind(&dose.area_code)
        .bind(&dose.administered_on)
        .bind(onset)
        .bind(r.severity.as_str())
        .bind(i64::from(r.serious))
        .bind(r.outcome.as_str())
        .bind(&r.treatment)
        .bind(serde_json::to_string(&r.symptoms).expect("strings serialise"))
        .bind(&new.investigation_id)
        .bind(self.now_micros())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The area (whole in `scope`, else NotFound like every report), and
    /// the days and products a campaign's wave narrows it to.
    async fn aefi_slice(&self, f: &AefiFilter, scope: &Scope) -> Result<Slice, StoreError> {
        let not_found = || StoreError::NotFound {
            entity: "area",
            field: "area",
            key: f.area.clone(),
        };
        let area = self.area(&f.area).await.map_err(|e| match e {
            StoreError::NotFound { .. } => not_found(),
            other => other,
        })?;
        if !scope.covers_path(&area.path) {
            return Err(not_found());
        }
        for (field, day) in [("from", &f.from), ("to", &f.to)] {
            if let Some(d) = day {
                if crate::parse_date(d).is_none() {
                    return Err(bad(field, format!("'{d}' is not a date (YYYY-MM-DD)")));
                }
            }
        }
        let (mut from, mut to) = (f.from.clone(), f.to.clone());
        let (mut products, mut waves) = (None, Vec::new());
        match (&f.campaign, &f.wave) {
            (None, Some(_)) => {
                return Err(bad("campaign", "a wave is asked for with its campaign"))
            }
            (None, None) => {}
            (Some(id), wave) => {
                let campaign = self.campaign(id, scope).await.map_err(|e| match e {
                    StoreError::NotFound { key, .. } => StoreError::NotFound {
                        entity: "campaign",
                        field: "campaign",
                        key,
                    },
                    other => other,
                })?;
                if let Some(w) = wave {
                    let found = campaign.waves.iter().find(|x| &x.id == w).ok_or_else(|| {
                        StoreError::NotFound {
                            entity: "wave",
                            field: "wave",
                            key: w.clone(),
                        }
                    })?;
                    from = Some(max_day(from, &found.starts_on));
                    to = Some(min_day(to, &found.ends_on));
                }
                products = Some(campaign.products.clone());
                waves = campaign.waves.clone();
            }
        }
        Ok(Slice {
            area,
            from,
            to,
            products,
            waves,
        })
    }

    /// Conditions on `aefi_events e` joined with `areas a` for the filter
    /// (binds appended to `binds`).
    fn aefi_conditions(&self, f: &AefiFilter, s: &Slice, binds: &mut Vec<String>) -> Vec<String> {
        let push = |binds: &mut Vec<String>, v: String| {
            binds.push(v);
            format!("${}", binds.len())
        };
        let mut c = Vec::new();
        let lo = push(binds, s.area.path.clone());
        let hi = push(binds, subtree_upper_bound(&s.area.path));
        c.push(format!("a.path >= {lo} AND a.path < {hi}"));
        if let Some(d) = &s.from {
            c.push(format!("e.dose_on >= {}", push(binds, d.clone())));
        }
        if let Some(d) = &s.to {
            c.push(format!("e.dose_on <= {}", push(binds, d.clone())));
        }
        if let Some(ps) = &s.products {
            let p = push(binds, serde_json::to_string(ps).expect("strings serialise"));
            c.push(crate::db::in_json(
                self.backend,
                "e.product_code",
                p[1..].parse().expect("a parameter number"),
            ));
        }
        if let Some(p) = &f.product {
            c.push(format!("e.product_code = {}", push(binds, p.clone())));
        }
        if let Some(l) = &f.lot {
            c.push(format!("e.lot_number = {}", push(binds, l.clone())));
        }
        if let Some(v) = f.severity {
            c.push(format!("e.severity = {}", push(binds, v.as_str().into())));
        }
        if let Some(v) = f.serious {
            c.push(format!("e.serious = {}", if v { 1 } else { 0 }));
        }
        if let Some(v) = f.outcome {
            c.push(format!("e.outcome = {}", push(binds, v.as_str().into())));
        }
        c
    }

    /// The AEFI report of an area: counts and rates per 100,000 doses by
    /// product, lot, child area, wave, severity, seriousness and outcome.
    /// Doses come from the daily counters (by the person's home area, like
    /// the coverage report), and from the dose records for lots.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn aefi_report(
        &self,
        f: &AefiFilter,
        scope: &Scope,
    ) -> Result<AefiReportOf, StoreError> {
        let s = self.aefi_slice(f, scope).await?;
        let mut binds = Vec::new();
        let conditions = self.aefi_conditions(f, &s, &mut binds);
        let child_param = binds.len() + 1;
        binds.push(s.area.code.clone());
        let sql = format!(
            "SELECT e.product_code, e.lot_number, e.dose_on, e.severity, e.serious, e.outcome, \
             (SELECT c.code FROM areas c WHERE c.parent_code = ${child_param} AND a.path >= c.path \
              AND a.path < substr(c.path, 1, length(c.path) - 1) || '0') AS child \
             FROM aefi_events e JOIN areas a ON a.code = e.area_code WHERE {}",
            conditions.join(" AND ")
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let events = q
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Counted {
                    product: r.try_get("product_code")?,
                    lot: r.try_get("lot_number")?,
                    child: r.try_get("child")?,
                    dose_on: r.try_get("dose_on")?,
                    severity: r.try_get("severity")?,
                    serious: r.try_get::<i64, _>("serious")? != 0,
                    outcome: r.try_get("outcome")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let children = self
            .area_children(Some(&s.area.code), None, 100_000)
            .await?
            .items;
        let doses = self.aefi_denominators(f, &s, &events).await?;
        Ok(assemble(&s, &children, &events, &doses))
    }

    /// Doses of the report's slice: in total, by product, by child area, by
    /// lot (of the lots with events) and by wave.
    async fn aefi_denominators(
        &self,
        f: &AefiFilter,
        s: &Slice,
        events: &[Counted],
    ) -> Result<Denominators, StoreError> {
        let mut d = Denominators::default();
        // By product, child and day from the counters; the dose records
        // when a lot narrows the report (the counters know no lots).
        let by_lot_only = f.lot.is_some();
        let rows = if by_lot_only {
            self.dose_record_counts(f, s).await?
        } else {
            self.counter_counts(f, s).await?
        };
        for (product, child, day, n) in rows {
            d.total += n;
            *d.product.entry(product.clone()).or_default() += n;
            if let Some(c) = child {
                *d.child.entry(c).or_default() += n;
            }
            for w in &s.waves {
                if w.starts_on <= day && day <= w.ends_on {
                    *d.wave.entry(w.id.clone()).or_default() += n;
                }
            }
        }
        let lots: Vec<(String, String)> = {
            let mut l: Vec<_> = events
                .iter()
                .map(|e| (e.product.clone(), e.lot.clone()))
                .collect();
            l.sort();
            l.dedup();
            l
        };
        if !lots.is_empty() {
            for (product, lot, n) in self.lot_counts(f, s, &lots).await? {
                *d.lot.entry((product, lot)).or_default() += n;
            }
        }
        Ok(d)
    }

    /// (product, child area, day, doses) from the daily counters.
    async fn counter_counts(
        &self,
        f: &AefiFilter,
        s: &Slice,
    ) -> Result<Vec<(String, Option<String>, String, i64)>, StoreError> {
        let mut binds = vec![
            s.area.path.clone(),
            subtree_upper_bound(&s.area.path),
            s.area.code.clone(),
        ];
        let mut c = vec!["k.area_path >= $1 AND k.area_path < $2".to_string()];
        day_and_product_conditions(
            self.backend,
            f,
            s,
            "k.day",
            "k.product_code",
            &mut c,
            &mut binds,
        );
        let sql = format!(
            "SELECT k.product_code AS product, k.day AS day, \
             (SELECT c.code FROM areas c WHERE c.parent_code = $3 AND k.area_path >= c.path \
              AND k.area_path < substr(c.path, 1, length(c.path) - 1) || '0') AS child, \
             CAST(SUM(k.doses) AS BIGINT) AS n FROM daily_dose_counters k WHERE {} \
             GROUP BY k.product_code, k.day, k.area_path",
            c.join(" AND ")
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("product")?,
                    r.try_get("child")?,
                    r.try_get("day")?,
                    r.try_get::<Option<i64>, _>("n")?.unwrap_or(0),
                ))
            })
            .collect()
    }

    /// (product, child area, day, doses) from the dose records (valid
    /// doses: not entered in error, not voided), narrowed to `f.lot`.
    async fn dose_record_counts(
        &self,
        f: &AefiFilter,
        s: &Slice,
    ) -> Result<Vec<(String, Option<String>, String, i64)>, StoreError> {
        let mut binds = vec![
            s.area.path.clone(),
            subtree_upper_bound(&s.area.path),
            s.area.code.clone(),
        ];
        let mut c = vec![
            "a.path >= $1 AND a.path < $2".to_string(),
            VALID_DOSE.to_string(),
        ];
        day_and_product_conditions(
            self.backend,
            f,
            s,
            "d.administered_on",
            "d.product_code",
            &mut c,
            &mut binds,
        );
        if let Some(l) = &f.lot {
            binds.push(l.clone());
            c.push(format!("d.lot_number = ${}", binds.len()));
        }
        let sql = format!(
            "SELECT d.product_code AS product, d.administered_on AS day, \
             (SELECT c.code FROM areas c WHERE c.parent_code = $3 AND a.path >= c.path \
              AND a.path < substr(c.path, 1, length(c.path) - 1) || '0') AS child, \
             COUNT(*) AS n FROM doses d JOIN areas a ON a.code = d.area_code WHERE {} \
             GROUP BY d.product_code, d.administered_on, a.path",
            c.join(" AND ")
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("product")?,
                    r.try_get("child")?,
                    r.try_get("day")?,
                    r.try_get::<i64, _>("n")?,
                ))
            })
            .collect()
    }

    /// Valid doses of each (product, lot) in `lots` in the slice.
    async fn lot_counts(
        &self,
        f: &AefiFilter,
        s: &Slice,
        lots: &[(String, String)],
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let mut binds = vec![s.area.path.clone(), subtree_upper_bound(&s.area.path)];
        let mut c = vec![
            "a.path >= $1 AND a.path < $2".to_string(),
            VALID_DOSE.to_string(),
        ];
        day_and_product_conditions(
            self.backend,
            f,
            s,
            "d.administered_on",
            "d.product_code",
            &mut c,
            &mut binds,
        );
        let names: Vec<&str> = lots.iter().map(|(_, l)| l.as_str()).collect();
        binds.push(serde_json::to_string(&names).expect("strings serialise"));
        c.push(crate::db::in_json(
            self.backend,
            "d.lot_number",
            binds.len(),
        ));
        let sql = format!(
            "SELECT d.product_code AS product, d.lot_number AS lot, COUNT(*) AS n \
             FROM doses d JOIN areas a ON a.code = d.area_code WHERE {} \
             GROUP BY d.product_code, d.lot_number",
            c.join(" AND ")
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let mut out = Vec::new();
        for r in q.fetch_all(&self.pool).await? {
            let (product, lot): (String, String) = (r.try_get("product")?, r.try_get("lot")?);
            // Lot numbers are per product: keep the pairs with events.
            if lots.iter().any(|(p, l)| *p == product && *l == lot) {
                out.push((product, lot, r.try_get::<i64, _>("n")?));
            }
        }
        Ok(out)
    }

    /// The events behind a figure of the report, newest first (by id),
    /// with the person's name. The read is audited: it lists persons.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn aefi_events(
        &self,
        f: &AefiFilter,
        page: &PageRequest,
        actor: &Actor,
    ) -> Result<Page<AefiEventRow>, StoreError> {
        let s = self.aefi_slice(f, &actor.scope).await?;
        let mut binds = Vec::new();
        let mut conditions = self.aefi_conditions(f, &s, &mut binds);
        if let Some(after) = &page.after {
            let id = crate::paging::decode_cursor(after, 1)?.remove(0);
            binds.push(id);
            conditions.push(format!("e.id < ${}", binds.len()));
        }
        let sql = format!(
            "SELECT e.id, e.visit_id, e.person_id, p.full_name, e.product_code, e.lot_number, \
             e.site_code, e.area_code, e.dose_on, e.onset, e.severity, e.serious, e.outcome, \
             e.treatment, e.symptoms, e.investigation_id \
             FROM aefi_events e JOIN areas a ON a.code = e.area_code \
             LEFT JOIN persons p ON p.id = e.person_id AND p.province_code = e.province_code \
             WHERE {} ORDER BY e.id DESC LIMIT {}",
            conditions.join(" AND "),
            page.limit + 1
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let symptoms: String = r.try_get("symptoms")?;
                Ok(AefiEventRow {
                    id: r.try_get("id")?,
                    visit_id: r.try_get("visit_id")?,
                    person_id: r.try_get("person_id")?,
                    full_name: r
                        .try_get::<Option<String>, _>("full_name")?
                        .unwrap_or_default(),
                    product_code: r.try_get("product_code")?,
                    lot_number: r.try_get("lot_number")?,
                    site_code: r.try_get("site_code")?,
                    area_code: r.try_get("area_code")?,
                    dose_on: r.try_get("dose_on")?,
                    onset: r.try_get("onset")?,
                    severity: r.try_get("severity")?,
                    serious: r.try_get::<i64, _>("serious")? != 0,
                    outcome: r.try_get("outcome")?,
                    treatment: r.try_get("treatment")?,
                    symptoms: serde_json::from_str(&symptoms).unwrap_or_default(),
                    investigation_id: r.try_get("investigation_id")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let page = Page::from_rows(rows, page.limit, |e| crate::paging::cursor(&[&e.id]));
        self.audit(AuditEntry::by(
            actor,
            "read",
            "aefi_events",
            &s.area.code,
            serde_json::json!({"area": s.area.code, "campaign": f.campaign, "wave": f.wave,
                "product": f.product, "lot": f.lot, "events": page.items.len()}),
        ))
        .await?;
        Ok(page)
    }

    /// Serious events and deaths following doses given in an area's
    /// subtree between two days (inclusive), of the given products: what
    /// wave progress shows beside the doses.
    pub async fn aefi_serious_in(
        &self,
        area: &Area,
        from: &str,
        to: &str,
        products: &[String],
    ) -> Result<(i64, i64), StoreError> {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(e.serious), 0) AS BIGINT) AS serious, \
             CAST(COALESCE(SUM(CASE WHEN e.outcome = 'death' THEN 1 ELSE 0 END), 0) AS BIGINT) AS deaths \
             FROM aefi_events e JOIN areas a ON a.code = e.area_code \
             WHERE a.path >= $1 AND a.path < $2 AND e.dose_on >= $3 AND e.dose_on <= $4 AND {}",
            crate::db::in_json(self.backend, "e.product_code", 5)
        );
        let r = sqlx::query(&sql)
            .bind(&area.path)
            .bind(subtree_upper_bound(&area.path))
            .bind(from)
            .bind(to)
            .bind(serde_json::to_string(products).expect("strings serialise"))
            .fetch_one(&self.pool)
            .await?;
        Ok((
            r.try_get::<Option<i64>, _>("serious")?.unwrap_or(0),
            r.try_get::<Option<i64>, _>("deaths")?.unwrap_or(0),
        ))
    }
}

/// A valid dose record of `doses d`: given (not a correction), not voided.
const VALID_DOSE: &str = "d.kind <> 'entered_in_error' AND NOT EXISTS \
     (SELECT 1 FROM doses x WHERE x.corrects_id = d.id AND x.kind = 'entered_in_error')";

fn day_and_product_conditions(
    backend: crate::db::Backend,
    f: &AefiFilter,
    s: &Slice,
    day: &str,
    product: &str,
    c: &mut Vec<String>,
    binds: &mut Vec<String>,
) {
    if let Some(d) = &s.from {
        binds.push(d.clone());
        c.push(format!("{day} >= ${}", binds.len()));
    }
    if let Some(d) = &s.to {
        binds.push(d.clone());
        c.push(format!("{day} <= ${}", binds.len()));
    }
    if let Some(ps) = &s.products {
        binds.push(serde_json::to_string(ps).expect("strings serialise"));
        c.push(crate::db::in_json(backend, product, binds.len()));
    }
    if let Some(p) = &f.product {
        binds.push(p.clone());
        c.push(format!("{product} = ${}", binds.len()));
    }
}

fn max_day(a: Option<String>, b: &str) -> String {
    match a {
        Some(a) if a.as_str() > b => a,
        _ => b.to_string(),
    }
}

fn min_day(a: Option<String>, b: &str) -> String {
    match a {
        Some(a) if a.as_str() < b => a,
        _ => b.to_string(),
    }
}

#[derive(Default)]
struct Denominators {
    total: i64,
    product: HashMap<String, i64>,
    child: HashMap<String, i64>,
    lot: HashMap<(String, String), i64>,
    wave: HashMap<String, i64>,
}

/// Counts events into figures.
#[derive(Default, Clone, Copy)]
struct Tally {
    events: i64,
    serious: i64,
    deaths: i64,
}

impl Tally {
    fn add(&mut self, e: &Counted) {
        self.events += 1;
        self.serious += i64::from(e.serious);
        self.deaths += i64::from(e.outcome == AefiOutcome::Death.as_str());
    }
}

fn figure(key: &str, label: &str, t: Tally, doses: i64, filter: &[(&str, &str)]) -> AefiFigure {
    AefiFigure {
        key: key.to_string(),
        label: label.to_string(),
        events: t.events,
        serious: t.serious,
        deaths: t.deaths,
        doses,
        rate_per_100k: rate_per_100k(t.events, doses),
        filter: filter
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn assemble(s: &Slice, children: &[Area], events: &[Counted], d: &Denominators) -> AefiReportOf {
    let t = Tallies::count(s, events);
    let get = |m: &HashMap<&str, Tally>, k: &str| m.get(k).copied().unwrap_or_default();
    AefiReportOf {
        area_code: s.area.code.clone(),
        area_name: s.area.name.clone(),
        total: figure(&s.area.code, &s.area.name, t.total, d.total, &[]),
        by_product: product_figures(&t, d),
        by_lot: lot_figures(&t, d),
        by_area: children
            .iter()
            .map(|c| {
                figure(
                    &c.code,
                    &c.name,
                    get(&t.child, &c.code),
                    d.child.get(&c.code).copied().unwrap_or(0),
                    &[("area", &c.code)],
                )
            })
            .collect(),
        by_wave: s
            .waves
            .iter()
            .map(|w| {
                figure(
                    &w.id,
                    &w.name,
                    get(&t.wave, &w.id),
                    d.wave.get(&w.id).copied().unwrap_or(0),
                    &[("wave", &w.id)],
                )
            })
            .collect(),
        by_severity: Severity::ALL
            .iter()
            .map(|v| {
                let k = v.as_str();
                figure(k, k, get(&t.severity, k), d.total, &[("severity", k)])
            })
            .collect(),
        by_seriousness: [("serious", true), ("not_serious", false)]
            .iter()
            .map(|(k, v)| {
                let flag = if *v { "true" } else { "false" };
                figure(
                    k,
                    k,
                    t.serious[usize::from(*v)],
                    d.total,
                    &[("serious", flag)],
                )
            })
            .collect(),
        by_outcome: AefiOutcome::ALL
            .iter()
            .map(|o| {
                let k = o.as_str();
                figure(k, k, get(&t.outcome, k), d.total, &[("outcome", k)])
            })
            .collect(),
    }
}

/// The events counted by each grouping of the report.
#[derive(Default)]
struct Tallies<'a> {
    total: Tally,
    product: BTreeMap<&'a str, Tally>,
    lot: BTreeMap<(&'a str, &'a str), Tally>,
    child: HashMap<&'a str, Tally>,
    wave: HashMap<&'a str, Tally>,
    severity: HashMap<&'a str, Tally>,
    /// Not serious, serious.
    serious: [Tally; 2],
    outcome: HashMap<&'a str, Tally>,
}

impl<'a> Tallies<'a> {
    /// Counts each event in every grouping it falls in (a wave by its
    /// dose's day).
    fn count(s: &'a Slice, events: &'a [Counted]) -> Tallies<'a> {
        let mut t = Tallies::default();
        for e in events {
            t.total.add(e);
            t.product.entry(&e.product).or_default().add(e);
            t.lot.entry((&e.product, &e.lot)).or_default().add(e);
            if let Some(c) = &e.child {
                t.child.entry(c).or_default().add(e);
            }
            for w in &s.waves {
                if w.starts_on <= e.dose_on && e.dose_on <= w.ends_on {
                    t.wave.entry(&w.id).or_default().add(e);
                }
            }
            t.severity.entry(&e.severity).or_default().add(e);
            t.serious[usize::from(e.serious)].add(e);
            t.outcome.entry(&e.outcome).or_default().add(e);
        }
        t
    }
}

/// A figure a product, by code: products with doses but no event are
/// figures too (a rate of 0).
fn product_figures(t: &Tallies<'_>, d: &Denominators) -> Vec<AefiFigure> {
    let mut products: Vec<&str> = d.product.keys().map(String::as_str).collect();
    products.extend(t.product.keys());
    products.sort();
    products.dedup();
    products
        .iter()
        .map(|p| {
            figure(
                p,
                p,
                t.product.get(p).copied().unwrap_or_default(),
                d.product.get(*p).copied().unwrap_or(0),
                &[("product", p)],
            )
        })
        .collect()
}

/// A figure a lot with events, by product and lot number.
fn lot_figures(t: &Tallies<'_>, d: &Denominators) -> Vec<AefiFigure> {
    t.lot
        .iter()
        .map(|((p, l), tally)| {
            figure(
                &format!("{p}/{l}"),
                l,
                *tally,
                d.lot
                    .get(&(p.to_string(), l.to_string()))
                    .copied()
                    .unwrap_or(0),
                &[("product", p), ("lot", l)],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_with_doses_but_no_event_has_a_figure_of_zero() {
        let event = Counted {
            product: "MOD".into(),
            lot: "L1".into(),
            child: None,
            dose_on: "2021-07-01".into(),
            severity: "mild".into(),
            serious: false,
            outcome: "recovered".into(),
        };
        let mut t = Tallies::default();
        t.product.entry("MOD").or_default().add(&event);
        let d = Denominators {
            product: HashMap::from([("PFZ".to_string(), 1_000)]),
            ..Denominators::default()
        };
        let figures = product_figures(&t, &d);
        let rows: Vec<(&str, i64, i64)> = figures
            .iter()
            .map(|f| (f.key.as_str(), f.events, f.doses))
            .collect();
        assert_eq!(rows, [("MOD", 1, 0), ("PFZ", 0, 1_000)]);
    }
}
