//! Reminders to residents: which language a person is written to in, the
//! text of each kind of message, and how long to wait before trying a
//! failed message again.

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
    /// residents in Chinese, passport holders in English.
    pub fn of_id_type(id_type: IdType) -> Language {
        match id_type {
            IdType::Cccd | IdType::Cmnd => Language::Vietnamese,
            IdType::CnResident => Language::Chinese,
            IdType::Passport => Language::English,
        }
    }

    /// A date as readers of this language write it.
    pub fn date(self, d: Date) -> String {
        match self {
            Language::Vietnamese => {
                format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
            }
            Language::Chinese => format!("{}年{}月{}日", d.year(), u8::from(d.month()), d.day()),
            Language::English => format!("{} {} {}", d.day(), d.month(), d.year()),
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

/// The text of a reminder in `language`.
pub fn message(language: Language, about: &About<'_>) -> String {
    use Language::*;
    match *about {
        About::DueDose {
            product,
            dose_number,
            due,
            today,
        } => {
            let date = language.date(due);
            let overdue = due < today;
            match (language, overdue) {
                (Vietnamese, false) => format!(
                    "Nhắc lịch tiêm chủng: mũi {dose_number} vắc xin {product} của bạn đến hạn vào ngày {date}. \
                     Vui lòng đến điểm tiêm chủng gần nhất để được tiêm."
                ),
                (Vietnamese, true) => format!(
                    "Nhắc lịch tiêm chủng: mũi {dose_number} vắc xin {product} của bạn đã đến hạn từ ngày {date}. \
                     Vui lòng đến điểm tiêm chủng gần nhất để được tiêm sớm."
                ),
                (Chinese, false) => format!(
                    "接种提醒：您的{product}疫苗第{dose_number}剂将于{date}到期，请前往就近的接种点接种。"
                ),
                (Chinese, true) => format!(
                    "接种提醒：您的{product}疫苗第{dose_number}剂已于{date}到期，请尽快前往就近的接种点接种。"
                ),
                (English, false) => format!(
                    "Vaccination reminder: dose {dose_number} of {product} is due on {date}. \
                     Please visit your nearest vaccination site."
                ),
                (English, true) => format!(
                    "Vaccination reminder: dose {dose_number} of {product} was due on {date}. \
                     Please visit your nearest vaccination site as soon as you can."
                ),
            }
        }
        About::MissedAppointment { site, day, time } => {
            let date = language.date(day);
            match language {
                Vietnamese => format!(
                    "Bạn đã lỡ lịch hẹn tiêm chủng lúc {time} ngày {date} tại {site}. \
                     Vui lòng đặt lịch hẹn mới."
                ),
                Chinese => format!("您错过了{date} {time}在{site}的疫苗接种预约，请重新预约。"),
                English => format!(
                    "You missed your vaccination appointment at {site} on {date} at {time}. \
                     Please book a new appointment."
                ),
            }
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
    use time::macros::date;

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
    fn due_dose_messages_name_the_product_the_dose_and_the_date() {
        let about = About::DueDose {
            product: "Vaxzevria",
            dose_number: 2,
            due: date!(2021 - 09 - 05),
            today: date!(2021 - 09 - 04),
        };
        assert_eq!(about.kind(), ReminderKind::DueDose);
        assert_eq!(
            message(Language::Vietnamese, &about),
            "Nhắc lịch tiêm chủng: mũi 2 vắc xin Vaxzevria của bạn đến hạn vào ngày 05/09/2021. \
             Vui lòng đến điểm tiêm chủng gần nhất để được tiêm."
        );
        assert_eq!(
            message(Language::Chinese, &about),
            "接种提醒：您的Vaxzevria疫苗第2剂将于2021年9月5日到期，请前往就近的接种点接种。"
        );
        assert_eq!(
            message(Language::English, &about),
            "Vaccination reminder: dose 2 of Vaxzevria is due on 5 September 2021. \
             Please visit your nearest vaccination site."
        );
    }

    #[test]
    fn an_overdue_dose_is_said_to_be_overdue() {
        let about = About::DueDose {
            product: "Vaxzevria",
            dose_number: 2,
            due: date!(2021 - 09 - 05),
            today: date!(2021 - 09 - 10),
        };
        assert!(message(Language::Vietnamese, &about).contains("đã đến hạn từ ngày 05/09/2021"));
        assert!(message(Language::Chinese, &about).contains("已于2021年9月5日到期"));
        assert!(message(Language::English, &about).contains("was due on 5 September 2021"));
    }

    #[test]
    fn missed_appointment_messages_give_the_time_and_the_site() {
        let about = About::MissedAppointment {
            site: "Trạm Y tế Hồng Gai",
            day: date!(2021 - 09 - 05),
            time: "07:30",
        };
        assert_eq!(about.kind(), ReminderKind::MissedAppointment);
        assert_eq!(
            message(Language::Vietnamese, &about),
            "Bạn đã lỡ lịch hẹn tiêm chủng lúc 07:30 ngày 05/09/2021 tại Trạm Y tế Hồng Gai. \
             Vui lòng đặt lịch hẹn mới."
        );
        assert_eq!(
            message(Language::Chinese, &about),
            "您错过了2021年9月5日 07:30在Trạm Y tế Hồng Gai的疫苗接种预约，请重新预约。"
        );
        assert!(message(Language::English, &about)
            .contains("at Trạm Y tế Hồng Gai on 5 September 2021 at 07:30"));
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
