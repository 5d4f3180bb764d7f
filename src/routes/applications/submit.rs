//! `POST /api/v1/applications/{id}/submit`: evaluation by the rules in force, the suggested
//! tier and trace stored with the application, the review deadline set, and the applicant's
//! identity document copied onto it (officials read that copy, whatever the profile becomes).

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::{ApplicationView, invalid_transition, open_facts, own_application};
use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::pii::Field;
use crate::domain::application_status::{Action, Status};
use crate::error::ApiError;
use crate::extract::Talent;
use crate::models::application::{self, SubmittedEvaluation};
use crate::models::{account, employer, profile};
use crate::routes::facts::validate_facts;
use crate::routes::schemes::known_scheme;
use crate::state::AppState;

/// Submits a draft (or resubmits after a supplement request).
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The submitted application: `submitted` (with `employer_endorsement: \"unavailable\"` when the employer named is not registered), or `awaiting_employer` when it is, until the employer answers", body = ApplicationView),
        (status = 404, description = "not_found: no such application of the caller's"),
        (status = 409, description = "invalid_transition: the application is not a draft or waiting for a supplement"),
        (status = 422, description = "no identity profile yet, or facts no longer valid"),
    )
)]
#[post("/applications/{id}/submit")]
pub async fn submit_application(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let today = state.today();
    let owner = talent.0.account_id;
    let mut conn = state.pool.get().await?;
    let (found, status) =
        own_application(&mut conn, *id, owner, Action::Submit, "submitted").await?;
    if profile::find(&mut conn, owner).await?.is_none() {
        return Err(no_profile());
    }
    let facts = open_facts(&state, &found)?;
    validate_facts(&mut conn, &facts, today, "facts.").await?;
    let scheme = known_scheme(&mut conn, &found.scheme).await?;
    let (evaluation, rules_version) = state
        .rules
        .evaluate_in_force(&mut conn, &scheme, &facts, today)
        .await?;
    let trace = serde_json::to_string(&evaluation.trace).map_err(ApiError::internal)?;
    let sealed_trace = state
        .pii
        .seal(&trace, Field::EvaluationTrace, found.id.as_bytes())
        .map_err(ApiError::internal)?;
    let review_days = u32::try_from(scheme.row.review_days).unwrap_or(10);
    // A first submission naming a registered employer waits for its endorsement; a
    // resubmission after a supplement request keeps the answer it had.
    let (to, endorsement) = match status {
        Status::Draft => employer::submission_route(&mut conn, &facts.employer.credit_code).await?,
        _ => (Status::Submitted, found.employer_endorsement.clone()),
    };
    let recorded = SubmittedEvaluation {
        suggested_tier: evaluation.tier.as_deref(),
        eligible: evaluation.eligible,
        rules_version,
        trace: &sealed_trace,
        review_due: (to == Status::Submitted)
            .then(|| state.calendar.add_working_days(today, review_days)),
        to,
        employer_credit_code: &facts.employer.credit_code,
        employer_endorsement: endorsement.as_deref(),
    };
    let submitted = conn
        .transaction(async |c| {
            // Under the applicant's lock, which a change of document takes too: the copy is
            // the document the application leaves with, and the profile freezes with it.
            account::lock_holder(c, owner).await?;
            let Some(updated) =
                application::submit(c, found.id, status, found.updated_at, &recorded, now).await?
            else {
                return Ok(None);
            };
            if profile::copy_to_application(c, found.id, owner, now).await? == 0 {
                return Err(no_profile());
            }
            let event = AuditEvent {
                actor: Actor::Account(owner),
                action: "application.submitted",
                entity_type: "application",
                entity_id: Some(found.id.to_string()),
                detail: json!({
                    "from": status.as_str(),
                    "to": to.as_str(),
                    "employer_endorsement": recorded.employer_endorsement,
                    "suggested_tier": recorded.suggested_tier,
                    "rules_version": rules_version,
                    "review_due": recorded.review_due,
                }),
            };
            audit::record(c, &event).await?;
            Ok::<_, ApiError>(Some(updated))
        })
        .await?
        .ok_or_else(|| invalid_transition("changed meanwhile", "submitted"))?;
    Ok(HttpResponse::Ok().json(ApplicationView::build(&state, submitted, None)?))
}

fn no_profile() -> ApiError {
    ApiError::invalid_field(
        "profile",
        "add your identity document with PUT /api/v1/me/profile first",
    )
}
