//! `GET /api/v1/admin/audit`: the audit log, newest first, filterable.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::audit::{self, AuditEntry, AuditFilter};
use crate::error::ApiError;
use crate::extract::Admin;
use crate::routes::pagination::{Page, PageQuery};
use crate::state::AppState;

/// Filters; each matches exactly.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// e.g. `login.failed`.
    pub action: Option<String>,
    /// e.g. `account:<uuid>`.
    pub actor: Option<String>,
    /// e.g. `account`.
    pub entity_type: Option<String>,
    /// The entity's id.
    pub entity_id: Option<String>,
}

/// Lists audit entries.
#[utoipa::path(
    tag = "administration",
    params(AuditQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of audit entries", body = Page<AuditEntry>),
        (status = 403, description = "forbidden: only an administrator reads the audit log"),
        (status = 422, description = "validation_failed: a filter, the page size or the cursor is not acceptable"),
    )
)]
#[get("/admin/audit")]
pub async fn list_audit(
    _admin: Admin,
    state: web::Data<AppState>,
    filter: web::Query<AuditQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let before = page
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::invalid_field("cursor", "is not a cursor from this list"))
        })
        .transpose()?;
    let filter = filter.into_inner();
    let filter = AuditFilter {
        action: filter.action,
        actor: filter.actor,
        entity_type: filter.entity_type,
        entity_id: filter.entity_id,
    };
    let mut conn = state.pool.get().await?;
    let rows = audit::list(&mut conn, &filter, before, limit + 1).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, limit, |e| e.seq.to_string())))
}
