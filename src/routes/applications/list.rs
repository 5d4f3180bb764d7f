//! `GET /api/v1/applications`: a talent's own, or an official's review queue (their issuer's
//! submitted work, oldest first, filterable, with the deadline and whether it has passed).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{is_overdue, viewer};
use crate::domain::application_status::Status;
use crate::domain::dependants::CardKind;
use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::models::application::{self, ListFilter, Viewer};
use crate::routes::pagination::{Page, PageQuery, decode_cursor, encode_cursor};
use crate::state::AppState;

/// Queue filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueQuery {
    /// Only this status.
    pub status: Option<Status>,
    /// Only this scheme.
    pub scheme: Option<String>,
    /// Only this suggested tier.
    pub suggested_tier: Option<String>,
    /// Only submitted applications past their deadline.
    pub overdue: Option<bool>,
    /// Only this kind: `principal` (the talent's own card) or `dependant` (a family member's).
    pub kind: Option<CardKind>,
}

/// One line of the list (no facts: open the application for those).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationSummary {
    /// UUID v7.
    pub id: Uuid,
    /// Scheme code.
    pub scheme: String,
    /// Issuer code.
    pub issuer: String,
    /// Status.
    pub status: Status,
    /// The engine's suggestion.
    pub suggested_tier: Option<String>,
    /// Last submission.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Review deadline.
    pub review_due: Option<NaiveDate>,
    /// Past the deadline and still undecided.
    pub overdue: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// `principal` or `dependant`.
    pub kind: CardKind,
    /// For a dependant application, the principal card.
    pub principal_card: Option<Uuid>,
    /// The employer's endorsement: `pending`, `confirmed`, `declined` or `unavailable` (the
    /// employer is not registered); absent before submission and on dependant applications.
    pub employer_endorsement: Option<String>,
}

/// Lists applications the caller may see.
#[utoipa::path(
    tag = "applications",
    params(QueueQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the applications the caller may see", body = Page<ApplicationSummary>),
        (status = 403, description = "forbidden: agencies and administrators do not see applications"),
        (status = 422, description = "validation_failed: a filter, the page size or the cursor is not acceptable"),
    )
)]
#[get("/applications")]
pub async fn list_applications(
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<QueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&user)?;
    let limit = page.limit()?;
    let after = page.cursor.as_deref().map(decode_cursor).transpose()?;
    let today = state.today();
    let query = query.into_inner();
    let filter = ListFilter {
        status: query.status.map(|s| s.as_str().to_owned()),
        scheme: query.scheme,
        suggested_tier: query.suggested_tier,
        overdue_on: query.overdue.filter(|o| *o).map(|_| today),
        kind: query.kind.map(|k| k.as_str().to_owned()),
    };
    let mut conn = state.pool.get().await?;
    let rows = application::list(&mut conn, &viewer, &filter, after, limit + 1).await?;
    let official = matches!(viewer, Viewer::Official(_));
    let items: Vec<ApplicationSummary> = rows
        .into_iter()
        .filter_map(|a| {
            Some(ApplicationSummary {
                overdue: is_overdue(&a, today),
                status: a.status()?,
                kind: CardKind::parse(&a.kind),
                principal_card: a.principal_card,
                employer_endorsement: a.employer_endorsement,
                id: a.id,
                scheme: a.scheme,
                issuer: a.issuer,
                suggested_tier: a.suggested_tier,
                submitted_at: a.submitted_at,
                review_due: a.review_due,
                created_at: a.created_at,
            })
        })
        .collect();
    let page = Page::from_rows(items, limit, |s| {
        let at = if official {
            s.submitted_at.unwrap_or(s.created_at)
        } else {
            s.created_at
        };
        encode_cursor(at, s.id)
    });
    Ok(HttpResponse::Ok().json(page))
}
