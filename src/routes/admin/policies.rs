//! `PUT /api/v1/admin/recognitions` and `PUT /api/v1/admin/entitlements`: new versions of the
//! mutual-recognition and entitlement rules. Versions are immutable; every rule is checked
//! against the schemes, tiers, districts and services that exist.

use actix_web::{HttpResponse, put, web};
use chrono::NaiveDate;
use diesel::QueryResult;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Actor, AuditEvent};
use crate::domain::recognition::{EntitlementRule, RecognitionRule};
use crate::error::{ApiError, FieldError};
use crate::extract::Admin;
use crate::extract::ApiJson;
use crate::models::policy::{self, Kind};
use crate::models::{reference, scheme};
use crate::state::AppState;

/// A new version of rules.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy<T> {
    /// First day it applies (today or later; default today).
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    /// The rules.
    pub rules: Vec<T>,
}

/// The version published.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedPolicy {
    /// The new version.
    pub version: i32,
    /// First day it applies.
    pub effective_from: NaiveDate,
}

struct Known {
    tiers: Vec<(String, String)>,
    districts: Vec<String>,
    services: Vec<String>,
}

async fn known(conn: &mut AsyncPgConnection) -> QueryResult<Known> {
    Ok(Known {
        tiers: scheme::tier_pairs(conn).await?,
        districts: reference::district_codes(conn).await?,
        services: reference::service_codes(conn).await?,
    })
}

async fn publish(
    admin: &Admin,
    state: &AppState,
    kind: Kind,
    effective_from: Option<NaiveDate>,
    rules: serde_json::Value,
    mut errors: Vec<FieldError>,
) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let effective_from = effective_from.unwrap_or(today);
    if effective_from < today {
        errors.push(FieldError {
            field: "effective_from".into(),
            message: "cannot be in the past".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let actor = Actor::Account(admin.0.account_id);
    let published_by = actor.as_text();
    let document = json!({ "rules": rules });
    let mut conn = state.pool.get().await?;
    let version = conn
        .transaction(async |c| {
            let version =
                policy::publish(c, kind, effective_from, &document, &published_by).await?;
            let event = AuditEvent {
                actor,
                action: "policy.published",
                entity_type: kind.as_str(),
                entity_id: Some(version.to_string()),
                detail: json!({ "effective_from": effective_from }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>(version)
        })
        .await?;
    state.invalidation.changed();
    Ok(HttpResponse::Created().json(PublishedPolicy {
        version,
        effective_from,
    }))
}

fn mistake(errors: &mut Vec<FieldError>, index: usize, field: &str, message: &str) {
    errors.push(FieldError {
        field: format!("rules[{index}].{field}"),
        message: message.to_owned(),
    });
}

/// Publishes new mutual-recognition rules.
#[utoipa::path(
    tag = "administration",
    request_body = NewPolicy<RecognitionRule>,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The published version and the day it takes effect", body = PublishedPolicy),
        (status = 403, description = "forbidden: only an administrator publishes rules"),
        (status = 422, description = "validation_failed: a rule names an unknown scheme, tier or district, or the effective day is in the past"),
    )
)]
#[put("/admin/recognitions")]
pub async fn publish_recognitions(
    admin: Admin,
    state: web::Data<AppState>,
    body: ApiJson<NewPolicy<RecognitionRule>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let known = known(&mut *state.pool.get().await?).await?;
    let mut errors = Vec::new();
    for (i, rule) in body.rules.iter().enumerate() {
        if !known
            .tiers
            .contains(&(rule.scheme.clone(), rule.tier.clone()))
        {
            mistake(&mut errors, i, "tier", "is not a tier of that scheme");
        }
        if !known.districts.contains(&rule.district) {
            mistake(&mut errors, i, "district", "is not a known district");
        }
        if rule.local_tier.trim().is_empty() || rule.local_tier.len() > 8 {
            mistake(&mut errors, i, "local_tier", "must be 1 to 8 characters");
        }
    }
    let rules = serde_json::to_value(&body.rules).map_err(ApiError::internal)?;
    publish(
        &admin,
        &state,
        Kind::Recognitions,
        body.effective_from,
        rules,
        errors,
    )
    .await
}

/// Publishes new entitlement rules.
#[utoipa::path(
    tag = "administration",
    request_body = NewPolicy<EntitlementRule>,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The published version and the day it takes effect", body = PublishedPolicy),
        (status = 403, description = "forbidden: only an administrator publishes rules"),
        (status = 422, description = "validation_failed: a rule names an unknown district or service, or the effective day is in the past"),
    )
)]
#[put("/admin/entitlements")]
pub async fn publish_entitlements(
    admin: Admin,
    state: web::Data<AppState>,
    body: ApiJson<NewPolicy<EntitlementRule>>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let known = known(&mut *state.pool.get().await?).await?;
    let mut errors = Vec::new();
    for (i, rule) in body.rules.iter().enumerate() {
        if !known.districts.contains(&rule.district) {
            mistake(&mut errors, i, "district", "is not a known district");
        }
        if !known.services.contains(&rule.service) {
            mistake(&mut errors, i, "service", "is not a service category");
        }
        if !(1..=10).contains(&rule.every) {
            mistake(&mut errors, i, "every", "must be 1 to 10");
        }
    }
    let rules = serde_json::to_value(&body.rules).map_err(ApiError::internal)?;
    publish(
        &admin,
        &state,
        Kind::Entitlements,
        body.effective_from,
        rules,
        errors,
    )
    .await
}
