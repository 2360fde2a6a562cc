//! Ancillary supplies: the syringes and safety boxes that go with a
//! vaccine, linked to a product by a ratio.
//!
//! A ratio reads "`quantity` pieces per `per` units", the unit being a dose
//! of the product (auto-disable syringes: 1 per 1 dose), a vial
//! (reconstitution syringes: 1 per 1 vial) or a syringe of the product's
//! other ratios (safety boxes: 1 per 100 syringes). Needs are rounded up: a
//! shipment of 150 doses needs 2 safety boxes, not 1.5. The arithmetic is
//! in integers, so the same shipment always carries the same pieces.

use serde::{Deserialize, Serialize};

/// What an ancillary item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ItemKind {
    AdSyringe,
    ReconstitutionSyringe,
    SafetyBox,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::AdSyringe => "ad_syringe",
            ItemKind::ReconstitutionSyringe => "reconstitution_syringe",
            ItemKind::SafetyBox => "safety_box",
        }
    }

    pub fn parse(s: &str) -> Option<ItemKind> {
        [
            ItemKind::AdSyringe,
            ItemKind::ReconstitutionSyringe,
            ItemKind::SafetyBox,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn is_syringe(self) -> bool {
        matches!(self, ItemKind::AdSyringe | ItemKind::ReconstitutionSyringe)
    }
}

/// What a ratio counts per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Unit {
    Dose,
    Vial,
    /// The syringes the product's dose and vial ratios give.
    Syringe,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Dose => "dose",
            Unit::Vial => "vial",
            Unit::Syringe => "syringe",
        }
    }

    pub fn parse(s: &str) -> Option<Unit> {
        [Unit::Dose, Unit::Vial, Unit::Syringe]
            .into_iter()
            .find(|u| u.as_str() == s)
    }
}

/// `quantity` pieces of `item_code` per `per` units of `unit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ratio {
    pub item_code: String,
    pub kind: ItemKind,
    pub quantity: u32,
    pub per: u32,
    pub unit: Unit,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatioError {
    #[error("quantity must be 1 to 1000 pieces, not {0}")]
    Quantity(i64),
    #[error("per must be 1 to 100000, not {0}")]
    Per(i64),
    #[error("a syringe is counted per dose or per vial, not per syringe")]
    SyringePerSyringe,
}

impl RatioError {
    pub fn field(&self) -> &'static str {
        match self {
            RatioError::Quantity(_) => "quantity",
            RatioError::Per(_) => "per",
            RatioError::SyringePerSyringe => "unit",
        }
    }
}

impl Ratio {
    /// A ratio from a request's numbers, checked.
    pub fn new(
        item_code: &str,
        kind: ItemKind,
        quantity: i64,
        per: i64,
        unit: Unit,
    ) -> Result<Ratio, RatioError> {
        let quantity = u32::try_from(quantity)
            .ok()
            .filter(|q| (1..=1000).contains(q))
            .ok_or(RatioError::Quantity(quantity))?;
        let per = u32::try_from(per)
            .ok()
            .filter(|p| (1..=100_000).contains(p))
            .ok_or(RatioError::Per(per))?;
        if kind.is_syringe() && unit == Unit::Syringe {
            return Err(RatioError::SyringePerSyringe);
        }
        Ok(Ratio {
            item_code: item_code.to_string(),
            kind,
            quantity,
            per,
            unit,
        })
    }

    fn pieces(&self, units: u64) -> u64 {
        (u128::from(units) * u128::from(self.quantity))
            .div_ceil(u128::from(self.per))
            .try_into()
            .unwrap_or(u64::MAX)
    }
}

/// The pieces of each item `doses` doses of a product need, in the order of
/// `ratios` (items of a syringe ratio first counted, then those per
/// syringe). Vials are the whole vials the doses fill.
pub fn needs(doses: u64, doses_per_vial: u32, ratios: &[Ratio]) -> Vec<(String, u64)> {
    let vials = doses.div_ceil(u64::from(doses_per_vial.max(1)));
    let mut out: Vec<(String, u64)> = Vec::with_capacity(ratios.len());
    let mut syringes = 0u64;
    for r in ratios {
        let units = match r.unit {
            Unit::Dose => doses,
            Unit::Vial => vials,
            Unit::Syringe => continue,
        };
        let n = r.pieces(units);
        if r.kind.is_syringe() {
            syringes = syringes.saturating_add(n);
        }
        out.push((r.item_code.clone(), n));
    }
    for r in ratios.iter().filter(|r| r.unit == Unit::Syringe) {
        out.push((r.item_code.clone(), r.pieces(syringes)));
    }
    // The caller's order: ratios as given.
    let mut ordered = Vec::with_capacity(out.len());
    for r in ratios {
        if let Some(i) = out.iter().position(|(c, _)| c == &r.item_code) {
            ordered.push(out.swap_remove(i));
        }
    }
    ordered
}

/// An item a store lacks for the vaccine it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shortfall {
    pub item_code: String,
    pub needed: u64,
    pub on_hand: u64,
    pub short: u64,
}

/// The items short at a store: `needed` (item → pieces for all the vaccine
/// on hand) against `on_hand` (item → pieces), the missing only.
pub fn shortfalls(needed: &[(String, u64)], on_hand: &[(String, u64)]) -> Vec<Shortfall> {
    let mut total: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for (item, n) in needed {
        let e = total.entry(item.as_str()).or_default();
        *e = e.saturating_add(*n);
    }
    total
        .into_iter()
        .filter_map(|(item, needed)| {
            let have = on_hand
                .iter()
                .find(|(c, _)| c == item)
                .map_or(0, |(_, n)| *n);
            (have < needed).then(|| Shortfall {
                item_code: item.to_string(),
                needed,
                on_hand: have,
                short: needed - have,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn covid_like() -> Vec<Ratio> {
        vec![
            Ratio::new("AD05", ItemKind::AdSyringe, 1, 1, Unit::Dose).unwrap(),
            Ratio::new("RC5", ItemKind::ReconstitutionSyringe, 1, 1, Unit::Vial).unwrap(),
            Ratio::new("BOX5", ItemKind::SafetyBox, 1, 100, Unit::Syringe).unwrap(),
        ]
    }

    #[test]
    fn a_delivery_needs_a_syringe_per_dose_one_per_vial_and_a_box_per_hundred_syringes() {
        // 150 doses in vials of 10: 150 AD syringes, 15 reconstitution
        // syringes, 165 syringes → 2 safety boxes (rounded up).
        let n = needs(150, 10, &covid_like());
        assert_eq!(
            n,
            [
                ("AD05".to_string(), 150),
                ("RC5".to_string(), 15),
                ("BOX5".to_string(), 2)
            ]
        );
        // A part vial still needs its reconstitution syringe.
        assert_eq!(needs(11, 10, &covid_like())[1].1, 2);
        assert!(needs(0, 10, &covid_like()).iter().all(|(_, n)| *n == 0));
    }

    #[test]
    fn a_store_short_of_syringes_is_warned_with_the_missing_count() {
        let needed = needs(1_000, 10, &covid_like());
        let have = vec![("AD05".to_string(), 400), ("BOX5".to_string(), 20)];
        let s = shortfalls(&needed, &have);
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(
            s[0],
            Shortfall {
                item_code: "AD05".into(),
                needed: 1_000,
                on_hand: 400,
                short: 600
            }
        );
        assert_eq!(s[1].item_code, "RC5");
        assert_eq!(s[1].short, 100);
    }

    #[test]
    fn bad_ratios_name_the_field() {
        let bad = [
            Ratio::new("X", ItemKind::AdSyringe, 0, 1, Unit::Dose),
            Ratio::new("X", ItemKind::AdSyringe, 1, 0, Unit::Dose),
            Ratio::new("X", ItemKind::AdSyringe, -1, 1, Unit::Dose),
            Ratio::new("X", ItemKind::AdSyringe, 1, 1, Unit::Syringe),
        ];
        let fields: Vec<&str> = bad.iter().map(|r| r.clone().unwrap_err().field()).collect();
        assert_eq!(fields, ["quantity", "per", "quantity", "unit"]);
    }

    proptest! {
        #[test]
        fn needs_cover_the_doses_and_never_exceed_by_a_whole_unit(
            doses in 0u64..10_000_000, dpv in 1u32..=50, q in 1i64..=5, per in 1i64..=200,
        ) {
            let r = [Ratio::new("A", ItemKind::AdSyringe, q, per, Unit::Dose).unwrap()];
            let n = needs(doses, dpv, &r)[0].1;
            let exact = u128::from(doses) * q as u128;
            prop_assert!(u128::from(n) * per as u128 >= exact);
            prop_assert!(u128::from(n) * (per as u128) < exact + per as u128);
        }
    }
}
