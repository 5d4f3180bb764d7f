//! `POST /api/v1/admin/agencies` and `GET /api/v1/admin/agencies`.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, get, post, web};
use diesel_async::AsyncConnection;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::domain::free_text;
use crate::error::{ApiError, FieldError};
use crate::extract::Admin;
use crate::extract::ApiJson;
use crate::models::agency::{self, Agency};
use crate::models::reference;
use crate::routes::pagination::{Page, PageQuery, encode_id_cursor};
use crate::state::AppState;

/// A new partner agency.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgency {
    /// Display name, e.g. a hospital's.
    #[schema(example = "通州区人民医院")]
    pub name: String,
    /// The district it is in.
    #[schema(example = "tongzhou")]
    pub district: String,
    /// Service category codes it offers (at least one).
    #[schema(example = json!(["medical_green_channel", "annual_health_check"]))]
    pub services: Vec<String>,
}

/// Creates an agency.
#[utoipa::path(
    tag = "administration",
    request_body = NewAgency,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The agency created", body = Agency),
        (status = 403, description = "forbidden: only an administrator creates agencies"),
        (status = 422, description = "validation_failed: a field is missing or not acceptable (an unknown district)"),
    )
)]
#[post("/admin/agencies")]
pub async fn create_agency(
    admin: Admin,
    state: web::Data<AppState>,
    body: ApiJson<NewAgency>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = Vec::new();
    let name = free_text::NAME.required(&body.name).unwrap_or_else(|e| {
        errors.push(FieldError {
            field: "name".into(),
            message: e.to_string(),
        });
        String::new()
    });
    let mut conn = state.pool.get().await?;
    let district_known = reference::district_exists(&mut conn, &body.district).await?;
    if !district_known {
        errors.push(FieldError {
            field: "district".into(),
            message: "is not a known district".into(),
        });
    }
    let services: BTreeSet<String> = body.services.into_iter().collect();
    let known = reference::known_services(&mut conn, &services).await?;
    if services.is_empty() || known.len() != services.len() {
        errors.push(FieldError {
            field: "services".into(),
            message: "must list at least one service, each from GET /services".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let new = Agency {
        id: Uuid::now_v7(),
        name,
        district: body.district,
        services: services.into_iter().collect(),
    };
    let created = conn
        .transaction(async |c| {
            let created = agency::insert(c, &new).await?;
            let event = AuditEvent {
                actor: Actor::Account(admin.0.account_id),
                action: "agency.created",
                entity_type: "agency",
                entity_id: Some(created.id.to_string()),
                detail: json!({ "district": created.district, "services": created.services }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>(created)
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Lists every agency, oldest first, a page at a time.
#[utoipa::path(
    tag = "administration",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of agencies, oldest first", body = Page<Agency>),
        (status = 403, description = "forbidden: only an administrator lists agencies"),
        (status = 422, description = "validation_failed: the page size or cursor is not acceptable"),
    )
)]
#[get("/admin/agencies")]
pub async fn list_agencies(
    _admin: Admin,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let after = page.after_id()?;
    let mut conn = state.pool.get().await?;
    let rows = agency::list(&mut conn, after, limit + 1).await?;
    let page = Page::from_rows(rows, limit, |a| encode_id_cursor(a.id));
    Ok(HttpResponse::Ok().json(page))
}
