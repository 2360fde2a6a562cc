//! Sign-in throttling that an attacker cannot turn against the account
//! holder (OWASP authentication cheat sheet: throttle by account and by
//! source, with growing delays rather than a hard lock).
//!
//! Two counters of failed sign-ins decide whether an attempt may be checked:
//! - per (user name, source address): `pair_free` failures are free, then
//!   each failure makes the next attempt from that address wait, the wait
//!   doubling from `base` up to `max`;
//! - per user name, counting only failures from addresses that never signed
//!   in successfully as that name: the same growing wait after `name_free`
//!   failures, applied only to such unknown addresses.
//!
//! So someone guessing from one address, or from many, is as slow as the
//! delays make them, while the account holder at an address they signed in
//! from before is held back only by their own failures there. A counter
//! whose last failure is older than `forget` starts again from zero; a
//! successful sign-in clears both counters.
//!
//! The store applies the rule inside one write transaction, counting the
//! attempt as a failure before the password is checked (so parallel guesses
//! cannot slip past the counter) and clearing the counters on success.

/// The numbers of the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures per (name, address) before the first wait.
    pub pair_free: i64,
    /// Failures per name from unknown addresses before the first wait.
    pub name_free: i64,
    /// The first wait, in microseconds; each further failure doubles it.
    pub base_micros: i64,
    /// The longest wait.
    pub max_micros: i64,
    /// A counter idle this long (since its last failure) starts again.
    pub forget_micros: i64,
}

/// What the server applies: 5 free failures per address, 10 per name from
/// unknown addresses, then 1 s doubling up to 15 min; forgotten after a day.
pub const POLICY: Policy = Policy {
    pair_free: 5,
    name_free: 10,
    base_micros: 1_000_000,
    max_micros: 15 * 60 * 1_000_000,
    forget_micros: 24 * 3600 * 1_000_000,
};

/// Failed sign-ins in a row and when the last one was (Unix micros).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub failures: i64,
    pub last_failure: i64,
}

/// Which counter holds an attempt back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// This name from this address.
    Pair,
    /// This name from any address that never signed in as it.
    Name,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Pair => "address",
            Scope::Name => "name",
        }
    }
}

/// The answer to "may this attempt be checked now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Not before `until` (Unix micros); `scope` says which counter.
    Wait {
        until: i64,
        scope: Scope,
    },
}

impl Policy {
    /// The wait that `failures` failures in a row impose after the last one,
    /// given `free` failures without a wait.
    pub fn delay(&self, failures: i64, free: i64) -> i64 {
        if failures < free.max(1) {
            return 0;
        }
        let doublings = (failures - free.max(1)).min(40) as u32;
        self.base_micros
            .saturating_mul(1_i64 << doublings)
            .min(self.max_micros)
    }

    /// The counter as it stands at `now` (forgotten when idle long enough).
    pub fn current(&self, counter: Counter, now: i64) -> Counter {
        if counter.failures > 0 && now - counter.last_failure > self.forget_micros {
            Counter::default()
        } else {
            counter
        }
    }

    /// Until when a counter holds attempts back (0 when it does not).
    pub fn blocked_until(&self, counter: Counter, free: i64, now: i64) -> i64 {
        let counter = self.current(counter, now);
        match self.delay(counter.failures, free) {
            0 => 0,
            d => counter.last_failure.saturating_add(d),
        }
    }

    /// Whether an attempt for a name from an address may be checked at
    /// `now`. `known` says the address signed in as the name before; the
    /// name-wide counter does not apply to it.
    pub fn decide(&self, pair: Counter, name: Counter, known: bool, now: i64) -> Decision {
        let pair_until = self.blocked_until(pair, self.pair_free, now);
        let name_until = if known {
            0
        } else {
            self.blocked_until(name, self.name_free, now)
        };
        let (until, scope) = if name_until > pair_until {
            (name_until, Scope::Name)
        } else {
            (pair_until, Scope::Pair)
        };
        if until > now {
            Decision::Wait { until, scope }
        } else {
            Decision::Allow
        }
    }

    /// The counter after one more failure at `now`.
    pub fn failed(&self, counter: Counter, now: i64) -> Counter {
        let counter = self.current(counter, now);
        Counter {
            failures: counter.failures + 1,
            last_failure: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn fail(policy: &Policy, mut c: Counter, n: i64, now: i64) -> Counter {
        for _ in 0..n {
            c = policy.failed(c, now);
        }
        c
    }

    #[test]
    fn five_failures_are_free_then_the_wait_doubles_to_fifteen_minutes() {
        let p = POLICY;
        let waits: Vec<i64> = (0..=16).map(|f| p.delay(f, p.pair_free) / S).collect();
        assert_eq!(
            waits,
            [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
        );
        // No overflow however long the guessing goes on.
        assert_eq!(p.delay(i64::MAX, p.pair_free), p.max_micros);
    }

    #[test]
    fn an_address_that_keeps_failing_waits_longer_each_time() {
        let p = POLICY;
        let now = 1_000 * S;
        let c = fail(&p, Counter::default(), 4, now);
        assert_eq!(p.decide(c, c, true, now), Decision::Allow);
        let c = p.failed(c, now);
        assert_eq!(
            p.decide(c, Counter::default(), true, now),
            Decision::Wait {
                until: now + S,
                scope: Scope::Pair
            }
        );
        // Once the wait is over the next attempt is checked; failing again
        // doubles the wait.
        assert_eq!(
            p.decide(c, Counter::default(), true, now + S),
            Decision::Allow
        );
        let c = p.failed(c, now + S);
        assert_eq!(
            p.decide(c, Counter::default(), true, now + S),
            Decision::Wait {
                until: now + 3 * S,
                scope: Scope::Pair
            }
        );
    }

    #[test]
    fn the_name_wide_limit_spares_addresses_that_signed_in_before() {
        let p = POLICY;
        let now = 5_000 * S;
        let name = fail(&p, Counter::default(), 30, now);
        let clean = Counter::default();
        // A known address with no failures of its own: in.
        assert_eq!(p.decide(clean, name, true, now), Decision::Allow);
        // Any other address waits for the name's counter.
        assert_eq!(
            p.decide(clean, name, false, now),
            Decision::Wait {
                until: now + p.max_micros,
                scope: Scope::Name
            }
        );
        // Nine failures across unknown addresses hold nobody back.
        let name = fail(&p, Counter::default(), 9, now);
        assert_eq!(p.decide(clean, name, false, now), Decision::Allow);
    }

    #[test]
    fn the_known_address_is_still_held_by_its_own_failures() {
        let p = POLICY;
        let now = 9_000 * S;
        let pair = fail(&p, Counter::default(), 20, now);
        assert!(matches!(
            p.decide(pair, Counter::default(), true, now),
            Decision::Wait {
                scope: Scope::Pair,
                ..
            }
        ));
    }

    #[test]
    fn the_longer_of_the_two_waits_applies() {
        let p = POLICY;
        let now = 100 * S;
        let pair = fail(&p, Counter::default(), 6, now); // 2 s
        let name = fail(&p, Counter::default(), 12, now); // 4 s
        assert_eq!(
            p.decide(pair, name, false, now),
            Decision::Wait {
                until: now + 4 * S,
                scope: Scope::Name
            }
        );
        assert_eq!(
            p.decide(pair, name, true, now),
            Decision::Wait {
                until: now + 2 * S,
                scope: Scope::Pair
            }
        );
    }

    #[test]
    fn an_idle_counter_is_forgotten() {
        let p = POLICY;
        let now = 100 * S;
        let c = fail(&p, Counter::default(), 50, now);
        let later = now + p.forget_micros + 1;
        assert_eq!(p.current(c, later), Counter::default());
        assert_eq!(p.decide(c, c, false, later), Decision::Allow);
        assert_eq!(
            p.failed(c, later),
            Counter {
                failures: 1,
                last_failure: later
            }
        );
    }
}
