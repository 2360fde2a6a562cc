//! A time histogram for /metrics: counts per upper bound, readable while
//! it is being filled (atomics only).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds (seconds) for the latencies of the dose path: a dose waits
/// for about two batches of the writer.
pub const LATENCY_BOUNDS: [f64; 10] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0];

#[derive(Debug)]
pub struct Histogram {
    /// `counts[i]` counts the observations of at most `LATENCY_BOUNDS[i]`
    /// seconds and more than the bound before it; the last slot the slower ones.
    counts: [AtomicU64; LATENCY_BOUNDS.len() + 1],
    sum_micros: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: Default::default(),
            sum_micros: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn record(&self, seconds: f64) {
        let slot = LATENCY_BOUNDS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(LATENCY_BOUNDS.len());
        self.counts[slot].fetch_add(1, Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6).max(0.0) as u64, Relaxed);
    }

    /// Cumulative counts per upper bound (`None`: +Inf, the count of all),
    /// and the sum of the observations in seconds. Rendered for /metrics by
    /// the server's `metrics` module.
    pub fn cumulative(&self) -> (Vec<(Option<f64>, u64)>, f64) {
        let mut cumulative = 0;
        let mut out = Vec::with_capacity(LATENCY_BOUNDS.len() + 1);
        for (i, bound) in LATENCY_BOUNDS.iter().enumerate() {
            cumulative += self.counts[i].load(Relaxed);
            out.push((Some(*bound), cumulative));
        }
        cumulative += self.counts[LATENCY_BOUNDS.len()].load(Relaxed);
        out.push((None, cumulative));
        (out, self.sum_micros.load(Relaxed) as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_fall_in_their_buckets_and_add_up() {
        let h = Histogram::default();
        for seconds in [0.0005, 0.001, 0.0015, 0.03, 0.03, 2.0] {
            h.record(seconds);
        }
        let (buckets, sum) = h.cumulative();
        let at = |b: Option<f64>| buckets.iter().find(|(x, _)| *x == b).unwrap().1;
        assert_eq!(at(Some(0.001)), 2);
        assert_eq!(at(Some(0.002)), 3);
        assert_eq!(at(Some(0.02)), 3);
        assert_eq!(at(Some(0.05)), 5);
        assert_eq!(at(Some(1.0)), 5);
        assert_eq!(at(None), 6);
        assert!((sum - 2.063).abs() < 1e-9, "{sum}");
    }
}
