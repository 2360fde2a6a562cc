//! A time histogram for /metrics: counts per upper bound, readable while
//! it is being filled (atomics only), rendered in Prometheus' text format.

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

    /// Cumulative counts per upper bound, then the sum and the count.
    pub fn prometheus(&self, name: &str) -> String {
        let mut out = format!("# TYPE {name} histogram\n");
        let mut cumulative = 0;
        for (i, bound) in LATENCY_BOUNDS.iter().enumerate() {
            cumulative += self.counts[i].load(Relaxed);
            out.push_str(&format!("{name}_bucket{{le=\"{bound}\"}} {cumulative}\n"));
        }
        cumulative += self.counts[LATENCY_BOUNDS.len()].load(Relaxed);
        out.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {cumulative}\n"));
        out.push_str(&format!(
            "{name}_sum {:.6}\n{name}_count {cumulative}\n",
            self.sum_micros.load(Relaxed) as f64 / 1e6
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_fall_in_their_buckets_and_render_cumulatively() {
        let h = Histogram::default();
        for seconds in [0.0005, 0.001, 0.0015, 0.03, 0.03, 2.0] {
            h.record(seconds);
        }
        let text = h.prometheus("t");
        assert!(text.contains("t_bucket{le=\"0.001\"} 2\n"), "{text}");
        assert!(text.contains("t_bucket{le=\"0.002\"} 3\n"), "{text}");
        assert!(text.contains("t_bucket{le=\"0.02\"} 3\n"), "{text}");
        assert!(text.contains("t_bucket{le=\"0.05\"} 5\n"), "{text}");
        assert!(text.contains("t_bucket{le=\"1\"} 5\n"), "{text}");
        assert!(text.contains("t_bucket{le=\"+Inf\"} 6\n"), "{text}");
        assert!(text.contains("t_count 6\n"), "{text}");
        assert!(text.contains("t_sum 2.063000\n"), "{text}");
    }
}
