//! The deadpool pool of diesel-async connections.
//!
//! Every connection gets `statement_timeout` when it is opened, so one slow query cannot hold a
//! connection forever; the wait for a connection and the time to open one are bounded, so a
//! database that is down is answered with 503 quickly rather than a hang.

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

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
    let mut config = ManagerConfig::default();
    config.custom_setup =
        Box::new(move |url| establish(url, statement_timeout_ms, connect_timeout));
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
    connect_timeout: std::time::Duration,
) -> BoxFuture<'_, diesel::ConnectionResult<AsyncPgConnection>> {
    async move {
        let connect = AsyncPgConnection::establish(url);
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
