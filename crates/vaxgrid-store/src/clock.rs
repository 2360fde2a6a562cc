//! The store's clock: the system's time, which a test can move forward
//! (`Clock::advance`) to reach an expiry, a wait or the next day without
//! sleeping. Every handle on one database made from the same `Store`
//! (clones, `reconnect`) shares it; the stored instants are microseconds
//! since the Unix epoch, as everywhere in the store.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// How far ahead of the system's time this clock is, in microseconds.
    ahead: Arc<AtomicI64>,
}

impl Clock {
    /// Now, in microseconds since the Unix epoch.
    pub fn now_micros(&self) -> i64 {
        crate::now_micros() + self.ahead.load(Ordering::Relaxed)
    }

    /// Today's date in UTC.
    pub fn today(&self) -> time::Date {
        crate::supply::day_of(self.now_micros())
    }

    /// Moves this clock (and every handle sharing it) `by` forward.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.ahead.fetch_add(micros, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_copy_and_the_day() {
        let clock = Clock::default();
        let copy = clock.clone();
        let before = clock.now_micros();
        let day = clock.today();
        copy.advance(Duration::from_secs(86_400));
        assert!(clock.now_micros() - before >= 86_400_000_000);
        assert_eq!(clock.today(), day.next_day().unwrap());
    }
}
