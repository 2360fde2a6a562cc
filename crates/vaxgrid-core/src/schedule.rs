//! Opening a vaccination session: its time slots and how many people each
//! holds, derived from the stations working and their throughput.

use time::{Date, Time};

/// The shortest and longest slot a session may be cut into.
pub const SLOT_MINUTES: std::ops::RangeInclusive<u32> = 5..=240;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the session is on {day}, before today ({today}): slots cannot be opened in the past")]
    InThePast { day: Date, today: Date },
    #[error("the session must close after it opens")]
    ClosesBeforeOpening,
    #[error("stations must be between 1 and 1000")]
    Stations,
    #[error("throughput must be between 1 and 1000 people per station per hour")]
    Throughput,
    #[error("a slot is 5 to 240 minutes long")]
    SlotLength,
    #[error("a slot of {minutes} minutes at this throughput holds no one: make slots longer or add stations")]
    EmptySlot { minutes: u32 },
    #[error("the session overlaps another session of this site that day ({other})")]
    Overlaps { other: String },
}

impl ScheduleError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            ScheduleError::InThePast { .. } => "day",
            ScheduleError::ClosesBeforeOpening => "closes",
            ScheduleError::Stations => "stations",
            ScheduleError::Throughput => "per_station_per_hour",
            ScheduleError::SlotLength | ScheduleError::EmptySlot { .. } => "slot_minutes",
            ScheduleError::Overlaps { .. } => "opens",
        }
    }
}

/// A session as planned: one site, one day, opening hours and capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPlan {
    pub day: Date,
    pub opens: Time,
    pub closes: Time,
    pub stations: u32,
    pub per_station_per_hour: u32,
    pub slot_minutes: u32,
}

/// The slots of a session (start time, capacity). The last slot is cut at
/// closing time and holds proportionally fewer people. Capacity is what the
/// stations can vaccinate in the slot, rounded down: a slot is never
/// promised more people than the stations can take.
pub fn plan_slots(plan: &SessionPlan, today: Date) -> Result<Vec<(Time, u32)>, ScheduleError> {
    if plan.day < today {
        return Err(ScheduleError::InThePast {
            day: plan.day,
            today,
        });
    }
    if plan.closes <= plan.opens {
        return Err(ScheduleError::ClosesBeforeOpening);
    }
    if !(1..=1000).contains(&plan.stations) {
        return Err(ScheduleError::Stations);
    }
    if !(1..=1000).contains(&plan.per_station_per_hour) {
        return Err(ScheduleError::Throughput);
    }
    if !SLOT_MINUTES.contains(&plan.slot_minutes) {
        return Err(ScheduleError::SlotLength);
    }
    let per_minute = u64::from(plan.stations) * u64::from(plan.per_station_per_hour);
    let full = per_minute * u64::from(plan.slot_minutes) / 60;
    if full == 0 {
        return Err(ScheduleError::EmptySlot {
            minutes: plan.slot_minutes,
        });
    }
    let minute = |t: Time| u32::from(t.hour()) * 60 + u32::from(t.minute());
    let (open, close) = (minute(plan.opens), minute(plan.closes));
    let mut slots = Vec::new();
    let mut start = open;
    while start < close {
        let length = plan.slot_minutes.min(close - start);
        let capacity = (per_minute * u64::from(length) / 60) as u32;
        if capacity > 0 {
            let t =
                Time::from_hms((start / 60) as u8, (start % 60) as u8, 0).unwrap_or(Time::MIDNIGHT);
            slots.push((t, capacity));
        }
        start += plan.slot_minutes;
    }
    Ok(slots)
}

/// Whether two opening spans of the same day overlap.
pub fn overlaps(a: (Time, Time), b: (Time, Time)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, time};

    fn plan() -> SessionPlan {
        SessionPlan {
            day: date!(2026 - 12 - 01),
            opens: time!(7:30),
            closes: time!(11:30),
            stations: 3,
            per_station_per_hour: 20,
            slot_minutes: 30,
        }
    }

    #[test]
    fn slots_follow_stations_and_throughput() {
        let slots = plan_slots(&plan(), date!(2026 - 11 - 26)).unwrap();
        assert_eq!(slots.len(), 8);
        assert_eq!(slots[0], (time!(7:30), 30));
        assert_eq!(slots[7], (time!(11:00), 30));
        // A short last slot holds fewer people.
        let mut p = plan();
        p.closes = time!(11:40);
        let slots = plan_slots(&p, date!(2026 - 11 - 26)).unwrap();
        assert_eq!(slots.last(), Some(&(time!(11:30), 10)));
    }

    #[test]
    fn bad_plans_name_their_field() {
        let today = date!(2026 - 11 - 26);
        type Change = fn(&mut SessionPlan);
        let cases: [(Change, &str); 6] = [
            (|p| p.day = date!(2026 - 11 - 25), "day"),
            (|p| p.closes = p.opens, "closes"),
            (|p| p.stations = 0, "stations"),
            (|p| p.per_station_per_hour = 0, "per_station_per_hour"),
            (|p| p.slot_minutes = 2, "slot_minutes"),
            (
                |p| {
                    p.stations = 1;
                    p.per_station_per_hour = 1;
                    p.slot_minutes = 30
                },
                "slot_minutes",
            ),
        ];
        for (change, field) in cases {
            let mut p = plan();
            change(&mut p);
            assert_eq!(plan_slots(&p, today).unwrap_err().field(), field);
        }
    }

    #[test]
    fn spans_overlap_only_when_they_share_time() {
        assert!(overlaps(
            (time!(7:00), time!(9:00)),
            (time!(8:00), time!(10:00))
        ));
        assert!(!overlaps(
            (time!(7:00), time!(9:00)),
            (time!(9:00), time!(10:00))
        ));
    }
}
