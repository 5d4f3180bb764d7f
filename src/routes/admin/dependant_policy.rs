//! `PUT /api/v1/admin/schemes/{code}/dependant-policy`: publishes a new version of a scheme's
//! dependant policy (which tiers may add dependants, which relations, the child age limit, the
//! most live dependant cards), effective-dated like the rules; earlier versions stay stored.
//! Dependant requests are checked against the version in force on their day.

use actix_web::{HttpResponse, put, web};
use chrono::NaiveDate;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Actor, AuditEvent};
use crate::domain::dependants::DependantPolicy;
use crate::error::{ApiError, FieldError};
use crate::extract::{Admin, ApiJson};
use crate::routes::admin::scheme_rules::Published;
use crate::routes::schemes::known_scheme;
use crate::state::AppState;

/// A new dependant policy version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDependantPolicy {
    /// First day it applies (today or later; default today).
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    /// The policy.
    pub policy: DependantPolicy,
}

fn refusals(
    policy: &DependantPolicy,
    tiers: &[&str],
    from: NaiveDate,
    today: NaiveDate,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut refuse = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    if from < today {
        refuse("effective_from", "cannot be in the past");
    }
    if policy.tiers.iter().any(|t| !tiers.contains(&t.as_str())) {
        refuse("policy.tiers", "names a tier the scheme does not have");
    }
    if policy.max_live > 20 {
        refuse("policy.max_live", "at most 20");
    }
    if policy.child_age_below == 0 || policy.child_age_below > 30 {
        refuse("policy.child_age_below", "between 1 and 30");
    }
    errors
}

async fn publish(
    conn: &mut AsyncPgConnection,
    code: &str,
    from: NaiveDate,
    policy: &DependantPolicy,
    actor: Actor,
) -> Result<i32, ApiError> {
    let published_by = actor.as_text();
    let version = conn
        .transaction(async |c| {
            let version =
                crate::models::dependant::publish_policy(c, code, from, policy, &published_by)
                    .await?;
            let event = AuditEvent {
                actor,
                action: "scheme.dependant_policy_published",
                entity_type: "scheme",
                entity_id: Some(code.to_owned()),
                detail: json!({ "version": version, "effective_from": from }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>(version)
        })
        .await?;
    Ok(version)
}

/// Publishes a new version of a scheme's dependant policy.
#[utoipa::path(
    tag = "administration",
    params(("code" = String, Path, description = "Scheme code")),
    request_body = NewDependantPolicy,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The published version of the scheme's dependant policy", body = Published),
        (status = 403, description = "forbidden: only an administrator publishes policies"),
        (status = 404, description = "not_found: no such scheme"),
        (status = 422, description = "validation_failed: an unknown tier, a limit out of range, or a date in the past"),
    )
)]
#[put("/admin/schemes/{code}/dependant-policy")]
pub async fn publish_dependant_policy(
    admin: Admin,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: ApiJson<NewDependantPolicy>,
) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let body = body.0;
    let from = body.effective_from.unwrap_or(today);
    let mut conn = state.pool.get().await?;
    let found = known_scheme(&mut conn, &code).await?;
    let errors = refusals(&body.policy, &found.tier_codes(), from, today);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let actor = Actor::Account(admin.0.account_id);
    let version = publish(&mut conn, &code, from, &body.policy, actor).await?;
    Ok(HttpResponse::Created().json(Published {
        scheme: code.into_inner(),
        version,
        effective_from: from,
    }))
}
