//! HL7 DTM values (`YYYYMMDD[HH[MM[SS[.S[S[S[S]]]]]]][+/-ZZZZ]`).
//!
//! HL7 allows a value to stop at any precision; a vaccination record needs at
//! least the day, so shorter values (`YYYY`, `YYYYMM`) are refused. Every part
//! is range-checked through `time`, which is what rejects values such as
//! `20211345250000` (month 13, hour 25).

use time::{Date, Month, Time, UtcOffset};

/// How much of a DTM value was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    Day,
    Hour,
    Minute,
    Second,
    /// Seconds with 1 to 4 decimals.
    FractionalSecond,
}

/// A parsed DTM value. The date is always present; the time of day and the
/// UTC offset only when the sender gave them (a missing offset means the
/// sender's local time, which HL7 leaves to the trading partners).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hl7DateTime {
    pub date: Date,
    pub time: Option<Time>,
    pub offset: Option<UtcOffset>,
    pub precision: Precision,
}

/// Parses a DTM value with at least day precision.
pub fn parse_datetime(value: &str) -> Option<Hl7DateTime> {
    let value = value.trim();
    let (local, offset) = split_offset(value)?;
    let (whole, fraction) = match local.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (local, None),
    };
    let date = parse_date_digits(whole.get(..8)?)?;
    let time_digits = whole.get(8..)?;
    if !time_digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (time, precision) = match (time_digits.len(), fraction) {
        (0, None) => (None, Precision::Day),
        (2, None) => (Some(hms(time_digits, "00", "00", 0)?), Precision::Hour),
        (4, None) => (
            Some(hms(time_digits.get(..2)?, time_digits.get(2..)?, "00", 0)?),
            Precision::Minute,
        ),
        (6, fraction) => {
            let nanos = match fraction {
                None => 0,
                Some(f) => fraction_nanos(f)?,
            };
            let precision = if fraction.is_some() {
                Precision::FractionalSecond
            } else {
                Precision::Second
            };
            (
                Some(hms(
                    time_digits.get(..2)?,
                    time_digits.get(2..4)?,
                    time_digits.get(4..)?,
                    nanos,
                )?),
                precision,
            )
        }
        _ => return None,
    };
    // A zone on a bare date (HL7 defines it with a time of day) is harmless,
    // so it is kept rather than refused.
    Some(Hl7DateTime {
        date,
        time,
        offset,
        precision,
    })
}

/// Parses a date-only value (DT) or the date part of a DTM: anything
/// [`parse_datetime`] accepts, keeping the day.
pub fn parse_date(value: &str) -> Option<Date> {
    parse_datetime(value).map(|dt| dt.date)
}

/// Splits `+ZZZZ` / `-ZZZZ` off the end. The sign can only follow the date
/// digits, so it is searched after position 8 (a date never contains one).
fn split_offset(value: &str) -> Option<(&str, Option<UtcOffset>)> {
    let Some(pos) = value.find(['+', '-']) else {
        return Some((value, None));
    };
    let local = value.get(..pos)?;
    let sign = value.get(pos..pos + 1)?;
    let digits = value.get(pos + 1..)?;
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i8 = digits.get(..2)?.parse().ok()?;
    let minutes: i8 = digits.get(2..)?.parse().ok()?;
    // Real zones lie between -12:00 and +14:00.
    if hours > 14 || minutes > 59 {
        return None;
    }
    let (hours, minutes) = if sign == "-" {
        (-hours, -minutes)
    } else {
        (hours, minutes)
    };
    let offset = UtcOffset::from_hms(hours, minutes, 0).ok()?;
    Some((local, Some(offset)))
}

fn parse_date_digits(digits: &str) -> Option<Date> {
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = digits.get(..4)?.parse().ok()?;
    let month: u8 = digits.get(4..6)?.parse().ok()?;
    let day: u8 = digits.get(6..)?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

fn hms(hours: &str, minutes: &str, seconds: &str, nanos: u32) -> Option<Time> {
    Time::from_hms_nano(
        hours.parse().ok()?,
        minutes.parse().ok()?,
        seconds.parse().ok()?,
        nanos,
    )
    .ok()
}

/// `.S` to `.SSSS` as nanoseconds.
fn fraction_nanos(fraction: &str) -> Option<u32> {
    if fraction.is_empty() || fraction.len() > 4 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: u32 = fraction.parse().ok()?;
    let scale = 10u32.checked_pow(9u32.checked_sub(u32::try_from(fraction.len()).ok()?)?)?;
    digits.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, offset, time};

    #[test]
    fn precisions() {
        let cases = [
            ("20210715", None, Precision::Day),
            ("2021071510", Some(time!(10:00)), Precision::Hour),
            ("202107151015", Some(time!(10:15)), Precision::Minute),
            ("20210715101530", Some(time!(10:15:30)), Precision::Second),
            (
                "20210715101530.25",
                Some(time!(10:15:30.25)),
                Precision::FractionalSecond,
            ),
        ];
        for (text, time, precision) in cases {
            let dt = parse_datetime(text).unwrap();
            assert_eq!(dt.date, date!(2021 - 07 - 15), "{text}");
            assert_eq!(dt.time, time, "{text}");
            assert_eq!(dt.precision, precision, "{text}");
            assert_eq!(dt.offset, None, "{text}");
        }
    }

    #[test]
    fn time_zones() {
        let dt = parse_datetime("20210715101500+0700").unwrap();
        assert_eq!(dt.offset, Some(offset!(+7)));
        assert_eq!(dt.time, Some(time!(10:15)));
        let dt = parse_datetime("20190701082240-0500").unwrap();
        assert_eq!(dt.offset, Some(offset!(-5)));
        let dt = parse_datetime("20210715-0330").unwrap();
        assert_eq!(dt.offset, Some(offset!(-3:30)));
        assert_eq!(dt.time, None);
        for bad in [
            "20210715+07",
            "20210715+07000",
            "20210715+2500",
            "20210715+0760",
            "20210715+-700",
        ] {
            assert!(parse_datetime(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn impossible_values_are_refused() {
        for bad in [
            "20211345250000", // month 13, hour 25
            "20210230",       // 30 February
            "20210715246000",
            "20210715106000",
            "20210715101560",
            "2021",
            "202107",
            "2021071",
            "202107151",
            "20210715101",
            "2021071510153",
            "20210715101530.",
            "20210715101530.12345",
            "20210715.5",
            "2021-07-15",
            "",
            "abcdefgh",
            "２０２１０７１５",
        ] {
            assert!(parse_datetime(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn leap_days() {
        assert_eq!(parse_date("20200229"), Some(date!(2020 - 02 - 29)));
        assert_eq!(parse_date("20210229"), None);
        assert_eq!(parse_date(" 19800101 "), Some(date!(1980 - 01 - 01)));
    }
}
