//! How a card was shown to an agency, checked before the card is looked up: a number (which
//! proves nothing), a credential (which proves the card was shown, or a photo of it), a
//! presentation (the credential with a key-binding JWT: the holder's wallet key signed this
//! agency's fresh nonce) or a dynamic code (single use, a minute long, from the holder's app).
//! The last two prove the holder; the nonce or code is consumed atomically, so of two agencies
//! or instances racing on one, exactly one succeeds.

use uuid::Uuid;

use super::VerificationRequest;
use crate::credentials::key_binding;
use crate::credentials::presentation_code::PresentationCode;
use crate::credentials::token::{self, CredentialError};
use crate::domain::card_number;
use crate::domain::standing::Status;
use crate::error::ApiError;
use crate::extract::AgencyClient;
use crate::models::presentation::{self, CodeUse, NonceUse};
use crate::state::AppState;

/// The `method` of a check by number, the one check that shows no card.
pub const BY_NUMBER: &str = "card_number";
const BY_CREDENTIAL: &str = "credential";
const BY_PRESENTATION: &str = "presentation";
const BY_CODE: &str = "presentation_code";

/// Which card to look up.
#[derive(Debug)]
pub enum CardKey {
    /// By its number (a number given, or the one a credential names).
    Number(String),
    /// By its id (a dynamic code names the card it was made for).
    Id(Uuid),
}

/// The request, parsed: exactly one way of showing the card, well-formed.
#[derive(Debug)]
pub enum Request {
    /// A card number with a valid check digit.
    Number(String),
    /// A credential (the static QR code).
    Credential(String),
    /// A credential and a key-binding JWT.
    Presentation(String),
    /// A dynamic code.
    Code(PresentationCode),
}

impl Request {
    /// 422 naming the field when the body gives none or several ways, or a malformed one.
    pub fn parse(body: VerificationRequest) -> Result<Self, ApiError> {
        let VerificationRequest {
            card_number,
            credential,
            presentation,
            presentation_code,
        } = body;
        match (card_number, credential, presentation, presentation_code) {
            (Some(number), None, None, None) => {
                let number = number.trim();
                if !card_number::is_valid(number) {
                    return Err(ApiError::invalid_field(
                        "card_number",
                        "is not a card number (check digit)",
                    ));
                }
                Ok(Request::Number(number.to_owned()))
            }
            (None, Some(credential), None, None) => Ok(Request::Credential(credential)),
            (None, None, Some(presentation), None) => {
                if key_binding::split_presentation(&presentation).is_none() {
                    return Err(ApiError::invalid_field(
                        "presentation",
                        "is not a presentation: the credential, then `~` and a key-binding JWT",
                    ));
                }
                Ok(Request::Presentation(presentation))
            }
            (None, None, None, Some(code)) => PresentationCode::parse(code.trim())
                .map(Request::Code)
                .ok_or_else(|| {
                    ApiError::invalid_field("presentation_code", "is not a dynamic code (TC1:…)")
                }),
            _ => Err(ApiError::invalid_field(
                "card_number",
                "give exactly one of card_number, credential, presentation and presentation_code",
            )),
        }
    }
}

/// What the showing proved.
#[derive(Debug)]
pub struct Shown {
    /// How the card was shown, as the holder's log records it.
    pub method: &'static str,
    /// The card to look up, or the status to answer without looking (the material vouches
    /// for nothing, a code was replayed…).
    pub card: Result<CardKey, Status>,
    /// The claims of a credential (or presentation) whose signature verified, and the key that
    /// signed it: the card on record must match them, and that key must have signed exactly
    /// this credential for it.
    pub claims: Option<(token::CardClaims, String)>,
    /// Whether the presenter proved to be the holder (before the card on record is compared).
    pub holder_bound: bool,
}

impl Shown {
    fn refused(method: &'static str, status: Status) -> Self {
        Shown {
            method,
            card: Err(status),
            claims: None,
            holder_bound: false,
        }
    }
}

/// Checks what was shown: signatures (keys from memory), the key binding, and the nonce or code
/// (consumed here, so a showing counts once even when the answer is then refused by the rate
/// limit). Only a nonce or a code costs a statement.
pub async fn check(
    state: &AppState,
    client: &AgencyClient,
    request: Request,
) -> Result<Shown, ApiError> {
    let now = state.now();
    Ok(match request {
        Request::Number(number) => Shown {
            method: BY_NUMBER,
            card: Ok(CardKey::Number(number)),
            claims: None,
            holder_bound: false,
        },
        Request::Credential(credential) => {
            match check_credential(state, &credential, "credential").await? {
                Ok((claims, kid)) => Shown {
                    method: BY_CREDENTIAL,
                    card: Ok(CardKey::Number(claims.card_number.clone())),
                    claims: Some((claims, kid)),
                    holder_bound: false,
                },
                Err(status) => Shown::refused(BY_CREDENTIAL, status),
            }
        }
        Request::Presentation(presentation) => {
            let sd_jwt = key_binding::split_presentation(&presentation)
                .map(|(sd_jwt, _)| sd_jwt)
                .unwrap_or_default();
            let (claims, kid) = match check_credential(state, sd_jwt, "presentation").await? {
                Ok(verified) => verified,
                Err(status) => return Ok(Shown::refused(BY_PRESENTATION, status)),
            };
            let Some(cnf) = &claims.cnf else {
                tracing::debug!("a presentation of a credential that names no holder key");
                return Ok(Shown::refused(BY_PRESENTATION, Status::HolderBindingFailed));
            };
            let audience = client.client_id.to_string();
            let bound = key_binding::verify_key_binding(
                &presentation,
                &cnf.jwk,
                &audience,
                now.timestamp(),
            );
            let kb = match bound {
                Ok(kb) => kb,
                Err(reason) => {
                    tracing::debug!(%reason, "a presentation's key binding was refused");
                    return Ok(Shown::refused(BY_PRESENTATION, Status::HolderBindingFailed));
                }
            };
            let mut conn = state.pool.get().await?;
            match presentation::consume_nonce(&mut conn, &kb.nonce, client.agency.id, now).await? {
                NonceUse::Fresh => Shown {
                    method: BY_PRESENTATION,
                    card: Ok(CardKey::Number(claims.card_number.clone())),
                    claims: Some((claims, kid)),
                    holder_bound: true,
                },
                NonceUse::Replayed => Shown::refused(BY_PRESENTATION, Status::Replayed),
                NonceUse::Unknown => Shown::refused(BY_PRESENTATION, Status::HolderBindingFailed),
            }
        }
        Request::Code(code) => {
            let mut conn = state.pool.get().await?;
            match presentation::consume_code(&mut conn, &code, client.agency.id, now).await? {
                CodeUse::Fresh { card_id } => Shown {
                    method: BY_CODE,
                    card: Ok(CardKey::Id(card_id)),
                    claims: None,
                    holder_bound: true,
                },
                CodeUse::Replayed { .. } => Shown::refused(BY_CODE, Status::Replayed),
                CodeUse::Expired { .. } => Shown::refused(BY_CODE, Status::CodeExpired),
                CodeUse::Unknown => Shown::refused(BY_CODE, Status::Unknown),
            }
        }
    })
}

/// The claims of a credential whose signature verified, with its key id, or the status to
/// answer when it vouches for nothing (`expired`, `untrusted`); 422 when it is not a credential
/// at all.
///
/// The key comes from memory (`state::directory`: keys not withdrawn, dropped on every instance
/// when any key changes). A key vouches only for its own issuer's cards (see `token::verify`);
/// that it signed exactly this credential for the card is checked against the record the card
/// lookup returns (see `super::verify_card`), so a leaked key, active or retired, cannot
/// vouch for anything it did not sign.
async fn check_credential(
    state: &AppState,
    credential: &str,
    field: &'static str,
) -> Result<Result<(token::CardClaims, String), Status>, ApiError> {
    let not_a_credential = || ApiError::invalid_field(field, "is not a card credential");
    let (kid, _) = token::claimed(credential).map_err(|_| not_a_credential())?;
    let key = state
        .directory
        .key(&state.invalidation, &state.pool, &kid)
        .await?;
    let lookup = |wanted: &str| {
        let key = key.as_ref().filter(|_| wanted == kid)?;
        let base = &state.public_base_url;
        Some(token::KeyInfo {
            issuer: key.issuer.clone(),
            issuer_url: token::issuer_url(base, &key.issuer),
            public_key: key.public_key.clone().try_into().ok()?,
            schemes: key
                .schemes
                .iter()
                .map(|code| token::SchemeType {
                    code: code.clone(),
                    vct: token::vct_url(base, code),
                })
                .collect(),
            retired_at: key
                .retired_at
                .filter(|_| key.status == "retired")
                .map(|t| t.timestamp()),
            // What it signed is compared with the record afterwards, exactly.
            not_after: None,
        })
    };
    match token::verify(credential, lookup, state.now()) {
        Ok(verified) => Ok(Ok((verified.claims, kid))),
        Err(CredentialError::Malformed) => Err(not_a_credential()),
        Err(CredentialError::OutsideValidity) => Ok(Err(Status::Expired)),
        Err(_) => Ok(Err(Status::Untrusted)),
    }
}
