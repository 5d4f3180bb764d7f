//! Malformed requests: log noise a client controls, counted instead of logged.
//!
//! actix-http answers a request it cannot parse (a bad request line, a header without a colon,
//! a head over its size limit) with its own 400 or 431 and then logs the parse error at ERROR
//! from `actix_http::h1::dispatcher` as `stream error: request parse error: …`. Anyone can send
//! such requests as fast as they like, so at ERROR they would page an operator and bury real
//! faults. Here they are dropped from the log ([`Quiet`]) and counted in a process-wide counter
//! ([`Count`]) that every application's metrics registry reads
//! (`talentcard_http_malformed_requests_total`).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Filter, Layer};

/// The module actix-http logs its connection-level errors from (`tracing`'s default target).
pub const DISPATCHER_TARGET: &str = "actix_http::h1::dispatcher";

/// How the dispatcher's message for a request it could not parse begins: `stream error: ` and
/// the `Display` of `DispatchError::Parse` (actix-http 3, `h1/dispatcher.rs`).
const PARSE_ERROR_PREFIX: &str = "stream error: request parse error";

/// Whether an event is actix-http's report of a request it could not parse. Only that one
/// message: the dispatcher's other errors (I/O, a handler's body failing) stay in the log.
pub fn is_malformed_request(target: &str, level: Level, message: &str) -> bool {
    target == DISPATCHER_TARGET && level == Level::ERROR && message.starts_with(PARSE_ERROR_PREFIX)
}

/// The metadata half of the test: events from which the message must be read.
fn may_be_malformed_request(metadata: &Metadata<'_>) -> bool {
    metadata.is_event()
        && metadata.target() == DISPATCHER_TARGET
        && *metadata.level() == Level::ERROR
}

fn event_is_malformed_request(event: &Event<'_>) -> bool {
    let metadata = event.metadata();
    if !may_be_malformed_request(metadata) {
        return false;
    }
    let mut message = Message::default();
    event.record(&mut message);
    is_malformed_request(metadata.target(), *metadata.level(), &message.0)
}

/// Reads an event's formatted message.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.0);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// A per-layer filter for the log's output layer: lets everything through except malformed
/// requests. Only the dispatcher's ERROR call sites are looked at event by event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl<S> Filter<S> for Quiet {
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    fn callsite_enabled(
        &self,
        metadata: &'static Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if may_be_malformed_request(metadata) {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::always()
        }
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        !event_is_malformed_request(event)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // No limit of its own: combined with `and`, the other filter's hint stands.
        Some(LevelFilter::TRACE)
    }
}

/// A layer that counts malformed requests into a counter.
#[derive(Debug, Clone, Copy)]
pub struct Count {
    counter: &'static AtomicU64,
}

impl Count {
    /// Counts into `counter` (the process's is [`malformed_requests`]'; tests bring their own).
    pub fn new(counter: &'static AtomicU64) -> Self {
        Count { counter }
    }
}

impl<S: Subscriber> Layer<S> for Count {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event_is_malformed_request(event) {
            self.counter.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The counting layer of the process, seeing only the dispatcher's errors whatever the log's
/// filter says (an operator who turns logging down still gets the count).
pub fn counter<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    Count::new(&crate::metrics::MALFORMED_REQUESTS)
        .with_filter(Targets::new().with_target(DISPATCHER_TARGET, LevelFilter::ERROR))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::filter::FilterExt;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[test]
    fn only_the_dispatchers_parse_errors_are_malformed_requests() {
        let parse = "stream error: request parse error: invalid Header provided";
        assert!(is_malformed_request(DISPATCHER_TARGET, Level::ERROR, parse));
        let too_large = "stream error: request parse error: message head is too large";
        assert!(is_malformed_request(
            DISPATCHER_TARGET,
            Level::ERROR,
            too_large
        ));
        let io = "stream error: I/O error: connection reset by peer";
        assert!(!is_malformed_request(DISPATCHER_TARGET, Level::ERROR, io));
        assert!(!is_malformed_request(DISPATCHER_TARGET, Level::WARN, parse));
        assert!(!is_malformed_request(
            "talentcard::routes",
            Level::ERROR,
            parse
        ));
    }

    /// A log destination the test can read.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut buffer) = self.0.lock() {
                buffer.extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            self.0
                .lock()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        }
    }

    #[test]
    fn a_malformed_request_is_counted_and_not_logged_other_errors_are_logged() {
        static COUNTED: AtomicU64 = AtomicU64::new(0);
        let captured = Captured::default();
        let writer = captured.clone();
        let output = tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_filter(LevelFilter::INFO.and(Quiet));
        let subscriber = tracing_subscriber::registry()
            .with(
                Count::new(&COUNTED)
                    .with_filter(Targets::new().with_target(DISPATCHER_TARGET, LevelFilter::ERROR)),
            )
            .with(output);
        tracing::subscriber::with_default(subscriber, || {
            let error = "request parse error: invalid Header provided";
            tracing::error!(target: "actix_http::h1::dispatcher", "stream error: {}", error);
            tracing::error!(target: "actix_http::h1::dispatcher", "stream error: {}", "I/O error");
            tracing::error!(target: "talentcard::elsewhere", "a fault of ours");
        });
        let text = captured.text();
        assert_eq!(COUNTED.load(Ordering::Relaxed), 1);
        assert!(!text.contains("request parse error"), "{text}");
        assert!(text.contains("stream error: I/O error"), "{text}");
        assert!(text.contains("a fault of ours"), "{text}");
    }
}
