//! Open multi-dose vials.
//!
//! A vial opened at a session has doses left and a time limit after opening
//! (the product's `open_vial_discard_hours`, e.g. 6 hours). The vaccinator
//! takes the next dose from the open vial that reaches its limit first
//! before opening another; at the limit the doses left are wastage
//! ([`super::ledger::WastageReason::OpenVialUnused`]), recorded without
//! anyone having to remember.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenVial {
    pub lot: String,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
    pub doses_left: u32,
    /// Doses must be taken before this instant.
    #[serde(with = "time::serde::rfc3339")]
    pub discard_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VialError {
    #[error("doses_per_vial must be between 1 and 50, not {0}")]
    DosesPerVial(u32),
    #[error(
        "the open vial of lot {lot} reached its time limit at {discard_at}; its doses are wastage"
    )]
    PastLimit {
        lot: String,
        discard_at: OffsetDateTime,
    },
    #[error("the open vial of lot {lot} has no dose left")]
    Empty { lot: String },
}

impl VialError {
    pub fn field(&self) -> &'static str {
        match self {
            VialError::DosesPerVial(_) => "doses_per_vial",
            VialError::PastLimit { .. } | VialError::Empty { .. } => "lot",
        }
    }
}

impl OpenVial {
    /// A vial of `lot` opened at `at`. A limit of 0 hours means the product
    /// sets none beyond the session: the vial is good for the day's session
    /// (24 hours at most), as single-dose vials are used at once anyway.
    pub fn open(
        lot: &str,
        doses_per_vial: u32,
        discard_hours: u32,
        at: OffsetDateTime,
    ) -> Result<OpenVial, VialError> {
        if !(1..=50).contains(&doses_per_vial) {
            return Err(VialError::DosesPerVial(doses_per_vial));
        }
        let hours = if discard_hours == 0 {
            24
        } else {
            discard_hours.min(24 * 28)
        };
        Ok(OpenVial {
            lot: lot.to_owned(),
            opened_at: at,
            doses_left: doses_per_vial,
            discard_at: at + Duration::hours(i64::from(hours)),
        })
    }

    pub fn usable(&self, now: OffsetDateTime) -> bool {
        self.doses_left > 0 && now < self.discard_at
    }

    /// Takes one dose at `now`.
    pub fn take_dose(&mut self, now: OffsetDateTime) -> Result<(), VialError> {
        if now >= self.discard_at {
            return Err(VialError::PastLimit {
                lot: self.lot.clone(),
                discard_at: self.discard_at,
            });
        }
        if self.doses_left == 0 {
            return Err(VialError::Empty {
                lot: self.lot.clone(),
            });
        }
        self.doses_left -= 1;
        Ok(())
    }

    /// The doses to record as wastage at `now`: all those left once the
    /// limit is reached, none before.
    pub fn wastage_due(&self, now: OffsetDateTime) -> Option<u32> {
        (now >= self.discard_at && self.doses_left > 0).then_some(self.doses_left)
    }
}

/// The open vial to take the next dose from: of those of `lot` still usable
/// at `now`, the one reaching its limit first (the fewest doses left on a
/// tie). `None` means a new vial has to be opened.
pub fn next_vial(vials: &[OpenVial], lot: &str, now: OffsetDateTime) -> Option<usize> {
    vials
        .iter()
        .enumerate()
        .filter(|(_, v)| v.lot == lot && v.usable(now))
        .min_by_key(|(_, v)| (v.discard_at, v.doses_left))
        .map(|(i, _)| i)
}

/// Vials opened together at a store (one `vial_opened` movement): the
/// doses they held, the doses taken from them so far and their limit, in
/// microseconds since the epoch, as the ledger keeps instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub opened_at: i64,
    pub discard_at: i64,
    pub doses: u64,
    pub taken: u64,
}

impl Pool {
    pub fn left(&self) -> u64 {
        self.doses.saturating_sub(self.taken)
    }

    fn open_at(&self, at: i64) -> bool {
        self.opened_at <= at && at < self.discard_at && self.left() > 0
    }
}

/// Takes `n` doses given at `at` from the pools, each from the pool
/// [`next_pool`] points at. Returns the doses
/// taken from each pool drawn on, by index; `pools` keep what was taken.
/// Doses beyond what the open pools hold came from vials nobody recorded
/// opening (single-dose vials) and take nothing.
pub fn take_from_pools(pools: &mut [Pool], at: i64, mut n: u64) -> Vec<(usize, u64)> {
    let mut drawn = Vec::new();
    while n > 0 {
        let Some(i) = next_pool(pools, at) else {
            break;
        };
        let take = n.min(pools[i].left());
        pools[i].taken += take;
        n -= take;
        drawn.push((i, take));
    }
    drawn
}

/// The pool to take the next dose from at `now`, as [`next_vial`] points
/// at a vial: open at that instant, not empty, reaching its limit first
/// (the fewest doses left on a tie).
pub fn next_pool(pools: &[Pool], now: i64) -> Option<usize> {
    (0..pools.len())
        .filter(|&i| pools[i].open_at(now))
        .min_by_key(|&i| (pools[i].discard_at, pools[i].left()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn an_open_vial_gives_its_doses_until_its_limit_then_the_rest_is_wastage() {
        let t0 = datetime!(2021-08-15 07:30 +7);
        let mut v = OpenVial::open("A1234", 10, 6, t0).unwrap();
        assert_eq!(v.discard_at, datetime!(2021-08-15 13:30 +7));
        for _ in 0..7 {
            v.take_dose(t0 + Duration::hours(1)).unwrap();
        }
        assert_eq!(v.doses_left, 3);
        assert_eq!(v.wastage_due(t0 + Duration::hours(5)), None);
        let late = t0 + Duration::hours(6);
        let err = v.take_dose(late).unwrap_err();
        assert_eq!(err.field(), "lot");
        assert!(err.to_string().contains("A1234"));
        assert_eq!(v.wastage_due(late), Some(3));
        assert_eq!(
            OpenVial::open("A1", 0, 6, t0).unwrap_err().field(),
            "doses_per_vial"
        );
    }

    #[test]
    fn an_empty_vial_refuses_and_owes_no_wastage() {
        let t0 = datetime!(2021-08-15 07:30 +7);
        let mut v = OpenVial::open("P9", 1, 0, t0).unwrap();
        v.take_dose(t0).unwrap();
        assert_eq!(v.take_dose(t0), Err(VialError::Empty { lot: "P9".into() }));
        assert_eq!(v.wastage_due(t0 + Duration::days(2)), None);
    }

    #[test]
    fn doses_given_empty_the_vial_reaching_its_limit_first() {
        let h = 3_600_000_000i64;
        let fresh = || {
            vec![
                Pool {
                    opened_at: 0,
                    discard_at: 6 * h,
                    doses: 10,
                    taken: 0,
                },
                Pool {
                    opened_at: h,
                    discard_at: 7 * h,
                    doses: 10,
                    taken: 0,
                },
            ]
        };
        // 4 doses before the second vial is opened, 8 after: the first
        // vial gives its 10 first, the second the remaining 2.
        let mut pools = fresh();
        assert_eq!(take_from_pools(&mut pools, h / 2, 4), [(0, 4)]);
        assert_eq!(take_from_pools(&mut pools, 2 * h, 8), [(0, 6), (1, 2)]);
        assert_eq!((pools[0].left(), pools[1].left()), (0, 8));
        assert_eq!(next_pool(&pools, 3 * h), Some(1));
        // A dose given after the first vial's limit comes from the second.
        let mut pools = fresh();
        assert_eq!(take_from_pools(&mut pools, 6 * h, 3), [(1, 3)]);
        assert_eq!(next_pool(&pools, 6 * h), Some(1));
        // Doses given before any vial was opened, or after every limit,
        // take nothing.
        let mut pools = fresh();
        assert!(take_from_pools(&mut pools, -1, 5).is_empty());
        assert!(take_from_pools(&mut pools, 9 * h, 5).is_empty());
        assert_eq!(next_pool(&pools, 9 * h), None);
        // More doses than the vials hold: the rest came from elsewhere.
        let mut pools = fresh();
        take_from_pools(&mut pools, 2 * h, 50);
        assert_eq!((pools[0].left(), pools[1].left()), (0, 0));
        assert_eq!(next_pool(&pools, 2 * h), None);
    }

    #[test]
    fn the_vaccinator_is_pointed_at_the_vial_that_expires_first() {
        let t0 = datetime!(2021-08-15 07:30 +7);
        let vials = vec![
            OpenVial::open("A1", 10, 6, t0 + Duration::hours(1)).unwrap(),
            OpenVial::open("A1", 10, 6, t0).unwrap(),
            OpenVial::open("B2", 10, 6, t0 - Duration::hours(1)).unwrap(),
        ];
        assert_eq!(next_vial(&vials, "A1", t0 + Duration::hours(2)), Some(1));
        assert_eq!(next_vial(&vials, "A1", t0 + Duration::hours(6)), Some(0));
        assert_eq!(next_vial(&vials, "A1", t0 + Duration::hours(7)), None);
        assert_eq!(next_vial(&vials, "C3", t0), None);
    }
}
