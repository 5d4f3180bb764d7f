//! What an employer's (用人单位) account sees: `GET /api/v1/employer/applications`, the
//! applications naming its credit code, each with the applicant's name, scheme, status, the
//! endorsement and the `employer` facts, nothing else (no ID, salary, honours or evaluation).
//! Its answer to one of them is `POST /applications/{id}/endorsement`.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::domain::application_status::Status;
use crate::domain::eligibility::Facts;
use crate::error::ApiError;
use crate::extract::EmployerUser;
use crate::models::employer;
use crate::routes::pagination::{Page, PageQuery, encode_cursor};
use crate::state::AppState;

/// Registers the routes under `/employer`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_employer_applications);
}

/// An application as the employer it names sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmployerApplication {
    /// UUID v7.
    pub id: Uuid,
    /// The applicant's name.
    pub applicant_name: String,
    /// Scheme code.
    pub scheme: String,
    /// Status.
    pub status: Status,
    /// `pending` (awaiting this employer), `confirmed` or `declined`.
    pub employer_endorsement: Option<String>,
    /// The employer facts as the applicant filed them.
    pub employer: crate::domain::eligibility::facts::Employer,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl EmployerApplication {
    /// The employer's view of a stored application: only `facts.employer` is opened out of
    /// the sealed facts.
    #[expect(
        clippy::too_many_arguments,
        reason = "the few columns the employer may see"
    )]
    pub fn build(
        state: &AppState,
        id: &Uuid,
        scheme: &str,
        status: &str,
        sealed_facts: &[u8],
        employer_endorsement: Option<String>,
        created_at: DateTime<Utc>,
        applicant_name: String,
    ) -> Result<Self, ApiError> {
        let json = state
            .pii
            .open(
                sealed_facts,
                crate::crypto::pii::Field::Facts,
                id.as_bytes(),
            )
            .map_err(ApiError::internal)?;
        let facts: Facts = serde_json::from_str(&json).map_err(ApiError::internal)?;
        Ok(EmployerApplication {
            id: *id,
            applicant_name,
            scheme: scheme.to_owned(),
            status: Status::parse(status)
                .ok_or_else(|| ApiError::internal("unknown application status"))?,
            employer_endorsement,
            employer: facts.employer,
            created_at,
        })
    }
}

/// Lists the applications naming the caller's employer (drafts excepted), oldest first.
#[utoipa::path(
    tag = "employers",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the applications naming the employer", body = Page<EmployerApplication>),
        (status = 403, description = "forbidden: only an employer's account lists these"),
        (status = 422, description = "validation_failed: the page size or the cursor is not acceptable"),
    )
)]
#[get("/employer/applications")]
pub async fn list_employer_applications(
    user: EmployerUser,
    state: web::Data<AppState>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let after = page.after()?;
    let mut conn = state.pool.get().await?;
    let rows =
        employer::applications_naming(&mut conn, &user.employer.credit_code, after, limit + 1)
            .await?;
    let items = rows
        .into_iter()
        .map(|(a, name)| {
            EmployerApplication::build(
                &state,
                &a.id,
                &a.scheme,
                &a.status,
                &a.facts,
                a.employer_endorsement,
                a.created_at,
                name,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let page = Page::from_rows(items, limit, |a| encode_cursor(a.created_at, a.id));
    Ok(HttpResponse::Ok().json(page))
}
