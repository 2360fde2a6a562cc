//! Campaign targets and how they are split down the area tree.
//!
//! A target set at a province (e.g. "80% of adults by 30 September" = N
//! people) is handed down to districts, then communes, in proportion to their
//! eligible population, with some children's parts entered by hand. Planners
//! add the children's parts up and compare them with the parent's, so the
//! parts must sum to the whole *exactly*: rounding each part on its own can
//! lose or invent a few people. The largest-remainder (Hamilton) method gives
//! every child the floor of its exact quota, then hands the few people left
//! over to the largest remainders.
//!
//! All arithmetic is in integers (u128 where products of two u64 occur), so
//! the result does not depend on floating-point rounding and is the same on
//! every machine.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::Date;

/// One child area's claim on a parent's target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub area_code: String,
    /// The child's eligible population: the weight of its proportional part.
    pub weight: u64,
    /// A part entered by hand, kept as given; the rest of the target is
    /// split among the children without one.
    pub fixed: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("area {0} appears more than once among the parts")]
    DuplicateArea(String),
    #[error("the parts entered by hand add up to {fixed}, more than the target of {total}")]
    FixedExceedTotal { fixed: u128, total: u64 },
    #[error("{rest} people are left to split but no area without a fixed part has an eligible population")]
    NoWeight { rest: u64 },
    #[error("coverage of {}.{}% is above 100%; give the percentage in tenths (800 = 80.0%)", .percent_tenths / 10, .percent_tenths % 10)]
    PercentOver100 { percent_tenths: u32 },
    #[error("the period ends on {end}, before it starts on {start}")]
    EndBeforeStart { start: Date, end: Date },
    #[error("there is no working day from {start} to {end}")]
    NoWorkingDay { start: Date, end: Date },
}

impl TargetError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            TargetError::DuplicateArea(_) => "area_code",
            TargetError::FixedExceedTotal { .. } => "fixed",
            TargetError::NoWeight { .. } => "weight",
            TargetError::PercentOver100 { .. } => "percent_tenths",
            TargetError::EndBeforeStart { .. } | TargetError::NoWorkingDay { .. } => "end",
        }
    }
}

/// Splits `total` people among `shares`, returning `(area_code, part)` in the
/// order of `shares`. Fixed parts are kept as given; the rest is split among
/// the other shares in proportion to their weight by the largest-remainder
/// method, so the parts sum to `total` exactly, each differs from its exact
/// quota by less than one, and a larger weight never gets fewer people.
///
/// Ties for the people left over go to the larger remainder, then the larger
/// weight, then the smaller area code: the same input always gives the same
/// split, whatever the order of `shares`.
pub fn split_target(total: u64, shares: &[Share]) -> Result<Vec<(String, u64)>, TargetError> {
    let mut seen = BTreeSet::new();
    for s in shares {
        if !seen.insert(s.area_code.as_str()) {
            return Err(TargetError::DuplicateArea(s.area_code.clone()));
        }
    }
    // u128: a hundred fixed parts near u64::MAX must not wrap around into a
    // small, plausible sum.
    let fixed: u128 = shares.iter().filter_map(|s| s.fixed).map(u128::from).sum();
    if fixed > u128::from(total) {
        return Err(TargetError::FixedExceedTotal { fixed, total });
    }
    let rest = total - fixed as u64;
    let weight: u128 = shares
        .iter()
        .filter(|s| s.fixed.is_none())
        .map(|s| u128::from(s.weight))
        .sum();
    let mut parts: Vec<u64> = shares.iter().map(|s| s.fixed.unwrap_or(0)).collect();
    if rest == 0 {
        return Ok(label(shares, parts));
    }
    if weight == 0 {
        return Err(TargetError::NoWeight { rest });
    }
    // Exact quota of share i = rest * w_i / weight = floor + remainder/weight;
    // all remainders share the denominator, so they compare as integers.
    let mut remainders = Vec::new();
    let mut given: u128 = 0;
    for (i, s) in shares.iter().enumerate() {
        if s.fixed.is_some() {
            continue;
        }
        let exact = u128::from(rest) * u128::from(s.weight);
        let floor = exact / weight;
        parts[i] = floor as u64; // floor <= rest, so it fits
        given += floor;
        remainders.push((i, exact % weight));
    }
    // Fewer people are left over than there are non-zero remainders (the
    // remainders sum to left_over * weight and each is below weight), so only
    // shares with a non-zero remainder get one more: none moves a whole person
    // away from its quota.
    let left_over = (u128::from(rest) - given) as usize;
    remainders.sort_by_key(|&(i, r)| {
        (
            Reverse(r),
            Reverse(shares[i].weight),
            shares[i].area_code.as_str(),
        )
    });
    for &(i, _) in remainders.iter().take(left_over) {
        parts[i] += 1;
    }
    Ok(label(shares, parts))
}

fn label(shares: &[Share], parts: Vec<u64>) -> Vec<(String, u64)> {
    shares
        .iter()
        .map(|s| s.area_code.clone())
        .zip(parts)
        .collect()
}

/// The number of people that makes `percent_tenths` (800 = 80.0%) of
/// `eligible`, rounded half up.
///
/// Above 100% is an error rather than clamped: a target larger than the
/// eligible population cannot be reached, and the likely cause is a
/// percentage typed in the wrong unit (80 or 8000 for 80.0%), which clamping
/// would silently turn into a 100% target.
pub fn target_for_coverage(eligible: u64, percent_tenths: u32) -> Result<u64, TargetError> {
    if percent_tenths > 1000 {
        return Err(TargetError::PercentOver100 { percent_tenths });
    }
    let people = (u128::from(eligible) * u128::from(percent_tenths) + 500) / 1000;
    Ok(people as u64) // at most `eligible`
}

/// Splits `total` evenly over the working days from `start` to `end`
/// (inclusive), returning only the working days. When the division is not
/// exact the earliest days get one more: a campaign that starts ahead of its
/// plan has slack for bad weather and supply delays later.
pub fn daily_targets(
    total: u64,
    start: Date,
    end: Date,
    working_days: impl Fn(Date) -> bool,
) -> Result<Vec<(Date, u64)>, TargetError> {
    if end < start {
        return Err(TargetError::EndBeforeStart { start, end });
    }
    let mut days = Vec::new();
    let mut day = Some(start);
    while let Some(d) = day.filter(|d| *d <= end) {
        if working_days(d) {
            days.push(d);
        }
        day = d.next_day(); // None only past Date::MAX
    }
    if days.is_empty() {
        return Err(TargetError::NoWorkingDay { start, end });
    }
    let n = days.len() as u64;
    let (each, extra) = (total / n, total % n);
    Ok(days
        .into_iter()
        .enumerate()
        .map(|(i, d)| (d, each + u64::from((i as u64) < extra)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;
    use time::Weekday;

    fn share(code: &str, weight: u64, fixed: Option<u64>) -> Share {
        Share {
            area_code: code.into(),
            weight,
            fixed,
        }
    }

    fn parts(r: Result<Vec<(String, u64)>, TargetError>) -> Vec<u64> {
        r.unwrap().into_iter().map(|(_, p)| p).collect()
    }

    #[test]
    fn splits_in_proportion_and_sums_exactly() {
        // 1000 among 1:1:1 -> 333.33 each; the one left over goes to the
        // smallest area code (equal remainders and weights).
        let shares = [
            share("C", 10, None),
            share("A", 10, None),
            share("B", 10, None),
        ];
        let r = split_target(1000, &shares).unwrap();
        assert_eq!(
            r,
            vec![("C".into(), 333), ("A".into(), 334), ("B".into(), 333)]
        );
        // Quotas 57.14, 28.57, 14.29 of 100: floors 57+28+14 = 99; the
        // largest remainder (.57) gets the last person.
        let shares = [
            share("1", 4, None),
            share("2", 2, None),
            share("3", 1, None),
        ];
        assert_eq!(parts(split_target(100, &shares)), vec![57, 29, 14]);
    }

    #[test]
    fn ties_go_to_the_larger_remainder_then_the_larger_weight() {
        // 1 over weights 1,1,2: quotas .25, .25, .5 -> the .5.
        let shares = [
            share("A", 1, None),
            share("B", 1, None),
            share("C", 2, None),
        ];
        assert_eq!(parts(split_target(1, &shares)), vec![0, 0, 1]);
        // 3 over weights 1,3,2: quotas .5, 1.5, 1.0 -> A and B tie on the
        // remainder .5; B has the larger weight.
        let shares = [
            share("A", 1, None),
            share("B", 3, None),
            share("C", 2, None),
        ];
        assert_eq!(parts(split_target(3, &shares)), vec![0, 2, 1]);
        // 5 over 3 and 8: quotas 1.36 and 3.64 -> the .64.
        let shares = [share("A", 3, None), share("B", 8, None)];
        assert_eq!(parts(split_target(5, &shares)), vec![1, 4]);
    }

    #[test]
    fn order_of_shares_does_not_change_the_split() {
        let a = [
            share("X", 1, None),
            share("Y", 1, None),
            share("Z", 1, None),
        ];
        let b = [
            share("Z", 1, None),
            share("Y", 1, None),
            share("X", 1, None),
        ];
        let mut ra = split_target(2, &a).unwrap();
        let mut rb = split_target(2, &b).unwrap();
        ra.sort();
        rb.sort();
        assert_eq!(ra, rb);
        assert_eq!(ra, vec![("X".into(), 1), ("Y".into(), 1), ("Z".into(), 0)]);
    }

    #[test]
    fn fixed_parts_are_kept_and_the_rest_is_split() {
        let shares = [
            share("A", 100, Some(500)),
            share("B", 300, None),
            share("C", 100, None),
        ];
        assert_eq!(parts(split_target(1000, &shares)), vec![500, 375, 125]);
        // All fixed and summing to the total: nothing to split.
        let shares = [share("A", 0, Some(600)), share("B", 0, Some(400))];
        assert_eq!(parts(split_target(1000, &shares)), vec![600, 400]);
    }

    #[test]
    fn impossible_splits_are_refused_with_their_field() {
        let err =
            split_target(100, &[share("A", 1, Some(80)), share("B", 1, Some(30))]).unwrap_err();
        assert_eq!(
            err,
            TargetError::FixedExceedTotal {
                fixed: 110,
                total: 100
            }
        );
        assert_eq!(err.field(), "fixed");

        let err = split_target(100, &[share("A", 0, None), share("B", 5, Some(10))]).unwrap_err();
        assert_eq!(err, TargetError::NoWeight { rest: 90 });
        assert_eq!(err.field(), "weight");
        assert_eq!(split_target(1, &[]), Err(TargetError::NoWeight { rest: 1 }));

        let err = split_target(10, &[share("A", 1, None), share("A", 2, None)]).unwrap_err();
        assert_eq!(err, TargetError::DuplicateArea("A".into()));
        assert_eq!(err.field(), "area_code");

        let huge = [share("A", 1, Some(u64::MAX)), share("B", 1, Some(2))];
        assert!(matches!(
            split_target(u64::MAX, &huge),
            Err(TargetError::FixedExceedTotal { .. })
        ));
    }

    #[test]
    fn nothing_to_split_among_nobody_is_fine() {
        let shares = [share("A", 0, None), share("B", 0, None)];
        assert_eq!(parts(split_target(0, &shares)), vec![0, 0]);
        assert_eq!(split_target(0, &[]), Ok(vec![]));
        // Zero weight among positive weights gets nothing.
        let shares = [share("A", 0, None), share("B", 7, None)];
        assert_eq!(parts(split_target(9, &shares)), vec![0, 9]);
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let shares = [
            share("A", u64::MAX, None),
            share("B", u64::MAX, None),
            share("C", 1, None),
        ];
        let p = parts(split_target(u64::MAX, &shares));
        assert_eq!(
            p.iter().map(|&x| u128::from(x)).sum::<u128>(),
            u128::from(u64::MAX)
        );
        // C's quota is just under one half: it may get the odd person.
        assert!(p[2] <= 1 && p[0] >= p[1] && p[0] - p[1] <= 1, "{p:?}");
    }

    #[test]
    fn coverage_targets_round_half_up_and_refuse_above_100() {
        assert_eq!(target_for_coverage(1000, 800), Ok(800));
        assert_eq!(target_for_coverage(5, 500), Ok(3)); // 2.5 -> 3
        assert_eq!(target_for_coverage(3, 500), Ok(2)); // 1.5 -> 2
        assert_eq!(target_for_coverage(1234, 333), Ok(411)); // 410.922
        assert_eq!(target_for_coverage(7, 1000), Ok(7));
        assert_eq!(target_for_coverage(7, 0), Ok(0));
        assert_eq!(target_for_coverage(u64::MAX, 1000), Ok(u64::MAX));
        let err = target_for_coverage(100, 8000).unwrap_err();
        assert_eq!(err.field(), "percent_tenths");
        assert!(err.to_string().contains("800.0%"), "{err}");
    }

    fn weekdays(d: Date) -> bool {
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    #[test]
    fn daily_targets_spread_over_working_days_earliest_first() {
        // Monday 2021-09-06 to Sunday 2021-09-12: five working days.
        let days =
            daily_targets(12, date!(2021 - 09 - 06), date!(2021 - 09 - 12), weekdays).unwrap();
        assert_eq!(
            days,
            vec![
                (date!(2021 - 09 - 06), 3),
                (date!(2021 - 09 - 07), 3),
                (date!(2021 - 09 - 08), 2),
                (date!(2021 - 09 - 09), 2),
                (date!(2021 - 09 - 10), 2),
            ]
        );
        let one = daily_targets(7, date!(2021 - 09 - 06), date!(2021 - 09 - 06), |_| true);
        assert_eq!(one, Ok(vec![(date!(2021 - 09 - 06), 7)]));
        let zero = daily_targets(0, date!(2021 - 09 - 06), date!(2021 - 09 - 07), |_| true);
        assert_eq!(
            zero,
            Ok(vec![(date!(2021 - 09 - 06), 0), (date!(2021 - 09 - 07), 0)])
        );
    }

    #[test]
    fn daily_targets_refuse_empty_periods() {
        let err =
            daily_targets(10, date!(2021 - 09 - 07), date!(2021 - 09 - 06), |_| true).unwrap_err();
        assert!(matches!(err, TargetError::EndBeforeStart { .. }));
        assert_eq!(err.field(), "end");
        // A weekend only.
        let err =
            daily_targets(10, date!(2021 - 09 - 11), date!(2021 - 09 - 12), weekdays).unwrap_err();
        assert!(matches!(err, TargetError::NoWorkingDay { .. }));
        // The last representable date does not loop forever.
        assert_eq!(
            daily_targets(3, Date::MAX, Date::MAX, |_| true),
            Ok(vec![(Date::MAX, 3)])
        );
    }
}
