//! `POST /api/v1/verifications`: a partner agency checks a card, by number or by credential, and
//! learns whether it is valid, its local tier in the agency's district and the entitlements for
//! the agency's own services, and nothing else about the person. Every check is recorded for
//! the holder to read, and each agency is rate-limited.

use actix_web::{HttpResponse, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AgencyClient;
use crate::credentials::token::{self, CredentialError};
use crate::domain::card_number;
use crate::domain::recognition::mask_name;
use crate::error::{ApiError, ErrorCode, ProblemDetails};
use crate::extract::ApiJson;
use crate::models::card::{self, ForVerification};
use crate::models::issuer_key;
use crate::models::verification as verification_log;
use crate::state::AppState;
use crate::verification::{self, EntitlementUse, Policies};

/// A card presented: its number, or its credential.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationRequest {
    /// e.g. `XA-2026-000123-7`.
    #[serde(default)]
    pub card_number: Option<String>,
    /// The credential from the holder's QR code.
    #[serde(default)]
    pub credential: Option<String>,
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
    /// e.g. `张*明`.
    pub holder_name_masked: String,
}

/// The verification answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationResult {
    /// Active and within its validity.
    pub valid: bool,
    /// `active`, `suspended`, `revoked`, `expired`, `unknown` or `untrusted`.
    pub status: String,
    /// The card, when known.
    pub card: Option<CardSummary>,
    /// The tier it counts as in the agency's district (`null`: not recognised there).
    pub local_tier: Option<String>,
    /// The entitlements for this agency's services, with use.
    pub entitlements: Vec<EntitlementUse>,
}

fn nothing(status: &str) -> VerificationResult {
    VerificationResult {
        valid: false,
        status: status.to_owned(),
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
        (status = 200, body = VerificationResult),
        (status = 422, description = "a malformed number or token", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[post("/verifications")]
pub async fn verify_card(
    client: AgencyClient,
    state: web::Data<AppState>,
    body: ApiJson<VerificationRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let today = state.today();
    let agency = &client.agency;
    let mut presented = None;
    let (method, number) = match (&body.0.card_number, &body.0.credential) {
        (Some(number), None) => {
            let number = number.trim();
            if !card_number::is_valid(number) {
                return Err(ApiError::invalid_field(
                    "card_number",
                    "is not a card number (check digit)",
                ));
            }
            ("card_number", Ok(number.to_owned()))
        }
        (None, Some(credential)) => {
            let checked = check_credential(&state, credential).await?;
            let number = checked
                .as_ref()
                .map(|c| c.card_number.clone())
                .map_err(|s| *s);
            presented = checked.ok();
            ("credential", number)
        }
        _ => {
            return Err(ApiError::invalid_field(
                "card_number",
                "give either card_number or credential",
            ));
        }
    };
    let mut conn = state.pool.get().await?;
    let found = match number {
        Ok(number) => card::find_for_verification(&mut conn, &number, &agency.district, today)
            .await?
            .ok_or("unknown"),
        Err(status) => Err(status),
    };
    // A credential vouches only for the card it was signed for: the card on record must be
    // exactly what it claims.
    let found = found.and_then(|f| match &presented {
        Some(claims) if !credential_matches(claims, &f.card) => Err("untrusted"),
        _ => Ok(f),
    });
    let card_id = found.as_ref().ok().map(|f| f.card.id);
    let result = match found {
        Err(status) => nothing(status),
        Ok(found) => {
            let versions = (found.recognitions_version, found.entitlements_version);
            let policies = state.policies.get(&mut conn, today, versions).await?;
            answer(&policies, &found, &agency.district, &agency.services, today)
        }
    };
    let record = verification_log::Record {
        agency_id: agency.id,
        district: &agency.district,
        card_id,
        method,
        valid: result.valid,
        status: &result.status,
        local_tier: result.local_tier.as_deref(),
        at: now,
    };
    let within_limit =
        verification_log::record(&mut conn, &record, state.partners.verifications_per_minute)
            .await?;
    if !within_limit {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "this agency's verification limit is reached; try again shortly",
        )
        .with_retry_after(60));
    }
    Ok(HttpResponse::Ok().json(result))
}

/// The claims of a credential that verified, or the status to answer when it vouches for
/// nothing (`expired`, `untrusted`); 422 when it is not a credential at all.
///
/// One statement reads the key (unless withdrawn), the schemes its issuer issues and the record
/// of the credential that key signed for the card the token names. A key vouches only for
/// its own issuer's cards (see `token::verify`) and only for the credential on record: a
/// leaked key, active or retired, cannot vouch for anything it did not sign.
async fn check_credential(
    state: &AppState,
    credential: &str,
) -> Result<Result<token::CardClaims, &'static str>, ApiError> {
    let not_a_credential = || ApiError::invalid_field("credential", "is not a card credential");
    let (kid, number) = token::claimed(credential).map_err(|_| not_a_credential())?;
    let key = {
        let mut conn = state.pool.get().await?;
        issuer_key::for_online_check(&mut conn, &kid, &number).await?
    };
    let lookup = |wanted: &str| {
        let key = key.as_ref().filter(|_| wanted == kid)?;
        Some(token::KeyInfo {
            issuer: key.issuer.clone(),
            public_key: key.public_key.clone().try_into().ok()?,
            schemes: key.schemes.clone(),
            retired_at: key
                .retired_at
                .filter(|_| key.status == "retired")
                .map(|t| t.timestamp()),
            not_after: key.signed_exp.map(|t| t.timestamp()),
        })
    };
    match token::verify(credential, lookup, state.now()) {
        Ok(verified) => {
            let on_record = key.as_ref().is_some_and(|k| {
                k.signed_iat.map(|t| t.timestamp()) == Some(verified.claims.iat)
                    && k.signed_exp.map(|t| t.timestamp()) == Some(verified.claims.exp)
            });
            Ok(if on_record {
                Ok(verified.claims)
            } else {
                Err("untrusted")
            })
        }
        Err(CredentialError::Malformed) => Err(not_a_credential()),
        Err(CredentialError::OutsideValidity) => Ok(Err("expired")),
        Err(_) => Ok(Err("untrusted")),
    }
}

/// Whether the card on record is exactly the one the credential's claims describe.
fn credential_matches(claims: &token::CardClaims, card: &crate::models::card::Card) -> bool {
    let listed = card
        .status_index
        .and_then(|i| u32::try_from(i).ok())
        .map(crate::credentials::status_list::locate)
        .is_some_and(|(list_no, entry)| {
            let list = crate::credentials::status_list::list_id(&card.issuer, list_no);
            claims.status.status_list.idx == entry
                && claims.status.status_list.uri.rsplit('/').next() == Some(list.as_str())
        });
    listed
        && claims.card_number == card.number
        && claims.issuer == card.issuer
        && claims.scheme == card.scheme
        && claims.tier == card.tier
        && claims.exp == token::expiry(card.valid_until).timestamp()
}

/// What the agency learns about a found card: its live status, the local tier in the agency's
/// district (only for a valid card) and the entitlements of the agency's own services.
fn answer(
    policies: &Policies,
    found: &ForVerification,
    district: &str,
    services: &[String],
    today: NaiveDate,
) -> VerificationResult {
    let card = &found.card;
    let status = verification::live_status(card, today).to_owned();
    let valid = status == "active";
    let local_tier = verification::local_tier_in(policies, card, district, &found.issuer_district)
        .filter(|_| valid);
    let entitlements = local_tier
        .as_deref()
        .map(|tier| {
            let uses = uses_from_json(&found.uses);
            verification::entitlements_with(
                policies,
                card,
                tier,
                district,
                Some(services),
                today,
                &uses,
            )
        })
        .unwrap_or_default();
    VerificationResult {
        valid,
        status,
        local_tier,
        entitlements,
        card: Some(CardSummary {
            number: card.number.clone(),
            scheme: card.scheme.clone(),
            issuer: card.issuer.clone(),
            tier: card.tier.clone(),
            valid_until: card.valid_until,
            holder_name_masked: mask_name(&found.holder_name),
        }),
    }
}

/// `{"service period_key": count}` as the query returns it.
fn uses_from_json(value: &serde_json::Value) -> verification::Uses {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, n)| {
            let (service, period) = key.split_once(' ')?;
            Some(((service.to_owned(), period.to_owned()), n.as_i64()?))
        })
        .collect()
}
