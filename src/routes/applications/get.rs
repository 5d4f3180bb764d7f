//! `GET /api/v1/applications/{id}`: the owner, or an official of its issuer (who also sees the
//! applicant's unmasked ID as submitted with the application, each such read audited, any open
//! dispute on that document, and the applicant's live cards).

use actix_web::{HttpResponse, get, web};
use diesel_async::AsyncConnection;
use serde_json::json;
use uuid::Uuid;

use super::{
    ApplicantCard, ApplicantView, ApplicationView, DependantView, viewer, visible_application,
};
use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::pii::Field;
use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::models::application::Viewer;
use crate::models::{card, dependant, dispute, profile};
use crate::routes::auth::known_account;
use crate::state::AppState;

/// Reads an application. Anyone else gets 404.
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application", body = ApplicationView),
        (status = 404, description = "not_found: no such application the caller may see"),
    )
)]
#[get("/applications/{id}")]
pub async fn get_application(
    user: AuthUser,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&user)?;
    let mut conn = state.pool.get().await?;
    let found = visible_application(&mut conn, *id, &viewer).await?;
    let card_id = card::of_application(&mut conn, found.id)
        .await?
        .map(|c| c.id);
    let talent_id = found.talent_id;
    let official = matches!(viewer, Viewer::Official(_));
    let person = dependant::person(&mut conn, found.id).await?;
    let mut view = ApplicationView::build(&state, found, card_id)?;
    view.dependant = person
        .map(|p| DependantView::build(&state, p, official))
        .transpose()?;
    if official {
        view.applicant = Some(applicant(&state, &mut conn, *id, talent_id).await?);
        let live = card::live_of_holder(&mut conn, talent_id, None, state.today()).await?;
        view.applicant_cards = Some(live.into_iter().map(ApplicantCard::from).collect());
        let event = AuditEvent {
            actor: Actor::Account(user.account_id),
            action: "application.personal_data_viewed",
            entity_type: "application",
            entity_id: Some(id.to_string()),
            detail: json!({ "talent": talent_id }),
        };
        conn.transaction(async |c| audit::record(c, &event).await)
            .await?;
    }
    Ok(HttpResponse::Ok().json(view))
}

async fn applicant(
    state: &AppState,
    conn: &mut diesel_async::AsyncPgConnection,
    application_id: Uuid,
    talent_id: Uuid,
) -> Result<ApplicantView, ApiError> {
    let person = known_account(conn, talent_id).await?;
    // The document the application was submitted with, not the profile as it is now.
    let document = profile::of_application(conn, application_id).await?;
    let (id_type, id_number, dispute) = match document {
        Some(d) => {
            let number = state
                .pii
                .open(
                    &d.id_number_ciphertext,
                    Field::IdNumber,
                    talent_id.as_bytes(),
                )
                .map_err(ApiError::internal)?;
            let open = dispute::open_on(conn, &d.id_number_index).await?;
            (Some(d.id_type), Some(number), open)
        }
        None => (None, None, None),
    };
    Ok(ApplicantView {
        id: person.id,
        full_name: person.full_name,
        email: person.email,
        id_type,
        id_number,
        document_dispute: dispute,
    })
}
