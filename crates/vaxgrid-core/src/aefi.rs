//! Adverse events following immunization (AEFI) beyond the visit: the
//! outcome of a reported event and the treatment given, the rules that
//! keep them consistent with its seriousness, and the rates safety
//! reports are read in (events per 100,000 doses).

use time::OffsetDateTime;

/// How an adverse event ended, as far as is known when it is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AefiOutcome {
    Recovered,
    RecoveredWithSequelae,
    Hospitalised,
    Death,
    /// Not known yet (the default of a report that does not say).
    Unknown,
}

impl AefiOutcome {
    pub const ALL: [AefiOutcome; 5] = [
        AefiOutcome::Recovered,
        AefiOutcome::RecoveredWithSequelae,
        AefiOutcome::Hospitalised,
        AefiOutcome::Death,
        AefiOutcome::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AefiOutcome::Recovered => "recovered",
            AefiOutcome::RecoveredWithSequelae => "recovered_with_sequelae",
            AefiOutcome::Hospitalised => "hospitalised",
            AefiOutcome::Death => "death",
            AefiOutcome::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<AefiOutcome> {
        AefiOutcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Outcomes that make an event serious by definition (WHO: death,
    /// hospitalisation).
    pub fn implies_serious(self) -> bool {
        matches!(self, AefiOutcome::Hospitalised | AefiOutcome::Death)
    }
}

/// The longest treatment note, in characters.
pub const MAX_TREATMENT: usize = 500;

/// How far ahead of the server's clock an onset may be (clients' clocks),
/// as for every event of a visit.
pub const ONSET_SKEW_MINUTES: i64 = crate::visit_body::CLOCK_SKEW_MINUTES;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AefiError {
    #[error("an event with outcome {} is serious: set serious to true", .0.as_str())]
    OutcomeNeedsSerious(AefiOutcome),
    #[error("the onset {0} is in the future")]
    OnsetInFuture(OffsetDateTime),
    #[error("treatment must be 1 to {MAX_TREATMENT} characters when given")]
    Treatment,
    #[error("'{0}' is not an outcome: recovered, recovered_with_sequelae, hospitalised, death or unknown")]
    Outcome(String),
}

impl AefiError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            AefiError::OutcomeNeedsSerious(_) => "serious",
            AefiError::OnsetInFuture(_) => "onset",
            AefiError::Treatment => "treatment",
            AefiError::Outcome(_) => "outcome",
        }
    }
}

/// Reads an outcome; absent is [`AefiOutcome::Unknown`].
pub fn outcome(value: Option<&str>) -> Result<AefiOutcome, AefiError> {
    match value {
        None => Ok(AefiOutcome::Unknown),
        Some(s) => AefiOutcome::parse(s).ok_or_else(|| AefiError::Outcome(s.to_string())),
    }
}

/// A treatment note as stored: trimmed; absent or blank is none.
pub fn treatment(value: Option<&str>) -> Result<Option<String>, AefiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > MAX_TREATMENT => Err(AefiError::Treatment),
        Some(t) => Ok(Some(t.to_string())),
    }
}

/// An event's facts agree: an onset not in the future (give or take
/// [`ONSET_SKEW_MINUTES`]), and a death or a hospitalisation reported as
/// serious (it opens an investigation).
pub fn check(
    onset: OffsetDateTime,
    now: OffsetDateTime,
    serious: bool,
    outcome: AefiOutcome,
) -> Result<(), AefiError> {
    if onset > now + time::Duration::minutes(ONSET_SKEW_MINUTES) {
        return Err(AefiError::OnsetInFuture(onset));
    }
    check_outcome(serious, outcome)
}

/// A death or a hospitalisation is serious.
pub fn check_outcome(serious: bool, outcome: AefiOutcome) -> Result<(), AefiError> {
    if outcome.implies_serious() && !serious {
        return Err(AefiError::OutcomeNeedsSerious(outcome));
    }
    Ok(())
}

/// Events per 100,000 doses, to one decimal; None without doses (a rate
/// over nothing is not zero).
pub fn rate_per_100k(events: i64, doses: i64) -> Option<f64> {
    if doses <= 0 {
        return None;
    }
    let tenths = (events as f64 * 1_000_000.0 / doses as f64).round();
    Some(tenths / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2021-07-01 08:00 UTC);

    #[test]
    fn outcomes_read_and_default_to_unknown() {
        for o in AefiOutcome::ALL {
            assert_eq!(AefiOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(outcome(None), Ok(AefiOutcome::Unknown));
        assert_eq!(outcome(Some("death")), Ok(AefiOutcome::Death));
        let e = outcome(Some("Died")).unwrap_err();
        assert_eq!(e.field(), "outcome");
    }

    #[test]
    fn death_and_hospitalisation_must_be_serious() {
        let onset = datetime!(2021-07-01 07:00 UTC);
        for o in AefiOutcome::ALL {
            assert_eq!(check(onset, NOW, true, o), Ok(()));
            let not_serious = check(onset, NOW, false, o);
            if matches!(o, AefiOutcome::Death | AefiOutcome::Hospitalised) {
                let e = not_serious.unwrap_err();
                assert_eq!(e.field(), "serious");
                assert!(e.to_string().contains(o.as_str()), "{e}");
            } else {
                assert_eq!(not_serious, Ok(()));
            }
        }
    }

    #[test]
    fn the_onset_is_not_in_the_future() {
        let soon = NOW + time::Duration::minutes(ONSET_SKEW_MINUTES);
        assert_eq!(check(soon, NOW, false, AefiOutcome::Unknown), Ok(()));
        let later = soon + time::Duration::seconds(1);
        let e = check(later, NOW, false, AefiOutcome::Unknown).unwrap_err();
        assert_eq!(e.field(), "onset");
    }

    #[test]
    fn treatment_is_trimmed_and_bounded() {
        assert_eq!(treatment(None), Ok(None));
        assert_eq!(treatment(Some("  ")), Ok(None));
        assert_eq!(
            treatment(Some(" adrenaline 0.5 mg IM ")),
            Ok(Some("adrenaline 0.5 mg IM".into()))
        );
        let longest = "ệ".repeat(MAX_TREATMENT);
        assert_eq!(treatment(Some(&longest)), Ok(Some(longest.clone())));
        assert_eq!(
            treatment(Some(&format!("{longest}x"))),
            Err(AefiError::Treatment)
        );
    }

    #[test]
    fn rates_are_per_100000_doses() {
        assert_eq!(rate_per_100k(1, 100_000), Some(1.0));
        assert_eq!(rate_per_100k(3, 7), Some(42857.1));
        assert_eq!(rate_per_100k(0, 5), Some(0.0));
        assert_eq!(rate_per_100k(2, 0), None);
        assert_eq!(rate_per_100k(1, 3_000_000), Some(0.0));
        assert_eq!(rate_per_100k(7, 1_000_000), Some(0.7));
    }
}
