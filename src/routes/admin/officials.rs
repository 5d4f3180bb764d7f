//! `POST /api/v1/admin/officials`: an official bound to one issuer.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::error::{ApiError, FieldError};
use crate::extract::Admin;
use crate::extract::ApiJson;
use crate::models::account::Role;
use crate::models::reference;
use crate::routes::auth::{AccountCreated, account_fields, create_account};
use crate::state::AppState;

/// A new official.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfficial {
    /// Sign-in email.
    pub email: String,
    /// Initial password (12 to 128 characters, not common).
    pub password: String,
    /// Display name.
    pub full_name: String,
    /// The issuer whose applications and cards the official handles.
    #[schema(example = "LF")]
    pub issuer: String,
}

/// Creates an official; they enrol a second factor at first login.
#[utoipa::path(
    tag = "administration",
    request_body = NewOfficial,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The official's account created", body = AccountCreated),
        (status = 403, description = "forbidden: only an administrator creates officials"),
        (status = 409, description = "email_taken: an account with this email exists"),
        (status = 422, description = "validation_failed: a field is missing or not acceptable (an unknown issuer, a weak password)"),
    )
)]
#[post("/admin/officials")]
pub async fn create_official(
    admin: Admin,
    state: web::Data<AppState>,
    body: ApiJson<NewOfficial>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = Vec::new();
    let fields = account_fields(
        &state,
        &body.email,
        body.password,
        &body.full_name,
        &mut errors,
    );
    let mut conn = state.pool.get().await?;
    let issuer_exists = reference::issuer_exists(&mut conn, &body.issuer).await?;
    drop(conn);
    if !issuer_exists {
        errors.push(FieldError {
            field: "issuer".into(),
            message: "is not a known issuer".into(),
        });
    }
    let Some((email, password, name)) = fields.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let actor = Actor::Account(admin.0.account_id);
    let created = create_account(
        &state,
        &email,
        password.secret().clone(),
        &name,
        Role::Official,
        Some(&body.issuer),
        actor,
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}
