//! Issuer signing keys: `POST /api/v1/admin/issuers/{code}/keys/rotate` (a new signing key; the
//! old one stays in the trust list as retired while credentials it signed are in force),
//! `POST …/keys/{kid}/compromise` (withdraw any key, active or retired, at once) and
//! `GET …/keys` (the rotation history).

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::domain::free_text;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Admin;
use crate::extract::ApiJson;
use crate::models::issuer_key;
use crate::routes::reference::known_issuer;
use crate::state::AppState;

/// The rotation's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rotated {
    /// The issuer.
    pub issuer: String,
    /// The new active key.
    pub kid: String,
    /// The key it replaced.
    pub retired: Option<String>,
}

/// How the old key leaves.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct RotateQuery {
    /// `true` after a key compromise: the old key leaves the trust list at once (holders
    /// re-fetch their credentials, which are signed with the active key).
    pub compromised: Option<bool>,
}

/// Rotates an issuer's signing key.
#[utoipa::path(
    tag = "administration",
    params(("code" = String, Path, description = "Issuer code"), RotateQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new active key and the one it retired", body = Rotated),
        (status = 404, description = "not_found: no such issuer"),
        (status = 409, description = "conflict: another rotation of this issuer's key won; try again"),
    )
)]
#[post("/admin/issuers/{code}/keys/rotate")]
pub async fn rotate_key(
    admin: Admin,
    state: web::Data<AppState>,
    code: web::Path<String>,
    query: web::Query<RotateQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let mut conn = state.pool.get().await?;
    known_issuer(&mut conn, &code).await?;
    let actor = Actor::Account(admin.0.account_id);
    let compromised = query.compromised.unwrap_or(false);
    let (kid, retired) = issuer_key::rotate(&mut conn, &code, &state.pii, compromised, actor, now)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Conflict,
                "another rotation of this issuer's key won",
            )
        })?;
    state.invalidation.changed();
    Ok(HttpResponse::Ok().json(Rotated {
        issuer: code.into_inner(),
        kid,
        retired,
    }))
}

/// Why a key is withdrawn.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompromiseRequest {
    /// What happened (kept in the audit log).
    #[serde(default)]
    pub comment: Option<String>,
}

/// A withdrawn key.
#[derive(Debug, Serialize, ToSchema)]
pub struct Compromised {
    /// The issuer.
    pub issuer: String,
    /// The withdrawn key.
    pub kid: String,
    /// What it was: `active` or `retired`.
    pub was: String,
    /// Always `compromised`.
    pub status: &'static str,
    /// The new active key, when the withdrawn key was the active one.
    pub replaced_by: Option<String>,
}

/// Marks one of an issuer's keys compromised, active or retired: it leaves the trust list at
/// once, and online and offline verifiers refuse what it signed. An active key is replaced by
/// a new one in the same transaction; holders fetch their credential again to get one signed
/// by it.
#[utoipa::path(
    tag = "administration",
    params(("code" = String, Path, description = "Issuer code"), ("kid" = String, Path, description = "Key id")),
    request_body = CompromiseRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The key marked compromised (and its replacement when it was the active one)", body = Compromised),
        (status = 404, description = "not_found: no such issuer or key"),
        (status = 409, description = "the key was withdrawn before"),
    )
)]
#[post("/admin/issuers/{code}/keys/{kid}/compromise")]
pub async fn compromise_key(
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: ApiJson<CompromiseRequest>,
) -> Result<HttpResponse, ApiError> {
    let (code, kid) = path.into_inner();
    let comment = free_text::COMMENT
        .optional(body.0.comment.as_deref())
        .map_err(|e| ApiError::invalid_field("comment", e.to_string()))?;
    let mut conn = state.pool.get().await?;
    let actor = Actor::Account(admin.0.account_id);
    let outcome = issuer_key::compromise(
        &mut conn,
        &code,
        &kid,
        comment.as_deref(),
        &state.pii,
        actor,
        state.now(),
    )
    .await
    .map_err(ApiError::internal)?;
    match outcome {
        issuer_key::Compromise::NotFound => Err(ApiError::not_found()),
        issuer_key::Compromise::AlreadyCompromised => Err(ApiError::new(
            ErrorCode::Conflict,
            "this key was withdrawn before",
        )),
        issuer_key::Compromise::Withdrawn { was, replaced_by } => {
            // Refused from the next check on here; elsewhere on the notification.
            state.invalidation.changed();
            tracing::warn!(issuer = %code, kid = %kid, was = %was, "issuer key marked compromised");
            Ok(HttpResponse::Ok().json(Compromised {
                issuer: code,
                kid,
                was,
                status: "compromised",
                replaced_by,
            }))
        }
    }
}

/// One key in an issuer's rotation history.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyHistoryEntry {
    /// Key id.
    pub kid: String,
    /// `active`, `retired` or `compromised`.
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Stopped signing.
    pub retired_at: Option<DateTime<Utc>>,
    /// Withdrawn.
    pub compromised_at: Option<DateTime<Utc>>,
}

/// Every key the issuer ever had, newest first (the rotation history; each change is also in
/// the audit log).
#[utoipa::path(
    tag = "administration",
    params(("code" = String, Path, description = "Issuer code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The issuer's keys, newest first", body = [KeyHistoryEntry]),
        (status = 404, description = "not_found: no such issuer"),
    )
)]
#[get("/admin/issuers/{code}/keys")]
pub async fn list_keys(
    _admin: Admin,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let keys = issuer_key::history(&mut conn, &code).await?;
    if keys.is_empty() {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok().json(
        keys.into_iter()
            .map(|k| KeyHistoryEntry {
                kid: k.kid,
                status: k.status,
                created_at: k.created_at,
                retired_at: k.retired_at,
                compromised_at: k.compromised_at,
            })
            .collect::<Vec<_>>(),
    ))
}
