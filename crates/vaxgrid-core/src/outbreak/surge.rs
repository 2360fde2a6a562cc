//! The surge planner: from a scenario (how cases arrive, how severe they
//! are, how long they stay, where they live, how many contacts each has,
//! how samples are pooled) to a day-by-day projection of beds needed per
//! tier and region against the facilities' capacity, the facilities to
//! open and when, the isolation places needed, and the laboratories' load.
//! A pure function of its input: the same scenario always gives the same
//! projection, and every figure can be checked by hand.
//!
//! The model, stated once:
//! - New cases on day d: `Even` spreads a total over the first days;
//!   `Growth` starts at `initial` and grows by `daily_growth_pct` a day,
//!   stopping when the cumulative count reaches `cap_total` (if given).
//! - Every case is admitted on the day it is confirmed: mild and moderate
//!   cases to a mild-moderate bed, severe and critical to a
//!   severe-critical bed, for that tier's length of stay (a case admitted
//!   on day d occupies its bed on days d .. d + stay − 1). Cases and
//!   contacts split over regions by the regions' shares.
//! - A facility opens at its stage (`activate_at_cases`: when cumulative
//!   cases reach it; 0 = open from the start), or earlier when its region
//!   needs its beds: on a day when need exceeds the open beds of a tier,
//!   the region's closed facilities with beds of that tier open in stage
//!   order until the need is covered. A tier of a region *runs out* on the
//!   first day its need exceeds the beds of all its facilities.
//! - Each case has `contacts_per_case` contacts (F1), traced on the day
//!   the case is confirmed. `facility_share_pct` of them are isolated at a
//!   facility for `facility_days`, then at home for `home_days`; the rest
//!   at home for `facility_days + home_days`.
//! - Each contact gives one single sample on each of `contact_test_days`
//!   (days after tracing). `screening_per_day` people are sampled in the
//!   community, pooled by `pool_size`; a pool is positive with probability
//!   1 − (1 − p)^n at prevalence p, and a positive pool re-tests its n
//!   members singly, so a pool costs 1 + n·(1 − (1 − p)^n) tests. The
//!   laboratories' load is single tests + pool tests + re-tests, against
//!   the sum of their daily single-test capacity; each new case needs one
//!   confirmatory test, against the confirmatory capacity.

use serde::{Deserialize, Serialize};

/// The longest projection (days).
pub const MAX_DAYS: u32 = 366;
const EPS: f64 = 1e-9;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Arrivals {
    /// `total` cases spread evenly over the first `over_days` days.
    Even { total: f64, over_days: u32 },
    /// `initial` cases on day 0, growing by `daily_growth_pct` a day,
    /// until the cumulative count reaches `cap_total`.
    Growth {
        initial: f64,
        daily_growth_pct: f64,
        #[serde(default)]
        cap_total: Option<f64>,
    },
}

/// Shares of cases by severity, in percent (summing to 100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityMix {
    pub mild: f64,
    pub moderate: f64,
    pub severe: f64,
    pub critical: f64,
}

/// Length of stay in days, by tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StayDays {
    pub mild_moderate: u32,
    pub severe_critical: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub share_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facility {
    pub name: String,
    pub region: String,
    pub mild_moderate_beds: i64,
    pub severe_critical_beds: i64,
    /// Opens when cumulative cases reach this (0: open from the start).
    #[serde(default)]
    pub activate_at_cases: i64,
    /// Where the figures come from (the article, or a planning assumption).
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Laboratory {
    pub name: String,
    /// PCR runs a day (each a single sample or one pool).
    pub single_per_day: i64,
    pub confirmatory_per_day: i64,
    /// The largest pool the laboratory accepts.
    pub max_pool: u32,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Isolation {
    pub contacts_per_case: f64,
    pub facility_share_pct: f64,
    pub facility_days: u32,
    pub home_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Testing {
    /// Days after tracing on which each contact gives a single sample.
    pub contact_test_days: Vec<u32>,
    pub screening_per_day: f64,
    pub pool_size: u32,
    /// Prevalence among the screened, in percent.
    pub prevalence_pct: f64,
}

/// Teams on call (reported with the projection).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Teams {
    pub rapid_response: u32,
    pub ambulance: u32,
    pub specialist: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub source: String,
    pub days: u32,
    pub arrivals: Arrivals,
    pub severity: SeverityMix,
    pub stay_days: StayDays,
    pub regions: Vec<Region>,
    /// Severe and critical patients go to the intensive-care centres of
    /// any region (the tier is planned for the province as one, region
    /// `*`), as article 003's plan does; otherwise each region's own.
    #[serde(default)]
    pub severe_critical_province_wide: bool,
    pub facilities: Vec<Facility>,
    /// Treatment units in the province, whether in this plan or not.
    #[serde(default)]
    pub treatment_units: u32,
    pub laboratories: Vec<Laboratory>,
    pub isolation: Isolation,
    pub testing: Testing,
    #[serde(default)]
    pub teams: Teams,
}

/// A scenario refused: the field at fault (a JSON path into the scenario)
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct SurgeError {
    pub field: String,
    pub reason: String,
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> SurgeError {
    SurgeError {
        field: field.into(),
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    MildModerate,
    SevereCritical,
}

impl Tier {
    pub const ALL: [Tier; 2] = [Tier::MildModerate, Tier::SevereCritical];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::MildModerate => "mild_moderate",
            Tier::SevereCritical => "severe_critical",
        }
    }

    fn beds(self, f: &Facility) -> f64 {
        match self {
            Tier::MildModerate => f.mild_moderate_beds as f64,
            Tier::SevereCritical => f.severe_critical_beds as f64,
        }
    }
}

/// Beds of one tier in one region on one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Beds {
    pub region: String,
    pub tier: Tier,
    pub need: f64,
    /// Beds of the facilities open that day.
    pub open: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    pub day: u32,
    pub new_cases: f64,
    pub cumulative_cases: f64,
    pub beds: Vec<Beds>,
    pub isolation_facility: f64,
    pub isolation_home: f64,
    pub contact_tests: f64,
    pub pool_tests: f64,
    pub retests: f64,
    /// contact tests + pool tests + re-tests.
    pub lab_tests: f64,
    pub confirmatory: f64,
}

impl Day {
    /// The beds of `tier` in `region` that day, when the projection has
    /// them.
    pub fn beds_of(&self, region: &str, tier: Tier) -> Option<&Beds> {
        self.beds
            .iter()
            .find(|b| b.region == region && b.tier == tier)
    }
}

/// How one tier of one region fares over the projection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierOutlook {
    pub region: String,
    pub tier: Tier,
    /// Beds of every facility of the region in this tier.
    pub capacity: f64,
    pub peak_need: f64,
    pub peak_day: u32,
    /// The first day need exceeds `capacity`.
    pub runs_out: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activation {
    pub day: u32,
    pub facility: String,
    pub region: String,
    /// "stage" (cumulative cases reached its threshold) or the tier whose
    /// need opened it.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabOutlook {
    pub laboratories: usize,
    /// PCR runs a day, all laboratories.
    pub single_per_day: f64,
    /// People a day when every run is a pool of `pool_size`.
    pub pooled_people_per_day: f64,
    pub confirmatory_per_day: f64,
    /// Expected tests per pool at the scenario's prevalence.
    pub tests_per_pool: f64,
    pub peak_tests: f64,
    pub runs_out: Option<u32>,
    pub confirmatory_runs_out: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    pub days: Vec<Day>,
    pub tiers: Vec<TierOutlook>,
    pub activations: Vec<Activation>,
    pub lab: LabOutlook,
    pub peak_isolation_facility: f64,
    pub peak_isolation_home: f64,
}

/// Expected tests for one pool of `n` at prevalence `p` (0..1): the pool,
/// plus its `n` members again when it is positive.
pub fn tests_per_pool(n: u32, p: f64) -> f64 {
    let n_f = f64::from(n);
    1.0 + n_f * (1.0 - (1.0 - p).powi(n as i32))
}

fn check_share(field: &str, v: f64) -> Result<(), SurgeError> {
    if !v.is_finite() || !(0.0..=100.0).contains(&v) {
        return Err(bad(field, "a share is between 0 and 100 %"));
    }
    Ok(())
}

/// Checks a scenario; every refusal names its field.
pub fn validate(s: &Scenario) -> Result<(), SurgeError> {
    if s.days == 0 || s.days > MAX_DAYS {
        return Err(bad("days", format!("between 1 and {MAX_DAYS}")));
    }
    validate_arrivals(&s.arrivals)?;
    validate_severity(&s.severity)?;
    if s.stay_days.mild_moderate == 0 || s.stay_days.mild_moderate > MAX_DAYS {
        return Err(bad("stay_days.mild_moderate", "between 1 and 366 days"));
    }
    if s.stay_days.severe_critical == 0 || s.stay_days.severe_critical > MAX_DAYS {
        return Err(bad("stay_days.severe_critical", "between 1 and 366 days"));
    }
    validate_regions(&s.regions)?;
    validate_facilities(&s.facilities, &s.regions)?;
    validate_laboratories(&s.laboratories)?;
    validate_isolation(&s.isolation)?;
    validate_testing(&s.testing, &s.laboratories)
}

/// Case counts are finite and not negative; growth stays within -100 and
/// 1000 % a day.
fn validate_arrivals(arrivals: &Arrivals) -> Result<(), SurgeError> {
    match arrivals {
        Arrivals::Even { total, over_days } => {
            if !total.is_finite() || *total < 0.0 {
                return Err(bad("arrivals.even.total", "cannot be negative"));
            }
            if *over_days == 0 {
                return Err(bad("arrivals.even.over_days", "at least one day"));
            }
        }
        Arrivals::Growth {
            initial,
            daily_growth_pct,
            cap_total,
        } => {
            if !initial.is_finite() || *initial < 0.0 {
                return Err(bad("arrivals.growth.initial", "cannot be negative"));
            }
            if !daily_growth_pct.is_finite() || !(-100.0..=1000.0).contains(daily_growth_pct) {
                return Err(bad(
                    "arrivals.growth.daily_growth_pct",
                    "between -100 and 1000 %",
                ));
            }
            if cap_total.is_some_and(|c| !c.is_finite() || c < 0.0) {
                return Err(bad("arrivals.growth.cap_total", "cannot be negative"));
            }
        }
    }
    Ok(())
}

/// Each severity share is a percentage, and they add up to 100 %.
fn validate_severity(m: &SeverityMix) -> Result<(), SurgeError> {
    for (f, v) in [
        ("severity.mild", m.mild),
        ("severity.moderate", m.moderate),
        ("severity.severe", m.severe),
        ("severity.critical", m.critical),
    ] {
        check_share(f, v)?;
    }
    let sum = m.mild + m.moderate + m.severe + m.critical;
    if (sum - 100.0).abs() > 1e-6 {
        return Err(bad(
            "severity",
            format!("the shares add up to {sum} %, not 100 %"),
        ));
    }
    Ok(())
}

/// At least one region, each with a code of its own and a share, the
/// shares adding up to 100 %.
fn validate_regions(regions: &[Region]) -> Result<(), SurgeError> {
    if regions.is_empty() {
        return Err(bad("regions", "at least one region"));
    }
    let mut sum = 0.0;
    for (i, r) in regions.iter().enumerate() {
        check_share(&format!("regions[{i}].share_pct"), r.share_pct)?;
        if r.code.trim().is_empty() {
            return Err(bad(format!("regions[{i}].code"), "required"));
        }
        if regions[..i].iter().any(|o| o.code == r.code) {
            return Err(bad(format!("regions[{i}].code"), "repeated"));
        }
        sum += r.share_pct;
    }
    if (sum - 100.0).abs() > 1e-6 {
        return Err(bad(
            "regions",
            format!("the shares add up to {sum} %, not 100 %"),
        ));
    }
    Ok(())
}

/// Each facility lies in one of the scenario's regions, with no negative
/// bed count or stage.
fn validate_facilities(facilities: &[Facility], regions: &[Region]) -> Result<(), SurgeError> {
    for (i, f) in facilities.iter().enumerate() {
        if !regions.iter().any(|r| r.code == f.region) {
            return Err(bad(
                format!("facilities[{i}].region"),
                format!("no region {:?} in this scenario", f.region),
            ));
        }
        for (name, v) in [
            ("mild_moderate_beds", f.mild_moderate_beds),
            ("severe_critical_beds", f.severe_critical_beds),
            ("activate_at_cases", f.activate_at_cases),
        ] {
            if v < 0 {
                return Err(bad(format!("facilities[{i}].{name}"), "cannot be negative"));
            }
        }
    }
    Ok(())
}

/// At least one laboratory, with no negative capacity.
fn validate_laboratories(laboratories: &[Laboratory]) -> Result<(), SurgeError> {
    if laboratories.is_empty() {
        return Err(bad("laboratories", "at least one laboratory"));
    }
    for (i, l) in laboratories.iter().enumerate() {
        for (name, v) in [
            ("single_per_day", l.single_per_day),
            ("confirmatory_per_day", l.confirmatory_per_day),
        ] {
            if v < 0 {
                return Err(bad(
                    format!("laboratories[{i}].{name}"),
                    "cannot be negative",
                ));
            }
        }
    }
    Ok(())
}

/// Contacts are not negative, the facility share is a percentage, and
/// neither isolation lasts over a year.
fn validate_isolation(iso: &Isolation) -> Result<(), SurgeError> {
    if !iso.contacts_per_case.is_finite() || iso.contacts_per_case < 0.0 {
        return Err(bad("isolation.contacts_per_case", "cannot be negative"));
    }
    check_share("isolation.facility_share_pct", iso.facility_share_pct)?;
    if iso.facility_days > MAX_DAYS || iso.home_days > MAX_DAYS {
        return Err(bad("isolation.facility_days", "at most 366 days"));
    }
    Ok(())
}

/// The pool fits the laboratories' largest, prevalence is a percentage,
/// screening is not negative and contacts are tested within the year.
fn validate_testing(t: &Testing, laboratories: &[Laboratory]) -> Result<(), SurgeError> {
    let max_pool = laboratories.iter().map(|l| l.max_pool).max().unwrap_or(0);
    if t.pool_size == 0 || t.pool_size > max_pool {
        return Err(bad(
            "testing.pool_size",
            format!("between 1 and the laboratories' largest pool ({max_pool})"),
        ));
    }
    check_share("testing.prevalence_pct", t.prevalence_pct)?;
    if !t.screening_per_day.is_finite() || t.screening_per_day < 0.0 {
        return Err(bad("testing.screening_per_day", "cannot be negative"));
    }
    if let Some(i) = t.contact_test_days.iter().position(|&d| d > MAX_DAYS) {
        return Err(bad(
            format!("testing.contact_test_days[{i}]"),
            "at most 366",
        ));
    }
    Ok(())
}

/// New cases on each day of the projection.
pub fn arrivals(a: &Arrivals, days: u32) -> Vec<f64> {
    let mut out = Vec::with_capacity(days as usize);
    match *a {
        Arrivals::Even { total, over_days } => {
            for d in 0..days {
                out.push(if d < over_days {
                    total / f64::from(over_days)
                } else {
                    0.0
                });
            }
        }
        Arrivals::Growth {
            initial,
            daily_growth_pct,
            cap_total,
        } => {
            let mut today = initial;
            let mut cumulative = 0.0;
            for _ in 0..days {
                let mut n = today;
                if let Some(cap) = cap_total {
                    n = n.min((cap - cumulative).max(0.0));
                }
                out.push(n);
                cumulative += n;
                today *= 1.0 + daily_growth_pct / 100.0;
            }
        }
    }
    out
}

/// Sum of `series[d - k]` for k in `0..len` (people who arrived in the
/// last `len` days and are still there on day d).
fn window(series: &[f64], d: usize, from: usize, len: usize) -> f64 {
    (from..from + len)
        .filter(|&k| k <= d)
        .map(|k| series[d - k])
        .sum()
}

/// Projects a scenario day by day.
pub fn project(s: &Scenario) -> Result<Projection, SurgeError> {
    validate(s)?;
    let n_days = s.days as usize;
    let new = arrivals(&s.arrivals, s.days);
    let units = planned_units(s);
    let mut outlook = tier_outlooks(s, &units);
    let mut openings = Openings::new(s);
    let flows = ContactFlows::of(s, &new);
    let mut lab = lab_outlook(s);
    let mut days = Vec::with_capacity(n_days);
    let mut cumulative = 0.0;
    for d in 0..n_days {
        cumulative += new[d];
        openings.open_stages(d, cumulative);
        let mut beds = Vec::new();
        for (unit, o) in units.iter().zip(&mut outlook) {
            let (code, share, tier) = (&unit.0, unit.1, unit.2);
            let need = window(&new, d, 0, stay_of(s, tier)) * tier_share(s, tier) * share;
            openings.open_for_need(d, code, tier, need);
            if need > o.peak_need + EPS {
                o.peak_need = need;
                o.peak_day = d as u32;
            }
            if o.runs_out.is_none() && need > o.capacity + EPS {
                o.runs_out = Some(d as u32);
            }
            beds.push(Beds {
                region: code.clone(),
                tier,
                need,
                open: 0.0,
            });
        }
        // Open beds as they stand at the end of the day's openings.
        for b in &mut beds {
            b.open = openings.open_beds(&b.region, b.tier);
        }
        days.push(flows.day(s, &mut lab, d, new[d], cumulative, beds));
    }
    let peak = |f: fn(&Day) -> f64| days.iter().map(f).fold(0.0, f64::max);
    Ok(Projection {
        peak_isolation_facility: peak(|d| d.isolation_facility),
        peak_isolation_home: peak(|d| d.isolation_home),
        days,
        tiers: outlook,
        activations: openings.activations,
        lab,
    })
}

/// The share of cases that need a bed of tier `t`.
fn tier_share(s: &Scenario, t: Tier) -> f64 {
    let m = &s.severity;
    match t {
        Tier::MildModerate => (m.mild + m.moderate) / 100.0,
        Tier::SevereCritical => (m.severe + m.critical) / 100.0,
    }
}

/// How many days a case of tier `t` stays.
fn stay_of(s: &Scenario, t: Tier) -> usize {
    match t {
        Tier::MildModerate => s.stay_days.mild_moderate as usize,
        Tier::SevereCritical => s.stay_days.severe_critical as usize,
    }
}

/// Whether facility `f` takes the cases of region `code` (`*`: the
/// province as one).
fn serves(f: &Facility, code: &str) -> bool {
    code == "*" || f.region == code
}

/// The units planned: (region code or `*` for the province, share, tier);
/// each tier by region, but the severe tier province-wide when the
/// scenario says so.
fn planned_units(s: &Scenario) -> Vec<(String, f64, Tier)> {
    let mut units: Vec<(String, f64, Tier)> = Vec::new();
    for t in Tier::ALL {
        if t == Tier::SevereCritical && s.severe_critical_province_wide {
            units.push(("*".into(), 1.0, t));
        } else {
            for r in &s.regions {
                units.push((r.code.clone(), r.share_pct / 100.0, t));
            }
        }
    }
    units
}

/// Each unit's outlook before the first day: its capacity, all of its
/// facilities' beds of the tier.
fn tier_outlooks(s: &Scenario, units: &[(String, f64, Tier)]) -> Vec<TierOutlook> {
    units
        .iter()
        .map(|(code, _, t)| TierOutlook {
            region: code.clone(),
            tier: *t,
            capacity: s
                .facilities
                .iter()
                .filter(|f| serves(f, code))
                .map(|f| t.beds(f))
                .sum(),
            peak_need: 0.0,
            peak_day: 0,
            runs_out: None,
        })
        .collect()
}

/// The facilities as they open: in stage order (ties in the scenario's
/// order), which are open, and each opening.
struct Openings<'a> {
    s: &'a Scenario,
    order: Vec<usize>,
    open: Vec<bool>,
    activations: Vec<Activation>,
}

impl<'a> Openings<'a> {
    fn new(s: &'a Scenario) -> Openings<'a> {
        let mut order: Vec<usize> = (0..s.facilities.len()).collect();
        order.sort_by_key(|&i| s.facilities[i].activate_at_cases);
        Openings {
            s,
            order,
            open: vec![false; s.facilities.len()],
            activations: Vec::new(),
        }
    }

    fn activate(&mut self, i: usize, d: usize, reason: &str) {
        let f = &self.s.facilities[i];
        self.open[i] = true;
        self.activations.push(Activation {
            day: d as u32,
            facility: f.name.clone(),
            region: f.region.clone(),
            reason: reason.into(),
        });
    }

    /// Opens the facilities whose stage the cumulative cases reached.
    fn open_stages(&mut self, d: usize, cumulative: f64) {
        for k in 0..self.order.len() {
            let i = self.order[k];
            let f = &self.s.facilities[i];
            if !self.open[i] && (f.activate_at_cases as f64) <= cumulative + EPS {
                self.activate(i, d, "stage");
            }
        }
    }

    /// The open beds of `tier` for region `code`.
    fn open_beds(&self, code: &str, tier: Tier) -> f64 {
        self.s
            .facilities
            .iter()
            .zip(&self.open)
            .filter(|(f, o)| **o && serves(f, code))
            .map(|(f, _)| tier.beds(f))
            .sum()
    }

    /// Need opens the unit's next facilities with beds of the tier, until
    /// the open beds meet it.
    fn open_for_need(&mut self, d: usize, code: &str, tier: Tier, need: f64) {
        for k in 0..self.order.len() {
            if self.open_beds(code, tier) + EPS >= need {
                break;
            }
            let i = self.order[k];
            let f = &self.s.facilities[i];
            if !self.open[i] && serves(f, code) && tier.beds(f) > 0.0 {
                self.activate(i, d, tier.as_str());
            }
        }
    }
}

/// The laboratories' capacity and pooling, before the first day.
fn lab_outlook(s: &Scenario) -> LabOutlook {
    let t = &s.testing;
    let single_capacity: f64 = s.laboratories.iter().map(|l| l.single_per_day as f64).sum();
    let confirm_capacity: f64 = s
        .laboratories
        .iter()
        .map(|l| l.confirmatory_per_day as f64)
        .sum();
    LabOutlook {
        laboratories: s.laboratories.len(),
        single_per_day: single_capacity,
        pooled_people_per_day: single_capacity * f64::from(t.pool_size),
        confirmatory_per_day: confirm_capacity,
        tests_per_pool: tests_per_pool(t.pool_size, t.prevalence_pct / 100.0),
        peak_tests: 0.0,
        runs_out: None,
        confirmatory_runs_out: None,
    }
}

/// The contacts of each day's new cases: all of them, those isolated at
/// a facility, and those isolated at home only.
struct ContactFlows {
    contacts: Vec<f64>,
    at_facility: Vec<f64>,
    at_home_only: Vec<f64>,
}

impl ContactFlows {
    fn of(s: &Scenario, new: &[f64]) -> ContactFlows {
        let iso = &s.isolation;
        let contacts: Vec<f64> = new.iter().map(|c| c * iso.contacts_per_case).collect();
        let at_facility: Vec<f64> = contacts
            .iter()
            .map(|c| c * iso.facility_share_pct / 100.0)
            .collect();
        let at_home_only: Vec<f64> = contacts
            .iter()
            .zip(&at_facility)
            .map(|(c, f)| c - f)
            .collect();
        ContactFlows {
            contacts,
            at_facility,
            at_home_only,
        }
    }

    /// Day `d`'s figures: isolation places and the laboratories' load
    /// (recorded in `lab`'s peak and the days capacity runs out).
    fn day(
        &self,
        s: &Scenario,
        lab: &mut LabOutlook,
        d: usize,
        new: f64,
        cumulative: f64,
        beds: Vec<Beds>,
    ) -> Day {
        let (iso, t) = (&s.isolation, &s.testing);
        let fd = iso.facility_days as usize;
        let hd = iso.home_days as usize;
        let isolation_facility = window(&self.at_facility, d, 0, fd);
        let isolation_home =
            window(&self.at_facility, d, fd, hd) + window(&self.at_home_only, d, 0, fd + hd);
        let contact_tests: f64 = t
            .contact_test_days
            .iter()
            .filter(|&&k| k as usize <= d)
            .map(|&k| self.contacts[d - k as usize])
            .sum();
        let pools = t.screening_per_day / f64::from(t.pool_size);
        let retests = pools * (lab.tests_per_pool - 1.0);
        let lab_tests = contact_tests + pools + retests;
        if lab_tests > lab.peak_tests + EPS {
            lab.peak_tests = lab_tests;
        }
        if lab.runs_out.is_none() && lab_tests > lab.single_per_day + EPS {
            lab.runs_out = Some(d as u32);
        }
        if lab.confirmatory_runs_out.is_none() && new > lab.confirmatory_per_day + EPS {
            lab.confirmatory_runs_out = Some(d as u32);
        }
        Day {
            day: d as u32,
            new_cases: new,
            cumulative_cases: cumulative,
            beds,
            isolation_facility,
            isolation_home,
            contact_tests,
            pool_tests: pools,
            retests,
            lab_tests,
            confirmatory: new,
        }
    }
}

/// The scenarios shipped with vaxgrid: article 003's plan for 1,000, 5,000
/// and 10,000 cases in Quảng Ninh.
pub fn shipped(cases: u32) -> Option<Scenario> {
    let text = match cases {
        1000 => include_str!("scenarios/quang-ninh-1000.json"),
        5000 => include_str!("scenarios/quang-ninh-5000.json"),
        10000 => include_str!("scenarios/quang-ninh-10000.json"),
        _ => return None,
    };
    Some(serde_json::from_str(text).expect("shipped scenarios parse"))
}

/// The case counts of the shipped scenarios.
pub const SHIPPED: [u32; 3] = [1000, 5000, 10000];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_days_beds_are_found_by_region_and_tier() {
        let beds = |region: &str, tier, need| Beds {
            region: region.into(),
            tier,
            need,
            open: 0.0,
        };
        let day = Day {
            day: 0,
            new_cases: 0.0,
            cumulative_cases: 0.0,
            beds: vec![
                beds("east", Tier::MildModerate, 1.0),
                beds("east", Tier::SevereCritical, 2.0),
                beds("west", Tier::MildModerate, 3.0),
            ],
            isolation_facility: 0.0,
            isolation_home: 0.0,
            contact_tests: 0.0,
            pool_tests: 0.0,
            retests: 0.0,
            lab_tests: 0.0,
            confirmatory: 0.0,
        };
        let need = |region, tier| day.beds_of(region, tier).map(|b| b.need);
        assert_eq!(need("east", Tier::SevereCritical), Some(2.0));
        assert_eq!(need("west", Tier::MildModerate), Some(3.0));
        assert_eq!(need("west", Tier::SevereCritical), None);
        assert_eq!(need("centre", Tier::MildModerate), None);
    }

    /// A small scenario worked by hand in the test below.
    fn small() -> Scenario {
        Scenario {
            name: "small".into(),
            source: String::new(),
            days: 6,
            arrivals: Arrivals::Even {
                total: 40.0,
                over_days: 4,
            },
            severity: SeverityMix {
                mild: 50.0,
                moderate: 30.0,
                severe: 15.0,
                critical: 5.0,
            },
            stay_days: StayDays {
                mild_moderate: 3,
                severe_critical: 5,
            },
            severe_critical_province_wide: false,
            regions: vec![
                Region {
                    code: "A".into(),
                    name: "A".into(),
                    share_pct: 50.0,
                },
                Region {
                    code: "B".into(),
                    name: "B".into(),
                    share_pct: 50.0,
                },
            ],
            facilities: vec![
                fac("a1", "A", 10, 0, 0),
                fac("a2", "A", 5, 3, 25),
                fac("b1", "B", 12, 4, 0),
            ],
            treatment_units: 3,
            laboratories: vec![Laboratory {
                name: "lab".into(),
                single_per_day: 250,
                confirmatory_per_day: 8,
                max_pool: 10,
                source: String::new(),
            }],
            isolation: Isolation {
                contacts_per_case: 3.0,
                facility_share_pct: 100.0,
                facility_days: 2,
                home_days: 2,
            },
            testing: Testing {
                contact_test_days: vec![0, 2],
                screening_per_day: 1000.0,
                pool_size: 10,
                prevalence_pct: 1.0,
            },
            teams: Teams::default(),
        }
    }

    fn fac(name: &str, region: &str, mm: i64, sc: i64, at: i64) -> Facility {
        Facility {
            name: name.into(),
            region: region.into(),
            mild_moderate_beds: mm,
            severe_critical_beds: sc,
            activate_at_cases: at,
            source: String::new(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    fn need(p: &Projection, region: &str, tier: Tier) -> Vec<f64> {
        p.days
            .iter()
            .map(|d| {
                d.beds
                    .iter()
                    .find(|b| b.region == region && b.tier == tier)
                    .unwrap()
                    .need
            })
            .collect()
    }

    #[test]
    fn the_small_scenario_matches_the_hand_calculation() {
        let p = project(&small()).unwrap();
        // 10 cases a day on days 0-3: 8 mild-moderate (80 %), 2
        // severe-critical (20 %), half in each region.
        // Mild-moderate stay 3 days: 8, 16, 24, 24, 16, 8 in all; half each.
        assert_eq!(
            need(&p, "A", Tier::MildModerate),
            [4.0, 8.0, 12.0, 12.0, 8.0, 4.0]
        );
        // Severe-critical stay 5 days: 2, 4, 6, 8, 8, 6; half each.
        assert_eq!(
            need(&p, "B", Tier::SevereCritical),
            [1.0, 2.0, 3.0, 4.0, 4.0, 3.0]
        );
        // A has no severe-critical bed open on day 0 (a2 opens at 25
        // cases), so its need of 1 opens a2 at once; a2's 3 beds are all
        // A has, so A's severe-critical tier runs out on day 3 (need 4).
        assert_eq!(p.activations.len(), 3);
        assert_eq!(
            (
                p.activations[2].day,
                p.activations[2].facility.as_str(),
                p.activations[2].reason.as_str()
            ),
            (0, "a2", "severe_critical")
        );
        let outlook = |r: &str, t: Tier| {
            p.tiers
                .iter()
                .find(|o| o.region == r && o.tier == t)
                .unwrap()
                .clone()
        };
        assert_eq!(outlook("A", Tier::SevereCritical).runs_out, Some(3));
        assert_eq!(outlook("A", Tier::SevereCritical).capacity, 3.0);
        assert_eq!(outlook("A", Tier::MildModerate).runs_out, None);
        assert_eq!(outlook("A", Tier::MildModerate).peak_need, 12.0);
        assert_eq!(outlook("A", Tier::MildModerate).peak_day, 2);
        // B: 12 mild-moderate and 4 severe-critical beds, exactly enough.
        assert_eq!(outlook("B", Tier::MildModerate).runs_out, None);
        assert_eq!(outlook("B", Tier::SevereCritical).runs_out, None);
        assert_eq!(p.days[0].beds[2].open, 3.0);

        // 30 contacts a day on days 0-3, 2 days at a facility then 2 at
        // home: those traced on day k are at home on days k+2 and k+3.
        let fac: Vec<f64> = p.days.iter().map(|d| d.isolation_facility).collect();
        let home: Vec<f64> = p.days.iter().map(|d| d.isolation_home).collect();
        assert_eq!(fac, [30.0, 60.0, 60.0, 60.0, 30.0, 0.0]);
        assert_eq!(home, [0.0, 0.0, 30.0, 60.0, 60.0, 60.0]);

        // Contacts tested on days 0 and 2 after tracing.
        let singles: Vec<f64> = p.days.iter().map(|d| d.contact_tests).collect();
        assert_eq!(singles, [30.0, 30.0, 60.0, 60.0, 30.0, 30.0]);
        // 1,000 screened a day in pools of 10 at 1 %: 100 pools; a pool
        // is positive with probability 1 - 0.99^10 = 0.0956179, so
        // 100 * 10 * 0.0956179 = 95.6179 re-tests.
        assert!(close(
            p.lab.tests_per_pool,
            1.0 + 10.0 * (1.0 - 0.99f64.powi(10))
        ));
        assert!(close(p.days[0].pool_tests, 100.0));
        assert!(close(p.days[0].retests, 95.617_925_0));
        assert!(close(p.days[0].lab_tests, 30.0 + 100.0 + 95.617_925_0));
        // 250 runs a day: 225.6 fits, 255.6 on day 2 does not.
        assert_eq!(p.lab.runs_out, Some(2));
        // 10 confirmatory tests a day against 8.
        assert_eq!(p.lab.confirmatory_runs_out, Some(0));
        assert_eq!(p.lab.pooled_people_per_day, 2500.0);
    }

    #[test]
    fn province_wide_intensive_care_is_one_unit() {
        let mut s = small();
        s.severe_critical_province_wide = true;
        let p = project(&s).unwrap();
        // 2, 4, 6, 8, 8, 6 severe-critical against a2's 3 and b1's 4 beds.
        assert_eq!(
            need(&p, "*", Tier::SevereCritical),
            [2.0, 4.0, 6.0, 8.0, 8.0, 6.0]
        );
        let sc = p
            .tiers
            .iter()
            .find(|o| o.tier == Tier::SevereCritical)
            .unwrap();
        assert_eq!(
            (sc.region.as_str(), sc.capacity, sc.runs_out),
            ("*", 7.0, Some(3))
        );
        // a1 and b1 open at stage 0 and hold 4 of the 2 needed; a2 waits
        // for its stage (25 cases, day 2) until the need of 6 on day 2.
        let a2 = p.activations.iter().find(|a| a.facility == "a2").unwrap();
        assert_eq!(a2.day, 2);
    }

    #[test]
    fn growth_is_capped_at_the_total() {
        let a = Arrivals::Growth {
            initial: 10.0,
            daily_growth_pct: 100.0,
            cap_total: Some(50.0),
        };
        assert_eq!(arrivals(&a, 5), [10.0, 20.0, 20.0, 0.0, 0.0]);
    }

    #[test]
    fn bad_scenarios_name_their_field() {
        type Change = fn(&mut Scenario);
        let cases: [(Change, &str); 10] = [
            (|s| s.severity.mild = 40.0, "severity"),
            (|s| s.regions[0].share_pct = 60.0, "regions"),
            (
                |s| s.facilities[1].severe_critical_beds = -1,
                "facilities[1].severe_critical_beds",
            ),
            (
                |s| s.laboratories[0].single_per_day = -5,
                "laboratories[0].single_per_day",
            ),
            (|s| s.testing.pool_size = 0, "testing.pool_size"),
            (|s| s.testing.pool_size = 11, "testing.pool_size"),
            (
                |s| s.testing.prevalence_pct = 101.0,
                "testing.prevalence_pct",
            ),
            (
                |s| s.facilities[0].region = "Z".into(),
                "facilities[0].region",
            ),
            (|s| s.days = 0, "days"),
            (
                |s| s.stay_days.severe_critical = 0,
                "stay_days.severe_critical",
            ),
        ];
        for (change, field) in cases {
            let mut s = small();
            change(&mut s);
            assert_eq!(project(&s).unwrap_err().field, field);
        }
    }

    #[test]
    fn region_arrival_and_isolation_refusals_name_their_field() {
        let region = |code: &str, share_pct: f64| Region {
            code: code.into(),
            name: code.into(),
            share_pct,
        };
        assert_eq!(
            validate_regions(&[region("A", 50.0), region("A", 50.0)])
                .unwrap_err()
                .field,
            "regions[1].code"
        );
        assert_eq!(
            validate_regions(&[region(" ", 100.0)]).unwrap_err().field,
            "regions[0].code"
        );
        assert!(validate_regions(&[region("A", 40.0), region("B", 60.0)]).is_ok());
        let growth = Arrivals::Growth {
            initial: 1.0,
            daily_growth_pct: -101.0,
            cap_total: None,
        };
        assert_eq!(
            validate_arrivals(&growth).unwrap_err().field,
            "arrivals.growth.daily_growth_pct"
        );
        let even = Arrivals::Even {
            total: 10.0,
            over_days: 0,
        };
        assert_eq!(
            validate_arrivals(&even).unwrap_err().field,
            "arrivals.even.over_days"
        );
        let mut s = small();
        s.isolation.home_days = MAX_DAYS + 1;
        assert_eq!(
            validate_isolation(&s.isolation).unwrap_err().field,
            "isolation.facility_days"
        );
    }

    #[test]
    fn shipped_scenarios_carry_the_articles_figures() {
        for cases in SHIPPED {
            let s = shipped(cases).unwrap();
            let p = project(&s).unwrap();
            let total: f64 = p.days.iter().map(|d| d.new_cases).sum();
            assert!(close(total, f64::from(cases)), "{} cases", total);
            // Article 003: 8 laboratories, 6,186 single samples a day
            // (61,860 pooled by 10), 550 confirmatory; 24 treatment units;
            // 16 rapid-response and 26 ambulance teams.
            assert_eq!(p.lab.laboratories, 8);
            assert_eq!(p.lab.single_per_day, 6186.0);
            assert_eq!(p.lab.pooled_people_per_day, 61_860.0);
            assert_eq!(p.lab.confirmatory_per_day, 550.0);
            assert_eq!(s.treatment_units, 24);
            assert_eq!((s.teams.rapid_response, s.teams.ambulance), (16, 26));
            // Hospital no. 2 (the provincial lung hospital): 94 severe and
            // critical beds.
            let h2 = s
                .facilities
                .iter()
                .find(|f| f.name.contains("No. 2"))
                .unwrap();
            assert_eq!(h2.severe_critical_beds, 94);
            let expected_facilities = match cases {
                1000 => 4,
                5000 => 18,
                _ => 24,
            };
            assert_eq!(s.facilities.len(), expected_facilities);
            println!(
                "{}: {} facilities, {} laboratories ({} single/day, {} pooled by {}, {} confirmatory), {} rapid-response and {} ambulance teams",
                s.name,
                s.facilities.len(),
                p.lab.laboratories,
                p.lab.single_per_day,
                p.lab.pooled_people_per_day,
                s.testing.pool_size,
                p.lab.confirmatory_per_day,
                s.teams.rapid_response,
                s.teams.ambulance
            );
            for o in &p.tiers {
                println!(
                    "  {} {}: {} beds, peak need {:.0} on day {}, runs out {}",
                    o.region,
                    o.tier.as_str(),
                    o.capacity,
                    o.peak_need,
                    o.peak_day,
                    o.runs_out
                        .map_or("never".to_string(), |d| format!("on day {d}"))
                );
            }
            println!(
                "  laboratories: peak {:.0} tests/day, run out {}; confirmatory run out {}",
                p.lab.peak_tests,
                p.lab
                    .runs_out
                    .map_or("never".to_string(), |d| format!("on day {d}")),
                p.lab
                    .confirmatory_runs_out
                    .map_or("never".to_string(), |d| format!("on day {d}"))
            );
        }
    }
}
