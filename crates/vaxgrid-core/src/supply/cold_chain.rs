//! Cold-chain equipment readings and temperature excursions.
//!
//! Temperatures are whole tenths of a degree Celsius (`45` = 4.5 °C), as
//! data loggers report them, so comparisons are exact. A reading outside an
//! equipment's allowed range opens an excursion; the first reading back in
//! range closes it. An excursion carries its start, its end (or the last
//! reading while it lasts), its duration and both extremes: what a
//! supervisor needs to decide whether the lots inside can be released. The
//! [`Detector`] takes readings one by one as they arrive, so the store can
//! quarantine the lots of the equipment as soon as an excursion opens.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// Colder than any vaccine freezer (ultra-cold: −80 °C) or hotter than any
/// place a vaccine carrier goes: a reading outside is a broken sensor or a
/// typing error, never a temperature.
pub const MIN_PLAUSIBLE_TENTHS: i32 = -900;
pub const MAX_PLAUSIBLE_TENTHS: i32 = 600;
/// How far ahead of the server's clock a logger's clock may run.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// An equipment's allowed range, inclusive, in tenths of °C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub min_tenths: i32,
    pub max_tenths: i32,
}

impl Range {
    pub fn new(min_tenths: i32, max_tenths: i32) -> Result<Range, ReadingError> {
        for t in [min_tenths, max_tenths] {
            if !(MIN_PLAUSIBLE_TENTHS..=MAX_PLAUSIBLE_TENTHS).contains(&t) {
                return Err(ReadingError::Impossible(t));
            }
        }
        if min_tenths > max_tenths {
            return Err(ReadingError::RangeOrder);
        }
        Ok(Range {
            min_tenths,
            max_tenths,
        })
    }

    pub fn contains(&self, tenths: i32) -> bool {
        (self.min_tenths..=self.max_tenths).contains(&tenths)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub tenths: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadingError {
    #[error("{}.{} °C is not a possible temperature (allowed {}..{} °C)", .0 / 10, (.0 % 10).abs(), MIN_PLAUSIBLE_TENTHS / 10, MAX_PLAUSIBLE_TENTHS / 10)]
    Impossible(i32),
    #[error("the reading's time {at} is after now ({now})")]
    Future {
        at: OffsetDateTime,
        now: OffsetDateTime,
    },
    #[error("the reading's time {at} is not after the previous reading's ({previous})")]
    NotAfterPrevious {
        at: OffsetDateTime,
        previous: OffsetDateTime,
    },
    #[error("the range's minimum is above its maximum")]
    RangeOrder,
}

impl ReadingError {
    pub fn field(&self) -> &'static str {
        match self {
            ReadingError::Impossible(_) => "temperature_c",
            ReadingError::Future { .. } | ReadingError::NotAfterPrevious { .. } => "at",
            ReadingError::RangeOrder => "min_c",
        }
    }
}

/// A reading's own rules: a possible temperature, not in the future.
pub fn check_reading(r: &Reading, now: OffsetDateTime) -> Result<(), ReadingError> {
    if !(MIN_PLAUSIBLE_TENTHS..=MAX_PLAUSIBLE_TENTHS).contains(&r.tenths) {
        return Err(ReadingError::Impossible(r.tenths));
    }
    if r.at > now + CLOCK_SKEW {
        return Err(ReadingError::Future { at: r.at, now });
    }
    Ok(())
}

/// The errors of a batch of readings (a logger's CSV), each with its row
/// index, checking every row so all can be fixed at once. Rows must be in
/// time order, each after the one before, and after `last_stored` (the
/// equipment's latest reading already recorded).
pub fn check_batch(
    readings: &[Reading],
    last_stored: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Vec<(usize, ReadingError)> {
    let mut errors = Vec::new();
    let mut previous = last_stored;
    for (i, r) in readings.iter().enumerate() {
        if let Err(e) = check_reading(r, now) {
            errors.push((i, e));
            continue;
        }
        if let Some(p) = previous.filter(|p| r.at <= *p) {
            errors.push((
                i,
                ReadingError::NotAfterPrevious {
                    at: r.at,
                    previous: p,
                },
            ));
            continue;
        }
        previous = Some(r.at);
    }
    errors
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExcursionKind {
    /// Above the range (a fridge door left open, a power cut).
    Heat,
    /// Below the range: freezing destroys most vaccines kept at 2–8 °C.
    Freeze,
    /// Both during one excursion.
    Both,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excursion {
    pub kind: ExcursionKind,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// The first reading back in range; `None` while it lasts.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// The last reading seen out of range.
    #[serde(with = "time::serde::rfc3339")]
    pub last_out_at: OffsetDateTime,
    pub min_tenths: i32,
    pub max_tenths: i32,
    pub readings: u32,
}

impl Excursion {
    /// From the first reading out of range to the first back in range, or
    /// to the last reading out of range while it lasts.
    pub fn duration(&self) -> Duration {
        self.ended_at.unwrap_or(self.last_out_at) - self.started_at
    }

    /// One line for a quarantine reason: `heat to 9.4 °C for 95 min from …`.
    pub fn describe(&self) -> String {
        let t = |v: i32| {
            format!(
                "{}{}.{} °C",
                if v < 0 { "-" } else { "" },
                (v / 10).abs(),
                (v % 10).abs()
            )
        };
        let extreme = match self.kind {
            ExcursionKind::Heat => format!("heat to {}", t(self.max_tenths)),
            ExcursionKind::Freeze => format!("freeze to {}", t(self.min_tenths)),
            ExcursionKind::Both => format!("{} to {}", t(self.min_tenths), t(self.max_tenths)),
        };
        format!(
            "{extreme} for {} min from {}",
            self.duration().whole_minutes(),
            self.started_at
        )
    }
}

/// What a reading did to the equipment's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An excursion began with this reading: quarantine the lots now.
    Opened(Excursion),
    /// The open excursion continues (its extremes and duration updated).
    Continues(Excursion),
    /// The excursion ended with this reading back in range.
    Closed(Excursion),
    InRange,
}

/// Excursion detection over one equipment's readings, fed in time order.
#[derive(Debug, Clone)]
pub struct Detector {
    range: Range,
    open: Option<Excursion>,
    last_at: Option<OffsetDateTime>,
}

impl Detector {
    /// A detector for `range`, resuming an excursion still open at the last
    /// stored reading, if any.
    pub fn new(range: Range, open: Option<Excursion>, last_at: Option<OffsetDateTime>) -> Detector {
        Detector {
            range,
            open,
            last_at,
        }
    }

    pub fn open_excursion(&self) -> Option<&Excursion> {
        self.open.as_ref()
    }

    pub fn push(&mut self, r: Reading, now: OffsetDateTime) -> Result<Event, ReadingError> {
        check_reading(&r, now)?;
        if let Some(previous) = self.last_at.filter(|p| r.at <= *p) {
            return Err(ReadingError::NotAfterPrevious { at: r.at, previous });
        }
        self.last_at = Some(r.at);
        let side = if r.tenths > self.range.max_tenths {
            Some(ExcursionKind::Heat)
        } else if r.tenths < self.range.min_tenths {
            Some(ExcursionKind::Freeze)
        } else {
            None
        };
        Ok(match (side, self.open.take()) {
            (None, None) => Event::InRange,
            (None, Some(mut e)) => {
                e.ended_at = Some(r.at);
                Event::Closed(e)
            }
            (Some(kind), None) => {
                let e = Excursion {
                    kind,
                    started_at: r.at,
                    ended_at: None,
                    last_out_at: r.at,
                    min_tenths: r.tenths,
                    max_tenths: r.tenths,
                    readings: 1,
                };
                self.open = Some(e.clone());
                Event::Opened(e)
            }
            (Some(kind), Some(mut e)) => {
                if kind != e.kind {
                    e.kind = ExcursionKind::Both;
                }
                e.last_out_at = r.at;
                e.min_tenths = e.min_tenths.min(r.tenths);
                e.max_tenths = e.max_tenths.max(r.tenths);
                e.readings += 1;
                self.open = Some(e.clone());
                Event::Continues(e)
            }
        })
    }
}

/// All excursions in a batch of readings (closed ones, then the one still
/// open at the end, if any), or the first bad reading with its row index.
pub fn detect(
    range: Range,
    readings: &[Reading],
    now: OffsetDateTime,
) -> Result<Vec<Excursion>, (usize, ReadingError)> {
    let mut d = Detector::new(range, None, None);
    let mut found = Vec::new();
    for (i, r) in readings.iter().enumerate() {
        if let Event::Closed(e) = d.push(*r, now).map_err(|e| (i, e))? {
            found.push(e);
        }
    }
    found.extend(d.open);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2021-08-15 00:00 +7);
    const NOW: OffsetDateTime = datetime!(2021-08-16 00:00 +7);

    fn readings(temps: &[i32]) -> Vec<Reading> {
        temps
            .iter()
            .enumerate()
            .map(|(i, &tenths)| Reading {
                at: T0 + Duration::minutes(15 * i as i64),
                tenths,
            })
            .collect()
    }

    #[test]
    fn a_fridge_left_open_gives_one_heat_excursion_with_its_duration_and_peak() {
        let fridge = Range::new(20, 80).unwrap();
        let found = detect(fridge, &readings(&[45, 50, 85, 94, 88, 70, 40]), NOW).unwrap();
        assert_eq!(found.len(), 1);
        let e = &found[0];
        assert_eq!(e.kind, ExcursionKind::Heat);
        assert_eq!(e.started_at, T0 + Duration::minutes(30));
        assert_eq!(e.ended_at, Some(T0 + Duration::minutes(75)));
        assert_eq!(e.duration(), Duration::minutes(45));
        assert_eq!((e.min_tenths, e.max_tenths, e.readings), (85, 94, 3));
        assert!(
            e.describe().starts_with("heat to 9.4 °C for 45 min"),
            "{}",
            e.describe()
        );
    }

    #[test]
    fn freezing_and_an_excursion_still_open_are_reported() {
        let fridge = Range::new(20, 80).unwrap();
        let found = detect(fridge, &readings(&[30, -5, 10, 30, 90, 95]), NOW).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].kind, ExcursionKind::Freeze);
        assert_eq!(found[0].min_tenths, -5);
        assert!(found[0]
            .describe()
            .starts_with("freeze to -0.5 °C for 30 min"));
        assert_eq!(found[1].ended_at, None);
        assert_eq!(found[1].duration(), Duration::minutes(15));
        let both = detect(fridge, &readings(&[90, 10]), NOW).unwrap();
        assert_eq!(both[0].kind, ExcursionKind::Both);
        let mut d = Detector::new(fridge, None, None);
        let r = readings(&[90, 10, 50]);
        assert!(matches!(d.push(r[0], NOW), Ok(Event::Opened(_))));
        assert!(matches!(
            d.push(r[1], NOW),
            Ok(Event::Continues(Excursion {
                kind: ExcursionKind::Both,
                ..
            }))
        ));
        assert!(matches!(d.push(r[2], NOW), Ok(Event::Closed(_))));
    }

    #[test]
    fn impossible_temperatures_and_times_are_refused_by_row() {
        let mut rows = readings(&[45, 1200, 45, 45, -950]);
        rows[3].at = rows[1].at; // not after row 2
        rows.push(Reading {
            at: NOW + Duration::hours(1),
            tenths: 40,
        });
        let errors = check_batch(&rows, None, NOW);
        let got: Vec<(usize, &str)> = errors.iter().map(|(i, e)| (*i, e.field())).collect();
        assert_eq!(
            got,
            [
                (1, "temperature_c"),
                (3, "at"),
                (4, "temperature_c"),
                (5, "at")
            ]
        );
        assert!(errors[0].1.to_string().contains("120.0 °C"));
        // A reading at or before the last stored one is refused too.
        let errors = check_batch(&rows[..1], Some(rows[0].at), NOW);
        assert_eq!(errors[0].1.field(), "at");
        assert!(Range::new(80, 20).is_err());
        assert_eq!(Range::new(-2000, 20).unwrap_err().field(), "temperature_c");
        let fridge = Range::new(20, 80).unwrap();
        assert_eq!(detect(fridge, &rows, NOW).unwrap_err().0, 1);
    }

    proptest! {
        #[test]
        fn excursions_cover_exactly_the_readings_out_of_range(
            temps in prop::collection::vec(-300i32..300, 0..60),
        ) {
            let range = Range::new(20, 80).unwrap();
            let rows = readings(&temps);
            let found = detect(range, &rows, NOW).unwrap();
            let out: Vec<&Reading> = rows.iter().filter(|r| !range.contains(r.tenths)).collect();
            prop_assert_eq!(found.iter().map(|e| e.readings as usize).sum::<usize>(), out.len());
            for (i, e) in found.iter().enumerate() {
                prop_assert!(e.duration() >= Duration::ZERO);
                let inside: Vec<&&Reading> = out
                    .iter()
                    .filter(|r| r.at >= e.started_at && r.at <= e.last_out_at)
                    .collect();
                prop_assert_eq!(inside.len(), e.readings as usize);
                prop_assert_eq!(inside.iter().map(|r| r.tenths).max(), Some(e.max_tenths));
                prop_assert_eq!(inside.iter().map(|r| r.tenths).min(), Some(e.min_tenths));
                if let Some(next) = found.get(i + 1) {
                    prop_assert!(e.ended_at.is_some_and(|end| end < next.started_at));
                }
            }
        }
    }
}
