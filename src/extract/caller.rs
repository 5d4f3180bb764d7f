//! Extractors that authenticate the caller and check the role, so a handler's protection is in
//! its signature: `async fn decide(official: Official, …)`. Deny by default: a handler without
//! one of these is public, and every one of these refuses what it does not recognise.
//!
//! Each request checks its token's session in PostgreSQL, so logout and account disabling take
//! effect at once, on every instance. An agency client is checked against the instance's copy
//! of the live clients (`state::directory`), dropped on every instance when any client or
//! agency changes, so a revoked client is refused at once where it was revoked and within a
//! second everywhere else.
//!
//! A caller once authenticated is left in the request's extensions ([`KnownActor`]), so that a
//! denial that follows (a wrong role's 403, another issuer's 404) is audited under its name.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use crate::audit::Actor;
use crate::audit::denials::KnownActor;
use crate::auth::tokens::{AccessClaims, TokenUse};
use crate::error::{ApiError, ErrorCode};
use crate::models::account::Role;
use crate::models::agency::Agency;
use crate::models::session;
use crate::state::AppState;

/// A signed-in person (talent, official or administrator).
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The account.
    pub account_id: Uuid,
    /// Its role.
    pub role: Role,
    /// The issuer, for officials.
    pub issuer: Option<String>,
    /// The session the token belongs to.
    pub session_id: Uuid,
}

/// A partner agency's API client.
#[derive(Debug, Clone)]
pub struct AgencyClient {
    /// The client id.
    pub client_id: Uuid,
    /// Its agency: district and services.
    pub agency: Agency,
}

/// Whoever holds a valid access token.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A person.
    Person(AuthUser),
    /// An agency client.
    Agency(AgencyClient),
}

/// A talent.
#[derive(Debug, Clone)]
pub struct Talent(pub AuthUser);

/// An official, with the one issuer whose work they may see.
#[derive(Debug, Clone)]
pub struct Official {
    /// The account.
    pub account_id: Uuid,
    /// The issuer code.
    pub issuer: String,
}

/// An administrator.
#[derive(Debug, Clone)]
pub struct Admin(pub AuthUser);

/// An employer's account, with the one employer whose applications it may see.
#[derive(Debug, Clone)]
pub struct EmployerUser {
    /// The account.
    pub account_id: Uuid,
    /// The employer it speaks for.
    pub employer: crate::models::employer::RegisteredEmployer,
}

/// A staff member holding an MFA-enrolment token (and nothing more).
#[derive(Debug, Clone)]
pub struct MfaEnrollee {
    /// The account.
    pub account_id: Uuid,
}

fn unauthorized() -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, "a valid access token is required")
}

fn forbidden() -> ApiError {
    ApiError::new(ErrorCode::Forbidden, "this role may not do this")
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("AppState is not registered"))
}

/// The token of `Authorization: Bearer …`. Tokens anywhere else (query strings, cookies) are
/// ignored, so they never land in access logs.
fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let (scheme, token) = value.split_once(' ').ok_or_else(unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(unauthorized());
    }
    Ok(token.trim())
}

fn claims(req: &HttpRequest, state: &AppState, wanted: TokenUse) -> Result<AccessClaims, ApiError> {
    let claims = state
        .tokens
        .decode(bearer(req)?, state.now())
        .map_err(|_| unauthorized())?;
    if claims.token_use != wanted {
        return Err(unauthorized());
    }
    Ok(claims)
}

/// Leaves the authenticated caller in the request for the denial audit
/// ([`crate::denial_watch`]): its audit name only, never the token.
fn remember(req: &HttpRequest, actor: Actor) {
    req.extensions_mut().insert(KnownActor(actor));
}

async fn authenticate(req: HttpRequest) -> Result<Caller, ApiError> {
    let state = state(&req)?;
    let claims = claims(&req, &state, TokenUse::Access)?;
    let subject = Uuid::parse_str(&claims.sub).map_err(|_| unauthorized())?;
    if claims.role == Role::Agency.as_str() {
        // From memory: a revoked client is refused at once on the instance that revoked it and
        // within a notification's delivery on the others (`state::directory`).
        let agency = state
            .directory
            .agency_client(&state.invalidation, &state.pool, subject)
            .await?
            .ok_or_else(unauthorized)?;
        if claims.agency != Some(agency.id) {
            return Err(unauthorized());
        }
        remember(&req, Actor::AgencyClient(subject));
        return Ok(Caller::Agency(AgencyClient {
            client_id: subject,
            agency,
        }));
    }
    let session_id = claims.sid.ok_or_else(unauthorized)?;
    let mut conn = state.pool.get().await?;
    let owner = session::live_owner(&mut conn, session_id, subject, state.now())
        .await?
        .ok_or_else(unauthorized)?;
    let role = Role::parse(&owner.role).ok_or_else(unauthorized)?;
    if owner.role != claims.role || role == Role::Agency {
        return Err(unauthorized());
    }
    remember(&req, Actor::Account(owner.account_id));
    Ok(Caller::Person(AuthUser {
        account_id: owner.account_id,
        role,
        issuer: owner.issuer,
        session_id,
    }))
}

/// Implements `FromRequest` through an async function of the request.
macro_rules! extractor {
    ($type:ty, $body:expr) => {
        impl FromRequest for $type {
            type Error = ApiError;
            type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move { $body(req).await })
            }
        }
    };
}

extractor!(Caller, authenticate);

async fn person(req: HttpRequest) -> Result<AuthUser, ApiError> {
    match authenticate(req).await? {
        Caller::Person(user) => Ok(user),
        Caller::Agency(_) => Err(forbidden()),
    }
}

extractor!(AuthUser, person);

async fn talent(req: HttpRequest) -> Result<Talent, ApiError> {
    let user = person(req).await?;
    (user.role == Role::Talent)
        .then_some(Talent(user))
        .ok_or_else(forbidden)
}

extractor!(Talent, talent);

async fn official(req: HttpRequest) -> Result<Official, ApiError> {
    let user = person(req).await?;
    match (user.role, user.issuer) {
        (Role::Official, Some(issuer)) => Ok(Official {
            account_id: user.account_id,
            issuer,
        }),
        _ => Err(forbidden()),
    }
}

extractor!(Official, official);

async fn admin(req: HttpRequest) -> Result<Admin, ApiError> {
    let user = person(req).await?;
    (user.role == Role::Admin)
        .then_some(Admin(user))
        .ok_or_else(forbidden)
}

extractor!(Admin, admin);

async fn employer_user(req: HttpRequest) -> Result<EmployerUser, ApiError> {
    let user = person(req.clone()).await?;
    if user.role != Role::Employer {
        return Err(forbidden());
    }
    let state = state(&req)?;
    let mut conn = state.pool.get().await?;
    // An employer account always has its employer (both are created together); one without is
    // refused rather than shown anything.
    let employer = crate::models::employer::of_account(&mut conn, user.account_id)
        .await?
        .ok_or_else(forbidden)?;
    Ok(EmployerUser {
        account_id: user.account_id,
        employer,
    })
}

extractor!(EmployerUser, employer_user);

async fn agency_client(req: HttpRequest) -> Result<AgencyClient, ApiError> {
    match authenticate(req).await? {
        Caller::Agency(client) => Ok(client),
        Caller::Person(_) => Err(forbidden()),
    }
}

extractor!(AgencyClient, agency_client);

async fn enrollee(req: HttpRequest) -> Result<MfaEnrollee, ApiError> {
    let state = state(&req)?;
    let claims = claims(&req, &state, TokenUse::MfaEnrollment)?;
    let account_id = Uuid::parse_str(&claims.sub).map_err(|_| unauthorized())?;
    let mut conn = state.pool.get().await?;
    let account = crate::models::account::find(&mut conn, account_id)
        .await?
        .filter(|a| a.disabled_at.is_none() && a.is_staff())
        .ok_or_else(unauthorized)?;
    remember(&req, Actor::Account(account.id));
    Ok(MfaEnrollee {
        account_id: account.id,
    })
}

extractor!(MfaEnrollee, enrollee);
