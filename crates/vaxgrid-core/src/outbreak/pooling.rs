//! Pooled testing as a state machine. A sample is collected, then tested
//! alone or in a pool of up to the laboratory's maximum; a negative pool
//! clears its members, a positive pool sends every member to a single
//! re-test, and a single result is final. Every operation either applies
//! whole or is refused naming its field, and no sample is ever lost: at
//! every moment each collected sample is in exactly one place (waiting to
//! be assigned, in one pending test, or resulted), which `check` proves
//! and the property test exercises.
//!
//! `queue_days` gives the day each queued test will run at a laboratory's
//! daily capacity.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

pub type SampleId = u64;
pub type TestId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Negative,
    Positive,
}

/// Where a sample is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum SampleState {
    /// Collected, not yet in a test.
    Collected,
    /// In a pending test (a pool or a single test).
    InTest { test: TestId },
    /// Final.
    Resulted { outcome: Outcome, test: TestId },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Test {
    pub id: TestId,
    pub samples: Vec<SampleId>,
    /// A re-test of a member of this positive pool.
    pub retest_of: Option<TestId>,
    pub outcome: Option<Outcome>,
}

impl Test {
    pub fn is_pool(&self) -> bool {
        self.samples.len() > 1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolingError {
    #[error("a pool holds 1 to {max} samples (the laboratory's maximum); {size} given")]
    PoolSize { size: usize, max: u32 },
    #[error("sample {0} does not exist")]
    UnknownSample(SampleId),
    #[error("sample {0} is already in a test or resulted")]
    SampleNotWaiting(SampleId),
    #[error("sample {0} is named twice")]
    SampleRepeated(SampleId),
    #[error("test {0} does not exist")]
    UnknownTest(TestId),
    #[error("test {0} already has its result")]
    AlreadyResulted(TestId),
}

impl PoolingError {
    pub fn field(&self) -> &'static str {
        match self {
            PoolingError::PoolSize { .. } => "pool_size",
            PoolingError::UnknownSample(_)
            | PoolingError::SampleNotWaiting(_)
            | PoolingError::SampleRepeated(_) => "samples",
            PoolingError::UnknownTest(_) | PoolingError::AlreadyResulted(_) => "test_id",
        }
    }
}

/// The samples and tests of one laboratory (or one screening round).
#[derive(Debug, Clone, Default)]
pub struct Lab {
    samples: BTreeMap<SampleId, SampleState>,
    tests: BTreeMap<TestId, Test>,
    next_sample: SampleId,
    next_test: TestId,
}

impl Lab {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn collect(&mut self) -> SampleId {
        self.next_sample += 1;
        self.samples
            .insert(self.next_sample, SampleState::Collected);
        self.next_sample
    }

    pub fn sample(&self, id: SampleId) -> Option<SampleState> {
        self.samples.get(&id).copied()
    }

    pub fn test(&self, id: TestId) -> Option<&Test> {
        self.tests.get(&id)
    }

    pub fn samples(&self) -> impl Iterator<Item = (SampleId, SampleState)> + '_ {
        self.samples.iter().map(|(k, v)| (*k, *v))
    }

    /// Tests waiting for a result, in the order they were made.
    pub fn pending(&self) -> impl Iterator<Item = &Test> + '_ {
        self.tests.values().filter(|t| t.outcome.is_none())
    }

    fn new_test(&mut self, samples: Vec<SampleId>, retest_of: Option<TestId>) -> TestId {
        self.next_test += 1;
        let id = self.next_test;
        for s in &samples {
            self.samples.insert(*s, SampleState::InTest { test: id });
        }
        self.tests.insert(
            id,
            Test {
                id,
                samples,
                retest_of,
                outcome: None,
            },
        );
        id
    }

    /// Puts waiting samples into one test: a pool when more than one, a
    /// single test when one. `max_pool` is the laboratory's largest pool.
    pub fn assign(&mut self, samples: &[SampleId], max_pool: u32) -> Result<TestId, PoolingError> {
        if samples.is_empty() || samples.len() > max_pool as usize {
            return Err(PoolingError::PoolSize {
                size: samples.len(),
                max: max_pool,
            });
        }
        for (i, s) in samples.iter().enumerate() {
            match self.samples.get(s) {
                None => return Err(PoolingError::UnknownSample(*s)),
                Some(SampleState::Collected) => {}
                Some(_) => return Err(PoolingError::SampleNotWaiting(*s)),
            }
            if samples[..i].contains(s) {
                return Err(PoolingError::SampleRepeated(*s));
            }
        }
        Ok(self.new_test(samples.to_vec(), None))
    }

    /// Records a test's result. A negative test clears its samples; a
    /// positive single test is final; a positive pool creates one re-test
    /// per member, whose ids are returned.
    pub fn result(&mut self, test: TestId, outcome: Outcome) -> Result<Vec<TestId>, PoolingError> {
        let t = self
            .tests
            .get_mut(&test)
            .ok_or(PoolingError::UnknownTest(test))?;
        if t.outcome.is_some() {
            return Err(PoolingError::AlreadyResulted(test));
        }
        t.outcome = Some(outcome);
        let members = t.samples.clone();
        let pool = members.len() > 1;
        if pool && outcome == Outcome::Positive {
            return Ok(members
                .into_iter()
                .map(|s| self.new_test(vec![s], Some(test)))
                .collect());
        }
        for s in members {
            self.samples
                .insert(s, SampleState::Resulted { outcome, test });
        }
        Ok(Vec::new())
    }

    /// The bookkeeping holds: every sample is waiting, in exactly the one
    /// pending test that names it, or resulted by a finished test naming
    /// it; every pending test's samples point back at it.
    pub fn check(&self) -> Result<(), String> {
        for (&s, state) in &self.samples {
            let naming: Vec<&Test> = self
                .tests
                .values()
                .filter(|t| t.outcome.is_none() && t.samples.contains(&s))
                .collect();
            match state {
                SampleState::Collected => {
                    if !naming.is_empty() {
                        return Err(format!("sample {s} waits but is in a pending test"));
                    }
                }
                SampleState::InTest { test } => {
                    if naming.len() != 1 || naming[0].id != *test {
                        return Err(format!(
                            "sample {s} is in test {test} but {} pending tests name it",
                            naming.len()
                        ));
                    }
                }
                SampleState::Resulted { test, outcome } => {
                    if !naming.is_empty() {
                        return Err(format!("sample {s} resulted but still pending"));
                    }
                    let t = self.tests.get(test).ok_or(format!("sample {s}: no test"))?;
                    if t.outcome != Some(*outcome) || !t.samples.contains(&s) {
                        return Err(format!("sample {s}: result does not match test {test}"));
                    }
                }
            }
        }
        for t in self.tests.values() {
            for s in &t.samples {
                if !self.samples.contains_key(s) {
                    return Err(format!("test {} names unknown sample {s}", t.id));
                }
            }
        }
        Ok(())
    }
}

/// The day each of `queued` tests runs at `per_day` a day, the first
/// `already_today` of today's runs being taken. `None` when the
/// laboratory runs nothing.
pub fn queue_days(
    queued: usize,
    per_day: u32,
    already_today: u32,
    today: Date,
) -> Option<Vec<Date>> {
    if per_day == 0 {
        return None;
    }
    let per_day = per_day as usize;
    let taken = (already_today as usize).min(per_day);
    Some(
        (0..queued)
            .map(|k| today + Duration::days(((taken + k) / per_day) as i64))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_positive_pool_retests_its_members() {
        let mut lab = Lab::new();
        let s: Vec<SampleId> = (0..10).map(|_| lab.collect()).collect();
        let pool = lab.assign(&s, 10).unwrap();
        assert!(lab.test(pool).unwrap().is_pool());
        let retests = lab.result(pool, Outcome::Positive).unwrap();
        assert_eq!(retests.len(), 10);
        assert_eq!(lab.pending().count(), 10);
        lab.check().unwrap();
        for (i, t) in retests.iter().enumerate() {
            let o = if i == 3 {
                Outcome::Positive
            } else {
                Outcome::Negative
            };
            assert!(lab.result(*t, o).unwrap().is_empty());
        }
        assert_eq!(
            lab.sample(s[3]),
            Some(SampleState::Resulted {
                outcome: Outcome::Positive,
                test: retests[3]
            })
        );
        assert_eq!(lab.test(retests[3]).unwrap().retest_of, Some(pool));
        lab.check().unwrap();
        assert_eq!(lab.pending().count(), 0);
    }

    #[test]
    fn refusals_name_their_field_and_change_nothing() {
        let mut lab = Lab::new();
        let s: Vec<SampleId> = (0..11).map(|_| lab.collect()).collect();
        assert_eq!(lab.assign(&s, 10).unwrap_err().field(), "pool_size");
        assert_eq!(lab.assign(&[], 10).unwrap_err().field(), "pool_size");
        assert_eq!(
            lab.assign(&[s[0], s[0]], 10).unwrap_err().field(),
            "samples"
        );
        assert_eq!(lab.assign(&[s[0], 999], 10).unwrap_err().field(), "samples");
        assert!(lab.samples().all(|(_, st)| st == SampleState::Collected));
        let t = lab.assign(&s[..2], 10).unwrap();
        assert!(matches!(
            lab.assign(&s[1..3], 10),
            Err(PoolingError::SampleNotWaiting(_))
        ));
        lab.result(t, Outcome::Negative).unwrap();
        assert_eq!(
            lab.result(t, Outcome::Positive).unwrap_err().field(),
            "test_id"
        );
        lab.check().unwrap();
    }

    #[test]
    fn the_queue_says_when_each_test_runs() {
        let today = date!(2026 - 12 - 01);
        let days = queue_days(5, 2, 1, today).unwrap();
        assert_eq!(
            days,
            [
                date!(2026 - 12 - 01),
                date!(2026 - 12 - 02),
                date!(2026 - 12 - 02),
                date!(2026 - 12 - 03),
                date!(2026 - 12 - 03)
            ]
        );
        assert_eq!(queue_days(1, 0, 0, today), None);
    }
}
