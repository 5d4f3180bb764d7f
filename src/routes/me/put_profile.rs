//! `PUT /api/v1/me/profile`: a talent's identity document and phone, sealed at rest.

use actix_web::{HttpResponse, put, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::pii::Field;
use crate::domain::id_document::{IdNumber, IdType, mask};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::extract::ApiJson;
use crate::extract::Talent;
use crate::models::profile::{self, NewProfile, Profile};
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

/// Stores the caller's document. One document holds one account.
#[utoipa::path(
    tag = "accounts",
    request_body = ProfileUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stored profile", body = ProfileView),
        (status = 409, description = "conflict: this document is already registered to another account"),
        (status = 422, description = "validation_failed: the document type or number, or the phone, is not acceptable"),
    )
)]
#[put("/me/profile")]
pub async fn put_profile(
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
    let new = NewProfile {
        account_id,
        id_type: number.kind().as_str(),
        id_number_ciphertext: &sealed,
        id_number_key_id: state.pii.key_id(),
        id_number_index: &index,
        id_number_masked: &masked,
        phone_ciphertext: sealed_phone.as_deref(),
        phone_masked: phone_masked.as_deref(),
    };
    let mut conn = state.pool.get().await?;
    let stored = conn
        .transaction(async |c| {
            let stored = profile::upsert(c, &new).await?;
            let event = AuditEvent {
                actor: Actor::Account(account_id),
                action: "profile.updated",
                entity_type: "account",
                entity_id: Some(account_id.to_string()),
                detail: json!({ "id_type": stored.id_type }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>(stored)
        })
        .await
        .map_err(ApiError::from);
    match stored {
        Ok(stored) => Ok(HttpResponse::Ok().json(ProfileView::from(stored))),
        Err(conflict) if conflict.code() == ErrorCode::Conflict => {
            // Someone tried a document another account holds: worth a reviewer's look.
            let event = AuditEvent {
                actor: Actor::Account(account_id),
                action: "profile.document_conflict",
                entity_type: "account",
                entity_id: Some(account_id.to_string()),
                detail: json!({ "id_type": number.kind().as_str() }),
            };
            conn.transaction(async |c| audit::record(c, &event).await)
                .await?;
            Err(ApiError::new(
                ErrorCode::Conflict,
                "this document is already registered to another account",
            ))
        }
        Err(other) => Err(other),
    }
}
