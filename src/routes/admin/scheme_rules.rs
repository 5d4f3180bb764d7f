//! `PUT /api/v1/admin/schemes/{code}/rules`: publishes a new rules version; earlier versions
//! stay readable and evaluations record the version they used.

use actix_web::{HttpResponse, put, web};
use chrono::NaiveDate;
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Actor, AuditEvent};
use crate::domain::eligibility::parse_new_rule_set;
use crate::error::{ApiError, FieldError};
use crate::extract::Admin;
use crate::extract::ApiJson;
use crate::models::scheme;
use crate::routes::schemes::known_scheme;
use crate::state::AppState;

/// A new rules version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRules {
    /// First day it applies (today or later; default today).
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    /// `{parameters:{average_wage_cny}, requirements:[rule], tiers:[{tier, rules:[rule]}]}`; a
    /// rule is `{name, description, when}`, a condition `all`/`any`/`not`, `{fact, op, value}` or
    /// `{honour:{kind, min_level?, max_rank?}}`.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
}

/// The version published.
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    /// The scheme.
    pub scheme: String,
    /// The new version.
    pub version: i32,
    /// First day it applies.
    pub effective_from: NaiveDate,
}

/// Publishes a new version of a scheme's eligibility rules. A rule set naming an unknown fact,
/// operator or tier, or comparing a fact with the wrong type, is refused with its path.
#[utoipa::path(
    tag = "administration",
    params(("code" = String, Path, description = "Scheme code")),
    request_body = NewRules,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The published version of the scheme's rules", body = Published),
        (status = 403, description = "forbidden: only an administrator publishes rules"),
        (status = 404, description = "not_found: no such scheme"),
        (status = 422, description = "validation_failed: a rule names an unknown fact, operator or tier, compares a fact with the wrong type, or takes effect in the past (the error names its path)"),
    )
)]
#[put("/admin/schemes/{code}/rules")]
pub async fn publish_rules(
    admin: Admin,
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: ApiJson<NewRules>,
) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let body = body.0;
    let effective_from = body.effective_from.unwrap_or(today);
    let mut conn = state.pool.get().await?;
    let found = known_scheme(&mut conn, &code).await?;
    let mut errors = Vec::new();
    if effective_from < today {
        errors.push(FieldError {
            field: "effective_from".into(),
            message: "cannot be in the past".into(),
        });
    }
    if let Err(mistakes) = parse_new_rule_set(&body.rules, &found.tier_codes()) {
        errors.extend(mistakes.into_iter().map(|m| FieldError {
            field: m.path,
            message: m.message,
        }));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let actor = Actor::Account(admin.0.account_id);
    let published_by = actor.as_text();
    let version = conn
        .transaction(async |c| {
            let version =
                scheme::publish_rules(c, &code, effective_from, &body.rules, &published_by).await?;
            let event = AuditEvent {
                actor,
                action: "scheme.rules_published",
                entity_type: "scheme",
                entity_id: Some(code.to_string()),
                detail: json!({ "version": version, "effective_from": effective_from }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>(version)
        })
        .await?;
    Ok(HttpResponse::Created().json(Published {
        scheme: code.into_inner(),
        version,
        effective_from,
    }))
}
