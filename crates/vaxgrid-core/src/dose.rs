//! The rules a new dose record must satisfy, as pure functions over the
//! person's history. The store calls these inside the dose writer's
//! transaction, so the history they see is the committed one plus the doses
//! accepted earlier in the same batch.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::product::Product;

/// Release status of a lot. Only released lots may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LotStatus {
    Released,
    Quarantined,
    Recalled,
}

impl LotStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LotStatus::Released => "released",
            LotStatus::Quarantined => "quarantined",
            LotStatus::Recalled => "recalled",
        }
    }
    pub fn parse(s: &str) -> Option<LotStatus> {
        [
            LotStatus::Released,
            LotStatus::Quarantined,
            LotStatus::Recalled,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }
}

/// Whether a lot may be offered for a dose of `product_code` on `day`:
/// released, of that product, not expired that day (the dose writer
/// refuses any other; the vaccination table lists only these).
pub fn lot_usable(lot: &LotFacts, product_code: &str, day: Date) -> bool {
    lot.status == LotStatus::Released && lot.product_code == product_code && lot.expiry >= day
}

/// What the rules need to know of a lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotFacts {
    pub product_code: String,
    pub expiry: Date,
    pub status: LotStatus,
}

/// A dose that counts: administered and not entered in error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDose {
    pub product_code: String,
    pub date: Date,
}

/// A dose being recorded.
#[derive(Debug, Clone)]
pub struct NewDose<'a> {
    pub product: &'a Product,
    pub lot: &'a LotFacts,
    pub date: Date,
    /// The dose number the client states, if any; it must follow the history.
    pub dose_number: Option<u32>,
    /// A reason given by the vaccinator to accept an interval or age the rules
    /// would refuse (e.g. a clinician's decision); stored with the record.
    pub override_reason: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoseRuleError {
    #[error("the lot belongs to product {lot_product}, not {product}")]
    LotProductMismatch {
        product: String,
        lot_product: String,
    },
    #[error("lot expired on {expiry}; a dose on {date} cannot use it")]
    LotExpired { expiry: Date, date: Date },
    #[error("lot is {}; only released lots may be used", status.as_str())]
    LotNotReleased { status: LotStatus },
    #[error("the dose date {date} is after today ({today})")]
    DateInFuture { date: Date, today: Date },
    #[error("the dose date {date} is before the person's birth date {birth_date}")]
    DateBeforeBirth { date: Date, birth_date: Date },
    #[error("dose number {given} does not follow the person's history; the next dose is number {expected}")]
    DoseNumberMismatch { given: u32, expected: u32 },
    #[error("only {days} days since the previous dose on {previous}; {product} needs at least {min_days}; the earliest valid date is {earliest}")]
    IntervalTooShort {
        previous: Date,
        days: i64,
        min_days: u32,
        product: String,
        earliest: Date,
    },
    #[error("the person is younger than {min_age_years}, the minimum age for {product}; eligible from {eligible_from}")]
    TooYoung {
        min_age_years: u32,
        product: String,
        eligible_from: Date,
    },
    #[error("override_reason must not be empty when given")]
    EmptyOverrideReason,
}

impl DoseRuleError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            DoseRuleError::LotProductMismatch { .. }
            | DoseRuleError::LotExpired { .. }
            | DoseRuleError::LotNotReleased { .. } => "lot",
            DoseRuleError::DateInFuture { .. }
            | DoseRuleError::DateBeforeBirth { .. }
            | DoseRuleError::IntervalTooShort { .. }
            | DoseRuleError::TooYoung { .. } => "administered_on",
            DoseRuleError::DoseNumberMismatch { .. } => "dose_number",
            DoseRuleError::EmptyOverrideReason => "override_reason",
        }
    }

    /// Whether a stated override reason lets the dose through. Lot problems
    /// and impossible dates never can: they are facts, not clinical judgement.
    pub fn overridable(&self) -> bool {
        matches!(
            self,
            DoseRuleError::IntervalTooShort { .. } | DoseRuleError::TooYoung { .. }
        )
    }
}

/// The date a person born on `birth_date` turns `years` old (29 February
/// birthdays count from 1 March in non-leap years).
pub fn birthday(birth_date: Date, years: u32) -> Date {
    let year = birth_date.year() + years as i32;
    Date::from_calendar_date(year, birth_date.month(), birth_date.day()).unwrap_or_else(|_| {
        Date::from_calendar_date(year, time::Month::March, 1).expect("1 March exists")
    })
}

/// Checks a new dose against the person's valid history (in date order) and
/// returns the dose number it gets. `product_of` resolves the product of an
/// earlier dose, whose minimum interval governs the gap to the next one.
pub fn check_new_dose<'p>(
    history: &[ValidDose],
    birth_date: Date,
    today: Date,
    new: &NewDose<'_>,
    product_of: impl Fn(&str) -> Option<&'p Product>,
) -> Result<u32, DoseRuleError> {
    if new.override_reason.is_some_and(|r| r.trim().is_empty()) {
        return Err(DoseRuleError::EmptyOverrideReason);
    }
    if new.lot.product_code != new.product.code {
        return Err(DoseRuleError::LotProductMismatch {
            product: new.product.code.clone(),
            lot_product: new.lot.product_code.clone(),
        });
    }
    if new.lot.status != LotStatus::Released {
        return Err(DoseRuleError::LotNotReleased {
            status: new.lot.status,
        });
    }
    if new.date > new.lot.expiry {
        return Err(DoseRuleError::LotExpired {
            expiry: new.lot.expiry,
            date: new.date,
        });
    }
    if new.date > today {
        return Err(DoseRuleError::DateInFuture {
            date: new.date,
            today,
        });
    }
    if new.date < birth_date {
        return Err(DoseRuleError::DateBeforeBirth {
            date: new.date,
            birth_date,
        });
    }
    let expected = history.len() as u32 + 1;
    if let Some(given) = new.dose_number {
        if given != expected {
            return Err(DoseRuleError::DoseNumberMismatch { given, expected });
        }
    }
    let overridden = new.override_reason.is_some();
    let eligible_from = birthday(birth_date, new.product.min_age_years);
    if new.date < eligible_from && !overridden {
        return Err(DoseRuleError::TooYoung {
            min_age_years: new.product.min_age_years,
            product: new.product.code.clone(),
            eligible_from,
        });
    }
    if let Some(previous) = history.last() {
        // The schedule of the previous dose's product sets the gap; when that
        // product is unknown (e.g. an imported historical record) use this one's.
        let governing = product_of(&previous.product_code).unwrap_or(new.product);
        let min_days = governing.min_interval_days;
        let days = (new.date - previous.date).whole_days();
        if days < i64::from(min_days) && !overridden {
            return Err(DoseRuleError::IntervalTooShort {
                previous: previous.date,
                days,
                min_days,
                product: governing.code.clone(),
                earliest: previous.date + Duration::days(i64::from(min_days)),
            });
        }
    }
    Ok(expected)
}

/// Checks a dose reported from another source (a paper card, another
/// registry, a dose given abroad) and returns its place in the history by
/// date. Such a record says what happened: lot, site, age and interval rules
/// are for doses about to be given, so only the date must be possible.
pub fn check_reported_dose(
    history: &[ValidDose],
    birth_date: Date,
    today: Date,
    date: Date,
) -> Result<u32, DoseRuleError> {
    if date > today {
        return Err(DoseRuleError::DateInFuture { date, today });
    }
    if date < birth_date {
        return Err(DoseRuleError::DateBeforeBirth { date, birth_date });
    }
    Ok(history.iter().filter(|d| d.date <= date).count() as u32 + 1)
}

/// The date proposed for the next dose: the recommended interval of the last
/// dose's product after the last valid dose, or `None` once the primary series
/// of the first dose's product is complete (or the product is unknown).
pub fn next_dose_due<'p>(
    history: &[ValidDose],
    product_of: impl Fn(&str) -> Option<&'p Product>,
) -> Option<Date> {
    let first = product_of(&history.first()?.product_code)?;
    if history.len() as u32 >= first.doses_in_series {
        return None;
    }
    let last = history.last()?;
    let interval = product_of(&last.product_code)
        .unwrap_or(first)
        .recommended_interval_days;
    Some(last.date + Duration::days(i64::from(interval)))
}

#[cfg(test)]
mod reported_tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn reported_doses_take_their_place_by_date_and_only_need_a_possible_date() {
        let history = [
            ValidDose {
                product_code: "AZ".into(),
                date: date!(2021 - 07 - 01),
            },
            ValidDose {
                product_code: "AZ".into(),
                date: date!(2021 - 10 - 01),
            },
        ];
        let born = date!(1980 - 01 - 01);
        let today = date!(2022 - 01 - 01);
        assert_eq!(
            check_reported_dose(&history, born, today, date!(2021 - 05 - 01)),
            Ok(1)
        );
        assert_eq!(
            check_reported_dose(&history, born, today, date!(2021 - 07 - 02)),
            Ok(2)
        );
        assert_eq!(
            check_reported_dose(&history, born, today, date!(2021 - 12 - 01)),
            Ok(3)
        );
        assert!(matches!(
            check_reported_dose(&history, born, today, date!(2022 - 02 - 01)),
            Err(DoseRuleError::DateInFuture { .. })
        ));
        assert!(matches!(
            check_reported_dose(&history, born, today, date!(1979 - 02 - 01)),
            Err(DoseRuleError::DateBeforeBirth { .. })
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::standard_products;
    use time::macros::date;

    fn lot(product: &str) -> LotFacts {
        LotFacts {
            product_code: product.into(),
            expiry: date!(2022 - 06 - 30),
            status: LotStatus::Released,
        }
    }

    fn run(history: &[ValidDose], new: NewDose<'_>) -> Result<u32, DoseRuleError> {
        let products = standard_products();
        let products: &'static [Product] = Box::leak(products.into_boxed_slice());
        check_new_dose(
            history,
            date!(1980 - 02 - 29),
            date!(2021 - 12 - 31),
            &new,
            |code| products.iter().find(|p| p.code == code),
        )
    }

    #[test]
    fn second_astrazeneca_dose_needs_four_weeks_unless_overridden() {
        let az = &standard_products()[0];
        let l = lot("AZ");
        let history = [ValidDose {
            product_code: "AZ".into(),
            date: date!(2021 - 07 - 01),
        }];
        let early = NewDose {
            product: az,
            lot: &l,
            date: date!(2021 - 07 - 20),
            dose_number: Some(2),
            override_reason: None,
        };
        let err = run(&history, early.clone()).unwrap_err();
        assert_eq!(
            err,
            DoseRuleError::IntervalTooShort {
                previous: date!(2021 - 07 - 01),
                days: 19,
                min_days: 28,
                product: "AZ".into(),
                earliest: date!(2021 - 07 - 29),
            }
        );
        assert!(err
            .to_string()
            .contains("earliest valid date is 2021-07-29"));
        let overridden = NewDose {
            override_reason: Some("outbreak ring vaccination"),
            ..early.clone()
        };
        assert_eq!(run(&history, overridden), Ok(2));
        let on_time = NewDose {
            date: date!(2021 - 07 - 29),
            ..early
        };
        assert_eq!(run(&history, on_time), Ok(2));
    }

    #[test]
    fn dose_number_must_follow_history() {
        let az = &standard_products()[0];
        let l = lot("AZ");
        let new = NewDose {
            product: az,
            lot: &l,
            date: date!(2021 - 07 - 01),
            dose_number: Some(2),
            override_reason: None,
        };
        assert_eq!(
            run(&[], new.clone()),
            Err(DoseRuleError::DoseNumberMismatch {
                given: 2,
                expected: 1
            })
        );
        assert_eq!(
            run(
                &[],
                NewDose {
                    dose_number: None,
                    ..new
                }
            ),
            Ok(1)
        );
    }

    #[test]
    fn lot_rules_are_not_overridable() {
        let az = &standard_products()[0];
        let mut l = lot("AZ");
        l.expiry = date!(2021 - 06 - 30);
        let new = NewDose {
            product: az,
            lot: &l,
            date: date!(2021 - 07 - 01),
            dose_number: None,
            override_reason: Some("shortage"),
        };
        let err = run(&[], new.clone()).unwrap_err();
        assert!(matches!(err, DoseRuleError::LotExpired { .. }));
        assert!(!err.overridable());
        assert_eq!(err.field(), "lot");
        let pfizer_lot = lot("PFIZER");
        let wrong = NewDose {
            lot: &pfizer_lot,
            ..new.clone()
        };
        assert!(matches!(
            run(&[], wrong),
            Err(DoseRuleError::LotProductMismatch { .. })
        ));
        let mut recalled = lot("AZ");
        recalled.status = LotStatus::Recalled;
        let bad = NewDose {
            lot: &recalled,
            ..new
        };
        assert!(matches!(
            run(&[], bad),
            Err(DoseRuleError::LotNotReleased { .. })
        ));
    }

    #[test]
    fn impossible_dates_are_refused() {
        let az = &standard_products()[0];
        let l = lot("AZ");
        let future = NewDose {
            product: az,
            lot: &l,
            date: date!(2022 - 01 - 01),
            dose_number: None,
            override_reason: None,
        };
        assert!(matches!(
            run(&[], future.clone()),
            Err(DoseRuleError::DateInFuture { .. })
        ));
        let before_birth = NewDose {
            date: date!(1979 - 01 - 01),
            ..future
        };
        assert!(matches!(
            run(&[], before_birth),
            Err(DoseRuleError::DateBeforeBirth { .. })
        ));
    }

    #[test]
    fn next_dose_is_proposed_at_the_recommended_interval() {
        let products = standard_products();
        let find = |code: &str| products.iter().find(|p| p.code == code);
        let one = [ValidDose {
            product_code: "AZ".into(),
            date: date!(2021 - 07 - 01),
        }];
        assert_eq!(next_dose_due(&one, find), Some(date!(2021 - 08 - 26)));
        let two = [
            one[0].clone(),
            ValidDose {
                product_code: "AZ".into(),
                date: date!(2021 - 08 - 26),
            },
        ];
        assert_eq!(next_dose_due(&two, find), None);
        assert_eq!(next_dose_due(&[], find), None);
    }

    #[test]
    fn leap_day_birthdays_and_minimum_age() {
        assert_eq!(birthday(date!(2004 - 02 - 29), 18), date!(2022 - 03 - 01));
        assert_eq!(birthday(date!(2004 - 02 - 28), 18), date!(2022 - 02 - 28));
        let products = standard_products();
        let az = &products[0];
        let l = lot("AZ");
        let new = NewDose {
            product: az,
            lot: &l,
            date: date!(2021 - 07 - 01),
            dose_number: None,
            override_reason: None,
        };
        let err = check_new_dose(
            &[],
            date!(2004 - 02 - 29),
            date!(2021 - 12 - 31),
            &new,
            |_| None,
        )
        .unwrap_err();
        assert_eq!(
            err,
            DoseRuleError::TooYoung {
                min_age_years: 18,
                product: "AZ".into(),
                eligible_from: date!(2022 - 03 - 01)
            }
        );
    }

    #[test]
    fn only_released_unexpired_lots_of_the_product_are_usable() {
        let lot = LotFacts {
            product_code: "AZ".into(),
            expiry: date!(2021 - 07 - 31),
            status: LotStatus::Released,
        };
        assert!(lot_usable(&lot, "AZ", date!(2021 - 07 - 31)));
        assert!(!lot_usable(&lot, "AZ", date!(2021 - 08 - 01)));
        assert!(!lot_usable(&lot, "PF", date!(2021 - 07 - 01)));
        for status in [LotStatus::Quarantined, LotStatus::Recalled] {
            let held = LotFacts {
                status,
                ..lot.clone()
            };
            assert!(!lot_usable(&held, "AZ", date!(2021 - 07 - 01)));
        }
    }
}
