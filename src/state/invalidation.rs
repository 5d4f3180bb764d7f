//! When this instance's in-memory copies of shared data (agency clients, issuer keys, issuer
//! districts, the policies in force) must be dropped: a generation number that moves whenever
//! any of that data may have changed anywhere.
//!
//! Every statement that changes those tables notifies channel [`CHANNEL`] (a trigger, so the
//! CLI and an operator's psql notify too), delivered to every instance when its transaction
//! commits. Each instance keeps one dedicated connection listening ([`listen`]); a notification
//! moves the generation, and a copy made under an older generation is not used again. The
//! instance that made a change moves the generation itself right after its commit
//! ([`Invalidation::changed`]), so it never answers from the old copy even for the
//! milliseconds the notification takes.
//!
//! While the listening connection is down (not yet open, lost, or silent past its heartbeat),
//! notifications may be missed, so there is no generation to trust: [`Invalidation::current`]
//! is `None` and every reader queries PostgreSQL instead, until the connection is back, when
//! the generation moves once more for whatever was missed. A change is therefore seen by every
//! instance within the notification's delivery, or within one heartbeat of a silent
//! connection ([`HEARTBEAT`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntGauge, Opts};
use tokio_postgres::AsyncMessage;

/// The channel the triggers of migration `cache_notifications` notify.
pub const CHANNEL: &str = "talentcard_cache";

/// The `application_name` of the listening connection.
pub const APPLICATION_NAME: &str = "talentcard-cache-listener";

/// How often the listening connection proves it is alive (and how long it may take to): a
/// connection silent for longer is dropped and the caches are bypassed until a new one listens.
pub const HEARTBEAT: Duration = Duration::from_millis(500);

/// The generation of the shared data this instance has seen, and whether it can be trusted.
#[derive(Debug, Default)]
pub struct Invalidation {
    generation: AtomicU64,
    listening: AtomicBool,
}

impl Invalidation {
    /// The generation a copy made now belongs to, or `None` while notifications may be missed
    /// (then nothing may be served from memory). Read it *before* loading a copy: a change
    /// committed during the load moves it, so the copy is never taken for newer than it is.
    pub fn current(&self) -> Option<u64> {
        self.listening
            .load(Ordering::Acquire)
            .then(|| self.generation.load(Ordering::Acquire))
    }

    /// The generation as it stands, trusted or not (for `/metrics`).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether a copy made under `generation` may still be served.
    pub fn is_current(&self, generation: u64) -> bool {
        self.current() == Some(generation)
    }

    /// Something may have changed: every copy made so far is stale. Called for each
    /// notification, and by a handler right after committing a change of its own.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn listening(&self, yes: bool) {
        if yes {
            // Whatever changed while nobody listened: drop it all before trusting again.
            self.changed();
        }
        self.listening.store(yes, Ordering::Release);
    }
}

/// Listens for changes for as long as the process runs: connects, `LISTEN`s, moves the
/// generation on each notification and checks the connection every [`HEARTBEAT`]; when the
/// connection fails, marks the caches untrusted and reconnects (waiting up to 5 s between
/// attempts).
pub async fn listen(invalidation: Arc<Invalidation>, url: String) {
    let mut wait = Duration::from_millis(200);
    loop {
        match session(&invalidation, &url).await {
            Ok(()) => {}
            Err(error) => {
                tracing::warn!(%error, "the cache invalidation listener stopped; caches bypassed until it is back");
            }
        }
        invalidation.listening(false);
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(5));
    }
}

async fn session(invalidation: &Invalidation, url: &str) -> anyhow::Result<()> {
    let mut config: tokio_postgres::Config = url.parse()?;
    // Named, so an operator (or a test) can find it in pg_stat_activity.
    config.application_name(APPLICATION_NAME);
    let (client, mut connection) = tokio::time::timeout(
        Duration::from_secs(5),
        config.connect(tokio_postgres::NoTls),
    )
    .await
    .map_err(|_| anyhow::anyhow!("connecting timed out"))??;
    let (notified, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    // The connection makes progress only while polled: this task polls it and hands the
    // notifications over; it ends when the connection does.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    if notified.send(()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    });
    let _stop_driver = AbortOnDrop(driver);
    within_heartbeat(client.batch_execute(&format!("LISTEN {CHANNEL}"))).await?;
    invalidation.listening(true);
    tracing::info!("listening for cache invalidations");
    let mut ticks = tokio::time::interval(HEARTBEAT);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            notification = notifications.recv() => match notification {
                Some(()) => invalidation.changed(),
                None => anyhow::bail!("the listening connection closed"),
            },
            _ = ticks.tick() => {
                within_heartbeat(client.simple_query("SELECT 1")).await?;
            }
        }
    }
}

async fn within_heartbeat<T>(
    query: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> anyhow::Result<T> {
    Ok(tokio::time::timeout(HEARTBEAT, query)
        .await
        .map_err(|_| anyhow::anyhow!("the listening connection did not answer in time"))??)
}

struct AbortOnDrop(tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether this instance serves shared data from memory (`talentcard_cache_listening`, 0
/// while its invalidation listener is down and every read queries PostgreSQL) and how often
/// that data was invalidated (`talentcard_cache_generation`): an operator sees a lost
/// listener, and the cost it brings, at once.
pub struct CacheCollector {
    invalidation: Arc<Invalidation>,
    listening: IntGauge,
    generation: IntGauge,
}

impl CacheCollector {
    /// Its gauges, registered by `metrics::middleware`.
    pub fn new(invalidation: Arc<Invalidation>) -> prometheus::Result<Self> {
        let gauge = |name: &str, help: &str| {
            IntGauge::with_opts(Opts::new(name, help).namespace("talentcard"))
        };
        Ok(CacheCollector {
            invalidation,
            listening: gauge(
                "cache_listening",
                "1 while the cache invalidation listener is up (shared data served from memory)",
            )?,
            generation: gauge(
                "cache_generation",
                "Invalidations of the in-memory shared data seen by this instance",
            )?,
        })
    }
}

impl Collector for CacheCollector {
    fn desc(&self) -> Vec<&Desc> {
        [&self.listening, &self.generation]
            .into_iter()
            .flat_map(|g| g.desc())
            .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.listening
            .set(i64::from(self.invalidation.current().is_some()));
        self.generation
            .set(i64::try_from(self.invalidation.generation()).unwrap_or(i64::MAX));
        [&self.listening, &self.generation]
            .into_iter()
            .flat_map(|g| g.collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_trusted_until_listening() {
        let invalidation = Invalidation::default();
        assert_eq!(invalidation.current(), None);
        invalidation.listening(true);
        let Some(generation) = invalidation.current() else {
            panic!("a listening instance has a generation");
        };
        assert!(invalidation.is_current(generation));
        invalidation.changed();
        assert!(!invalidation.is_current(generation));
    }

    #[test]
    fn a_lost_listener_invalidates_everything_made_before() {
        let invalidation = Invalidation::default();
        invalidation.listening(true);
        let Some(before) = invalidation.current() else {
            panic!("a listening instance has a generation");
        };
        invalidation.listening(false);
        assert_eq!(invalidation.current(), None);
        invalidation.listening(true);
        assert!(!invalidation.is_current(before));
    }
}
