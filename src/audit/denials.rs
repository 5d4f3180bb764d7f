//! Access denials in the audit log, aggregated so their cost is bounded.
//!
//! A 401, 403, or 404 on a known route is a denial worth an audit row (a forged token, a talent
//! trying partner endpoints, an official probing another issuer's applications), but one row per
//! request would let any client write to the chain as fast as it can send. So each instance
//! counts denials in memory per [`DenialKey`] (kind, route pattern, method, actor) and
//! [`DenialLog::flush`] writes one `access.denied` row per key with its count and the first and
//! last time seen: the cost is one row per key per flush interval, whatever the request rate.
//! At most [`MAX_KEYS`] keys are held; denials beyond them are counted in one overflow row, so
//! memory stays bounded too. The key never holds a token or a path's ids, only the pattern.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;

use super::record::{Actor, AuditEvent, record};
use crate::db::DbPool;

/// The most distinct keys one instance holds between flushes; the rest share one overflow row.
pub const MAX_KEYS: usize = 10_000;

/// The audit action of a denial row.
pub const ACTION: &str = "access.denied";

/// Which denial: the status class, so a reader can tell a forged token from a wrong role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DenialKind {
    /// 401: no valid credentials (a bad, forged or expired token, a wrong password).
    Unauthorized,
    /// 403: a known caller whose role may not do this.
    Forbidden,
    /// 404 on a known route: a resource that does not exist or is another's.
    NotFound,
}

impl DenialKind {
    /// The kind a status is, if it is a denial at all.
    pub fn of(status: StatusCode) -> Option<Self> {
        match status {
            StatusCode::UNAUTHORIZED => Some(DenialKind::Unauthorized),
            StatusCode::FORBIDDEN => Some(DenialKind::Forbidden),
            StatusCode::NOT_FOUND => Some(DenialKind::NotFound),
            _ => None,
        }
    }

    /// The name stored in the row's detail.
    pub fn as_str(self) -> &'static str {
        match self {
            DenialKind::Unauthorized => "unauthorized",
            DenialKind::Forbidden => "forbidden",
            DenialKind::NotFound => "not_found",
        }
    }
}

/// The caller the role extractors authenticated, left in the request's extensions so that a
/// denial after authentication (403, 404) names who was refused; without it, `anonymous`.
#[derive(Debug, Clone)]
pub struct KnownActor(pub Actor);

/// What denials are counted by. The route is the pattern (`/api/v1/applications/{id}`), never
/// the path, so no id and no more keys than routes × methods × actors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DenialKey {
    /// The status class.
    pub kind: DenialKind,
    /// The HTTP method; methods outside the standard ones are all `OTHER`, so a client cannot
    /// mint keys by inventing methods.
    pub method: &'static str,
    /// The matched route pattern.
    pub route: String,
    /// Who was refused.
    pub actor: Actor,
}

impl DenialKey {
    /// The key of a denial of `kind` of `method` on `route` to `actor`.
    pub fn new(kind: DenialKind, method: &Method, route: String, actor: Actor) -> Self {
        DenialKey {
            kind,
            method: method_name(method),
            route,
            actor,
        }
    }

    fn sort_key(&self) -> (String, &'static str, DenialKind, String) {
        (
            self.route.clone(),
            self.method,
            self.kind,
            self.actor.as_text(),
        )
    }
}

fn method_name(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("OTHER", Method::as_str)
}

/// How often a key was seen, and when first and last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Denials counted.
    pub count: u64,
    /// The first one's time.
    pub first_seen: DateTime<Utc>,
    /// The last one's time.
    pub last_seen: DateTime<Utc>,
}

impl Tally {
    fn once(at: DateTime<Utc>) -> Self {
        Tally {
            count: 1,
            first_seen: at,
            last_seen: at,
        }
    }

    fn merge(&mut self, other: Tally) {
        self.count = self.count.saturating_add(other.count);
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
    }

    fn detail(&self, kind: &str) -> serde_json::Value {
        serde_json::json!({
            "kind": kind,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        })
    }
}

/// The counts not yet written.
#[derive(Debug, Default)]
struct Pending {
    keys: HashMap<DenialKey, Tally>,
    overflow: Option<Tally>,
}

impl Pending {
    /// Adds `tally` under `key`, or to the overflow when the map is full; true when this
    /// started the overflow (worth one warning per interval).
    fn add(&mut self, key: DenialKey, tally: Tally) -> bool {
        if let Some(existing) = self.keys.get_mut(&key) {
            existing.merge(tally);
            return false;
        }
        if self.keys.len() < MAX_KEYS {
            self.keys.insert(key, tally);
            return false;
        }
        match &mut self.overflow {
            Some(overflow) => {
                overflow.merge(tally);
                false
            }
            None => {
                self.overflow = Some(tally);
                true
            }
        }
    }
}

/// One row a flush writes.
enum Row {
    Key(DenialKey, Tally),
    Overflow(Tally),
}

impl Row {
    fn event(&self) -> AuditEvent {
        match self {
            Row::Key(key, tally) => AuditEvent {
                actor: key.actor.clone(),
                action: ACTION,
                entity_type: "route",
                entity_id: Some(format!("{} {}", key.method, key.route)),
                detail: tally.detail(key.kind.as_str()),
            },
            Row::Overflow(tally) => {
                let mut detail = tally.detail("overflow");
                detail["max_keys"] = serde_json::json!(MAX_KEYS);
                AuditEvent {
                    actor: Actor::System,
                    action: ACTION,
                    entity_type: "route",
                    entity_id: None,
                    detail,
                }
            }
        }
    }
}

/// This instance's denial counts, shared by the middleware that notes denials and the task
/// that flushes them. Cloning shares the counts.
#[derive(Debug, Clone, Default)]
pub struct DenialLog {
    pending: Arc<Mutex<Pending>>,
}

impl DenialLog {
    /// Counts one denial at `at`. Never touches the database: the request pays a map update.
    pub fn note(&self, key: DenialKey, at: DateTime<Utc>) {
        self.add(key, Tally::once(at));
    }

    fn add(&self, key: DenialKey, tally: Tally) {
        let started_overflow = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add(key, tally);
        if started_overflow {
            tracing::warn!(
                max_keys = MAX_KEYS,
                "more distinct access denials than the aggregator holds; the rest are counted in \
                 one overflow row"
            );
        }
    }

    fn add_overflow(&self, tally: Tally) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut pending.overflow {
            Some(overflow) => overflow.merge(tally),
            None => pending.overflow = Some(tally),
        }
    }

    /// The count pending under `key` (tests and diagnostics).
    pub fn pending(&self, key: &DenialKey) -> Option<Tally> {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.keys.get(key).copied()
    }

    /// Takes the counts and writes one `access.denied` row per key (and one for the overflow),
    /// each in its own short transaction so the chain head is never held for the whole batch.
    /// Returns the rows written. On failure the unwritten counts go back into the map (still
    /// bounded) for the next flush, and the error is returned for the caller to log.
    pub async fn flush(&self, pool: &DbPool) -> anyhow::Result<usize> {
        let taken =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        let mut keys: Vec<(DenialKey, Tally)> = taken.keys.into_iter().collect();
        keys.sort_by_cached_key(|(key, _)| key.sort_key());
        let mut rows: Vec<Row> = keys.into_iter().map(|(k, t)| Row::Key(k, t)).collect();
        rows.extend(taken.overflow.map(Row::Overflow));
        if rows.is_empty() {
            return Ok(0);
        }
        let mut conn = match pool.get().await {
            Ok(conn) => conn,
            Err(error) => {
                self.restore(rows);
                return Err(anyhow::anyhow!("no database connection: {error}"));
            }
        };
        let mut written = 0;
        let mut rows = rows.into_iter();
        while let Some(row) = rows.next() {
            let event = row.event();
            if let Err(error) = conn.transaction(async |c| record(c, &event).await).await {
                self.restore(std::iter::once(row).chain(rows));
                return Err(anyhow::anyhow!(
                    "writing access denials failed after {written} rows: {error}"
                ));
            }
            written += 1;
        }
        Ok(written)
    }

    fn restore(&self, rows: impl IntoIterator<Item = Row>) {
        for row in rows {
            match row {
                Row::Key(key, tally) => self.add(key, tally),
                Row::Overflow(tally) => self.add_overflow(tally),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, second)
            .single()
            .unwrap_or_default()
    }

    fn key(route: &str) -> DenialKey {
        DenialKey::new(
            DenialKind::Forbidden,
            &Method::GET,
            route.to_owned(),
            Actor::Anonymous,
        )
    }

    #[test]
    fn only_401_403_and_404_are_denials() {
        assert_eq!(
            DenialKind::of(StatusCode::UNAUTHORIZED),
            Some(DenialKind::Unauthorized)
        );
        assert_eq!(
            DenialKind::of(StatusCode::FORBIDDEN),
            Some(DenialKind::Forbidden)
        );
        assert_eq!(
            DenialKind::of(StatusCode::NOT_FOUND),
            Some(DenialKind::NotFound)
        );
        for other in [200, 400, 405, 409, 422, 429, 500] {
            let status = StatusCode::from_u16(other).unwrap_or(StatusCode::OK);
            assert_eq!(DenialKind::of(status), None, "{other}");
        }
    }

    #[test]
    fn invented_methods_share_one_name() {
        let invented = Method::from_bytes(b"BREW").unwrap_or(Method::GET);
        assert_eq!(method_name(&invented), "OTHER");
        assert_eq!(method_name(&Method::DELETE), "DELETE");
    }

    #[test]
    fn repeated_denials_add_up_under_one_key() {
        let log = DenialLog::default();
        log.note(key("/a"), at(3));
        log.note(key("/a"), at(1));
        log.note(key("/a"), at(2));
        let tally = log.pending(&key("/a"));
        assert_eq!(
            tally,
            Some(Tally {
                count: 3,
                first_seen: at(1),
                last_seen: at(3)
            })
        );
    }

    #[test]
    fn keys_beyond_the_bound_go_to_one_overflow() {
        let mut pending = Pending::default();
        for n in 0..MAX_KEYS {
            assert!(!pending.add(key(&format!("/r{n}")), Tally::once(at(0))));
        }
        assert!(pending.add(key("/one-more"), Tally::once(at(1))));
        assert!(!pending.add(key("/and-another"), Tally::once(at(2))));
        assert!(
            !pending.add(key("/r0"), Tally::once(at(3))),
            "known keys still count"
        );
        assert_eq!(pending.keys.len(), MAX_KEYS);
        assert_eq!(pending.overflow.map(|t| t.count), Some(2));
        assert_eq!(pending.keys.get(&key("/r0")).map(|t| t.count), Some(2));
    }

    #[test]
    fn a_row_names_the_pattern_and_never_more() {
        let row = Row::Key(key("/api/v1/applications/{id}"), Tally::once(at(5)));
        let event = row.event();
        assert_eq!(event.action, "access.denied");
        assert_eq!(
            event.entity_id.as_deref(),
            Some("GET /api/v1/applications/{id}")
        );
        assert_eq!(event.detail["kind"], "forbidden");
        assert_eq!(event.detail["count"], 1);
        assert_eq!(event.actor, Actor::Anonymous);
    }
}
