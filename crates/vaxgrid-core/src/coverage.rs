//! Coverage arithmetic: what one person contributes to the coverage counters.
//!
//! The store keeps counter rows keyed by (home area, product, priority group)
//! and updates them in the dose transaction by the *difference* between a
//! person's contribution before and after the change. A from-scratch recount
//! sums the same contributions, so the two can be compared exactly.

use std::collections::BTreeMap;

use crate::dose::ValidDose;
use crate::product::Product;

/// The pseudo priority group under which every person is counted once, so a
/// person in two groups is not counted twice in totals.
pub const ALL_GROUPS: &str = "*";

/// What a person adds to the counters of their home area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// The product of the person's first valid dose.
    pub product_code: String,
    /// Valid doses reach the first product's primary series length.
    pub completed: bool,
}

/// A person's contribution given their valid doses in date order.
pub fn contribution<'p>(
    valid: &[ValidDose],
    product_of: impl Fn(&str) -> Option<&'p Product>,
) -> Option<Contribution> {
    let first = valid.first()?;
    let series = product_of(&first.product_code).map_or(1, |p| p.doses_in_series);
    Some(Contribution {
        product_code: first.product_code.clone(),
        completed: valid.len() as u32 >= series,
    })
}

/// Key of one coverage counter row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CoverageKey {
    pub area_code: String,
    pub product_code: String,
    pub priority_group: String,
}

/// Counter values (or differences to apply to them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoverageCounts {
    pub at_least_one: i64,
    pub completed: i64,
}

/// Accumulates counter differences keyed by counter row.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CoverageDelta(pub BTreeMap<CoverageKey, CoverageCounts>);

impl CoverageDelta {
    /// Adds (`sign` = 1) or removes (`sign` = -1) a contribution for a person
    /// living in `area_code` and belonging to `groups`.
    pub fn add(&mut self, area_code: &str, groups: &[String], c: &Contribution, sign: i64) {
        let groups = groups.iter().map(String::as_str).chain([ALL_GROUPS]);
        for group in groups {
            let entry = self
                .0
                .entry(CoverageKey {
                    area_code: area_code.to_string(),
                    product_code: c.product_code.clone(),
                    priority_group: group.to_string(),
                })
                .or_default();
            entry.at_least_one += sign;
            entry.completed += sign * i64::from(c.completed);
        }
    }

    /// Records that a person's contribution changed from `before` to `after`.
    pub fn change(
        &mut self,
        before: (&str, &[String], Option<&Contribution>),
        after: (&str, &[String], Option<&Contribution>),
    ) {
        if let Some(c) = before.2 {
            self.add(before.0, before.1, c, -1);
        }
        if let Some(c) = after.2 {
            self.add(after.0, after.1, c, 1);
        }
    }

    /// The rows whose values actually change.
    pub fn nonzero(&self) -> impl Iterator<Item = (&CoverageKey, &CoverageCounts)> {
        self.0
            .iter()
            .filter(|(_, v)| v.at_least_one != 0 || v.completed != 0)
    }
}

/// Parses the stored comma-separated priority groups.
pub fn split_groups(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks priority group codes (snake_case, at most 8 groups).
pub fn validate_groups(groups: &[String]) -> Result<(), String> {
    if groups.len() > 8 {
        return Err("at most 8 priority groups".into());
    }
    for g in groups {
        let ok = !g.is_empty()
            && g.len() <= 32
            && g != ALL_GROUPS
            && g.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(format!(
                "priority group '{g}' must be 1 to 32 characters of a-z, 0-9 or '_'"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::standard_products;
    use time::macros::date;

    #[test]
    fn completion_follows_the_first_product_series() {
        let products = standard_products();
        let find = |c: &str| products.iter().find(|p| p.code == c);
        let d1 = ValidDose {
            product_code: "AZ".into(),
            date: date!(2021 - 07 - 01),
        };
        let d2 = ValidDose {
            product_code: "PFIZER".into(),
            date: date!(2021 - 08 - 01),
        };
        assert_eq!(contribution(&[], find), None);
        assert_eq!(
            contribution(std::slice::from_ref(&d1), find),
            Some(Contribution {
                product_code: "AZ".into(),
                completed: false
            })
        );
        assert_eq!(
            contribution(&[d1, d2], find),
            Some(Contribution {
                product_code: "AZ".into(),
                completed: true
            })
        );
    }

    #[test]
    fn a_change_moves_counts_between_rows_and_cancels_out() {
        let groups = vec!["elderly_65".to_string()];
        let one = Contribution {
            product_code: "AZ".into(),
            completed: false,
        };
        let done = Contribution {
            product_code: "AZ".into(),
            completed: true,
        };
        let mut delta = CoverageDelta::default();
        delta.change(("0665801", &groups, None), ("0665801", &groups, Some(&one)));
        delta.change(
            ("0665801", &groups, Some(&one)),
            ("0665801", &groups, Some(&done)),
        );
        let rows: Vec<_> = delta.nonzero().collect();
        assert_eq!(rows.len(), 2, "the group row and the all-groups row");
        for (_, v) in rows {
            assert_eq!(
                *v,
                CoverageCounts {
                    at_least_one: 1,
                    completed: 1
                }
            );
        }
        delta.change(
            ("0665801", &groups, Some(&done)),
            ("0665801", &groups, None),
        );
        assert_eq!(delta.nonzero().count(), 0);
    }

    #[test]
    fn group_codes_are_checked() {
        assert!(validate_groups(&["frontline".into()]).is_ok());
        assert!(validate_groups(&["*".into()]).is_err());
        assert!(validate_groups(&["Front Line".into()]).is_err());
    }
}
