//! FHIR `date` and `dateTime` values (R4 §2.24.0.1, the regexes of the
//! primitive types), checked by hand rather than with the `time` parser
//! because FHIR allows partial dates (`2012`, `2012-01`) and leap seconds,
//! and requires a zone whenever a time is given.

use time::{Date, Month};

/// How much of a date or dateTime was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DateTimePrecision {
    /// `YYYY`
    Year,
    /// `YYYY-MM`
    Month,
    /// `YYYY-MM-DD`
    Day,
    /// `YYYY-MM-DDThh:mm:ss[.f…](Z|±hh:mm)`
    Time,
}

/// A complete FHIR `date` (`YYYY-MM-DD`) that exists in the calendar.
/// Partial dates give `None`: callers that accept them use
/// [`parse_fhir_datetime`] and look at the precision.
pub fn parse_fhir_date(s: &str) -> Option<Date> {
    match parse_date_detailed(s) {
        Ok((date, DateTimePrecision::Day)) => Some(date),
        _ => None,
    }
}

/// Any FHIR `dateTime`, with the precision it was given at. Partial values
/// yield the first day of their year or month. With a time, the date is the
/// calendar day *as written*, in the zone written next to it (for a
/// vaccination that is the day at the site, which is what vaxgrid reports),
/// not converted to UTC.
pub fn parse_fhir_datetime(s: &str) -> Option<(Date, DateTimePrecision)> {
    parse_datetime_detailed(s).ok()
}

/// `YYYY-MM-DD`, the form vaxgrid writes for every full date.
pub fn format_fhir_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Like [`parse_fhir_datetime`] for the FHIR `date` type (no time part),
/// with a diagnostic for the OperationOutcome on failure.
pub(crate) fn parse_date_detailed(s: &str) -> Result<(Date, DateTimePrecision), String> {
    match parse_datetime_detailed(s)? {
        (_, DateTimePrecision::Time) => Err(format!(
            "'{}' has a time part but a FHIR date is YYYY, YYYY-MM or YYYY-MM-DD",
            clip(s)
        )),
        ok => Ok(ok),
    }
}

/// Parses a FHIR dateTime, explaining the first problem found.
pub(crate) fn parse_datetime_detailed(s: &str) -> Result<(Date, DateTimePrecision), String> {
    let b = s.as_bytes();
    let shape = || {
        format!(
            "'{}' is not a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD or \
             YYYY-MM-DDThh:mm:ss[.fff] followed by Z or ±hh:mm)",
            clip(s)
        )
    };
    let year = digits(b, 0, 4).ok_or_else(shape)?;
    if year == 0 {
        return Err(format!("'{}': year 0000 is not allowed", clip(s)));
    }
    // Four digits always fit an i32, and 1..=9999 is within `time`'s range.
    let year = year as i32;
    if b.len() == 4 {
        return calendar(s, year, 1, 1).map(|d| (d, DateTimePrecision::Year));
    }
    expect(b, 4, b'-').ok_or_else(shape)?;
    let month = digits(b, 5, 2).ok_or_else(shape)?;
    if !(1..=12).contains(&month) {
        return Err(format!("'{}': month {month:02} is not 01-12", clip(s)));
    }
    if b.len() == 7 {
        return calendar(s, year, month, 1).map(|d| (d, DateTimePrecision::Month));
    }
    expect(b, 7, b'-').ok_or_else(shape)?;
    let day = digits(b, 8, 2).ok_or_else(shape)?;
    let date = calendar(s, year, month, day)?;
    if b.len() == 10 {
        return Ok((date, DateTimePrecision::Day));
    }
    expect(b, 10, b'T').ok_or_else(shape)?;
    let hour = digits(b, 11, 2).ok_or_else(shape)?;
    expect(b, 13, b':').ok_or_else(shape)?;
    let minute = digits(b, 14, 2).ok_or_else(shape)?;
    expect(b, 16, b':').ok_or_else(shape)?;
    // 60 is a leap second, which the FHIR regex allows.
    let second = digits(b, 17, 2).ok_or_else(shape)?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err(format!("'{}': the time is out of range", clip(s)));
    }
    let mut pos = 19;
    if b.get(pos) == Some(&b'.') {
        let start = pos + 1;
        pos = start;
        while b.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        if pos == start {
            return Err(shape());
        }
    }
    match b.get(pos) {
        Some(b'Z') if b.len() == pos + 1 => Ok((date, DateTimePrecision::Time)),
        Some(b'+' | b'-') if b.len() == pos + 6 => {
            let zh = digits(b, pos + 1, 2).ok_or_else(shape)?;
            expect(b, pos + 3, b':').ok_or_else(shape)?;
            let zm = digits(b, pos + 4, 2).ok_or_else(shape)?;
            if (zh <= 13 && zm <= 59) || (zh == 14 && zm == 0) {
                Ok((date, DateTimePrecision::Time))
            } else {
                Err(format!("'{}': the time zone is out of range", clip(s)))
            }
        }
        None => Err(format!(
            "'{}': a dateTime with a time must carry a time zone (Z or ±hh:mm)",
            clip(s)
        )),
        Some(_) => Err(shape()),
    }
}

fn calendar(s: &str, year: i32, month: u32, day: u32) -> Result<Date, String> {
    let not_real = || format!("'{}' is not a date in the calendar", clip(s));
    let month = u8::try_from(month).map_err(|_| not_real())?;
    let month = Month::try_from(month).map_err(|_| not_real())?;
    let day = u8::try_from(day).map_err(|_| not_real())?;
    Date::from_calendar_date(year, month, day).map_err(|_| not_real())
}

/// `n` ASCII digits at `pos`, as a number.
fn digits(b: &[u8], pos: usize, n: usize) -> Option<u32> {
    let part = b.get(pos..pos.checked_add(n)?)?;
    part.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn expect(b: &[u8], pos: usize, c: u8) -> Option<()> {
    (b.get(pos) == Some(&c)).then_some(())
}

/// Quotes at most 40 characters of a value in a diagnostic: the value may be
/// a 4 KiB string and the diagnostic only has to identify it.
pub(crate) fn clip(s: &str) -> String {
    const KEEP: usize = 40;
    match s.char_indices().nth(KEEP) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn full_dates() {
        assert_eq!(parse_fhir_date("1980-01-01"), Some(date!(1980 - 01 - 01)));
        assert_eq!(parse_fhir_date("2024-02-29"), Some(date!(2024 - 02 - 29)));
        assert_eq!(parse_fhir_date("2021-02-30"), None);
        assert_eq!(parse_fhir_date("2023-02-29"), None);
        assert_eq!(parse_fhir_date("2021-04-31"), None);
        assert_eq!(parse_fhir_date("2021-13-01"), None);
        assert_eq!(parse_fhir_date("2021-00-10"), None);
        assert_eq!(parse_fhir_date("2021-01-00"), None);
        assert_eq!(parse_fhir_date("0000-01-01"), None);
        // Partial or with a time: a valid dateTime, not a full date.
        assert_eq!(parse_fhir_date("1980"), None);
        assert_eq!(parse_fhir_date("1980-05"), None);
        assert_eq!(parse_fhir_date("1980-01-01T00:00:00Z"), None);
    }

    #[test]
    fn malformed_dates() {
        for s in [
            "",
            "80",
            "1980-1-1",
            "1980/01/01",
            "1980-01-01 ",
            " 1980-01-01",
            "١٩٨٠-01-01",
            "1980-01-0a",
            "+1980-01-01",
            "19800101",
        ] {
            assert_eq!(parse_fhir_datetime(s), None, "{s:?}");
        }
    }

    #[test]
    fn partial_datetimes_keep_their_precision() {
        assert_eq!(
            parse_fhir_datetime("2012"),
            Some((date!(2012 - 01 - 01), DateTimePrecision::Year))
        );
        assert_eq!(
            parse_fhir_datetime("2012-07"),
            Some((date!(2012 - 07 - 01), DateTimePrecision::Month))
        );
        assert_eq!(
            parse_fhir_datetime("2013-01-10"),
            Some((date!(2013 - 01 - 10), DateTimePrecision::Day))
        );
    }

    #[test]
    fn datetimes_need_a_zone_and_a_real_time() {
        let ok = Some((date!(2021 - 07 - 15), DateTimePrecision::Time));
        assert_eq!(parse_fhir_datetime("2021-07-15T10:00:00+07:00"), ok);
        assert_eq!(parse_fhir_datetime("2021-07-15T10:00:00Z"), ok);
        assert_eq!(parse_fhir_datetime("2021-07-15T10:00:00.123-05:00"), ok);
        assert_eq!(parse_fhir_datetime("2021-07-15T23:59:60+14:00"), ok);
        for s in [
            "2021-07-15T10:00:00",
            "2021-07-15T10:00+07:00",
            "2021-07-15T24:00:00Z",
            "2021-07-15T10:60:00Z",
            "2021-07-15T10:00:00.Z",
            "2021-07-15T10:00:00+14:30",
            "2021-07-15T10:00:00+7:00",
            "2021-07-15T10:00:00Zjunk",
            "2021-02-30T10:00:00Z",
        ] {
            assert_eq!(parse_fhir_datetime(s), None, "{s:?}");
        }
    }

    #[test]
    fn diagnostics_name_the_problem() {
        let e = parse_datetime_detailed("2021-13-40").unwrap_err();
        assert!(e.contains("month 13"), "{e}");
        let e = parse_datetime_detailed("2021-02-30").unwrap_err();
        assert!(e.contains("not a date in the calendar"), "{e}");
        let e = parse_datetime_detailed("2021-07-15T10:00:00").unwrap_err();
        assert!(e.contains("time zone"), "{e}");
        let e = parse_date_detailed("2021-07-15T10:00:00Z").unwrap_err();
        assert!(e.contains("time part"), "{e}");
    }

    #[test]
    fn format_pads_the_year() {
        assert_eq!(format_fhir_date(date!(0987 - 03 - 04)), "0987-03-04");
    }

    #[test]
    fn clip_cuts_on_char_boundaries() {
        let long = "Đ".repeat(100);
        assert_eq!(clip(&long).chars().count(), 41);
        assert_eq!(clip("short"), "short");
    }
}
