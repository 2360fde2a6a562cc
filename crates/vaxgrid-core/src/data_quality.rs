//! The checks of the data-quality report: what a commune statistician
//! fixes in their list before a wave. Each names persons (merged records
//! aside); the store counts them per area and lists them.

/// One check of a person's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    /// Another record with the same folded name, birth date and commune,
    /// or a pair the duplicate finder proposed, not yet decided.
    LikelyDuplicate,
    /// No phone number: no reminder reaches them.
    MissingPhone,
    /// Neither a national document nor any other identifier (a child
    /// registered with a guardian only).
    MissingId,
    /// Born in the future or more than [`MAX_AGE_YEARS`] ago, or a dose
    /// before birth or in the future.
    ImplausibleDates,
    /// Home area above the lowest level (a commune, not its village): the
    /// person is on no village's list.
    NoHomeVillage,
}

/// The oldest plausible age, in years.
pub const MAX_AGE_YEARS: i32 = 120;

impl Check {
    pub const ALL: [Check; 5] = [
        Check::LikelyDuplicate,
        Check::MissingPhone,
        Check::MissingId,
        Check::ImplausibleDates,
        Check::NoHomeVillage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Check::LikelyDuplicate => "likely_duplicate",
            Check::MissingPhone => "missing_phone",
            Check::MissingId => "missing_id",
            Check::ImplausibleDates => "implausible_dates",
            Check::NoHomeVillage => "no_home_village",
        }
    }

    pub fn parse(s: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The names, for a message that lists them.
    pub fn names() -> String {
        Check::ALL.map(Check::as_str).join(", ")
    }
}

/// The earliest plausible birth date on `today`.
pub fn earliest_birth(today: time::Date) -> time::Date {
    let year = today.year() - MAX_AGE_YEARS;
    // 29 February of a leap year lands on 28 February.
    time::Date::from_calendar_date(year, today.month(), today.day())
        .or_else(|_| time::Date::from_calendar_date(year, today.month(), 28))
        .expect("a day of a month exists")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn checks_read_back_and_list() {
        for c in Check::ALL {
            assert_eq!(Check::parse(c.as_str()), Some(c));
        }
        assert_eq!(Check::parse("missing phone"), None);
        assert_eq!(
            Check::names(),
            "likely_duplicate, missing_phone, missing_id, implausible_dates, no_home_village"
        );
    }

    #[test]
    fn the_oldest_plausible_birth() {
        assert_eq!(earliest_birth(date!(2026 - 12 - 06)), date!(1906 - 12 - 06));
        assert_eq!(earliest_birth(date!(2024 - 02 - 29)), date!(1904 - 02 - 29));
        assert_eq!(earliest_birth(date!(2028 - 02 - 29)), date!(1908 - 02 - 29));
        // 1900 was no leap year.
        assert_eq!(earliest_birth(date!(2020 - 02 - 29)), date!(1900 - 02 - 28));
    }
}
