//! Prometheus metrics: requests and latency by route (actix-web-prom), the pool's use, the
//! partner agencies' signs of enumeration (unknown numbers, refused checks by number), and the
//! requests actix-http refused as unparseable before any route saw them.
//!
//! Each application gets its own registry, so several instances in one process (the tests)
//! never collide on metric names. The registry is served by a small server of its own on
//! `metrics.host:metrics.port` ([`serve`]), never on the API port: the counters name agencies
//! and show who is guessing numbers, which is for the operator's scraper only.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::dev::Server;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{App, HttpResponse, HttpServer, web};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

use crate::db::DbPool;

/// Reads the pool's status at scrape time, so the numbers are never stale.
struct PoolCollector {
    pool: DbPool,
    max: IntGauge,
    size: IntGauge,
    available: IntGauge,
    waiting: IntGauge,
}

impl PoolCollector {
    fn new(pool: DbPool) -> prometheus::Result<Self> {
        let gauge = |name: &str, help: &str| {
            IntGauge::with_opts(Opts::new(name, help).namespace("talentcard"))
        };
        Ok(PoolCollector {
            pool,
            max: gauge(
                "db_pool_max_connections",
                "Most connections the pool may hold",
            )?,
            size: gauge("db_pool_connections", "Connections currently open")?,
            available: gauge("db_pool_idle_connections", "Open connections not in use")?,
            waiting: gauge(
                "db_pool_waiting_requests",
                "Requests waiting for a connection",
            )?,
        })
    }

    fn gauges(&self) -> [&IntGauge; 4] {
        [&self.max, &self.size, &self.available, &self.waiting]
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.gauges().into_iter().flat_map(|g| g.desc()).collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let status = self.pool.status();
        let clamp = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.max.set(clamp(status.max_size));
        self.size.set(clamp(status.size));
        self.available.set(clamp(status.available));
        self.waiting.set(clamp(status.waiting));
        self.gauges()
            .into_iter()
            .flat_map(|g| g.collect())
            .collect()
    }
}

/// Malformed requests this process has refused since it started: counted by the telemetry
/// layer that keeps actix-http's parse errors out of the log (`telemetry::malformed`), process
/// wide because the tracing subscriber is.
pub static MALFORMED_REQUESTS: AtomicU64 = AtomicU64::new(0);

/// How many malformed requests actix-http has refused in this process (all its applications):
/// read by the metrics collector, and by tests.
pub fn malformed_requests() -> u64 {
    MALFORMED_REQUESTS.load(Ordering::Relaxed)
}

/// Reads the process-wide count of malformed requests ([`malformed_requests`])
/// at scrape time. The count lives in the logging layer, which is global, while registries are
/// per application; each registry reports the process's number (tests running several
/// applications in one process see the sum of them all).
struct MalformedRequestsCollector {
    /// Describes the metric; each scrape reports a fresh counter holding the current count, so
    /// concurrent scrapes never add to each other.
    template: IntCounter,
}

impl MalformedRequestsCollector {
    fn opts() -> Opts {
        Opts::new(
            "http_malformed_requests_total",
            "Requests refused by the HTTP layer as unparseable (400, 431), not logged one by one",
        )
        .namespace("talentcard")
    }

    fn new() -> prometheus::Result<Self> {
        Ok(MalformedRequestsCollector {
            template: IntCounter::with_opts(Self::opts())?,
        })
    }
}

impl Collector for MalformedRequestsCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.template.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let Ok(counter) = IntCounter::with_opts(Self::opts()) else {
            return Vec::new();
        };
        counter.inc_by(malformed_requests());
        counter.collect()
    }
}

/// The text exposition of the malformed-request metric alone, as a scrape shows it: for tests,
/// which may not reach `/metrics` (it may listen on an address of its own).
pub fn render_malformed_requests() -> anyhow::Result<String> {
    let collector = MalformedRequestsCollector::new()?;
    let families = collector.collect();
    Ok(prometheus::TextEncoder::new().encode_to_string(&families)?)
}

/// Counters of what partner agencies do that may be an attack: each agency's `unknown` answers
/// to checks by number, and its checks by number refused once those passed the hourly limit.
/// Labelled by agency id (agencies are a few hundred, created by administrators), so an
/// operator sees which one is guessing.
#[derive(Clone)]
pub struct PartnerMetrics {
    /// `talentcard_verification_unknown_numbers_total{agency}`.
    pub unknown_numbers: IntCounterVec,
    /// `talentcard_verification_number_checks_refused_total{agency}`.
    pub refused_number_checks: IntCounterVec,
    /// `talentcard_verification_log_batch_rows`: the checks each group commit of the holder's
    /// log carried (`state::verification_log`); its mean is how far a commit's cost is shared.
    pub log_batch_rows: Histogram,
    /// `talentcard_verification_log_batch_seconds`: how long each group commit took, which
    /// every check in it waited on top of its own work.
    pub log_batch_seconds: Histogram,
}

impl PartnerMetrics {
    /// New counters, at zero; [`middleware`] registers them.
    pub fn new() -> prometheus::Result<Self> {
        let counter = |name: &str, help: &str| {
            IntCounterVec::new(Opts::new(name, help).namespace("talentcard"), &["agency"])
        };
        Ok(PartnerMetrics {
            unknown_numbers: counter(
                "verification_unknown_numbers_total",
                "Answers of unknown to an agency's checks by card number",
            )?,
            refused_number_checks: counter(
                "verification_number_checks_refused_total",
                "Checks by card number refused because the agency had too many unknown answers",
            )?,
            log_batch_rows: Histogram::with_opts(
                HistogramOpts::new(
                    "verification_log_batch_rows",
                    "Checks committed together in one write of the holders' verification log",
                )
                .namespace("talentcard")
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]),
            )?,
            log_batch_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "verification_log_batch_seconds",
                    "Time one write of the holders' verification log took, commit included",
                )
                .namespace("talentcard")
                .buckets(vec![
                    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5,
                ]),
            )?,
        })
    }
}

/// The middleware that counts requests by route, with the pool's gauges and the partner
/// counters in the same registry (`.registry` of the answer, for [`serve`]).
pub fn middleware(
    pool: DbPool,
    partners: &PartnerMetrics,
    instance: Vec<Box<dyn Collector>>,
) -> anyhow::Result<PrometheusMetrics> {
    let registry = Registry::new();
    registry.register(Box::new(PoolCollector::new(pool)?))?;
    for collector in instance {
        registry.register(collector)?;
    }
    registry.register(Box::new(partners.unknown_numbers.clone()))?;
    registry.register(Box::new(partners.refused_number_checks.clone()))?;
    registry.register(Box::new(partners.log_batch_rows.clone()))?;
    registry.register(Box::new(partners.log_batch_seconds.clone()))?;
    registry.register(Box::new(MalformedRequestsCollector::new()?))?;
    PrometheusMetricsBuilder::new("talentcard")
        .registry(registry)
        // Swagger UI assets are many regex-routed files; counting them only adds noise.
        .exclude_regex("^/docs")
        .mask_unmatched_patterns("UNMATCHED")
        .build()
        .map_err(|e| anyhow::anyhow!("metrics: {e}"))
}

/// Serves `GET /metrics` (Prometheus text format) from `registry` on `listener`: one worker,
/// no signal handling of its own (the API server's shutdown stops it, see
/// `startup::Application::run_until_stopped`).
pub fn serve(listener: TcpListener, registry: Registry) -> std::io::Result<Server> {
    let registry = web::Data::new(registry);
    Ok(
        HttpServer::new(move || App::new().app_data(registry.clone()).service(scrape))
            .workers(1)
            .disable_signals()
            .listen(listener)?
            .run(),
    )
}

/// `GET /metrics`. Not in `/openapi.json`: it is the operator's, on the metrics listener, not
/// part of the API a client integrates with.
#[actix_web::get("/metrics")]
async fn scrape(registry: web::Data<Registry>) -> HttpResponse {
    let encoder = prometheus::TextEncoder::new();
    match encoder.encode_to_string(&registry.gather()) {
        Ok(text) => HttpResponse::Ok()
            // The Prometheus text exposition format, version 0.0.4.
            .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
            .body(text),
        Err(error) => {
            tracing::error!(%error, "metrics could not be encoded");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_malformed_request_count_is_rendered_as_a_counter() {
        let text = render_malformed_requests().unwrap_or_default();
        assert!(
            text.contains("# TYPE talentcard_http_malformed_requests_total counter"),
            "{text}"
        );
        let value = text
            .lines()
            .find(|l| l.starts_with("talentcard_http_malformed_requests_total "))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<u64>().ok());
        assert!(value.is_some(), "{text}");
    }
}
