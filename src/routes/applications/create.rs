//! `POST /api/v1/applications`: a talent starts a draft.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ApplicationView, seal_facts};
use crate::audit::{self, Actor, AuditEvent};
use crate::domain::application_status::Status;
use crate::domain::eligibility::Facts;
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::extract::Talent;
use crate::models::application::{self, NewApplication};
use crate::models::scheme;
use crate::routes::facts::validate_facts;
use crate::state::AppState;

/// A new application. Status and owner are not fields: a new application is the caller's draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplicationRequest {
    /// Scheme code, e.g. `XIONGAN`.
    pub scheme: String,
    /// An issuer of that scheme, e.g. `XA`.
    pub issuer: String,
    /// The facts the rules evaluate.
    pub facts: Facts,
    /// For a renewal or an upgrade: the caller's card of the same scheme that this replaces;
    /// approval revokes it with the reason `superseded`.
    #[serde(default)]
    pub replaces_card: Option<Uuid>,
}

/// Creates a draft. One open application per talent and scheme.
#[utoipa::path(
    tag = "applications",
    request_body = NewApplicationRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The draft application", body = ApplicationView),
        (status = 409, description = "conflict: the caller already has an open application for this scheme; renewal_not_open: a renewal (the same tier as the card it replaces) before the card's renewal window opens"),
        (status = 422, description = "validation_failed: an unknown scheme or issuer, or a replaced card that is not an active card of the caller's"),
    )
)]
#[post("/applications")]
pub async fn create_application(
    talent: Talent,
    state: web::Data<AppState>,
    body: ApiJson<NewApplicationRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.0;
    body.facts = body.facts.trimmed();
    let now = state.now();
    let mut conn = state.pool.get().await?;
    let Some(found) = scheme::find(&mut conn, &body.scheme).await? else {
        return Err(ApiError::invalid_field("scheme", "is not a known scheme"));
    };
    if !found.issuers.contains(&body.issuer) {
        return Err(ApiError::invalid_field(
            "issuer",
            format!("does not issue {}", body.scheme),
        ));
    }
    validate_facts(&mut conn, &body.facts, state.today(), "facts.").await?;
    if let Some(card_id) = body.replaces_card {
        super::renewal::check_replaceable(
            &state,
            &mut conn,
            talent.0.account_id,
            &body.scheme,
            &body.issuer,
            card_id,
            &body.facts,
        )
        .await?;
    }
    let id = Uuid::now_v7();
    let sealed = seal_facts(&state, id, &body.facts)?;
    let new = NewApplication {
        id,
        talent_id: talent.0.account_id,
        scheme: &body.scheme,
        issuer: &body.issuer,
        status: Status::Draft.as_str(),
        facts: &sealed,
        key_id: state.pii.key_id(),
        created_at: now,
        updated_at: now,
        replaces_card: body.replaces_card,
    };
    let created = conn
        .transaction(async |c| {
            let created = application::insert(c, &new).await?;
            let event = AuditEvent {
                actor: Actor::Account(talent.0.account_id),
                action: "application.created",
                entity_type: "application",
                entity_id: Some(id.to_string()),
                detail: json!({ "scheme": created.scheme, "issuer": created.issuer }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>(created)
        })
        .await
        .map_err(|e| match ApiError::from(e) {
            conflict if conflict.code() == ErrorCode::Conflict => ApiError::new(
                ErrorCode::Conflict,
                "you already have an open application for this scheme",
            ),
            other => other,
        })?;
    Ok(HttpResponse::Created().json(ApplicationView::build(&state, created, None)?))
}
