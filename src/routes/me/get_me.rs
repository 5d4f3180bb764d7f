//! `GET /api/v1/me`: who the token belongs to.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::put_profile::ProfileView;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::models::agency::Agency;
use crate::models::profile;
use crate::routes::auth::known_account;
use crate::state::AppState;

/// The caller. Personal data appears masked only.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Account id (or agency client id).
    pub id: Uuid,
    /// Email, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Display name, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// `talent`, `official`, `agency` or `admin`.
    pub role: String,
    /// The issuer code, for officials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The agency, for agency clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<Agency>,
    /// Whether a second factor is enrolled (staff).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_enabled: Option<bool>,
    /// The identity profile, for talent who filled it in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileView>,
}

/// Describes the caller.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account, role and profile", body = Me),
        (status = 401, description = "unauthorized: no valid access token"),
    )
)]
#[get("/me")]
pub async fn get_me(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let me = match caller {
        Caller::Agency(client) => Me {
            id: client.client_id,
            email: None,
            full_name: None,
            role: "agency".to_owned(),
            issuer: None,
            agency: Some(client.agency),
            mfa_enabled: None,
            profile: None,
        },
        Caller::Person(user) => {
            let mut conn = state.pool.get().await?;
            let account = known_account(&mut conn, user.account_id).await?;
            let profile = profile::find(&mut conn, account.id)
                .await?
                .map(ProfileView::from);
            Me {
                id: account.id,
                mfa_enabled: account
                    .is_staff()
                    .then_some(account.mfa_confirmed_at.is_some()),
                email: Some(account.email),
                full_name: Some(account.full_name),
                role: account.role,
                issuer: account.issuer,
                agency: None,
                profile,
            }
        }
    };
    Ok(HttpResponse::Ok().json(me))
}
