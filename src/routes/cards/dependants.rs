//! `POST /api/v1/cards/{id}/dependants`: the holder of a principal card asks for a dependant
//! card (附属卡) for a spouse, a minor child or a parent. The scheme's dependant policy in force
//! decides the tier, relation, age and count (422 otherwise); the ID number is sealed and
//! blind-indexed like a profile's; a person is a live dependant of one card per scheme (409),
//! and never the holder themself (422). The request is an application of kind `dependant`,
//! submitted at once into the issuer's queue; approval issues the card
//! (`routes::applications::decision`).

use actix_web::{HttpResponse, post, web};
use chrono::NaiveDate;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::visible_card;
use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::pii::Field;
use crate::domain::dependants::{CardKind, Relation, Request};
use crate::domain::free_text;
use crate::domain::id_document::{IdNumber, IdType};
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, Talent};
use crate::models::application::Viewer;
use crate::models::card::Card;
use crate::models::dependant::{self, NewDependantApplication, Person};
use crate::models::{account, profile};
use crate::routes::applications::{ApplicationView, DependantView};
use crate::state::AppState;

/// A family member to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DependantRequest {
    /// Name as on the identity document.
    pub full_name: String,
    /// Relation to the holder.
    pub relation: Relation,
    /// `resident_id` or `passport`.
    pub id_type: IdType,
    /// The document number (a resident ID must pass the GB 11643 check character).
    pub id_number: String,
    /// Date of birth (a child must be under the scheme's age on the day of the request).
    #[schema(value_type = String, format = Date, example = "2016-09-01")]
    pub birth_date: NaiveDate,
}

/// Asks for a dependant card on one of the holder's principal cards.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "The principal card's id")),
    request_body = DependantRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The dependant application, submitted into the issuer's queue", body = ApplicationView),
        (status = 403, description = "forbidden: only a talent holds cards"),
        (status = 404, description = "not_found: no such card of the caller's"),
        (status = 409, description = "conflict: the person is already a dependant under this scheme (a live dependant card or a pending request)"),
        (status = 422, description = "validation_failed: a field is not acceptable, or the scheme does not allow it (the card's tier, the relation, a child 18 or over, one dependant too many, the holder's own ID, a card not active or itself a dependant card)"),
    )
)]
#[post("/cards/{id}/dependants")]
pub async fn request_dependant(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<DependantRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let holder = talent.0.account_id;
    let full_name = free_text::NAME
        .required(&body.full_name)
        .map_err(|e| ApiError::invalid_field("full_name", e.to_string()))?;
    let number = IdNumber::parse(body.id_type, &body.id_number)
        .map_err(|m| ApiError::invalid_field("id_number", m))?;
    let today = state.today();
    let now = state.now();
    let mut conn = state.pool.get().await?;
    let principal = visible_card(&mut conn, *id, &Viewer::Talent(holder)).await?;
    principal_in_force(&principal, today)?;
    let application_id = Uuid::now_v7();
    let seal = |text: &str, field| {
        state
            .pii
            .seal(text, field, application_id.as_bytes())
            .map_err(ApiError::internal)
    };
    let person = Person {
        application_id,
        scheme: principal.scheme.clone(),
        relation: body.relation.as_str().to_owned(),
        full_name,
        birth_date: body.birth_date,
        id_type: number.kind().as_str().to_owned(),
        id_number_ciphertext: seal(number.expose(), Field::DependantIdNumber)?,
        id_number_key_id: state.pii.key_id().to_owned(),
        id_number_index: state
            .pii
            .blind_index(number.kind().as_str(), number.expose()),
        id_number_masked: number.masked(),
    };
    let facts = seal("null", Field::Facts)?;
    let review_days = crate::models::scheme::find(&mut conn, &principal.scheme)
        .await?
        .map_or(10, |s| u32::try_from(s.row.review_days).unwrap_or(10));
    let new = NewDependantApplication {
        id: application_id,
        talent_id: holder,
        principal_card: principal.id,
        scheme: &principal.scheme,
        issuer: &principal.issuer,
        facts: &facts,
        key_id: state.pii.key_id(),
        now,
        review_due: state.calendar.add_working_days(today, review_days),
    };
    let created = conn
        .transaction(async |c| {
            admit(c, &principal, &person, body.relation, today).await?;
            let created = dependant::insert_application(c, &new).await?;
            dependant::insert_person(c, &person).await?;
            let event = AuditEvent {
                actor: Actor::Account(holder),
                action: "application.submitted",
                entity_type: "application",
                entity_id: Some(created.id.to_string()),
                detail: json!({
                    "kind": "dependant",
                    "principal_card": principal.number,
                    "relation": person.relation,
                }),
            };
            audit::record(c, &event).await?;
            Ok::<_, ApiError>(created)
        })
        .await?;
    let mut view = ApplicationView::build(&state, created, None)?;
    view.dependant = Some(DependantView::build(&state, person, false)?);
    Ok(HttpResponse::Created().json(view))
}

/// A principal card, active and not expired: the only kind that takes dependants.
fn principal_in_force(card: &Card, today: NaiveDate) -> Result<(), ApiError> {
    if card.card_kind() != CardKind::Principal {
        return Err(ApiError::invalid_field(
            "card",
            "a dependant card cannot carry dependants",
        ));
    }
    if card.status != "active" || card.valid_until < today {
        return Err(ApiError::invalid_field(
            "card",
            "only an active card may add dependants",
        ));
    }
    Ok(())
}

/// The checks that must hold when the request is written, under the holder's lock (one
/// holder's requests queue, so the count is exact) and the person's (two holders adding one
/// person queue, and the second sees the first).
async fn admit(
    conn: &mut AsyncPgConnection,
    principal: &Card,
    person: &Person,
    relation: Relation,
    today: NaiveDate,
) -> Result<(), ApiError> {
    account::lock_holder(conn, principal.holder_id).await?;
    dependant::lock_person(conn, &principal.scheme, &person.id_number_index).await?;
    let (_, policy) = dependant::policy_in_force(conn, &principal.scheme, today).await?;
    let live = dependant::live_count(conn, principal.id, today).await?;
    let request = Request {
        tier: &principal.tier,
        relation,
        birth_date: person.birth_date,
        live,
        today,
    };
    policy
        .check(&request)
        .map_err(|r| ApiError::invalid_field(r.field, r.message))?;
    let own = profile::find(conn, principal.holder_id).await?;
    if own.is_some_and(|p| p.id_number_index == person.id_number_index) {
        return Err(ApiError::invalid_field(
            "id_number",
            "is the holder's own document: a holder cannot be their own dependant",
        ));
    }
    if dependant::person_taken(conn, &principal.scheme, &person.id_number_index, today).await? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this person is already a dependant under this scheme",
        ));
    }
    Ok(())
}
