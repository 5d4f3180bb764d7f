//! `POST /api/v1/verifications`: a partner agency checks a card, by number or by credential, and
//! learns whether it is valid, its local tier in the agency's district and the entitlements for
//! the agency's own services, and nothing else about the person. Every check is recorded for
//! the holder to read, and each agency is rate-limited.

use actix_web::{HttpResponse, post, web};
use chrono::{DateTime, NaiveDate};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AgencyClient;
use crate::credentials::token::{self, CredentialError};
use crate::db::schema::{agency_rate_windows, verifications};
use crate::domain::card_number;
use crate::domain::recognition::mask_name;
use crate::error::{ApiError, ErrorCode, ProblemDetails};
use crate::extract::ApiJson;
use crate::models::{card, issuer_key};
use crate::state::AppState;
use crate::verification::{self, EntitlementUse};

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
    let mut conn = state.pool.get().await?;
    // A fixed one-minute window per agency, counted in PostgreSQL so every instance shares it.
    let window = DateTime::from_timestamp(now.timestamp().div_euclid(60) * 60, 0).unwrap_or(now);
    let recent: i32 = diesel::insert_into(agency_rate_windows::table)
        .values((
            agency_rate_windows::agency_id.eq(agency.id),
            agency_rate_windows::window_start.eq(window),
            agency_rate_windows::count.eq(1),
        ))
        .on_conflict((
            agency_rate_windows::agency_id,
            agency_rate_windows::window_start,
        ))
        .do_update()
        .set(agency_rate_windows::count.eq(agency_rate_windows::count + 1))
        .returning(agency_rate_windows::count)
        .get_result(&mut conn)
        .await?;
    if i64::from(recent) > state.partners.verifications_per_minute {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "this agency's verification limit is reached; try again shortly",
        )
        .with_retry_after(60));
    }
    let (method, found) = match (&body.0.card_number, &body.0.credential) {
        (Some(number), None) => {
            let number = number.trim();
            if !card_number::is_valid(number) {
                return Err(ApiError::invalid_field(
                    "card_number",
                    "is not a card number (check digit)",
                ));
            }
            (
                "card_number",
                card::find_for_verification(&mut conn, number)
                    .await?
                    .ok_or("unknown"),
            )
        }
        (None, Some(credential)) => {
            // One key by its kid (active or retired; a compromised key vouches for nothing).
            let kid = jsonwebtoken::decode_header(credential.split('~').next().unwrap_or_default())
                .ok()
                .and_then(|h| h.kid)
                .ok_or_else(|| ApiError::invalid_field("credential", "is not a card credential"))?;
            let key = issuer_key::find(&mut conn, &kid)
                .await?
                .filter(|k| k.status != "compromised");
            let lookup = |wanted: &str| {
                key.as_ref().filter(|k| k.kid == wanted).and_then(|k| {
                    let raw: [u8; 32] = k.public_key.clone().try_into().ok()?;
                    Some((k.issuer.clone(), raw))
                })
            };
            match token::verify(credential, lookup, now) {
                Ok(verified) => (
                    "credential",
                    card::find_for_verification(&mut conn, &verified.claims.card_number)
                        .await?
                        .ok_or("unknown"),
                ),
                Err(CredentialError::Malformed) => {
                    return Err(ApiError::invalid_field(
                        "credential",
                        "is not a card credential",
                    ));
                }
                Err(CredentialError::OutsideValidity) => ("credential", Err("expired")),
                Err(_) => ("credential", Err("untrusted")),
            }
        }
        _ => {
            return Err(ApiError::invalid_field(
                "card_number",
                "give either card_number or credential",
            ));
        }
    };
    let card_id = found.as_ref().ok().map(|(c, _, _)| c.id);
    let result = match found {
        Err(status) => nothing(status),
        Ok((found, holder, issuer_district)) => {
            let status = verification::live_status(&found, today).to_owned();
            let valid = status == "active";
            let policies = verification::policies(&mut conn, today).await?;
            let local_tier =
                verification::local_tier_in(&policies, &found, &agency.district, &issuer_district)
                    .filter(|_| valid);
            let entitlements = match &local_tier {
                Some(tier) => {
                    verification::entitlements(
                        &mut conn,
                        &policies,
                        &found,
                        tier,
                        &agency.district,
                        Some(&agency.services),
                        today,
                    )
                    .await?
                }
                None => Vec::new(),
            };
            VerificationResult {
                valid,
                status,
                local_tier,
                entitlements,
                card: Some(CardSummary {
                    number: found.number.clone(),
                    scheme: found.scheme.clone(),
                    issuer: found.issuer.clone(),
                    tier: found.tier.clone(),
                    valid_until: found.valid_until,
                    holder_name_masked: mask_name(&holder),
                }),
            }
        }
    };
    diesel::insert_into(verifications::table)
        .values((
            verifications::id.eq(Uuid::now_v7()),
            verifications::card_id.eq(card_id),
            verifications::agency_id.eq(agency.id),
            verifications::district.eq(&agency.district),
            verifications::method.eq(method),
            verifications::valid.eq(result.valid),
            verifications::status.eq(&result.status),
            verifications::local_tier.eq(&result.local_tier),
            verifications::verified_at.eq(now),
        ))
        .execute(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(result))
}
