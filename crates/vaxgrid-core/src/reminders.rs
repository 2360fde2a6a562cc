//! Reminders to residents: which language a person is written to in, the
//! facts each kind of message tells (its text, in that language, comes from
//! the server's Fluent files), and how long to wait before trying a failed
//! message again.

use time::Date;

use crate::identity::IdType;

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderKind {
    /// The next dose of a series is due (or overdue); about the last dose.
    DueDose,
    /// The person did not come to an appointment.
    MissedAppointment,
}

impl ReminderKind {
    pub const ALL: [ReminderKind; 2] = [ReminderKind::DueDose, ReminderKind::MissedAppointment];

    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::DueDose => "due_dose",
            ReminderKind::MissedAppointment => "missed_appointment",
        }
    }

    pub fn parse(s: &str) -> Option<ReminderKind> {
        ReminderKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The languages messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Vietnamese,
    Chinese,
    English,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Vietnamese, Language::Chinese, Language::English];

    /// The BCP 47 tag stored with the message.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Vietnamese => "vi",
            Language::Chinese => "zh",
            Language::English => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The language of a person, from the document they registered with:
    /// Vietnamese citizens (CCCD, CMND) in Vietnamese, Chinese border
    /// residents in Chinese, passport holders in English; a person with no
    /// document in the registry's own language, Vietnamese.
    pub fn of_id_type(id_type: IdType) -> Language {
        match id_type {
            IdType::Cccd | IdType::Cmnd | IdType::None => Language::Vietnamese,
            IdType::CnResident => Language::Chinese,
            IdType::Passport => Language::English,
        }
    }
}

/// The facts a message tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About<'a> {
    DueDose {
        /// The product's name, e.g. "Vaxzevria (AstraZeneca, Covishield)".
        product: &'a str,
        /// The number of the dose that is due.
        dose_number: u32,
        due: Date,
        /// The day the message is written: a due date before it is overdue.
        today: Date,
    },
    MissedAppointment {
        site: &'a str,
        day: Date,
        /// `HH:MM`, local time of the site.
        time: &'a str,
    },
}

impl About<'_> {
    pub fn kind(&self) -> ReminderKind {
        match self {
            About::DueDose { .. } => ReminderKind::DueDose,
            About::MissedAppointment { .. } => ReminderKind::MissedAppointment,
        }
    }
}

/// A message is tried this many times at most, then given up (`failed`).
pub const MAX_ATTEMPTS: u32 = 5;

/// Seconds to wait before trying again after the `attempts`-th failed try
/// (1 min, 5 min, 30 min, 2 h); `None` once `attempts` reaches
/// [`MAX_ATTEMPTS`]: give up.
pub fn retry_after_secs(attempts: u32) -> Option<i64> {
    match attempts {
        0 | 1 => Some(60),
        2 => Some(5 * 60),
        3 => Some(30 * 60),
        n if n < MAX_ATTEMPTS => Some(2 * 60 * 60),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_follows_the_identity_document() {
        assert_eq!(Language::of_id_type(IdType::Cccd), Language::Vietnamese);
        assert_eq!(Language::of_id_type(IdType::Cmnd), Language::Vietnamese);
        assert_eq!(Language::of_id_type(IdType::CnResident), Language::Chinese);
        assert_eq!(Language::of_id_type(IdType::Passport), Language::English);
        for l in Language::ALL {
            assert_eq!(Language::parse(l.as_str()), Some(l));
        }
        for k in ReminderKind::ALL {
            assert_eq!(ReminderKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ReminderKind::parse("other"), None);
    }

    #[test]
    fn retries_back_off_then_give_up() {
        let waits: Vec<Option<i64>> = (1..=6).map(retry_after_secs).collect();
        assert_eq!(
            waits,
            [Some(60), Some(300), Some(1800), Some(7200), None, None]
        );
        assert_eq!(retry_after_secs(MAX_ATTEMPTS), None);
    }
}
