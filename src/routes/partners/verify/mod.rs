//! `POST /api/v1/verifications`: a partner agency checks a card, by number, credential,
//! presentation or dynamic code (see [`shown`]), and learns whether it is valid, its local tier
//! in the agency's district and the entitlements for the agency's own services, and nothing
//! else about the person. Every check is recorded for the holder to read, and each agency is
//! rate-limited.
//!
//! A valid check of the card itself shown (credential, presentation or code) answers a
//! `presentation_id`: the id of its record, which the agency's redemptions name for the next 10
//! minutes; it is `holder_bound` when the presenter proved to hold the card (a wallet-signed
//! presentation or a dynamic code), which rules with `holder_binding: "required"` insist on.
//! Checks by number prove nothing of the kind, and an agency whose checks by number keep
//! answering `unknown` (guessing numbers) is refused further checks by number for the rest of
//! the hour.

use actix_web::{HttpResponse, post, web};
use chrono::NaiveDate;
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::credentials::token;
use crate::domain::card_status::CardStatus;
use crate::domain::dependants::{CardKind, Relation};
use crate::domain::standing::{CardFacts, EntitlementUse, Policies, Status, Uses, standing_in};
use crate::error::{ApiError, ErrorCode, ProblemDetails};
use crate::extract::AgencyClient;
use crate::extract::ApiJson;
use crate::models::shown_card::{self, ShownCard};
use crate::models::verification as verification_log;
use crate::state::AppState;

mod shown;

use shown::CardKey;

/// A card presented: exactly one of its number, its credential, a presentation (the
/// credential with a key-binding JWT from the holder's wallet) or a dynamic code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationRequest {
    /// e.g. `XA-2026-000123-7`.
    #[serde(default)]
    pub card_number: Option<String>,
    /// The credential from the holder's QR code.
    #[serde(default)]
    pub credential: Option<String>,
    /// `<credential>~<KB-JWT>`: the KB-JWT signed by the key the credential's `cnf` names, with
    /// `aud` = this agency's `client_id` and `nonce` from `POST /verifications/nonce`.
    #[serde(default)]
    pub presentation: Option<String>,
    /// A single-use dynamic code from the holder's app (`TC1:…`).
    #[serde(default)]
    pub presentation_code: Option<String>,
}

/// What an agency may know about a card.
#[derive(Debug, Serialize, ToSchema)]
pub struct CardSummary {
    /// Card number.
    pub number: String,
    /// Scheme code.
    pub scheme: String,
    /// Issuer code.
    pub issuer: String,
    /// The card's own tier.
    pub tier: String,
    /// Last valid day.
    pub valid_until: NaiveDate,
    /// e.g. `张*明` (on a dependant card, the family member's name).
    pub holder_name_masked: String,
    /// `principal` (the talent's own card) or `dependant` (a family member's, 附属卡).
    pub kind: CardKind,
    /// On a dependant card, the family member's relation to the principal's holder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<Relation>,
}

/// The verification answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationResult {
    /// Active and within its validity.
    pub valid: bool,
    /// `active`, `suspended`, `revoked`, `expired`, `unknown` or `untrusted`.
    pub status: String,
    /// Whether the presenter was proved to be the holder: a presentation whose key-binding JWT
    /// verified against the card's bound key, or a fresh dynamic code.
    pub holder_bound: bool,
    /// Set only for a valid card shown (credential, presentation or code): proves to this
    /// agency, for 10 minutes, that the card was shown; `POST /redemptions` names it.
    pub presentation_id: Option<Uuid>,
    /// The card, when known.
    pub card: Option<CardSummary>,
    /// The tier it counts as in the agency's district (`null`: not recognised there).
    pub local_tier: Option<String>,
    /// The entitlements for this agency's services, with use.
    pub entitlements: Vec<EntitlementUse>,
}

fn nothing(status: Status) -> VerificationResult {
    VerificationResult {
        valid: false,
        status: status.as_str().to_owned(),
        holder_bound: false,
        presentation_id: None,
        card: None,
        local_tier: None,
        entitlements: Vec::new(),
    }
}

/// Verifies a card for the calling agency.
#[utoipa::path(
    tag = "partners",
    request_body = VerificationRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The verification result: whether the card is valid here, the local tier and entitlements", body = VerificationResult),
        (status = 422, description = "validation_failed: not exactly one of card_number, credential, presentation and presentation_code, or a malformed one (a number with a wrong check digit, a token that is no credential, a presentation without a key-binding JWT, a code that is not TC1: and 26 symbols)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "rate_limited: the agency's verifications this minute, or (checks by number only) its unknown answers this hour, reached their limit; `Retry-After` says when to try again", body = ProblemDetails, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the window ends"))),
    )
)]
#[post("/verifications")]
pub async fn verify_card(
    client: AgencyClient,
    state: web::Data<AppState>,
    body: ApiJson<VerificationRequest>,
) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let now = state.now();
    let agency = &client.agency;
    let request = shown::Request::parse(body.0)?;
    let shown = shown::check(&state, &client, request).await?;
    let policies = state
        .policies
        .current(&state.invalidation, &state.pool, today)
        .await?;
    let district = &agency.district;
    let found = match &shown.card {
        Ok(key) => {
            let wanted = shown_card::Wanted {
                uses_in: policies
                    .counts_uses(district, &agency.services)
                    .then_some(district.as_str()),
                signed_by: shown.claims.as_ref().map(|(_, kid)| kid.as_str()),
            };
            let key = match key {
                CardKey::Number(number) => shown_card::Key::Number(number),
                CardKey::Id(id) => shown_card::Key::Id(*id),
            };
            // The one statement of a check; the connection goes back before the log is awaited.
            let mut conn = state.pool.get().await?;
            shown_card::find(&mut conn, key, wanted).await?
        }
        Err(_) => None,
    };
    let found = match (&shown.card, found) {
        (Err(status), _) => Err(*status),
        // A credential that verified names a card that is not on record: it vouches for nothing.
        (Ok(_), None) if shown.claims.is_some() => Err(Status::Untrusted),
        (Ok(_), None) => Err(Status::Unknown),
        (Ok(_), Some(found)) => Ok(found),
    };
    // A credential vouches only for the card it was signed for: the card on record must be
    // exactly what it claims, signed by that key as recorded; a presentation, only when signed
    // by the key bound now.
    let found = found.and_then(|(card, uses)| match &shown.claims {
        Some((claims, _)) if !credential_matches(claims, &card) => Err(Status::Untrusted),
        Some((claims, _))
            if shown.holder_bound && !key_is_current(claims, card.holder_jkt.as_deref()) =>
        {
            Err(Status::HolderBindingFailed)
        }
        _ => Ok((card, uses)),
    });
    let card_id = found.as_ref().ok().map(|(card, _)| card.id);
    let holder_bound = shown.holder_bound && found.is_ok();
    let mut result = match found {
        Err(status) => nothing(status),
        Ok((card, uses)) => {
            let issuer_district = state
                .directory
                .issuer_district(&state.invalidation, &state.pool, &card.issuer)
                .await?
                .ok_or_else(|| ApiError::internal("a card's issuer is not on record"))?;
            answer(&policies, &card, &uses, &issuer_district, agency, today)?
        }
    };
    result.holder_bound = holder_bound;
    let id = Uuid::now_v7();
    let record = verification_log::Record {
        id,
        agency_id: agency.id,
        district: agency.district.clone(),
        card_id,
        method: shown.method,
        valid: result.valid,
        holder_bound: result.holder_bound,
        status: result.status.clone(),
        local_tier: result.local_tier.clone(),
        at: now,
    };
    logged(&state, &client, record).await?;
    if shown.method != shown::BY_NUMBER && result.valid {
        result.presentation_id = Some(id);
    }
    Ok(HttpResponse::Ok().json(result))
}

/// Logs the check for the holder (group-committed: this returns once the record is committed)
/// and counts it against the agency's limits; 429 when a limit refuses it (nothing is logged
/// then), 503 when the log cannot be written (the check is not answered as made).
async fn logged(
    state: &AppState,
    client: &AgencyClient,
    record: verification_log::Record,
) -> Result<(), ApiError> {
    let now = record.at;
    let limits = verification_log::Limits {
        per_minute: state.partners.verifications_per_minute,
        unknown_per_hour: state.partners.unknown_numbers_per_hour,
    };
    let outcome = state
        .verification_log
        .record(record)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "a verification was not logged; answered 503");
            ApiError::unavailable()
        })?;
    let agency_label = client.agency.id.to_string();
    if outcome.n > limits.per_minute {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "this agency's verification limit is reached; try again shortly",
        )
        .with_retry_after(60));
    }
    if outcome.refused {
        state
            .partner_metrics
            .refused_number_checks
            .with_label_values(&[&agency_label])
            .inc();
        let hour_ends = verification_log::hour_of(now) + chrono::Duration::hours(1);
        let wait = u64::try_from((hour_ends - now).num_seconds().max(1)).unwrap_or(3600);
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many unknown card numbers from this agency this hour; check by credential",
        )
        .with_retry_after(wait));
    }
    if outcome.counted_unknown {
        state
            .partner_metrics
            .unknown_numbers
            .with_label_values(&[&agency_label])
            .inc();
        if outcome.unknown == limits.unknown_per_hour {
            let mut conn = state.pool.get().await?;
            suspect_enumeration(&mut conn, client, outcome.unknown).await?;
        }
    }
    Ok(())
}

/// The audit row of an agency whose unknown answers by number just reached the hourly limit.
/// Only the check that brings the counter to the limit sees it equal (within one batch the
/// rows are numbered; instances racing may each see it once), so about one row is written per
/// agency and hour.
async fn suspect_enumeration(
    conn: &mut diesel_async::AsyncPgConnection,
    client: &AgencyClient,
    count: i64,
) -> Result<(), ApiError> {
    tracing::warn!(agency = %client.agency.id, count, "agency past its unknown numbers limit");
    let event = AuditEvent {
        actor: Actor::AgencyClient(client.client_id),
        action: "agency.enumeration_suspected",
        entity_type: "agency",
        entity_id: Some(client.agency.id.to_string()),
        detail: json!({ "agency": client.agency.id, "count": count }),
    };
    conn.transaction(async |c| audit::record(c, &event).await)
        .await?;
    Ok(())
}

/// Whether the key a presentation was signed with (the credential's `cnf.jwk`) is the key the
/// holder has bound now: a credential fetched before the holder replaced a lost phone's key
/// still names the old one, and must not prove the holder any more.
fn key_is_current(claims: &token::CardClaims, bound_jkt: Option<&str>) -> bool {
    let presented = claims.cnf.as_ref().map(|cnf| cnf.jwk.thumbprint());
    presented.is_some() && presented.as_deref() == bound_jkt
}

/// Whether the card on record is exactly the one the credential's claims describe, and the
/// credential exactly the one its key signed for it (as recorded when it was served).
fn credential_matches(claims: &token::CardClaims, card: &ShownCard) -> bool {
    let listed = card
        .status_index
        .and_then(|i| u32::try_from(i).ok())
        .map(crate::credentials::status_list::locate)
        .is_some_and(|(list_no, entry)| {
            let list = crate::credentials::status_list::list_id(&card.issuer, list_no);
            claims.status.status_list.idx == entry
                && claims.status.status_list.uri.rsplit('/').next() == Some(list.as_str())
        });
    let on_record = card.signed_iat.map(|t| t.timestamp()) == Some(claims.iat)
        && card.signed_exp.map(|t| t.timestamp()) == Some(claims.exp);
    listed
        && on_record
        && claims.card_number == card.number
        && claims.issuer == card.issuer
        && claims.scheme == card.scheme
        && claims.tier == card.tier
        && claims.exp == token::expiry(card.valid_until).timestamp()
}

/// What the agency learns about a found card: its standing in the agency's district (the
/// local tier only for a valid card) with the entitlements of the agency's own services.
fn answer(
    policies: &Policies,
    card: &ShownCard,
    uses: &Uses,
    issuer_district: &str,
    agency: &crate::models::agency::Agency,
    today: NaiveDate,
) -> Result<VerificationResult, ApiError> {
    let status = CardStatus::parse(&card.status)
        .ok_or_else(|| ApiError::internal("a card's stored status is not a card status"))?;
    let facts = CardFacts {
        status,
        valid_from: card.valid_from,
        valid_until: card.valid_until,
        scheme: &card.scheme,
        tier: &card.tier,
        issuer_district,
        kind: card.card_kind(),
        relation: card.relation.as_deref().and_then(Relation::parse),
    };
    let standing = standing_in(
        policies,
        &facts,
        &agency.district,
        Some(&agency.services),
        uses,
        today,
    );
    Ok(VerificationResult {
        valid: standing.valid(),
        status: standing.status.as_str().to_owned(),
        holder_bound: false,
        presentation_id: None,
        local_tier: standing.local_tier,
        entitlements: standing.entitlements,
        card: Some(CardSummary {
            number: card.number.clone(),
            scheme: card.scheme.clone(),
            issuer: card.issuer.clone(),
            tier: card.tier.clone(),
            valid_until: card.valid_until,
            holder_name_masked: card.name_masked.clone(),
            kind: card.card_kind(),
            relation: card.relation.as_deref().and_then(Relation::parse),
        }),
    })
}
