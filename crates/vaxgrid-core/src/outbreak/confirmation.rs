//! A case's confirmation: its dates must be possible for the person — not
//! after today, and not before the person was born.

use time::Date;

/// A confirmation refused for its dates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmationError {
    #[error("the confirmation ({confirmed_on}) is after today ({today})")]
    ConfirmedAfterToday { confirmed_on: Date, today: Date },
    #[error("the confirmation ({confirmed_on}) is before the person was born ({born})")]
    ConfirmedBeforeBirth { confirmed_on: Date, born: Date },
    #[error("the onset is before the person was born")]
    OnsetBeforeBirth,
    #[error("the onset is after today")]
    OnsetAfterToday,
}

impl ConfirmationError {
    /// The field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            ConfirmationError::ConfirmedAfterToday { .. }
            | ConfirmationError::ConfirmedBeforeBirth { .. } => "confirmed_on",
            ConfirmationError::OnsetBeforeBirth | ConfirmationError::OnsetAfterToday => "onset_on",
        }
    }
}

/// Checks a confirmation's dates against today and the person's birth
/// (unknown for some): the confirmation first, then the onset.
pub fn check_dates(
    confirmed_on: Date,
    onset_on: Option<Date>,
    born: Option<Date>,
    today: Date,
) -> Result<(), ConfirmationError> {
    if confirmed_on > today {
        return Err(ConfirmationError::ConfirmedAfterToday {
            confirmed_on,
            today,
        });
    }
    if let Some(born) = born {
        if confirmed_on < born {
            return Err(ConfirmationError::ConfirmedBeforeBirth { confirmed_on, born });
        }
        if onset_on.is_some_and(|o| o < born) {
            return Err(ConfirmationError::OnsetBeforeBirth);
        }
    }
    if onset_on.is_some_and(|o| o > today) {
        return Err(ConfirmationError::OnsetAfterToday);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 07);
    const BORN: Date = date!(1990 - 03 - 15);

    #[test]
    fn a_confirmation_today_with_an_earlier_onset_passes() {
        let onset = Some(date!(2026 - 12 - 01));
        assert_eq!(check_dates(TODAY, onset, Some(BORN), TODAY), Ok(()));
        assert_eq!(check_dates(TODAY, None, None, TODAY), Ok(()));
    }

    #[test]
    fn a_confirmation_to_come_is_refused_with_both_dates() {
        let e = check_dates(date!(2026 - 12 - 08), None, Some(BORN), TODAY).unwrap_err();
        assert_eq!(e.field(), "confirmed_on");
        assert_eq!(
            e.to_string(),
            "the confirmation (2026-12-08) is after today (2026-12-07)"
        );
    }

    #[test]
    fn a_confirmation_before_birth_is_refused() {
        let e = check_dates(date!(1990 - 03 - 14), None, Some(BORN), TODAY).unwrap_err();
        assert_eq!(e.field(), "confirmed_on");
        assert_eq!(
            e.to_string(),
            "the confirmation (1990-03-14) is before the person was born (1990-03-15)"
        );
    }

    #[test]
    fn an_onset_before_birth_or_to_come_is_refused() {
        let early = check_dates(TODAY, Some(date!(1989 - 01 - 01)), Some(BORN), TODAY);
        assert_eq!(early, Err(ConfirmationError::OnsetBeforeBirth));
        assert_eq!(early.unwrap_err().field(), "onset_on");
        let late = check_dates(TODAY, Some(date!(2026 - 12 - 08)), None, TODAY);
        assert_eq!(late, Err(ConfirmationError::OnsetAfterToday));
    }

    #[test]
    fn the_confirmation_is_checked_before_the_onset() {
        let both = check_dates(
            date!(2026 - 12 - 09),
            Some(date!(2026 - 12 - 10)),
            None,
            TODAY,
        );
        assert_eq!(
            both.unwrap_err().field(),
            "confirmed_on",
            "the first fault named is the confirmation's"
        );
    }
}
