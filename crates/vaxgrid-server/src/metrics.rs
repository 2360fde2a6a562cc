//! `/metrics`: every figure in Prometheus' text format (0.0.4), written
//! through the one `Exposition` here, so names, types and number formats
//! are decided in one place.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use vaxgrid_store::histogram::Histogram;

use crate::AppState;

/// A Prometheus text exposition being written.
#[derive(Default)]
pub struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    pub fn counter(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "counter", help);
        let _ = writeln!(self.0, "{name} {value}");
    }

    pub fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "gauge", help);
        let _ = writeln!(self.0, "{name} {value}");
    }

    pub fn histogram(&mut self, name: &str, help: &str, h: &Histogram) {
        self.family(name, "histogram", help);
        let (buckets, sum) = h.cumulative();
        let mut count = 0;
        for (bound, n) in buckets {
            match bound {
                Some(b) => {
                    let _ = writeln!(self.0, "{name}_bucket{{le=\"{b}\"}} {n}");
                }
                None => {
                    let _ = writeln!(self.0, "{name}_bucket{{le=\"+Inf\"}} {n}");
                    count = n;
                }
            }
        }
        let _ = writeln!(self.0, "{name}_sum {sum:.6}\n{name}_count {count}");
    }

    pub fn finish(self) -> String {
        self.0
    }
}

/// The figures of this server.
pub fn render(app: &AppState) -> String {
    let s = &app.writer.stats;
    let n = |a: &std::sync::atomic::AtomicU64| a.load(Relaxed) as f64;
    let mut e = Exposition::default();
    e.counter(
        "vaxgrid_dose_batches_total",
        "Batches the dose writer committed or failed.",
        n(&s.batches),
    );
    e.counter(
        "vaxgrid_dose_commands_total",
        "Commands (doses, corrections, merges) the dose writer applied.",
        n(&s.commands),
    );
    e.gauge(
        "vaxgrid_dose_largest_batch",
        "The largest batch the dose writer took at once.",
        n(&s.largest_batch),
    );
    e.counter(
        "vaxgrid_dose_failed_batches_total",
        "Batches that failed after their retries.",
        n(&s.failed_batches),
    );
    e.counter(
        "vaxgrid_dose_batch_retries_total",
        "Retries of batches that met a transient error.",
        n(&s.retries),
    );
    e.counter(
        "vaxgrid_dose_writer_busy_seconds_total",
        "Seconds the dose writer spent applying batches.",
        s.busy_micros.load(Relaxed) as f64 / 1e6,
    );
    e.histogram(
        "vaxgrid_dose_batch_seconds",
        "Time of one dose batch, begin to commit.",
        &s.batch_time,
    );
    e.histogram(
        "vaxgrid_dose_request_seconds",
        "Time of a dose request from its handler to its answer.",
        &app.dose_latency,
    );
    e.finish()
}

#[utoipa::path(
    get,
    path = "/metrics",
    summary = "Prometheus text metrics of the dose writer",
    responses(
        (status = 200, description = "OK"),
    )
)]
pub async fn metrics(State(app): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        render(&app),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_render_cumulatively_with_help_and_type() {
        let h = Histogram::default();
        for seconds in [0.0005, 0.001, 0.0015, 0.03, 0.03, 2.0] {
            h.record(seconds);
        }
        let mut e = Exposition::default();
        e.histogram("t", "A test.", &h);
        e.counter("c_total", "Things.", 3.0);
        let text = e.finish();
        assert!(
            text.starts_with("# HELP t A test.\n# TYPE t histogram\n"),
            "{text}"
        );
        assert!(text.contains("t_bucket{le=\"0.001\"} 2\n"), "{text}");
        assert!(text.contains("t_bucket{le=\"0.002\"} 3\n"), "{text}");
        assert!(text.contains("t_bucket{le=\"1\"} 5\n"), "{text}");
        assert!(text.contains("t_bucket{le=\"+Inf\"} 6\n"), "{text}");
        assert!(text.contains("t_count 6\n"), "{text}");
        assert!(text.contains("t_sum 2.063000\n"), "{text}");
        assert!(
            text.contains("# TYPE c_total counter\nc_total 3\n"),
            "{text}"
        );
    }
}
