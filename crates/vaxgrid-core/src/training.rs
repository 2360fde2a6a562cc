//! Staff training: classes, exams and the certificates a passed exam
//! issues. A vaccinator records doses only while they hold a current
//! certificate of [`VACCINATION_TOPIC`].

use time::{Date, Duration};

/// The topic whose certificate lets a vaccinator record doses.
pub const VACCINATION_TOPIC: &str = "vaccination";

/// How long a certificate is valid when the exam does not say.
pub const DEFAULT_VALID_DAYS: u32 = 365;

/// The longest validity an exam may give (ten years).
pub const MAX_VALID_DAYS: u32 = 3650;

/// Exam scores are percentages.
pub const MAX_SCORE: i64 = 100;

/// The longest topic name, in characters: course titles as training
/// plans write them ("Tập huấn an toàn tiêm chủng vắc xin COVID-19 cho …").
pub const MAX_TOPIC: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainingError {
    #[error("the topic must be 1 to {MAX_TOPIC} characters")]
    Topic,
    #[error("the class ends on {ends_on}, before it starts ({starts_on})")]
    EndsBeforeStart { starts_on: Date, ends_on: Date },
    #[error("the score must be between 0 and {MAX_SCORE}, not {0}")]
    Score(i64),
    #[error("the pass mark must be between 1 and {MAX_SCORE}, not {0}")]
    PassMark(i64),
    #[error("a certificate is valid 1 to {MAX_VALID_DAYS} days, not {0}")]
    ValidDays(i64),
}

impl TrainingError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            TrainingError::Topic => "topic",
            TrainingError::EndsBeforeStart { .. } => "ends_on",
            TrainingError::Score(_) => "score",
            TrainingError::PassMark(_) => "pass_mark",
            TrainingError::ValidDays(_) => "valid_days",
        }
    }
}

/// A topic as stored: trimmed, its case kept as written ("COVID-19 cold
/// chain" stays so on lists and certificates).
pub fn normalize_topic(topic: &str) -> Result<String, TrainingError> {
    let t = topic.trim();
    if t.is_empty() || t.chars().count() > MAX_TOPIC {
        return Err(TrainingError::Topic);
    }
    Ok(t.to_string())
}

/// Whether a stored topic is the one that certifies vaccinators, however
/// it was capitalised ("Vaccination" certifies as "vaccination" does). The
/// store compares `LOWER(topic)` with [`VACCINATION_TOPIC`] for the same
/// rule; the name is ASCII, so both backends' LOWER agree on it.
pub fn is_vaccination_topic(topic: &str) -> bool {
    topic.eq_ignore_ascii_case(VACCINATION_TOPIC)
}

/// What a dose recorded by vaccinator `user` says of who gave it, and
/// whose certificate the dose needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseSignature {
    /// The `vaccinator` the dose record names.
    pub vaccinator: Option<String>,
    /// The user whose vaccination certificate must be current on the
    /// dose's day (None: not checked).
    pub certificate_of: Option<String>,
}

/// A vaccinator recording a dose they give names themselves, and needs a
/// current certificate on the day; naming someone else is refused (the
/// record would say another person gave it). A historical dose was given
/// elsewhere, by whoever the card names: it keeps the name it came with,
/// and the one entering it needs no certificate at that past date.
pub fn sign_dose(
    user: &str,
    named: Option<&str>,
    historical: bool,
) -> Result<DoseSignature, String> {
    if historical {
        return Ok(DoseSignature {
            vaccinator: named.map(str::to_string),
            certificate_of: None,
        });
    }
    match named {
        Some(other) if other.trim() != user => Err(format!(
            "a vaccinator records the doses they give: vaccinator must be {user} or left out, not {other}"
        )),
        _ => Ok(DoseSignature {
            vaccinator: Some(user.to_string()),
            certificate_of: Some(user.to_string()),
        }),
    }
}

/// A class lasts one day or more: it may not end before it starts.
pub fn check_class_dates(starts_on: Date, ends_on: Date) -> Result<(), TrainingError> {
    if ends_on < starts_on {
        return Err(TrainingError::EndsBeforeStart { starts_on, ends_on });
    }
    Ok(())
}

/// Checks an exam's score (0..=100) and pass mark (1..=100).
pub fn check_exam(score: i64, pass_mark: i64) -> Result<(), TrainingError> {
    if !(0..=MAX_SCORE).contains(&score) {
        return Err(TrainingError::Score(score));
    }
    if !(1..=MAX_SCORE).contains(&pass_mark) {
        return Err(TrainingError::PassMark(pass_mark));
    }
    Ok(())
}

/// An exam is passed when the score reaches the pass mark.
pub fn passed(score: i64, pass_mark: i64) -> bool {
    score >= pass_mark
}

/// The last day of a certificate issued on `issued_on` and valid
/// `valid_days` days, the day of issue being the first.
pub fn expires_on(issued_on: Date, valid_days: i64) -> Result<Date, TrainingError> {
    if !(1..=i64::from(MAX_VALID_DAYS)).contains(&valid_days) {
        return Err(TrainingError::ValidDays(valid_days));
    }
    issued_on
        .checked_add(Duration::days(valid_days - 1))
        .ok_or(TrainingError::ValidDays(valid_days))
}

/// Whether a certificate is valid on day `on`: not revoked, and `on`
/// between its day of issue and its last day, both included.
pub fn is_current(issued_on: Date, expires_on: Date, revoked: bool, on: Date) -> bool {
    !revoked && issued_on <= on && on <= expires_on
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn an_exam_passes_at_the_pass_mark() {
        assert!(passed(80, 80));
        assert!(passed(100, 80));
        assert!(!passed(79, 80));
        assert!(passed(0, 0));
        assert_eq!(check_exam(0, 1), Ok(()));
        assert_eq!(check_exam(100, 100), Ok(()));
        assert_eq!(check_exam(-1, 50), Err(TrainingError::Score(-1)));
        assert_eq!(check_exam(101, 50), Err(TrainingError::Score(101)));
        assert_eq!(check_exam(50, 0), Err(TrainingError::PassMark(0)));
        assert_eq!(check_exam(50, 101), Err(TrainingError::PassMark(101)));
        assert_eq!(TrainingError::Score(-1).field(), "score");
        assert_eq!(TrainingError::PassMark(0).field(), "pass_mark");
    }

    #[test]
    fn a_certificate_is_valid_from_its_issue_to_its_last_day() {
        let issued = date!(2021 - 01 - 01);
        let last = expires_on(issued, 365).unwrap();
        assert_eq!(last, date!(2021 - 12 - 31));
        assert_eq!(expires_on(issued, 1).unwrap(), issued);
        assert_eq!(expires_on(issued, 0), Err(TrainingError::ValidDays(0)));
        assert_eq!(expires_on(issued, -5), Err(TrainingError::ValidDays(-5)));
        assert_eq!(
            expires_on(issued, 3651),
            Err(TrainingError::ValidDays(3651))
        );
        assert!(is_current(issued, last, false, issued));
        assert!(is_current(issued, last, false, last));
        assert!(is_current(issued, last, false, date!(2021 - 08 - 15)));
        assert!(!is_current(issued, last, false, date!(2020 - 12 - 31)));
        assert!(!is_current(issued, last, false, date!(2022 - 01 - 01)));
        assert!(!is_current(issued, last, true, date!(2021 - 08 - 15)));
    }

    #[test]
    fn a_vaccinators_dose_names_them_and_history_needs_no_certificate() {
        let own = DoseSignature {
            vaccinator: Some("nurse1".into()),
            certificate_of: Some("nurse1".into()),
        };
        assert_eq!(sign_dose("nurse1", None, false), Ok(own.clone()));
        assert_eq!(sign_dose("nurse1", Some("nurse1"), false), Ok(own));
        assert!(sign_dose("nurse1", Some("nurse2"), false)
            .unwrap_err()
            .contains("must be nurse1"));
        assert_eq!(
            sign_dose("nurse1", Some("Dr. Lan, Hạ Long hospital"), true),
            Ok(DoseSignature {
                vaccinator: Some("Dr. Lan, Hạ Long hospital".into()),
                certificate_of: None
            })
        );
        assert_eq!(
            sign_dose("nurse1", None, true).unwrap().certificate_of,
            None
        );
    }

    #[test]
    fn classes_and_topics_are_checked() {
        let d = date!(2021 - 03 - 01);
        assert_eq!(check_class_dates(d, d), Ok(()));
        let before = date!(2021 - 02 - 28);
        let e = check_class_dates(d, before).unwrap_err();
        assert_eq!(e.field(), "ends_on");
        assert_eq!(normalize_topic("  Vaccination ").unwrap(), "Vaccination");
        assert!(is_vaccination_topic("Vaccination"));
        assert!(is_vaccination_topic(VACCINATION_TOPIC));
        assert!(!is_vaccination_topic("vaccination refresher"));
        assert_eq!(
            normalize_topic("Chuỗi lạnh COVID-19").unwrap(),
            "Chuỗi lạnh COVID-19"
        );
        assert_eq!(normalize_topic("   "), Err(TrainingError::Topic));
        let longest = "Ư".repeat(MAX_TOPIC);
        assert_eq!(normalize_topic(&longest).unwrap(), longest);
        assert_eq!(normalize_topic(&"x".repeat(201)), Err(TrainingError::Topic));
    }
}
