//! Treatment facilities and their beds, as operated (the surge planner
//! plans them in advance, `surge`): a facility's beds per tier, the stage
//! (cumulative cases) at which it opens, occupancy by day from admissions
//! and discharges, and which facility to activate next.
//!
//! A stay occupies its bed from the day of admission up to the day before
//! discharge (a patient discharged on day d frees the bed for an admission
//! that day), as the planner counts a stay of n days: days d .. d + n − 1.

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, Duration};

use super::surge::Tier;

/// Occupancy above this share of a tier's open beds calls for the next
/// facility: opening one takes a day or two (staff, oxygen, beds made),
/// so the call comes before the last bed is taken.
pub const ACTIVATE_AT_PCT: i64 = 90;

/// A facility's figures as entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedFigures {
    pub mild_moderate_beds: i64,
    pub severe_critical_beds: i64,
    /// Intensive-care beds, counted within the severe-critical beds.
    pub icu_beds: i64,
    /// Cumulative confirmed cases in the province at which it opens.
    pub activate_at_cases: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct BedsError {
    pub field: &'static str,
    pub reason: String,
}

/// At most this many beds of a tier in one facility.
pub const MAX_BEDS: i64 = 100_000;

/// An admission may be entered at most this many days after the fact.
pub const MAX_BACKDATE_DAYS: i64 = 366;

/// The day of an admission entered `today`: not a day to come, and at
/// most `MAX_BACKDATE_DAYS` ago.
pub fn check_admission_day(admitted_on: Date, today: Date) -> Result<(), BedsError> {
    if admitted_on > today {
        return Err(BedsError {
            field: "admitted_on",
            reason: "an admission cannot be recorded for a day to come".into(),
        });
    }
    if (today - admitted_on).whole_days() > MAX_BACKDATE_DAYS {
        return Err(BedsError {
            field: "admitted_on",
            reason: format!("an admission is entered within {MAX_BACKDATE_DAYS} days"),
        });
    }
    Ok(())
}

/// Checks a facility's figures; a refusal names the field.
pub fn validate(f: &BedFigures) -> Result<(), BedsError> {
    for (field, v) in [
        ("mild_moderate_beds", f.mild_moderate_beds),
        ("severe_critical_beds", f.severe_critical_beds),
        ("icu_beds", f.icu_beds),
        ("activate_at_cases", f.activate_at_cases),
    ] {
        if v < 0 {
            return Err(BedsError {
                field,
                reason: format!("{field} cannot be negative ({v})"),
            });
        }
        if field != "activate_at_cases" && v > MAX_BEDS {
            return Err(BedsError {
                field,
                reason: format!("{field} is at most {MAX_BEDS}"),
            });
        }
    }
    if f.icu_beds > f.severe_critical_beds {
        return Err(BedsError {
            field: "icu_beds",
            reason: format!(
                "the {} intensive-care beds are counted within the {} severe-critical beds",
                f.icu_beds, f.severe_critical_beds
            ),
        });
    }
    if f.mild_moderate_beds + f.severe_critical_beds == 0 {
        return Err(BedsError {
            field: "mild_moderate_beds",
            reason: "a treatment facility has beds of at least one tier".into(),
        });
    }
    Ok(())
}

/// The tier a case of this severity is treated in.
pub fn tier_for_severity(severity: &str) -> Option<Tier> {
    match severity {
        "mild" | "moderate" => Some(Tier::MildModerate),
        "severe" | "critical" => Some(Tier::SevereCritical),
        _ => None,
    }
}

pub fn beds_of(f: &BedFigures, tier: Tier) -> i64 {
    match tier {
        Tier::MildModerate => f.mild_moderate_beds,
        Tier::SevereCritical => f.severe_critical_beds,
    }
}

/// One stay: admitted on the first day, discharged on the second (none:
/// still there).
pub type Stay = (Date, Option<Date>);

/// Whether a stay occupies its bed on `day`.
pub fn occupies(stay: &Stay, day: Date) -> bool {
    stay.0 <= day && stay.1.is_none_or(|out| day < out)
}

/// Beds occupied on each day of `from..=to` (empty when `to < from`).
/// One pass over the stays and one over the days, whatever their number.
pub fn occupancy(stays: &[Stay], from: Date, to: Date) -> Vec<i64> {
    if to < from {
        return Vec::new();
    }
    let n = (to - from).whole_days() as usize + 1;
    // Changes at each day's start: +1 on admission, -1 on discharge.
    let mut delta = vec![0i64; n + 1];
    let mut before = 0i64;
    for &(admitted, discharged) in stays {
        let end = discharged.map_or(n as i64, |d| (d - from).whole_days());
        let start = (admitted - from).whole_days();
        if end <= 0 || start >= n as i64 || end <= start {
            continue;
        }
        if start < 0 {
            before += 1;
        } else {
            delta[start as usize] += 1;
        }
        if end < n as i64 {
            delta[end as usize] -= 1;
        }
    }
    let mut out = Vec::with_capacity(n);
    let mut now = before;
    for d in delta.iter().take(n) {
        now += d;
        out.push(now);
    }
    out
}

/// The days `from..=to`.
pub fn days(from: Date, to: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        out.push(d);
        d += Duration::days(1);
    }
    out
}

/// A facility as the recommendation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacilityState {
    pub code: String,
    pub region: String,
    pub beds: BedFigures,
    pub active: bool,
}

/// A facility to activate, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub facility: String,
    pub region: String,
    /// `stage` (the province's cumulative cases reached its threshold) or
    /// the tier whose occupancy calls for it.
    pub reason: String,
    pub activate_at_cases: i64,
}

/// A region's tier today: beds of its active facilities, occupied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierLoad {
    pub region: String,
    pub tier: Tier,
    pub open_beds: i64,
    pub occupied: i64,
    /// Beds of every facility of the region, open or not.
    pub all_beds: i64,
}

/// Which facilities to activate now: those whose stage the province's
/// `cumulative_cases` reached, then, for each region and tier whose
/// occupancy is at or above `ACTIVATE_AT_PCT` % of its open beds (after
/// those stage openings), the region's next closed facility with beds of
/// that tier, in stage order (ties by code) — as the surge planner opens
/// them. `occupied` is keyed by (region, tier); facilities are never
/// recommended twice.
pub fn recommend(
    facilities: &[FacilityState],
    cumulative_cases: i64,
    occupied: &BTreeMap<(String, Tier), i64>,
) -> (Vec<Recommendation>, Vec<TierLoad>) {
    let order = stage_order(facilities);
    let mut plan = Openings::new(facilities);
    plan.open_stages(&order, cumulative_cases);
    let mut regions: Vec<&str> = facilities.iter().map(|f| f.region.as_str()).collect();
    regions.extend(occupied.keys().map(|(r, _)| r.as_str()));
    regions.sort();
    regions.dedup();
    let mut loads = Vec::new();
    for region in regions {
        for tier in Tier::ALL {
            let busy = occupied
                .get(&(region.to_string(), tier))
                .copied()
                .unwrap_or(0);
            plan.open_for_load(&order, region, tier, busy);
            loads.push(tier_load(facilities, region, tier, busy));
        }
    }
    (plan.out, loads)
}

/// Indexes of `facilities` in stage order, ties by code.
fn stage_order(facilities: &[FacilityState]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..facilities.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&facilities[a], &facilities[b]);
        (fa.beds.activate_at_cases, &fa.code).cmp(&(fb.beds.activate_at_cases, &fb.code))
    });
    order
}

/// The facilities opened so far by a recommendation.
struct Openings<'f> {
    facilities: &'f [FacilityState],
    /// Per facility: active, or recommended.
    open: Vec<bool>,
    out: Vec<Recommendation>,
}

impl<'f> Openings<'f> {
    fn new(facilities: &'f [FacilityState]) -> Self {
        Openings {
            facilities,
            open: facilities.iter().map(|f| f.active).collect(),
            out: Vec::new(),
        }
    }

    /// Opens the closed facilities whose stage `cumulative_cases` reached,
    /// taken in `order`.
    fn open_stages(&mut self, order: &[usize], cumulative_cases: i64) {
        for &i in order {
            if !self.open[i] && self.facilities[i].beds.activate_at_cases <= cumulative_cases {
                self.open(i, "stage");
            }
        }
    }

    /// Opens the region's closed facilities with beds of `tier`, taken in
    /// `order`, until `busy` is under the threshold of the open beds (or the
    /// region has no more).
    fn open_for_load(&mut self, order: &[usize], region: &str, tier: Tier, busy: i64) {
        for &i in order {
            let beds = self.open_beds(region, tier);
            if busy == 0 || busy * 100 < beds * ACTIVATE_AT_PCT {
                break;
            }
            let f = &self.facilities[i];
            if !self.open[i] && f.region == region && beds_of(&f.beds, tier) > 0 {
                self.open(i, tier.as_str());
            }
        }
    }

    /// Beds of `tier` in the region's open (or opened) facilities.
    fn open_beds(&self, region: &str, tier: Tier) -> i64 {
        self.facilities
            .iter()
            .zip(&self.open)
            .filter(|(f, o)| **o && f.region == region)
            .map(|(f, _)| beds_of(&f.beds, tier))
            .sum()
    }

    /// Opens facility `i` and recommends it, for `reason`.
    fn open(&mut self, i: usize, reason: &str) {
        let f = &self.facilities[i];
        self.open[i] = true;
        self.out.push(Recommendation {
            facility: f.code.clone(),
            region: f.region.clone(),
            reason: reason.into(),
            activate_at_cases: f.beds.activate_at_cases,
        });
    }
}

/// A region's tier as it is today: the beds of its active facilities (not
/// those just recommended) and of all of them.
fn tier_load(facilities: &[FacilityState], region: &str, tier: Tier, busy: i64) -> TierLoad {
    let all_beds = facilities
        .iter()
        .filter(|f| f.region == region)
        .map(|f| beds_of(&f.beds, tier))
        .sum();
    let now_open: i64 = facilities
        .iter()
        .filter(|f| f.active && f.region == region)
        .map(|f| beds_of(&f.beds, tier))
        .sum();
    TierLoad {
        region: region.to_string(),
        tier,
        open_beds: now_open,
        occupied: busy,
        all_beds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn an_admission_day_is_not_to_come_nor_older_than_the_backdating_limit() {
        let today = date!(2026 - 12 - 01);
        assert_eq!(check_admission_day(today, today), Ok(()));
        let oldest = today - Duration::days(MAX_BACKDATE_DAYS);
        assert_eq!(check_admission_day(oldest, today), Ok(()));
        let refused = |day| check_admission_day(day, today).unwrap_err();
        let tomorrow = refused(today + Duration::days(1));
        assert_eq!(tomorrow.field, "admitted_on");
        assert_eq!(
            tomorrow.reason,
            "an admission cannot be recorded for a day to come"
        );
        let too_old = refused(oldest - Duration::days(1));
        assert_eq!(too_old.field, "admitted_on");
        assert_eq!(too_old.reason, "an admission is entered within 366 days");
    }

    fn fac(code: &str, region: &str, mm: i64, sc: i64, at: i64, active: bool) -> FacilityState {
        FacilityState {
            code: code.into(),
            region: region.into(),
            beds: BedFigures {
                mild_moderate_beds: mm,
                severe_critical_beds: sc,
                icu_beds: 0,
                activate_at_cases: at,
            },
            active,
        }
    }

    #[test]
    fn occupancy_counts_a_stay_up_to_the_day_before_discharge() {
        let d1 = date!(2026 - 12 - 01);
        let stays = [
            (date!(2026 - 11 - 28), Some(date!(2026 - 12 - 02))),
            (d1, None),
            (date!(2026 - 12 - 02), Some(date!(2026 - 12 - 03))),
            (date!(2026 - 12 - 05), None),
            // Gone before the window.
            (date!(2026 - 11 - 20), Some(d1)),
        ];
        assert_eq!(
            occupancy(&stays, d1, date!(2026 - 12 - 05)),
            [2, 2, 1, 1, 2]
        );
        // The same by hand, day by day.
        for (i, d) in days(d1, date!(2026 - 12 - 05)).into_iter().enumerate() {
            let n = stays.iter().filter(|s| occupies(s, d)).count() as i64;
            assert_eq!(occupancy(&stays, d1, date!(2026 - 12 - 05))[i], n);
        }
        assert!(occupancy(&stays, d1, date!(2026 - 11 - 30)).is_empty());
    }

    #[test]
    fn figures_are_refused_naming_the_field() {
        let ok = BedFigures {
            mild_moderate_beds: 100,
            severe_critical_beds: 20,
            icu_beds: 10,
            activate_at_cases: 0,
        };
        assert!(validate(&ok).is_ok());
        for (change, field) in [
            (
                (|f: &mut BedFigures| f.mild_moderate_beds = -1) as fn(&mut BedFigures),
                "mild_moderate_beds",
            ),
            (|f| f.severe_critical_beds = -5, "severe_critical_beds"),
            (|f| f.icu_beds = 21, "icu_beds"),
            (|f| f.activate_at_cases = -1, "activate_at_cases"),
            (
                |f| {
                    f.mild_moderate_beds = 0;
                    f.severe_critical_beds = 0;
                    f.icu_beds = 0
                },
                "mild_moderate_beds",
            ),
        ] {
            let mut f = ok.clone();
            change(&mut f);
            assert_eq!(validate(&f).unwrap_err().field, field);
        }
    }

    #[test]
    fn stages_then_occupancy_call_the_next_facility() {
        let fs = [
            fac("e1", "east", 100, 10, 0, true),
            fac("e2", "east", 50, 0, 200, false),
            fac("e3", "east", 80, 0, 500, false),
            fac("c1", "centre", 200, 94, 0, true),
            fac("c2", "centre", 300, 0, 1000, false),
        ];
        // 250 cases: e2's stage (200) is reached; east's mild-moderate
        // holds 140 of 150 open beds (93 % ≥ 90 %): e3 next.
        let occupied: BTreeMap<(String, Tier), i64> = [
            (("east".to_string(), Tier::MildModerate), 140),
            (("centre".to_string(), Tier::MildModerate), 100),
            (("centre".to_string(), Tier::SevereCritical), 90),
        ]
        .into_iter()
        .collect();
        let (recs, loads) = recommend(&fs, 250, &occupied);
        let got: Vec<(&str, &str)> = recs
            .iter()
            .map(|r| (r.facility.as_str(), r.reason.as_str()))
            .collect();
        // Centre's severe-critical is at 90 of 94 (95 %) but no closed
        // centre facility has severe-critical beds: nothing to open.
        assert_eq!(got, [("e2", "stage"), ("e3", "mild_moderate")]);
        let east_mm = loads
            .iter()
            .find(|l| l.region == "east" && l.tier == Tier::MildModerate)
            .unwrap();
        assert_eq!(
            (east_mm.open_beds, east_mm.occupied, east_mm.all_beds),
            (100, 140, 230)
        );
        // Under the threshold nothing opens beyond the stages.
        let (recs, _) = recommend(&fs, 0, &BTreeMap::new());
        assert!(recs.is_empty());
    }

    #[test]
    fn tiers_follow_severity() {
        assert_eq!(tier_for_severity("mild"), Some(Tier::MildModerate));
        assert_eq!(tier_for_severity("critical"), Some(Tier::SevereCritical));
        assert_eq!(tier_for_severity("other"), None);
    }
}
