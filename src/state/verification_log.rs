//! The holder's log of verifications, group-committed: a check hands its record to this
//! instance's writer and waits; the writer commits every record waiting in one statement
//! (`models::verification::record_batch`, which also counts the agencies' limits) and only
//! then are the waiting checks answered. Acknowledged means committed: a crash loses only
//! checks nobody was answered for, and the log stays complete, each check once (the record's
//! id is its primary key).
//!
//! A batch is what waits when the writer comes round, at most `partners.log_batch_max_rows`.
//! Under load, the checks that finish while one batch commits form the next, so the per-check
//! cost of a statement and a commit is shared by all of them, and the writer starts at once:
//! those checks have waited a whole commit already. Only a check that finds the writer idle
//! waits `partners.log_batch_window_ms` for company.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use tokio::sync::{mpsc, oneshot};

use crate::clock::SharedClock;
use crate::db::{DbConn, DbError, DbPool};
use crate::models::verification::{self, Limits, Outcome, Record};

/// Why a check could not be logged (and so must not be answered as made).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The batch it was in failed (the cause is logged once, by the writer).
    #[error("the verification log could not be written")]
    Failed,
    /// The writer has stopped (the instance is shutting down).
    #[error("the verification log writer has stopped")]
    Stopped,
}

/// How batches are formed.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// How long the writer waits for more records after the first.
    pub window: Duration,
    /// The most records in one batch.
    pub max_rows: usize,
}

/// What an operator sees of the batches (`/metrics`): how many checks each carried and how
/// long each took, so a slow disk or a window set too short shows before the latency does.
#[derive(Debug, Clone)]
pub struct BatchMetrics {
    /// Rows per batch.
    pub rows: prometheus::Histogram,
    /// Seconds per batch, commit included.
    pub seconds: prometheus::Histogram,
}

type Waiting = (Record, oneshot::Sender<Result<Outcome, LogError>>);

/// The handle checks log through; the writer runs until every handle is dropped, writing what
/// is still queued first.
#[derive(Debug, Clone)]
pub struct VerificationLog {
    queue: mpsc::Sender<Waiting>,
}

impl VerificationLog {
    /// Starts this instance's writer on the current runtime.
    pub fn start(
        pool: DbPool,
        clock: SharedClock,
        limits: Limits,
        batching: Batching,
        metrics: BatchMetrics,
    ) -> Self {
        // Room for every check in flight several times over; beyond it, checks wait to enqueue.
        let (queue, waiting) = mpsc::channel(batching.max_rows.max(1) * 8);
        let writer = Writer {
            pool,
            clock,
            limits,
            batching,
            metrics,
        };
        tokio::spawn(writer.run(waiting));
        VerificationLog { queue }
    }

    /// Logs `record` and counts it against its agency's limits; returns once it is committed
    /// (or refused by a limit, then not logged).
    pub async fn record(&self, record: Record) -> Result<Outcome, LogError> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send((record, done))
            .await
            .map_err(|_| LogError::Stopped)?;
        outcome.await.map_err(|_| LogError::Stopped)?
    }
}

/// The one task per instance that writes the batches.
struct Writer {
    pool: DbPool,
    clock: SharedClock,
    limits: Limits,
    batching: Batching,
    metrics: BatchMetrics,
}

impl Writer {
    async fn run(self, mut waiting: mpsc::Receiver<Waiting>) {
        let max_rows = self.batching.max_rows.max(1);
        let window = self.batching.window;
        let mut batch: Vec<Waiting> = Vec::with_capacity(max_rows);
        // Kept while batches follow one another, so a busy writer does not queue for the pool
        // behind the checks' lookups; given back whenever the writer goes idle.
        let mut held: Option<DbConn> = None;
        loop {
            // Records that queued while the last batch was written have waited a commit
            // already; a record that finds the writer idle waits the window for company.
            let (first, found_idle) = match waiting.try_recv() {
                Ok(first) => (first, false),
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    held = None;
                    match waiting.recv().await {
                        Some(first) => (first, true),
                        None => break,
                    }
                }
            };
            batch.push(first);
            while batch.len() < max_rows {
                match waiting.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            if found_idle && !window.is_zero() {
                let deadline = tokio::time::Instant::now() + window;
                while batch.len() < max_rows {
                    match tokio::time::timeout_at(deadline, waiting.recv()).await {
                        Ok(Some(next)) => batch.push(next),
                        Ok(None) | Err(_) => break,
                    }
                }
            }
            let (records, answers): (Vec<Record>, Vec<_>) = batch.drain(..).unzip();
            let at = records.first().map_or_else(|| self.clock.now(), |r| r.at);
            let started = std::time::Instant::now();
            let written = match held.take() {
                Some(conn) => Ok(conn),
                None => self.pool.get().await.map_err(DbError::from),
            };
            let written = match written {
                Ok(mut conn) => {
                    let written = write(&mut conn, &records, self.limits, at).await;
                    // A connection whose batch failed is not reused (it may be broken).
                    if written.is_ok() {
                        held = Some(conn);
                    }
                    written
                }
                Err(error) => Err(error),
            };
            self.metrics
                .seconds
                .observe(started.elapsed().as_secs_f64());
            self.metrics.rows.observe(records.len() as f64);
            match written {
                Ok(outcomes) => {
                    for (answer, outcome) in answers.into_iter().zip(outcomes) {
                        // A check whose request was dropped meanwhile is logged all the same.
                        let _ = answer.send(Ok(outcome));
                    }
                }
                Err(error) => {
                    tracing::error!(%error, rows = records.len(), "writing a batch of verifications failed");
                    for answer in answers {
                        let _ = answer.send(Err(LogError::Failed));
                    }
                }
            }
        }
    }
}

async fn write(
    conn: &mut AsyncPgConnection,
    records: &[Record],
    limits: Limits,
    at: DateTime<Utc>,
) -> Result<Vec<Outcome>, DbError> {
    let outcomes = verification::record_batch(conn, records, limits, at).await?;
    let in_order = outcomes.len() == records.len()
        && outcomes
            .iter()
            .zip(1..)
            .all(|(outcome, ord)| outcome.ord == ord);
    if !in_order {
        return Err(DbError::Query(diesel::result::Error::DeserializationError(
            "a batch of verifications answered rows out of order".into(),
        )));
    }
    Ok(outcomes)
}
