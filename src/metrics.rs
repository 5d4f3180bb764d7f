//! Prometheus metrics: requests and latency by route (actix-web-prom) and the pool's use.
//!
//! Each application gets its own registry, so several instances in one process (the tests)
//! never collide on metric names.

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntGauge, Opts, Registry};

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

/// The middleware that counts requests by route and serves `GET /metrics`.
pub fn middleware(pool: DbPool) -> anyhow::Result<PrometheusMetrics> {
    let registry = Registry::new();
    registry.register(Box::new(PoolCollector::new(pool)?))?;
    PrometheusMetricsBuilder::new("talentcard")
        .registry(registry)
        .endpoint("/metrics")
        .exclude("/metrics")
        // Swagger UI assets are many regex-routed files; counting them only adds noise.
        .exclude_regex("^/docs")
        .mask_unmatched_patterns("UNMATCHED")
        .build()
        .map_err(|e| anyhow::anyhow!("metrics: {e}"))
}
