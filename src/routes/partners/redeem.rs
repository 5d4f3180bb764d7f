//! `POST /api/v1/redemptions`: records that the agency gave the holder a service, within the
//! quota of the card's local tier in the agency's district.
//!
//! The card must have been shown: the request names the `presentation_id` of this agency's
//! valid check by credential in the last 10 minutes. A bare card number (which anyone may have
//! read or guessed) is accepted only where the entitlement rule says `presentation:
//! "not_required"`. Quotas count per holder and scheme, so renewals and second cards share
//! them; the holder's account row lock serialises concurrent redemptions of one person (see
//! `models::account::lock_holder`), so a quota of one is used once. An `Idempotency-Key`
//! replays the first answer and writes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::domain::recognition::{HolderBinding, Presentation};
use crate::domain::standing::standing_in;
use crate::error::{ApiError, ErrorCode, ProblemDetails};
use crate::extract::AgencyClient;
use crate::extract::ApiJson;
use crate::models::card;
use crate::models::redemption::{self, NewRedemption};
use crate::models::standing;
use crate::routes::idempotency::Keyed;
use crate::state::AppState;

/// A service given. Exactly one of `presentation_id` and `card_number`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedemptionRequest {
    /// The `presentation_id` of this agency's valid verification by credential, at most 10
    /// minutes old: proof that the card was shown.
    #[serde(default)]
    pub presentation_id: Option<Uuid>,
    /// The card number, only for services whose rule says `presentation: "not_required"`.
    #[serde(default)]
    pub card_number: Option<String>,
    /// The service category given.
    pub service: String,
}

/// The recorded redemption.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Redemption {
    /// UUID v7.
    pub id: Uuid,
    /// The card.
    pub card_number: String,
    /// The service.
    pub service: String,
    /// When.
    pub redeemed_at: DateTime<Utc>,
    /// Uses left in this period (`null`: unlimited).
    pub remaining: Option<i64>,
}

fn not_valid(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::CardNotValid, detail)
}

/// The refusal of a redemption without a usable presentation.
fn presentation_required(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::PresentationRequired, detail)
}

/// How the request names the card.
#[derive(Debug, Clone, Copy)]
enum Shown<'a> {
    /// A presentation (a valid check by credential of this agency).
    Presented(Uuid),
    /// A bare number.
    Number(&'a str),
}

/// Records a redemption for the calling agency.
#[utoipa::path(
    tag = "partners",
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body")),
    request_body = RedemptionRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The redemption recorded, with the quota left", body = Redemption),
        (status = 403, description = "the agency does not offer this service", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "quota_exhausted", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "presentation_required: no presentation_id, or one that is unknown, another agency's, older than 10 minutes or of an invalid answer, or a card_number where the rule requires the card shown; card_not_valid: the card is not active or not recognised here; holder_binding_required: the rule says holder_binding \"required\" and the presentation was not holder-bound; validation_failed: not exactly one of presentation_id and card_number", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[post("/redemptions")]
pub async fn redeem(
    req: HttpRequest,
    client: AgencyClient,
    state: web::Data<AppState>,
    body: ApiJson<RedemptionRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let keyed = Keyed::new(
        &req,
        &Actor::AgencyClient(client.client_id),
        "redemption",
        &request,
    )?;
    if !client.agency.services.contains(&request.service) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "this agency does not offer that service",
        ));
    }
    let shown = match (request.presentation_id, request.card_number.as_deref()) {
        (Some(presentation), None) => Shown::Presented(presentation),
        (None, Some(number)) => Shown::Number(number.trim()),
        _ => {
            return Err(ApiError::invalid_field(
                "presentation_id",
                "give exactly one of presentation_id and card_number",
            ));
        }
    };
    let mut conn = state.pool.get().await?;
    let (status, answer) = conn
        .transaction(async |c| {
            if let Some(first) = keyed.claim(c).await? {
                return Ok(first);
            }
            let redemption = record(c, &state, &client, shown, &request.service).await?;
            let body = serde_json::to_value(&redemption).map_err(ApiError::internal)?;
            keyed.complete(c, 201, &body).await?;
            Ok::<_, ApiError>((201, body))
        })
        .await?;
    Ok(
        HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED))
            .json(answer),
    )
}

async fn record(
    conn: &mut AsyncPgConnection,
    state: &AppState,
    client: &AgencyClient,
    shown: Shown<'_>,
    service: &str,
) -> Result<Redemption, ApiError> {
    let now = state.now();
    let today = state.today();
    let agency = &client.agency;
    let policies = state.policies.in_force(conn, today).await?;
    let (card_id, holder_bound) = match shown {
        Shown::Presented(presentation) => {
            let presented = redemption::presented_card(conn, presentation, agency.id, now)
                .await?
                .ok_or_else(|| {
                    presentation_required(
                        "presentation_id is not a valid check of the shown card by this agency \
                         in the last 10 minutes; verify the card's credential again",
                    )
                })?;
            (presented.card_id, presented.holder_bound)
        }
        Shown::Number(number) => {
            // Refused before the number is looked up, so a redemption never tells whether a
            // number exists, unless some rule here lets a number redeem this service.
            if !policies.number_may_redeem(&agency.district, service) {
                return Err(presentation_required(
                    "this service needs the card shown: verify its credential and redeem with \
                     the presentation_id",
                ));
            }
            let card = card::find_by_number(conn, number)
                .await?
                .ok_or_else(|| not_valid("no such card"))?;
            (card.id, false)
        }
    };
    let holder = card::find(conn, card_id)
        .await?
        .ok_or_else(|| not_valid("no such card"))?
        .holder_id;
    crate::models::account::lock_holder(conn, holder).await?;
    // Read again under the lock: a suspension or a redemption committed meanwhile is seen.
    let found = standing::by_id(conn, card_id, &agency.district, today)
        .await?
        .ok_or_else(|| not_valid("no such card"))?;
    let facts = found
        .facts()
        .ok_or_else(|| ApiError::internal("a card's stored status is not a card status"))?;
    let policies = state.policies.get(conn, today, found.versions()).await?;
    let offered = [service.to_owned()];
    let uses = found.uses();
    let standing = standing_in(
        &policies,
        &facts,
        &agency.district,
        Some(&offered),
        &uses,
        today,
    );
    if !standing.valid() {
        return Err(not_valid("the card is not active"));
    }
    if standing.local_tier.is_none() {
        return Err(not_valid("the card is not recognised in this district"));
    }
    let entitlement = standing.entitlements.first().ok_or_else(|| {
        ApiError::new(
            ErrorCode::QuotaExhausted,
            "this card has no entitlement to that service here",
        )
    })?;
    if matches!(shown, Shown::Number(_)) && entitlement.presentation == Presentation::Required {
        return Err(presentation_required(
            "this service needs the card shown: verify its credential and redeem with the \
             presentation_id",
        ));
    }
    if entitlement.holder_binding == HolderBinding::Required && !holder_bound {
        return Err(ApiError::new(
            ErrorCode::HolderBindingRequired,
            "this service needs proof that the presenter holds the card: verify a presentation \
             signed by the holder's wallet key, or the holder's dynamic code, and redeem with \
             that presentation_id",
        ));
    }
    let period_key = entitlement.period_key.as_str();
    // Counted under the period key, `unlimited` included (the standing shows no use there).
    let used = uses.of(&agency.district, service, period_key);
    if entitlement
        .quota
        .is_some_and(|quota| used >= i64::from(quota))
    {
        return Err(ApiError::new(
            ErrorCode::QuotaExhausted,
            "the quota for this period is used up",
        ));
    }
    let card = &found.card;
    let id = Uuid::now_v7();
    let presentation_id = match shown {
        Shown::Presented(presentation) => Some(presentation),
        Shown::Number(_) => None,
    };
    let new = NewRedemption {
        id,
        card_id: card.id,
        holder_id: card.holder_id,
        scheme: &card.scheme,
        agency_id: agency.id,
        district: &agency.district,
        service,
        period_key,
        presentation_id,
        at: now,
    };
    redemption::insert(conn, &new).await?;
    let event = AuditEvent {
        actor: Actor::AgencyClient(client.client_id),
        action: "redemption.recorded",
        entity_type: "card",
        entity_id: Some(card.id.to_string()),
        detail: json!({ "redemption": id, "agency": agency.id, "client": client.client_id, "service": service, "district": agency.district, "presentation": presentation_id }),
    };
    audit::record(conn, &event).await?;
    Ok(Redemption {
        id,
        card_number: card.number.clone(),
        service: service.to_owned(),
        redeemed_at: now,
        remaining: entitlement.quota.map(|q| i64::from(q) - used - 1),
    })
}
