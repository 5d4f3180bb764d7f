//! `PATCH /api/v1/applications/{id}`: the owner edits facts, only in `draft` or
//! `supplement_requested`.

use actix_web::{HttpResponse, patch, web};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{ApplicationView, invalid_transition, own_application, seal_facts};
use crate::audit::{self, Actor, AuditEvent};
use crate::domain::application_status::Action;
use crate::domain::eligibility::Facts;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::extract::Talent;
use crate::models::application;
use crate::routes::facts::validate_facts;
use crate::state::AppState;

/// New facts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApplication {
    /// The facts, replacing the old ones.
    pub facts: Facts,
}

/// Replaces the facts of a draft or of an application waiting for a supplement.
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path, description = "Application id")),
    request_body = UpdateApplication,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application with its new facts", body = ApplicationView),
        (status = 404, description = "not_found: no such application of the caller's"),
        (status = 409, description = "invalid_transition: the application is no longer editable"),
        (status = 422, description = "validation_failed: a fact is missing or not acceptable"),
    )
)]
#[patch("/applications/{id}")]
pub async fn update_application(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<UpdateApplication>,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let owner = talent.0.account_id;
    let mut conn = state.pool.get().await?;
    let (found, status) = own_application(&mut conn, *id, owner, Action::Update, "edited").await?;
    let facts = body.0.facts.trimmed();
    validate_facts(&mut conn, &facts, state.today(), "facts.").await?;
    let sealed = seal_facts(&state, found.id, &facts)?;
    let updated = conn
        .transaction(async |c| {
            let Some(updated) =
                application::update_facts(c, found.id, status, &sealed, now).await?
            else {
                return Ok(None);
            };
            let event = AuditEvent {
                actor: Actor::Account(owner),
                action: "application.updated",
                entity_type: "application",
                entity_id: Some(found.id.to_string()),
                detail: json!({ "status": status.as_str() }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>(Some(updated))
        })
        .await?
        .ok_or_else(|| invalid_transition("no longer editable", "edited"))?;
    Ok(HttpResponse::Ok().json(ApplicationView::build(&state, updated, None)?))
}
