//! Property tests: however a target is split, the parts add up to the whole,
//! hand-entered parts are kept, and the proportional parts are as close to
//! their exact quotas as whole people allow.

use proptest::prelude::*;
use time::{Date, Duration};
use vaxgrid_core::targets::{daily_targets, split_target, target_for_coverage, Share};

/// 1 to 59 shares with distinct codes, weights below 10^7, about one in
/// four with a fixed part below 10^6 (so the fixed parts usually fit).
fn shares() -> impl Strategy<Value = Vec<Share>> {
    prop::collection::vec(
        (
            0u64..10_000_000,
            prop::option::weighted(0.25, 0u64..1_000_000),
        ),
        1..60,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .enumerate()
            .map(|(i, (weight, fixed))| Share {
                area_code: format!("A{i:03}"),
                weight,
                fixed,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn splits_sum_exactly_and_stay_within_one_of_the_quota(total in prop_oneof![0u64..1_000, 0u64..100_000_000], shares in shares()) {
        let Ok(parts) = split_target(total, &shares) else {
            return Ok(());
        };
        prop_assert_eq!(parts.len(), shares.len());
        let sum: u128 = parts.iter().map(|(_, p)| u128::from(*p)).sum();
        prop_assert_eq!(sum, u128::from(total));

        let fixed: u64 = shares.iter().filter_map(|s| s.fixed).sum();
        let rest = u128::from(total - fixed);
        let weight: u128 = shares.iter().filter(|s| s.fixed.is_none()).map(|s| u128::from(s.weight)).sum();
        for (s, (code, part)) in shares.iter().zip(&parts) {
            prop_assert_eq!(&s.area_code, code);
            match s.fixed {
                Some(f) => prop_assert_eq!(*part, f),
                None => {
                    // |part - rest * w / weight| < 1, in integers:
                    // |part * weight - rest * w| < weight.
                    let scaled = u128::from(*part) * weight;
                    let exact = rest * u128::from(s.weight);
                    prop_assert!(scaled.abs_diff(exact) < weight.max(1),
                        "{} got {} of {} (weight {} of {})", code, part, rest, s.weight, weight);
                }
            }
        }
        let free: Vec<(u64, u64)> = shares
            .iter()
            .zip(&parts)
            .filter(|(s, _)| s.fixed.is_none())
            .map(|(s, (_, p))| (s.weight, *p))
            .collect();
        for a in &free {
            for b in &free {
                if a.0 > b.0 {
                    prop_assert!(a.1 >= b.1, "weight {} got {} but weight {} got {}", a.0, a.1, b.0, b.1);
                }
            }
        }
    }

    #[test]
    fn splits_fail_only_for_a_reason(total in prop_oneof![0u64..1_000, 0u64..100_000_000], shares in shares()) {
        let fixed: u64 = shares.iter().filter_map(|s| s.fixed).sum();
        let weight: u64 = shares.iter().filter(|s| s.fixed.is_none()).map(|s| s.weight).sum();
        let result = split_target(total, &shares);
        if fixed > total {
            prop_assert_eq!(result.unwrap_err().field(), "fixed");
        } else if weight == 0 && total > fixed {
            prop_assert_eq!(result.unwrap_err().field(), "weight");
        } else {
            prop_assert!(result.is_ok());
        }
    }

    #[test]
    fn coverage_targets_never_exceed_the_eligible(eligible in 0u64..1_000_000_000, tenths in 0u32..=1000) {
        let target = target_for_coverage(eligible, tenths).unwrap();
        prop_assert!(target <= eligible);
        // Within half a person of the exact value.
        let exact_x1000 = u128::from(eligible) * u128::from(tenths);
        prop_assert!((u128::from(target) * 1000).abs_diff(exact_x1000) <= 500);
    }

    #[test]
    fn daily_targets_sum_exactly_and_differ_by_at_most_one(
        total in 0u64..100_000_000,
        offset in 0i64..3_000,
        len in 0i64..400,
        skip in prop::collection::vec(any::<bool>(), 7),
    ) {
        let start = Date::from_calendar_date(2021, time::Month::January, 1).unwrap() + Duration::days(offset);
        let end = start + Duration::days(len);
        let working = |d: Date| !skip[d.weekday().number_days_from_monday() as usize];
        let Ok(days) = daily_targets(total, start, end, working) else {
            prop_assert!(skip.iter().all(|s| *s) || len < 6);
            return Ok(());
        };
        prop_assert_eq!(days.iter().map(|(_, n)| *n).sum::<u64>(), total);
        let max = days.iter().map(|(_, n)| *n).max().unwrap();
        let min = days.iter().map(|(_, n)| *n).min().unwrap();
        prop_assert!(max - min <= 1);
        // Earliest days first: the amounts never rise.
        prop_assert!(days.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 >= w[1].1));
        prop_assert!(days.iter().all(|(d, _)| *d >= start && *d <= end && working(*d)));
    }
}
