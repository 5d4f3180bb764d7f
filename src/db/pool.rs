//! The deadpool pool of diesel-async connections.
//!
//! Every connection gets `statement_timeout` when it is opened, so one slow query cannot hold a
//! connection forever; the wait for a connection and the time to open one are bounded, so a
//! database that is down is answered with 503 quickly rather than a hang. Every connection's
//! socket is a [`DeadlineStream`]: a query that hears nothing from PostgreSQL within
//! `query_timeout_ms` fails with 503 and its connection is closed, so a frozen database (or a
//! partition that keeps sockets open) cannot hold requests until TCP gives up.

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::config::Host;

use super::deadline::DeadlineStream;

use crate::configuration::DatabaseSettings;

/// The pool every request draws from.
pub type DbPool = Pool<AsyncPgConnection>;
/// A connection checked out of the pool.
pub type DbConn = Object<AsyncPgConnection>;
/// Why no connection could be had.
pub type PoolError = diesel_async::pooled_connection::deadpool::PoolError;

/// Builds the pool over the service's login ([`DatabaseSettings::service_url`], never the
/// migration owner's); it opens no connection until the first request needs one.
pub fn build_pool(settings: &DatabaseSettings) -> anyhow::Result<DbPool> {
    let url = settings.service_url()?;
    let statement_timeout_ms = settings.statement_timeout_ms;
    let connect_timeout = settings.connect_timeout();
    let query_timeout = settings.query_timeout();
    let mut config = ManagerConfig::default();
    config.custom_setup =
        Box::new(move |url| establish(url, statement_timeout_ms, connect_timeout, query_timeout));
    // A connection whose socket closed is discarded by `is_broken` on return, so the cheap
    // recycling check is enough and saves a round trip on every checkout.
    config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    let pool = Pool::builder(manager)
        .max_size(settings.pool_size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(settings.acquire_timeout()))
        .create_timeout(Some(connect_timeout))
        .recycle_timeout(Some(connect_timeout))
        .build()?;
    Ok(pool)
}

fn establish(
    url: &str,
    statement_timeout_ms: u64,
    connect_timeout: Duration,
    query_timeout: Duration,
) -> BoxFuture<'_, diesel::ConnectionResult<AsyncPgConnection>> {
    async move {
        let connect = connect_with_deadline(url, query_timeout);
        let mut conn = tokio::time::timeout(connect_timeout, connect)
            .await
            .map_err(|_| ConnectionError::BadConnection("connect timed out".into()))??;
        diesel::sql_query(format!("SET statement_timeout = {statement_timeout_ms}"))
            .execute(&mut conn)
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    }
    .boxed()
}

fn bad(message: impl std::fmt::Display) -> ConnectionError {
    ConnectionError::BadConnection(message.to_string())
}

/// Opens the socket ourselves (TCP or a unix socket, the first host that answers), wraps it in
/// a [`DeadlineStream`] and hands the client to diesel-async; the connection's driver runs on
/// a task of its own and ends, closing the client, when the deadline fails a read.
async fn connect_with_deadline(
    url: &str,
    query_timeout: Duration,
) -> diesel::ConnectionResult<AsyncPgConnection> {
    let config: tokio_postgres::Config = url.parse().map_err(bad)?;
    let mut last_error = bad("the database URL names no host");
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = config
            .get_ports()
            .get(i)
            .or(config.get_ports().first())
            .copied()
            .unwrap_or(5432);
        let opened = match host {
            Host::Tcp(name) => match tokio::net::TcpStream::connect((name.as_str(), port)).await {
                Ok(stream) => {
                    // Small queries are latency-bound; tokio-postgres sets this on its own sockets.
                    let _ = stream.set_nodelay(true);
                    handshake(&config, stream, query_timeout).await
                }
                Err(e) => Err(bad(e)),
            },
            #[cfg(unix)]
            Host::Unix(dir) => {
                let path = dir.join(format!(".s.PGSQL.{port}"));
                match tokio::net::UnixStream::connect(path).await {
                    Ok(stream) => handshake(&config, stream, query_timeout).await,
                    Err(e) => Err(bad(e)),
                }
            }
        };
        match opened {
            Ok(conn) => return Ok(conn),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

async fn handshake<S>(
    config: &tokio_postgres::Config,
    stream: S,
    query_timeout: Duration,
) -> diesel::ConnectionResult<AsyncPgConnection>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let stream = DeadlineStream::new(stream, query_timeout);
    let (client, connection) = config
        .connect_raw(stream, tokio_postgres::NoTls)
        .await
        .map_err(bad)?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(error = %error, "database connection closed");
        }
    });
    AsyncPgConnection::try_from(client).await
}
