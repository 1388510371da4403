//! What `/metrics` reports, kept in memory, and the Prometheus text
//! exposition format (version 0.0.4) it is written in. No web or SQL types:
//! the fairing in `web::observe` records each request here, and the route
//! adds the database's gauges as it writes the page.
//!
//! A small registry of counters rather than the `prometheus` crate: qmtrack
//! needs one counter and one histogram keyed by a handful of labels, and
//! the format is a few lines of text.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds (seconds) of the request duration histogram's buckets.
pub const DURATION_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Requests seen by one app server since it started.
#[derive(Default)]
pub struct HttpMetrics {
    inner: Mutex<Recorded>,
}

/// By route pattern: a route's entry is made the first time it is answered,
/// and every later request finds it by the pattern it has, so recording a
/// request allocates nothing.
#[derive(Default)]
struct Recorded {
    routes: BTreeMap<String, RouteRecord>,
}

#[derive(Clone)]
struct RouteRecord {
    /// (method, status class) → requests.
    requests: BTreeMap<(&'static str, &'static str), u64>,
    /// How long its requests took.
    durations: Histogram,
}

impl RouteRecord {
    fn count(&mut self, method: &'static str, status: u16, seconds: f64) {
        *self.requests.entry((method, status_class(status))).or_default() += 1;
        self.durations.observe(seconds);
    }
}

impl Default for RouteRecord {
    fn default() -> Self {
        RouteRecord {
            requests: BTreeMap::new(),
            durations: Histogram::new(&DURATION_BUCKETS),
        }
    }
}

/// Observations counted into fixed buckets, each bucket holding only the
/// observations that fell into it (made cumulative when written).
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One more than `bounds`: the last is past every bound (`+Inf`).
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    pub fn observe(&mut self, value: f64) {
        let slot = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        self.counts[slot] += 1;
        self.sum += value;
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// (upper bound, observations at or below it), ending with `+Inf`.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let bounds = self.bounds.iter().copied().chain(std::iter::once(f64::INFINITY));
        let mut total = 0;
        bounds
            .zip(&self.counts)
            .map(|(bound, count)| {
                total += count;
                (bound, total)
            })
            .collect()
    }
}

/// "2xx", "4xx", …: enough to tell failures from successes without a label
/// value per status code.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl HttpMetrics {
    /// One finished request. `route` is the matched route's pattern, never
    /// the path that was asked for; `method` is one of HTTP's few.
    pub fn record(&self, route: &str, method: &'static str, status: u16, seconds: f64) {
        let mut recorded = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(entry) = recorded.routes.get_mut(route) {
            entry.count(method, status, seconds);
            return;
        }
        let mut entry = RouteRecord::default();
        entry.count(method, status, seconds);
        recorded.routes.insert(route.to_string(), entry);
    }

    /// Writes the request counter and the duration histogram.
    pub fn write(&self, out: &mut Exposition) {
        let routes = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .routes
            .clone();
        out.family(
            "qmtrack_http_requests_total",
            "HTTP requests answered, by route pattern, method and status class.",
            Kind::Counter,
        );
        for (route, record) in &routes {
            for ((method, status), count) in &record.requests {
                out.sample(
                    "qmtrack_http_requests_total",
                    &[("route", route.as_str()), ("method", method), ("status", status)],
                    *count as f64,
                );
            }
        }
        out.family(
            "qmtrack_http_request_duration_seconds",
            "Time from a request's arrival to its response, by route pattern.",
            Kind::Histogram,
        );
        for (route, record) in &routes {
            out.histogram(
                "qmtrack_http_request_duration_seconds",
                &[("route", route.as_str())],
                &record.durations,
            );
        }
    }
}

#[derive(Clone, Copy)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A page in the Prometheus text format, written family by family: each
/// [`Exposition::family`] line pair comes before that family's samples.
#[derive(Default)]
pub struct Exposition {
    text: String,
}

/// The Content-Type of the page.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Exposition {
    pub fn family(&mut self, name: &str, help: &str, kind: Kind) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.name());
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape_label_value(value));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", number(value));
    }

    /// A family and its one sample: a gauge with no labels.
    pub fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, help, Kind::Gauge);
        self.sample(name, &[], value);
    }

    /// The `_bucket` (cumulative, with `le`), `_sum` and `_count` samples.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], histogram: &Histogram) {
        let bucket = format!("{name}_bucket");
        for (bound, count) in histogram.cumulative() {
            let le = number(bound);
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            self.sample(&bucket, &with_le, count as f64);
        }
        self.sample(&format!("{name}_sum"), labels, histogram.sum);
        self.sample(&format!("{name}_count"), labels, histogram.count() as f64);
    }

    pub fn into_text(self) -> String {
        self.text
    }
}

/// A label value as the format wants it inside double quotes.
fn escape_label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn number(value: f64) -> String {
    if value == f64::INFINITY {
        "+Inf".into()
    } else if value == f64::NEG_INFINITY {
        "-Inf".into()
    } else if value.is_nan() {
        "NaN".into()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = Exposition::default();
        out.sample("x_total", &[("route", "a\\b\"c\nd"), ("method", "GET")], 3.0);
        assert_eq!(out.into_text(), "x_total{route=\"a\\\\b\\\"c\\nd\",method=\"GET\"} 3\n");
    }

    #[test]
    fn help_text_is_escaped_and_typed() {
        let mut out = Exposition::default();
        out.gauge("up", "first line\nsecond \\ line", 1.0);
        assert_eq!(
            out.into_text(),
            "# HELP up first line\\nsecond \\\\ line\n# TYPE up gauge\nup 1\n"
        );
    }

    #[test]
    fn buckets_are_cumulative_and_end_at_infinity() {
        // Powers of two, so the sum is exact.
        static BOUNDS: [f64; 3] = [0.125, 0.5, 1.0];
        let mut histogram = Histogram::new(&BOUNDS);
        for value in [0.0625, 0.125, 0.25, 0.75, 2.0, 8.0] {
            histogram.observe(value);
        }
        let mut out = Exposition::default();
        out.histogram("d_seconds", &[("route", "/x/<id>")], &histogram);
        let text = out.into_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "d_seconds_bucket{route=\"/x/<id>\",le=\"0.125\"} 2",
                "d_seconds_bucket{route=\"/x/<id>\",le=\"0.5\"} 3",
                "d_seconds_bucket{route=\"/x/<id>\",le=\"1\"} 4",
                "d_seconds_bucket{route=\"/x/<id>\",le=\"+Inf\"} 6",
                "d_seconds_sum{route=\"/x/<id>\"} 11.1875",
                "d_seconds_count{route=\"/x/<id>\"} 6",
            ]
        );
    }

    #[test]
    fn requests_are_counted_by_route_method_and_status_class() {
        let metrics = HttpMetrics::default();
        metrics.record("/organisations/<id>", "GET", 200, 0.002);
        metrics.record("/organisations/<id>", "GET", 204, 0.2);
        metrics.record("/organisations/<id>", "GET", 404, 0.002);
        metrics.record("/login", "POST", 303, 0.02);
        let mut out = Exposition::default();
        metrics.write(&mut out);
        let text = out.into_text();
        assert!(text
            .contains("qmtrack_http_requests_total{route=\"/organisations/<id>\",method=\"GET\",status=\"2xx\"} 2\n"));
        assert!(text
            .contains("qmtrack_http_requests_total{route=\"/organisations/<id>\",method=\"GET\",status=\"4xx\"} 1\n"));
        assert!(text.contains("qmtrack_http_requests_total{route=\"/login\",method=\"POST\",status=\"3xx\"} 1\n"));
        assert!(text
            .contains("qmtrack_http_request_duration_seconds_bucket{route=\"/organisations/<id>\",le=\"0.005\"} 2\n"));
        assert!(text.contains("qmtrack_http_request_duration_seconds_count{route=\"/organisations/<id>\"} 3\n"));
        assert_eq!(text.matches("# TYPE qmtrack_http_requests_total counter").count(), 1);
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(101), "1xx");
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(399), "3xx");
        assert_eq!(status_class(401), "4xx");
        assert_eq!(status_class(503), "5xx");
    }
}
