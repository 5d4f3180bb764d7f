//! `POST /api/v1/admin/employers` and `POST /api/v1/admin/employers/{id}/accounts`: employers
//! (用人单位) registered with a checked unified social credit code, and the accounts (role
//! `employer`, no second factor) that endorse the applications naming them.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::auth::password;
use crate::domain::{credit_code, free_text};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::extract::{Admin, ApiJson};
use crate::models::account::{self, NewAccount, Role};
use crate::models::employer::{self, RegisteredEmployer};
use crate::models::reference;
use crate::routes::auth::{AccountCreated, account_fields};
use crate::state::AppState;

/// A new employer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEmployer {
    /// Registered name.
    #[schema(example = "雄安新区示例科技有限公司")]
    pub name: String,
    /// Unified social credit code (统一社会信用代码), 18 characters with its check character.
    #[schema(example = "91133100MA0CXXXXXX")]
    pub credit_code: String,
    /// District code.
    #[schema(example = "xiongan")]
    pub district: String,
}

/// Registers an employer.
#[utoipa::path(
    tag = "administration",
    request_body = NewEmployer,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The employer registered", body = RegisteredEmployer),
        (status = 403, description = "forbidden: only an administrator registers employers"),
        (status = 409, description = "conflict: an employer with this credit code is registered"),
        (status = 422, description = "validation_failed: a field is missing or not acceptable (a credit code whose check character is wrong, an unknown district)"),
    )
)]
#[post("/admin/employers")]
pub async fn create_employer(
    admin: Admin,
    state: web::Data<AppState>,
    body: ApiJson<NewEmployer>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = Vec::new();
    let mut refuse = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    let name = free_text::NAME
        .required(&body.name)
        .map_err(|e| refuse("name", e.to_string()))
        .ok();
    let code = body.credit_code.trim().to_ascii_uppercase();
    if let Err(message) = credit_code::check(&code) {
        refuse("credit_code", message.to_owned());
    }
    let mut conn = state.pool.get().await?;
    if !reference::district_exists(&mut conn, &body.district).await? {
        refuse("district", "is not a known district".to_owned());
    }
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let new = RegisteredEmployer {
        id: Uuid::now_v7(),
        name,
        credit_code: code,
        district: body.district,
        created_at: state.now(),
    };
    let created = conn
        .transaction(async |c| {
            let created = employer::insert(c, &new).await?;
            let event = AuditEvent {
                actor: Actor::Account(admin.0.account_id),
                action: "employer.registered",
                entity_type: "employer",
                entity_id: Some(created.id.to_string()),
                detail: json!({ "credit_code": created.credit_code, "district": created.district }),
            };
            audit::record(c, &event).await?;
            Ok::<_, ApiError>(created)
        })
        .await
        .map_err(|e| match e.code() {
            ErrorCode::Conflict => ApiError::new(
                ErrorCode::Conflict,
                "an employer with this credit code is registered",
            ),
            _ => e,
        })?;
    Ok(HttpResponse::Created().json(created))
}

/// A new employer account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEmployerAccount {
    /// Sign-in email.
    pub email: String,
    /// Initial password (12 to 128 characters, not common).
    pub password: String,
    /// Display name.
    pub full_name: String,
}

/// The employer account created.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmployerAccountCreated {
    /// The account.
    #[serde(flatten)]
    pub account: AccountCreated,
    /// The employer it speaks for.
    pub employer: Uuid,
}

/// Creates an account of role `employer` for a registered employer.
#[utoipa::path(
    tag = "administration",
    params(("id" = Uuid, Path, description = "Employer id")),
    request_body = NewEmployerAccount,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The employer's account created", body = EmployerAccountCreated),
        (status = 403, description = "forbidden: only an administrator creates employer accounts"),
        (status = 404, description = "not_found: no such employer"),
        (status = 409, description = "email_taken: an account with this email exists"),
        (status = 422, description = "validation_failed: a field is missing or not acceptable (a weak password)"),
    )
)]
#[post("/admin/employers/{id}/accounts")]
pub async fn create_employer_account(
    admin: Admin,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: ApiJson<NewEmployerAccount>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut conn = state.pool.get().await?;
    let found = employer::find(&mut conn, *id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    drop(conn);
    let mut errors = Vec::new();
    let fields = account_fields(
        &state,
        &body.email,
        body.password,
        &body.full_name,
        &mut errors,
    );
    let Some((email, password, name)) = fields.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let hash = password::hash(password.secret().clone()).await?;
    let new = NewAccount {
        id: Uuid::now_v7(),
        email: email.as_str(),
        password_hash: &hash,
        full_name: &name,
        role: Role::Employer.as_str(),
        issuer: None,
    };
    let actor = Actor::Account(admin.0.account_id);
    let mut conn = state.pool.get().await?;
    let created = conn
        .transaction(async |c| {
            let created = account::create(c, new, actor).await?;
            employer::bind_account(c, created.id, found.id).await?;
            Ok::<_, diesel::result::Error>(created)
        })
        .await
        .map_err(|e| match ApiError::from(e) {
            conflict if conflict.code() == ErrorCode::Conflict => {
                ApiError::new(ErrorCode::EmailTaken, "an account with this email exists")
            }
            other => other,
        })?;
    Ok(HttpResponse::Created().json(EmployerAccountCreated {
        account: AccountCreated {
            id: created.id,
            email: created.email,
            full_name: created.full_name,
            role: created.role,
            issuer: None,
        },
        employer: found.id,
    }))
}
