//! `PUT /api/v1/me/profile`: a talent's identity document and phone, sealed at rest.
//!
//! A document is bound to one person: it is frozen while an application of it is open or a card
//! is live (409 `document_locked`: the issuer changes it), and a document another account holds
//! is accepted like any other (the same 200 and body, so the answer never says whether a number
//! is registered) but stored disputed, with an open dispute an administrator or the issuer
//! resolves after checking the person; until then neither account's application of it is
//! approved. Every change of document counts against a per-account and per-address allowance,
//! whatever its outcome, and each claim is audited.

use actix_web::{HttpRequest, HttpResponse, put, web};
use chrono::TimeDelta;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::pii::Field;
use crate::domain::id_document::{IdNumber, IdType, mask};
use crate::domain::throttle::address_bucket;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::extract::{ApiJson, Talent, client_ip};
use crate::models::profile::{self, NewProfile, Profile};
use crate::models::{account, address_rate, dispute};
use crate::state::AppState;

/// The document and phone to store.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    /// `resident_id` or `passport`.
    pub id_type: IdType,
    /// A resident ID must pass the GB 11643 check character.
    #[schema(example = "11010519491231002X")]
    pub id_number: String,
    /// Optional mobile number.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A profile as answered: masked, always.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    /// `resident_id` or `passport`.
    pub id_type: String,
    /// e.g. `110***********002X`.
    pub id_number_masked: String,
    /// e.g. `138****5678`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_masked: Option<String>,
}

impl From<Profile> for ProfileView {
    fn from(p: Profile) -> Self {
        ProfileView {
            id_type: p.id_type,
            id_number_masked: p.id_number_masked,
            phone_masked: p.phone_masked,
        }
    }
}

fn phone(raw: &str) -> Result<String, FieldError> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let body = digits.strip_prefix('+').unwrap_or(&digits);
    if (6..=20).contains(&body.len()) && body.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(FieldError {
            field: "phone".into(),
            message: "must be 6 to 20 digits".into(),
        })
    }
}

/// Stores the caller's document. One document holds one account; see the module comment for
/// documents in use and documents another account holds.
#[utoipa::path(
    tag = "accounts",
    request_body = ProfileUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stored profile (a document another account holds is stored too, disputed, with the same answer)", body = ProfileView),
        (status = 409, description = "document_locked: the document cannot change while an application is open or a card is live; ask the issuer"),
        (status = 422, description = "validation_failed: the document type or number, or the phone, is not acceptable"),
        (status = 429, description = "rate_limited: too many document changes from this account or address; see Retry-After"),
    )
)]
#[put("/me/profile")]
pub async fn put_profile(
    req: HttpRequest,
    talent: Talent,
    state: web::Data<AppState>,
    body: ApiJson<ProfileUpdate>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let account_id = talent.0.account_id;
    let number = IdNumber::parse(body.id_type, &body.id_number)
        .map_err(|m| ApiError::invalid_field("id_number", m))?;
    let phone = body
        .phone
        .as_deref()
        .map(phone)
        .transpose()
        .map_err(|e| ApiError::validation(vec![e]))?;
    let owner = account_id.as_bytes();
    let sealed = state
        .pii
        .seal(number.expose(), Field::IdNumber, owner)
        .map_err(ApiError::internal)?;
    let sealed_phone = phone
        .as_deref()
        .map(|p| state.pii.seal(p, Field::Phone, owner))
        .transpose()
        .map_err(ApiError::internal)?;
    let index = state
        .pii
        .blind_index(number.kind().as_str(), number.expose());
    let masked = number.masked();
    let phone_masked = phone.as_deref().map(|p| mask(p, 3, 4));
    let now = state.now();
    let today = state.today();
    let mut conn = state.pool.get().await?;
    let current = profile::find(&mut conn, account_id).await?;
    if current.is_none_or(|p| p.id_number_index != index) {
        admit_change(&req, &state, &mut conn, account_id).await?;
    }
    let stored = conn
        .transaction(async |c| {
            // One lock per person: a submission (which copies the document) and a change
            // queue, so an application never leaves with a document that is then replaced.
            account::lock_holder(c, account_id).await?;
            let current = profile::find(c, account_id).await?;
            let claim = match current.filter(|p| p.id_number_index == index) {
                Some(same) => Claim::Same(same.disputed_at),
                None => {
                    let in_use = current_in_use(c, account_id, today).await?;
                    new_document(c, account_id, &index, in_use, now).await?
                }
            };
            let new = NewProfile {
                account_id,
                id_type: number.kind().as_str(),
                id_number_ciphertext: &sealed,
                id_number_key_id: state.pii.key_id(),
                id_number_index: &index,
                id_number_masked: &masked,
                phone_ciphertext: sealed_phone.as_deref(),
                phone_masked: phone_masked.as_deref(),
                disputed_at: claim.disputed_at(),
            };
            let stored = profile::upsert(c, &new).await?;
            let event = AuditEvent {
                actor: Actor::Account(account_id),
                action: "profile.updated",
                entity_type: "account",
                entity_id: Some(account_id.to_string()),
                detail: json!({ "id_type": stored.id_type }),
            };
            audit::record(c, &event).await?;
            if let Claim::Disputed { dispute, holder, .. } = claim {
                // Someone stored a document another account holds: worth a reviewer's look.
                let event = AuditEvent {
                    actor: Actor::Account(account_id),
                    action: "profile.document_conflict",
                    entity_type: "document_dispute",
                    entity_id: Some(dispute.to_string()),
                    detail: json!({ "id_type": stored.id_type, "holder": holder, "claimant": account_id }),
                };
                audit::record(c, &event).await?;
            }
            Ok::<_, ApiError>(stored)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ProfileView::from(stored)))
}

/// What storing the document means for the account.
enum Claim {
    /// The document it has already (a phone change); disputed or not as before.
    Same(Option<chrono::DateTime<chrono::Utc>>),
    /// A document nobody else holds.
    Held,
    /// A document another account holds: stored disputed, with this open dispute.
    Disputed {
        /// The dispute.
        dispute: uuid::Uuid,
        /// The account holding it.
        holder: uuid::Uuid,
        /// When the claim was stored.
        at: chrono::DateTime<chrono::Utc>,
    },
}

impl Claim {
    fn disputed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            Claim::Same(at) => *at,
            Claim::Held => None,
            Claim::Disputed { at, .. } => Some(*at),
        }
    }
}

/// Whether the account's present document is in use (an open application, a live card).
async fn current_in_use(
    conn: &mut AsyncPgConnection,
    account_id: uuid::Uuid,
    today: chrono::NaiveDate,
) -> Result<bool, ApiError> {
    let has_profile = profile::find(conn, account_id).await?.is_some();
    Ok(has_profile && profile::document_in_use(conn, account_id, today).await?)
}

/// A different document for the account: refused while its present one is in use; else
/// checked against other holders under the document's lock (two accounts storing one new
/// number at once queue), and any claim the account had on another document withdrawn.
async fn new_document(
    conn: &mut AsyncPgConnection,
    account_id: uuid::Uuid,
    index: &str,
    in_use: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Claim, ApiError> {
    if in_use {
        return Err(ApiError::new(
            ErrorCode::DocumentLocked,
            "your identity document cannot change while an application is open or a card is \
             live; ask the issuer to change it",
        ));
    }
    profile::lock_document(conn, index).await?;
    dispute::withdraw_claims(conn, account_id, index, now).await?;
    Ok(match profile::holder_of(conn, index, account_id).await? {
        Some(holder) => Claim::Disputed {
            dispute: dispute::open(conn, index, holder, account_id, now).await?,
            holder,
            at: now,
        },
        None => Claim::Held,
    })
}

/// Counts a change of document against the account's and the client address's hourly
/// allowances, whatever happens next (refused, frozen, disputed or stored), so trying ID
/// numbers cannot be scripted and a refusal says nothing about any number: 429 past either.
async fn admit_change(
    req: &HttpRequest,
    state: &AppState,
    conn: &mut AsyncPgConnection,
    account_id: uuid::Uuid,
) -> Result<(), ApiError> {
    let limits = &state.documents;
    let now = state.now();
    let mut windows = vec![(
        format!("profile:account:{account_id}"),
        TimeDelta::hours(1),
        limits.profile_changes_per_account_hour,
    )];
    if let Some(address) = client_ip(req, &state.trusted_proxies) {
        windows.push((
            format!("profile:address:{}", address_bucket(address)),
            TimeDelta::hours(1),
            limits.profile_changes_per_address_hour,
        ));
    }
    // Every window counts the attempt, so a refusal by one still spends the others.
    let mut wait = None;
    for (key, window, limit) in windows {
        let (count, window_end) = address_rate::take(conn, &key, window, now).await?;
        if count > limit {
            let secs = u64::try_from((window_end - now).num_seconds().max(1)).unwrap_or(1);
            wait = wait.max(Some(secs));
        }
    }
    match wait {
        None => Ok(()),
        Some(secs) => Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many identity-document changes; try again later",
        )
        .with_retry_after(secs)),
    }
}
