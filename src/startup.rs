//! Building and running the application: database preparation, the pool, the HTTP server, the
//! periodic sweep and the flush of aggregated access denials into the audit log.

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceResponse};
use std::sync::Arc;

use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers, from_fn};
use actix_web::{App, HttpRequest, HttpServer, ResponseError, web};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::audit::denials::DenialLog;
use crate::clock::{SharedClock, SystemClock};
use crate::configuration::Settings;
use crate::db::{self, DbPool};
use crate::error::ApiError;
use crate::extract::{self, BodyLimits};
use crate::models::sweep::{self, SweepPolicy};
use crate::state::invalidation::CacheCollector;
use crate::state::{AppState, key_check};
use crate::{cors, denial_watch, metrics, openapi, reference, routes, telemetry};

/// A built, bound, not yet running application.
pub struct Application {
    port: u16,
    metrics_port: u16,
    pool: DbPool,
    denials: DenialLog,
    server: Server,
    metrics_server: Server,
}

impl Application {
    /// Prepares the database (create, migrate, reference data), builds the pool and binds.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with an injected clock (tests move it instead of sleeping).
    pub async fn build_with_clock(settings: &Settings, clock: SharedClock) -> anyhow::Result<Self> {
        prepare_database(settings).await?;
        let pool = db::build_pool(&settings.database)?;
        let state = AppState::build(settings, pool.clone(), clock).await?;
        {
            let mut conn = pool.get().await?;
            refuse_an_owner_login(&mut conn, settings).await?;
            crate::models::issuer_key::ensure_for_all_issuers(&mut conn, &state.pii, state.now())
                .await?;
            let keyring = crate::audit::keys::installed();
            let verdict = key_check::check(&mut conn, &state.pii, keyring.as_deref()).await?;
            if let Err(mismatch) = verdict {
                anyhow::bail!("{mismatch}");
            }
            state.key_health.remember(None);
        }
        let address = format!(
            "{}:{}",
            settings.application.host, settings.application.port
        );
        let listener = TcpListener::bind(&address)
            .map_err(|e| anyhow::anyhow!("could not bind {address}: {e}"))?;
        let port = listener.local_addr()?.port();
        let metrics_address = format!("{}:{}", settings.metrics.host, settings.metrics.port);
        let metrics_listener = TcpListener::bind(&metrics_address)
            .map_err(|e| anyhow::anyhow!("could not bind the metrics at {metrics_address}: {e}"))?;
        let metrics_port = metrics_listener.local_addr()?.port();
        tokio::spawn(crate::state::invalidation::listen(
            state.invalidation.clone(),
            settings.database.service_url()?,
        ));
        spawn_sweeps(settings, pool.clone(), state.clock.clone());
        let denials = state.denials.clone();
        spawn_denial_flush(settings, pool.clone(), denials.clone());
        let counters = metrics::middleware(
            state.pool.clone(),
            &state.partner_metrics,
            vec![Box::new(CacheCollector::new(state.invalidation.clone())?)],
        )?;
        let metrics_server = metrics::serve(metrics_listener, counters.registry.clone())?;
        let server = run(listener, state, counters, settings)?;
        Ok(Application {
            port,
            metrics_port,
            pool,
            denials,
            server,
            metrics_server,
        })
    }

    /// The port actually bound (useful when the configuration asked for 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` is served on (its own listener, `metrics.host:metrics.port`).
    pub fn metrics_port(&self) -> u16 {
        self.metrics_port
    }

    /// The application's pool, for loading demo data before serving.
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// The access denials counted and not yet written: tests (and a server with
    /// `audit.denial_flush_ms = 0`) flush them with [`DenialLog::flush`].
    pub fn denials(&self) -> &DenialLog {
        &self.denials
    }

    /// Serves until the process is asked to stop (SIGINT/SIGTERM), then drains gracefully; the
    /// metrics listener stops with the API.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.handle();
        let scraping = tokio::spawn(self.metrics_server);
        let served = self.server.await;
        metrics.stop(true).await;
        if let Ok(Err(error)) = scraping.await {
            tracing::warn!(%error, "the metrics listener failed");
        }
        served
    }
}

/// A service that logs in as a superuser or as the tables' owner could switch off its own
/// audit trail: production refuses to start so, elsewhere it is a warning.
async fn refuse_an_owner_login(
    conn: &mut AsyncPgConnection,
    settings: &Settings,
) -> anyhow::Result<()> {
    let login = db::roles::service_login(conn).await?;
    if !login.can_rewrite_audit() {
        return Ok(());
    }
    if settings.environment == crate::configuration::Environment::Production {
        anyhow::bail!(
            "DATABASE_URL: the service logs in as a superuser or as the tables' owner, so it could \
             rewrite the audit log; log in as the service role and run migrations with \
             MIGRATION_DATABASE_URL (README, \"Database roles\")"
        );
    }
    tracing::warn!(
        superuser = login.superuser,
        owner = login.owns_audit_log,
        "the service logs in as a role that can rewrite the audit log"
    );
    Ok(())
}

/// Creates the database when missing, runs pending migrations and grants the service role its
/// rights (as the migration owner), loads missing reference data, and anchors the audit chain
/// under the configured key.
pub async fn prepare_database(settings: &Settings) -> anyhow::Result<()> {
    crate::audit::keys::install_from(settings)?;
    db::ensure_database(&settings.database).await?;
    let ran = db::migrate_and_grant(&settings.database).await?;
    if ran > 0 {
        tracing::info!(migrations = ran, "ran pending migrations");
    }
    let mut conn = AsyncPgConnection::establish(settings.database.owner_url()).await?;
    if let Some(seq) = crate::audit::anchor(&mut conn).await? {
        tracing::info!(seq, "audit chain keyed from here on");
    }
    reference::load(&settings.reference_dir(), &mut conn).await?;
    reference::schemes::load(&settings.application.schemes_dir, &mut conn).await?;
    // recognitions.toml and entitlements.toml sit beside the schemes directory, in config/.
    let config_dir = settings
        .application
        .schemes_dir
        .parent()
        .unwrap_or(&settings.config_dir);
    reference::policies::load(config_dir, &mut conn).await?;
    Ok(())
}

/// What the sweep counts as old, from `settings`, at `now`.
pub fn sweep_policy(settings: &Settings, now: chrono::DateTime<chrono::Utc>) -> SweepPolicy {
    SweepPolicy {
        now,
        session_idle: chrono::Duration::days(settings.auth.session_idle_days),
        idempotency_retention: chrono::Duration::hours(
            settings.maintenance.idempotency_retention_hours,
        ),
    }
}

/// Starts the periodic sweep (`maintenance.sweep_interval_secs`; 0: none) on this runtime. The
/// first runs one interval after start, so a fleet restarting together does not sweep at once;
/// a failed sweep is logged and retried at the next tick, and an instance that finds another
/// sweeping skips its turn.
fn spawn_sweeps(settings: &Settings, pool: DbPool, clock: SharedClock) {
    let interval = settings.maintenance.sweep_interval_secs;
    if interval == 0 {
        return;
    }
    let period = std::time::Duration::from_secs(interval);
    let settings = settings.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let policy = sweep_policy(&settings, clock.now());
            let outcome = match pool.get().await {
                Ok(mut conn) => sweep::run(&mut conn, policy)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match outcome {
                Ok(Some(report)) => tracing::info!(?report, "swept old rows"),
                Ok(None) => tracing::debug!("another instance is sweeping"),
                Err(error) => tracing::warn!(%error, "the sweep failed; retried next time"),
            }
        }
    });
}

/// Starts writing the aggregated access denials every `audit.denial_flush_ms` (0: never; the
/// counts then wait for a flush by hand). A failed flush is logged and its counts are kept for
/// the next tick, still bounded by [`crate::audit::denials::MAX_KEYS`].
fn spawn_denial_flush(settings: &Settings, pool: DbPool, denials: DenialLog) {
    let interval = settings.audit.denial_flush_ms;
    if interval == 0 {
        return;
    }
    let period = std::time::Duration::from_millis(interval);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match denials.flush(&pool).await {
                Ok(0) => {}
                Ok(rows) => tracing::debug!(rows, "wrote aggregated access denials"),
                Err(error) => {
                    tracing::warn!(%error, "writing access denials failed; retried next time");
                }
            }
        }
    });
}

fn run(
    listener: TcpListener,
    state: AppState,
    metrics: actix_web_prom::PrometheusMetrics,
    settings: &Settings,
) -> anyhow::Result<Server> {
    let body_limits = BodyLimits {
        json_bytes: settings.application.json_limit_bytes,
        json_timeout: std::time::Duration::from_millis(settings.application.body_timeout_ms),
        upload_timeout: std::time::Duration::from_millis(settings.application.upload_timeout_ms),
    };
    let pool = web::Data::new(state.pool.clone());
    let state = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        let mut allowed = openapi::AllowedMethods::default();
        App::new()
            // Innermost, so it sees every handler's and extractor's answer with its status.
            .wrap(from_fn(denial_watch::note_denials))
            .wrap(ErrorHandlers::new().default_handler(ensure_problem_json))
            .wrap(security_headers())
            .wrap(metrics.clone())
            .wrap(from_fn(cors::public_trust_material))
            .wrap(from_fn(telemetry::trace_requests))
            .app_data(pool.clone())
            .app_data(state.clone())
            .app_data(body_limits)
            .app_data(extract::path_config())
            .app_data(extract::query_config())
            .into_utoipa_app()
            .openapi(openapi::base())
            .configure(routes::configure)
            .openapi_service(|api| {
                let api = openapi::complete(api);
                allowed = openapi::AllowedMethods::new(&api);
                SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api)
            })
            // A path no route takes: 405 with Allow when it exists with other methods, else 404.
            .default_service(web::to(move |req: HttpRequest| {
                let answer = allowed.answer(&req);
                async move { answer }
            }))
            .into_app()
            .service(openapi::explorer_redirect())
    })
    .client_request_timeout(std::time::Duration::from_millis(
        settings.application.client_request_timeout_ms,
    ))
    .shutdown_timeout(10);
    if settings.application.workers > 0 {
        server = server.workers(settings.application.workers);
    }
    Ok(server.listen(listener)?.run())
}

/// Headers every answer carries unless the handler set its own: answers are not cached (most
/// carry personal data or tokens; public reference data opts in to caching) and browsers do not
/// sniff content types.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((CACHE_CONTROL, "no-store"))
        .add((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((X_FRAME_OPTIONS, "DENY"))
}

/// Turns any error answer not already in problem+json (actix's own 404 and 405, a handler's
/// bare status) into problem+json, so clients parse one error shape.
fn ensure_problem_json<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Our own JSON errors (problem+json, and RFC 6749's `{"error"}`) stay as they are.
    let is_problem = response.headers().get(CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/") && v.as_bytes().ends_with(b"json")
    });
    let replacement = (!is_problem)
        .then(|| ApiError::for_status(response.status()))
        .flatten();
    let Some(problem) = replacement else {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    };
    let (request, _) = response.into_parts();
    let answer = ServiceResponse::new(request, problem.error_response());
    Ok(ErrorHandlerResponse::Response(answer.map_into_right_body()))
}
