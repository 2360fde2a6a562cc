//! Splitting a delivery among the stores one level down.
//!
//! A delivery of whole vials is split among the stores below by what each
//! still needs (its remaining eligible population, or its remaining target),
//! multiplied by a weight: border communes within 20 km of the border get
//! ×1.5, as in Guangxi's border-first rollout. The parts are whole vials and
//! sum to the delivery exactly, by the same largest-remainder method that
//! splits targets ([`crate::targets::split_target`]): each part is within one
//! vial of its exact quota, and a store with a larger weighted need never
//! gets fewer vials. The planner reviews the proposal and adjusts it before
//! the shipments are created; the arithmetic is in integers (weights in
//! thousandths), so a proposal is the same on every machine.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::targets::{split_target, Share, TargetError};

/// What a store's claim on the delivery is measured by. The caller fills
/// [`Recipient::need`] with the figure the planner chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Basis {
    /// People eligible in the store's area and not yet fully vaccinated.
    RemainingEligible,
    /// The area's target minus the doses already given against it.
    RemainingTarget,
}

/// One store below the one that received the delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recipient {
    pub store_code: String,
    /// Remaining eligible population or remaining target (see [`Basis`]).
    pub need: u64,
    /// Distance of the store's area from the national border in km, when
    /// the area record carries one.
    pub border_km: Option<u32>,
}

/// A weight for the areas within `within_km` of the border, in thousandths
/// (1500 = ×1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BorderWeight {
    pub within_km: u32,
    pub factor_permille: u32,
}

/// The weights applied on top of the need. An area gets the factor of the
/// narrowest band it falls in (0–20 km before 0–50 km), or ×1 outside all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Weighting {
    pub border: Vec<BorderWeight>,
}

/// The largest weight accepted: ×10. Above it a typo (15000 for ×1.5) would
/// silently send a whole delivery to a few communes.
pub const MAX_FACTOR_PERMILLE: u32 = 10_000;

impl Weighting {
    /// Guangxi 2021: communes within 0–20 km of the border first, ×1.5.
    pub fn border_first() -> Weighting {
        Weighting {
            border: vec![BorderWeight {
                within_km: 20,
                factor_permille: 1500,
            }],
        }
    }

    /// The factor (in thousandths) for an area at `border_km`.
    pub fn factor_permille(&self, border_km: Option<u32>) -> u32 {
        let Some(km) = border_km else { return 1000 };
        self.border
            .iter()
            .filter(|b| km <= b.within_km)
            .min_by_key(|b| b.within_km)
            .map_or(1000, |b| b.factor_permille)
    }

    fn validate(&self) -> Result<(), AllocationError> {
        let mut bands = BTreeSet::new();
        for b in &self.border {
            if b.factor_permille == 0 || b.factor_permille > MAX_FACTOR_PERMILLE {
                return Err(AllocationError::Factor(b.factor_permille));
            }
            if !bands.insert(b.within_km) {
                return Err(AllocationError::DuplicateBand(b.within_km));
            }
        }
        Ok(())
    }
}

/// One store's proposed part of the delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Part {
    pub store_code: String,
    pub vials: u64,
    pub doses: u64,
    /// The weight used, in thousandths, so the planner sees why.
    pub factor_permille: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("the delivery has no vials to split")]
    NoVials,
    #[error("doses_per_vial must be between 1 and 50, not {0}")]
    DosesPerVial(u32),
    #[error("there is no store to split the delivery among")]
    NoRecipients,
    #[error("store {0} appears more than once among the recipients")]
    DuplicateStore(String),
    #[error("a border weight of {0}‰ is outside 1‰..={MAX_FACTOR_PERMILLE}‰")]
    Factor(u32),
    #[error("the border band of {0} km is given twice")]
    DuplicateBand(u32),
    #[error("no store below needs vaccine: every need is 0")]
    NoNeed,
    #[error("the need of store {0} is too large to weigh")]
    NeedTooLarge(String),
}

impl AllocationError {
    /// The request field the planner has to correct.
    pub fn field(&self) -> &'static str {
        match self {
            AllocationError::NoVials => "vials",
            AllocationError::DosesPerVial(_) => "doses_per_vial",
            AllocationError::NoRecipients => "recipients",
            AllocationError::DuplicateStore(_) => "store_code",
            AllocationError::Factor(_) => "factor_permille",
            AllocationError::DuplicateBand(_) => "within_km",
            AllocationError::NoNeed | AllocationError::NeedTooLarge(_) => "need",
        }
    }
}

/// Splits `vials` vials of `doses_per_vial` doses among `recipients` in
/// proportion to `need × weight`, returning the parts in the order of
/// `recipients`. The parts sum to `vials` exactly; ties go to the larger
/// weighted need, then the smaller store code, so the same input always
/// gives the same proposal.
pub fn allocate(
    vials: u64,
    doses_per_vial: u32,
    recipients: &[Recipient],
    weighting: &Weighting,
) -> Result<Vec<Part>, AllocationError> {
    if vials == 0 {
        return Err(AllocationError::NoVials);
    }
    if !(1..=50).contains(&doses_per_vial) {
        return Err(AllocationError::DosesPerVial(doses_per_vial));
    }
    if recipients.is_empty() {
        return Err(AllocationError::NoRecipients);
    }
    weighting.validate()?;
    // Doses must stay representable: vials × doses_per_vial fits in u64.
    if vials.checked_mul(u64::from(doses_per_vial)).is_none() {
        return Err(AllocationError::NoVials);
    }
    let mut shares = Vec::with_capacity(recipients.len());
    let mut factors = Vec::with_capacity(recipients.len());
    for r in recipients {
        let factor = weighting.factor_permille(r.border_km);
        let weight = r
            .need
            .checked_mul(u64::from(factor))
            .ok_or_else(|| AllocationError::NeedTooLarge(r.store_code.clone()))?;
        factors.push(factor);
        shares.push(Share {
            area_code: r.store_code.clone(),
            weight,
            fixed: None,
        });
    }
    let split = split_target(vials, &shares).map_err(|e| match e {
        TargetError::DuplicateArea(code) => AllocationError::DuplicateStore(code),
        _ => AllocationError::NoNeed,
    })?;
    Ok(split
        .into_iter()
        .zip(factors)
        .map(|((store_code, vials), factor_permille)| Part {
            store_code,
            vials,
            doses: vials * u64::from(doses_per_vial),
            factor_permille,
        })
        .collect())
}

/// Why the planner's adjusted parts cannot be confirmed. Each names the
/// field to correct (`parts[2].vials` for the third part).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdjustError {
    #[error(
        "the parts give {given} vials but the delivery has {delivery}: they must sum to it exactly"
    )]
    Sum { given: u64, delivery: u64 },
    #[error("store {store} is not one of the stores one level down")]
    NotARecipient { index: usize, store: String },
    #[error("store {store} has two parts")]
    Twice { index: usize, store: String },
    #[error("a part is whole vials, 0 or more, not {given}")]
    Vials { index: usize, given: i64 },
    #[error("there are no parts")]
    Empty,
}

impl AdjustError {
    /// The request field: `parts`, or `parts[i].store_code` / `parts[i].vials`.
    pub fn field(&self) -> String {
        match self {
            AdjustError::Sum { .. } | AdjustError::Empty => "parts".into(),
            AdjustError::NotARecipient { index, .. } | AdjustError::Twice { index, .. } => {
                format!("parts[{index}].store_code")
            }
            AdjustError::Vials { index, .. } => format!("parts[{index}].vials"),
        }
    }
}

/// The planner's parts, checked against the delivery: whole vials, 0 or
/// more, each to a store among `recipients` at most once, summing to
/// `vials` exactly. Parts of 0 are dropped from the result (no shipment).
pub fn check_parts(
    vials: u64,
    recipients: &[String],
    parts: &[(String, i64)],
) -> Result<Vec<(String, u64)>, AdjustError> {
    if parts.is_empty() {
        return Err(AdjustError::Empty);
    }
    let mut seen = BTreeSet::new();
    let mut sum: u64 = 0;
    let mut out = Vec::with_capacity(parts.len());
    for (index, (store, given)) in parts.iter().enumerate() {
        if !recipients.iter().any(|r| r == store) {
            return Err(AdjustError::NotARecipient {
                index,
                store: store.clone(),
            });
        }
        if !seen.insert(store.as_str()) {
            return Err(AdjustError::Twice {
                index,
                store: store.clone(),
            });
        }
        let v = u64::try_from(*given).map_err(|_| AdjustError::Vials {
            index,
            given: *given,
        })?;
        sum = sum.saturating_add(v);
        if v > 0 {
            out.push((store.clone(), v));
        }
    }
    if sum != vials {
        return Err(AdjustError::Sum {
            given: sum,
            delivery: vials,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(code: &str, need: u64, border_km: Option<u32>) -> Recipient {
        Recipient {
            store_code: code.into(),
            need,
            border_km,
        }
    }

    /// A small border district in the style of Guangxi's Dongxing: two
    /// communes on the border, one 15 km in, two inland, all with the same
    /// remaining population. The three within 20 km get ×1.5.
    #[test]
    fn border_communes_within_20_km_get_half_as_much_again() {
        let communes = [
            r("DONGXING-01", 10_000, Some(0)),
            r("DONGXING-02", 10_000, Some(3)),
            r("DONGXING-03", 10_000, Some(15)),
            r("DONGXING-04", 10_000, Some(35)),
            r("DONGXING-05", 10_000, None),
        ];
        // 1,300 vials: weights 1.5+1.5+1.5+1+1 = 6.5 → 300 or 200 each.
        let parts = allocate(1_300, 10, &communes, &Weighting::border_first()).unwrap();
        let vials: Vec<u64> = parts.iter().map(|p| p.vials).collect();
        assert_eq!(vials, [300, 300, 300, 200, 200]);
        assert_eq!(parts[0].doses, 3_000);
        assert_eq!(parts[2].factor_permille, 1500);
        assert_eq!(parts[3].factor_permille, 1000);
        // Without the weighting the same delivery splits evenly.
        let even = allocate(1_300, 10, &communes, &Weighting::default()).unwrap();
        assert!(even.iter().all(|p| p.vials == 260));
        // A commune with no remaining need gets nothing, border or not.
        let with_done = [r("A", 0, Some(1)), r("B", 5, None)];
        let parts = allocate(7, 10, &with_done, &Weighting::border_first()).unwrap();
        assert_eq!((parts[0].vials, parts[1].vials), (0, 7));
    }

    #[test]
    fn the_narrowest_band_wins() {
        let w = Weighting {
            border: vec![
                BorderWeight {
                    within_km: 50,
                    factor_permille: 1200,
                },
                BorderWeight {
                    within_km: 20,
                    factor_permille: 1500,
                },
            ],
        };
        assert_eq!(w.factor_permille(Some(20)), 1500);
        assert_eq!(w.factor_permille(Some(21)), 1200);
        assert_eq!(w.factor_permille(Some(51)), 1000);
        assert_eq!(w.factor_permille(None), 1000);
    }

    #[test]
    fn refusals_name_the_field() {
        let one = [r("A", 1, None)];
        let cases: Vec<(Result<Vec<Part>, AllocationError>, &str)> = vec![
            (allocate(0, 10, &one, &Weighting::default()), "vials"),
            (
                allocate(5, 0, &one, &Weighting::default()),
                "doses_per_vial",
            ),
            (allocate(5, 10, &[], &Weighting::default()), "recipients"),
            (
                allocate(
                    5,
                    10,
                    &[r("A", 1, None), r("A", 2, None)],
                    &Weighting::default(),
                ),
                "store_code",
            ),
            (
                allocate(5, 10, &[r("A", 0, None)], &Weighting::default()),
                "need",
            ),
            (
                allocate(5, 10, &[r("A", u64::MAX, None)], &Weighting::default()),
                "need",
            ),
            (
                allocate(
                    5,
                    10,
                    &one,
                    &Weighting {
                        border: vec![BorderWeight {
                            within_km: 20,
                            factor_permille: 15_000,
                        }],
                    },
                ),
                "factor_permille",
            ),
            (
                allocate(
                    5,
                    10,
                    &one,
                    &Weighting {
                        border: vec![
                            BorderWeight {
                                within_km: 20,
                                factor_permille: 1500,
                            };
                            2
                        ],
                    },
                ),
                "within_km",
            ),
        ];
        for (result, field) in cases {
            let err = result.unwrap_err();
            assert_eq!(err.field(), field, "{err}");
        }
    }

    #[test]
    fn adjusted_parts_must_sum_to_the_delivery_naming_the_field() {
        let stores: Vec<String> = ["A", "B", "C"].map(String::from).to_vec();
        let p = |v: &[(&str, i64)]| -> Vec<(String, i64)> {
            v.iter().map(|(s, n)| (s.to_string(), *n)).collect()
        };
        assert_eq!(
            check_parts(10, &stores, &p(&[("A", 6), ("B", 0), ("C", 4)])).unwrap(),
            [("A".to_string(), 6), ("C".to_string(), 4)]
        );
        let field = |v: &[(&str, i64)]| check_parts(10, &stores, &p(v)).unwrap_err().field();
        assert_eq!(field(&[("A", 6), ("B", 3)]), "parts");
        assert_eq!(field(&[("A", 6), ("B", 5)]), "parts");
        assert_eq!(field(&[("A", 12), ("B", -2)]), "parts[1].vials");
        assert_eq!(field(&[("A", 5), ("Z", 5)]), "parts[1].store_code");
        assert_eq!(field(&[("A", 5), ("A", 5)]), "parts[1].store_code");
        assert_eq!(field(&[]), "parts");
    }

    fn recipients() -> impl Strategy<Value = Vec<Recipient>> {
        prop::collection::vec((0u64..1_000_000, prop::option::of(0u32..100)), 1..12).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (need, km))| r(&format!("S{i:02}"), need, km))
                .collect()
        })
    }

    fn weighting() -> impl Strategy<Value = Weighting> {
        prop::collection::btree_map(0u32..100, 1u32..=MAX_FACTOR_PERMILLE, 0..3).prop_map(|m| {
            Weighting {
                border: m
                    .into_iter()
                    .map(|(within_km, factor_permille)| BorderWeight {
                        within_km,
                        factor_permille,
                    })
                    .collect(),
            }
        })
    }

    proptest! {
        #[test]
        fn parts_are_whole_vials_summing_to_the_delivery_and_follow_the_weights(
            vials in 1u64..100_000,
            dpv in 1u32..=50,
            stores in recipients(),
            w in weighting(),
        ) {
            prop_assume!(stores.iter().any(|s| s.need > 0));
            let parts = allocate(vials, dpv, &stores, &w).unwrap();
            prop_assert_eq!(parts.len(), stores.len());
            prop_assert_eq!(parts.iter().map(|p| p.vials).sum::<u64>(), vials);
            let weighted: Vec<u128> = stores
                .iter()
                .map(|s| u128::from(s.need) * u128::from(w.factor_permille(s.border_km)))
                .collect();
            let total: u128 = weighted.iter().sum();
            for (i, p) in parts.iter().enumerate() {
                prop_assert_eq!(&p.store_code, &stores[i].store_code);
                prop_assert_eq!(p.doses, p.vials * u64::from(dpv));
                // Within one vial of the exact quota.
                let exact = u128::from(vials) * weighted[i];
                let got = u128::from(p.vials) * total;
                prop_assert!(got.abs_diff(exact) < total, "part {} off its quota", i);
                // Monotone: a larger weighted need never gets fewer vials.
                for (j, q) in parts.iter().enumerate() {
                    if weighted[i] > weighted[j] {
                        prop_assert!(p.vials >= q.vials, "{} vs {}", i, j);
                    }
                }
            }
        }

        #[test]
        fn a_proposal_confirmed_unchanged_is_accepted_and_moving_one_vial_keeps_the_sum(
            vials in 1u64..100_000,
            stores in recipients(),
            w in weighting(),
        ) {
            prop_assume!(stores.iter().any(|s| s.need > 0));
            let parts = allocate(vials, 10, &stores, &w).unwrap();
            let codes: Vec<String> = stores.iter().map(|s| s.store_code.clone()).collect();
            let mut given: Vec<(String, i64)> = parts
                .iter()
                .map(|p| (p.store_code.clone(), i64::try_from(p.vials).unwrap()))
                .collect();
            let ok = check_parts(vials, &codes, &given).unwrap();
            prop_assert_eq!(ok.iter().map(|(_, v)| v).sum::<u64>(), vials);
            // One vial more anywhere breaks the sum, and it is refused.
            given[0].1 += 1;
            prop_assert_eq!(check_parts(vials, &codes, &given).unwrap_err().field(), "parts");
        }

        #[test]
        fn raising_a_border_weight_never_takes_vials_from_the_border(
            vials in 1u64..10_000,
            stores in recipients(),
            low in 1000u32..2000,
            extra in 0u32..3000,
        ) {
            prop_assume!(stores.iter().any(|s| s.need > 0));
            let weigh = |f: u32| Weighting {
                border: vec![BorderWeight { within_km: 20, factor_permille: f }],
            };
            let before = allocate(vials, 10, &stores, &weigh(low)).unwrap();
            let after = allocate(vials, 10, &stores, &weigh(low + extra)).unwrap();
            let border = |parts: &[Part]| -> u64 {
                parts
                    .iter()
                    .zip(&stores)
                    .filter(|(_, s)| s.border_km.is_some_and(|k| k <= 20))
                    .map(|(p, _)| p.vials)
                    .sum()
            };
            prop_assert!(border(&after) >= border(&before));
        }
    }
}
