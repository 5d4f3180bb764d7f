//! A socket that gives up on a silent database: the service's own per-query deadline.
//!
//! `statement_timeout` is enforced by PostgreSQL itself, so a server that stops answering
//! without closing its sockets (a frozen backend, a partition, a stalled proxy) held a request
//! on its pooled connection until TCP gave up, which can take minutes. The kernel keeps
//! acknowledging our bytes in those cases, so TCP keep-alives and `tcp_user_timeout` do not
//! notice either. This wrapper counts the requests the client has sent that PostgreSQL has not
//! finished (each `Sync` or simple `Query` message, and the start-up, is answered by exactly one
//! `ReadyForQuery`), and when one is outstanding and nothing at all arrives for the deadline,
//! the read fails. tokio-postgres then closes the connection: the query in flight fails
//! (`UnableToSendCommand`, answered 503), and the pool discards the connection on return
//! because its client is closed, so it is never handed out again.
//!
//! A healthy server answers every statement within `statement_timeout` (with its result or with
//! the cancellation), so the deadline is set a little above it (see
//! [`crate::configuration::DatabaseSettings::query_timeout_ms`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Reads the PostgreSQL message framing of one direction (type byte, then a 4-byte length
/// that counts itself), counting the messages of the kinds it is asked for.
#[derive(Debug)]
struct Framing {
    /// The first message of the frontend (the start-up packet) has no type byte.
    untyped_first: bool,
    /// Header bytes gathered so far (at most 5).
    header: [u8; 5],
    header_len: usize,
    /// Body bytes still to skip of the current message.
    remaining: usize,
}

impl Framing {
    fn new(untyped_first: bool) -> Self {
        Framing {
            untyped_first,
            header: [0; 5],
            header_len: 0,
            remaining: 0,
        }
    }

    /// Feeds bytes through, returning how many whole message headers of `kinds` began.
    fn feed(&mut self, mut bytes: &[u8], kinds: &[u8]) -> usize {
        let mut counted = 0;
        while !bytes.is_empty() {
            if self.remaining > 0 {
                let skip = self.remaining.min(bytes.len());
                self.remaining -= skip;
                bytes = &bytes[skip..];
                continue;
            }
            let header_size = if self.untyped_first { 4 } else { 5 };
            let take = (header_size - self.header_len).min(bytes.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&bytes[..take]);
            self.header_len += take;
            bytes = &bytes[take..];
            if self.header_len < header_size {
                break;
            }
            let (kind, length) = if self.untyped_first {
                (None, &self.header[..4])
            } else {
                (Some(self.header[0]), &self.header[1..5])
            };
            let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]);
            if kind.is_some_and(|k| kinds.contains(&k)) {
                counted += 1;
            }
            self.remaining = usize::try_from(length.saturating_sub(4)).unwrap_or(usize::MAX);
            self.header_len = 0;
            self.untyped_first = false;
        }
        counted
    }
}

/// A stream to PostgreSQL whose reads fail once a request has waited `deadline` without a
/// single byte from the server.
pub struct DeadlineStream<S> {
    inner: S,
    deadline: Duration,
    timer: Pin<Box<Sleep>>,
    /// Requests sent minus `ReadyForQuery` answers received; the start-up counts as one.
    outstanding: i64,
    /// Whether `timer` currently measures a wait (reset by every byte the server sends).
    armed: bool,
    sent: Framing,
    received: Framing,
}

impl<S> DeadlineStream<S> {
    /// Wraps a freshly opened socket, before the start-up message is written.
    pub fn new(inner: S, deadline: Duration) -> Self {
        DeadlineStream {
            inner,
            deadline,
            timer: Box::pin(tokio::time::sleep(deadline)),
            outstanding: 0,
            armed: false,
            sent: Framing::new(true),
            received: Framing::new(false),
        }
    }

    fn restart_timer(&mut self) {
        self.timer.as_mut().reset(Instant::now() + self.deadline);
        self.armed = true;
    }
}

/// Frontend messages answered by one `ReadyForQuery`: `Sync` and simple `Query`.
const REQUESTS: &[u8] = b"SQ";
/// The backend's `ReadyForQuery`.
const READY: &[u8] = b"Z";

impl<S: AsyncRead + Unpin> AsyncRead for DeadlineStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let fresh = &buf.filled()[before..];
                if !fresh.is_empty() {
                    let ready = this.received.feed(fresh, READY);
                    this.outstanding -= i64::try_from(ready).unwrap_or(i64::MAX);
                    if this.outstanding > 0 {
                        this.restart_timer();
                    } else {
                        this.outstanding = 0;
                        this.armed = false;
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.outstanding > 0 && !this.armed {
                    this.restart_timer();
                }
                if this.armed && this.timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the database sent nothing within the query deadline",
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for DeadlineStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let first = this.sent.untyped_first;
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = &result {
            let requests = this.sent.feed(&buf[..*written], REQUESTS);
            // The start-up packet is answered by a ReadyForQuery once authentication is done.
            let startup = usize::from(first && !this.sent.untyped_first);
            let added = i64::try_from(requests + startup).unwrap_or(i64::MAX);
            if added > 0 {
                if this.outstanding == 0 {
                    // tokio-postgres polls the read side before it writes, so the read that
                    // would arm the timer may not come again until the server speaks: arm it
                    // here and register this task's waker, so the deadline wakes the reader.
                    this.restart_timer();
                    let _ = this.timer.as_mut().poll(cx);
                }
                this.outstanding += added;
            }
        }
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut bytes = vec![kind];
        let length = u32::try_from(body.len() + 4).unwrap_or(u32::MAX);
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend_from_slice(body);
        bytes
    }

    #[test]
    fn framing_counts_messages_split_anywhere() {
        let mut stream = message(b'P', b"select 1\0\0\0");
        stream.extend(message(b'S', b""));
        stream.extend(message(b'Q', b"select 'SQ'\0"));
        for split in 0..stream.len() {
            let mut framing = Framing::new(false);
            let counted =
                framing.feed(&stream[..split], REQUESTS) + framing.feed(&stream[split..], REQUESTS);
            assert_eq!(counted, 2, "split at {split}");
        }
    }

    #[test]
    fn the_startup_packet_has_no_type_byte() {
        let mut framing = Framing::new(true);
        let mut startup = 12_u32.to_be_bytes().to_vec();
        startup.extend_from_slice(b"SSSSSSSS");
        startup.extend(message(b'S', b""));
        assert_eq!(framing.feed(&startup, REQUESTS), 1);
    }

    #[tokio::test]
    async fn a_silent_server_fails_the_read_after_the_deadline() {
        let (client, mut server) = tokio::io::duplex(1024);
        let mut stream = DeadlineStream::new(client, Duration::from_millis(300));
        stream.sent.untyped_first = false;
        let write = stream.write_all(&message(b'Q', b"select 1\0")).await;
        assert!(write.is_ok());
        let mut request = [0_u8; 14];
        assert!(server.read_exact(&mut request).await.is_ok());
        let started = Instant::now();
        let mut answer = [0_u8; 16];
        let read = stream.read(&mut answer).await;
        assert_eq!(read.err().map(|e| e.kind()), Some(io::ErrorKind::TimedOut));
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(300), "{waited:?}");
        assert!(waited < Duration::from_secs(3), "{waited:?}");
    }

    #[tokio::test]
    async fn a_read_pending_before_the_write_is_woken_by_the_deadline() {
        let (client, _server) = tokio::io::duplex(1024);
        let mut stream = DeadlineStream::new(client, Duration::from_millis(300));
        let mut startup = 8_u32.to_be_bytes().to_vec();
        startup.extend_from_slice(&[0, 3, 0, 0]);
        let mut written = false;
        let mut answer = [0_u8; 16];
        // As tokio-postgres's connection task does: read first, then write, in one task, and
        // the read polled again only when the task is woken.
        let driven = futures_util::future::poll_fn(|cx| {
            let mut buf = ReadBuf::new(&mut answer);
            if let Poll::Ready(read) = Pin::new(&mut stream).poll_read(cx, &mut buf) {
                return Poll::Ready(read);
            }
            if !written {
                written = true;
                let wrote = Pin::new(&mut stream).poll_write(cx, &startup);
                assert!(matches!(wrote, Poll::Ready(Ok(8))));
            }
            Poll::Pending
        });
        let started = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(3), driven).await;
        let kind = outcome.ok().and_then(|r| r.err()).map(|e| e.kind());
        assert_eq!(kind, Some(io::ErrorKind::TimedOut));
        // Woken by the deadline itself, not by the outer timeout's last poll.
        let waited = started.elapsed();
        assert!(waited < Duration::from_millis(1500), "{waited:?}");
    }

    #[tokio::test]
    async fn an_idle_connection_and_an_answered_query_never_time_out() {
        let (client, mut server) = tokio::io::duplex(1024);
        let mut stream = DeadlineStream::new(client, Duration::from_millis(300));
        stream.sent.untyped_first = false;
        assert!(stream.write_all(&message(b'Q', b"x\0")).await.is_ok());
        assert!(
            server
                .write_all(&[message(b'C', b"SELECT 1\0"), message(b'Z', b"I")].concat())
                .await
                .is_ok()
        );
        let mut answer = [0_u8; 64];
        assert!(matches!(stream.read(&mut answer).await, Ok(n) if n > 0));
        // Nothing outstanding: a long silence is an idle connection, not a frozen server.
        let idle = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut answer)).await;
        assert!(idle.is_err(), "the read must still be waiting");
    }
}
