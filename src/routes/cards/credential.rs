//! The holder's credential: `GET /api/v1/cards/{id}/credential`, the same as a QR code
//! (`qr.svg`, `qr.png`) and on a printable card face (`card.svg`). The QR codes never carry the
//! holder's name: a code anyone photographs discloses nothing personal; the download adds the
//! name disclosure only on `?disclose=holder_name`.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, get, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::visible_card;
use crate::credentials::holder_key::HolderJwk;
use crate::credentials::{card_face, keys, qr, status_list, token};
use crate::error::{ApiError, ErrorCode};
use crate::extract::Talent;
use crate::models::application::Viewer;
use crate::models::card::Card;
use crate::models::{issuer_key, reference};
use crate::routes::auth::known_account;
use crate::state::AppState;

/// A credential to present.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialView {
    /// `dc+sd-jwt`.
    pub format: &'static str,
    /// `<JWS>~`, or `<JWS>~<holder-name disclosure>~` when asked for; a verifier checks the JWS
    /// against the trust list.
    pub credential: String,
}

/// Which claims the holder discloses beyond what every verifier sees.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Disclose {
    /// The holder's full name.
    HolderName,
}

/// `?disclose=holder_name` adds the name disclosure.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CredentialQuery {
    /// `holder_name` to include the name disclosure (agencies otherwise see a masked name
    /// from the service, and offline verifiers none).
    pub disclose: Option<Disclose>,
}

/// The caller's card, its signed credential and the holder's name.
///
/// Signed with the issuer's active key: after a rotation (or a compromise) holders get a
/// credential under the new key, and a retired key signs nothing new. Each (card, key) pair
/// is recorded with the `iat` and `exp` signed, before the credential leaves: the record binds
/// the key to what it signed (online verification accepts nothing else from it) and keeps the
/// key published while that credential is in force. The same key always yields the same
/// credential (EdDSA is deterministic, the salt is stable, the times come from the record);
/// once the holder binds a wallet key, the credential names it in `cnf.jwk`.
async fn holder_credential(
    state: &AppState,
    holder: Uuid,
    id: Uuid,
) -> Result<(Card, token::Issued, String), ApiError> {
    let now = state.now();
    let mut conn = state.pool.get().await?;
    let found = visible_card(&mut conn, id, &Viewer::Talent(holder)).await?;
    if found.status == "revoked" {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "a revoked card has no credential",
        ));
    }
    let Some(index) = found.status_index.and_then(|i| u32::try_from(i).ok()) else {
        return Err(ApiError::internal("a card without a status index"));
    };
    let (list_no, entry) = status_list::locate(index);
    // The key is read under a share lock in the transaction that records what it signs, so a
    // withdrawal (which locks the key's row) either precedes the read or follows the record.
    let (key, signed) = conn
        .transaction(async |c| {
            let key = issuer_key::active_for_signing(c, &found.issuer).await?;
            let Some(key) = key else {
                return Ok(None);
            };
            // The card's issue time, as every credential of this card has carried since the
            // first release (credentials served before the records began carry it too).
            let proposed = issuer_key::Signed {
                iat: found.issued_at,
                exp: token::expiry(found.valid_until),
            };
            let signed = issuer_key::record_signed(c, found.id, &key.kid, proposed, now).await?;
            Ok::<_, diesel::result::Error>(Some((key, signed)))
        })
        .await?
        .ok_or_else(|| ApiError::internal("the issuer has no active key"))?;
    let holder = known_account(&mut conn, found.holder_id).await?;
    // A dependant card's name is the family member's.
    let name = found.shown_name(holder.full_name);
    // The wallet key the holder bound, if any: signed in as `cnf.jwk`.
    let holder_jwk = found
        .holder_jwk
        .as_ref()
        .map(HolderJwk::from_value)
        .transpose()
        .map_err(ApiError::internal)?;
    drop(conn);
    let der = keys::signing_der(&key.kid, &key.private_key_sealed, &state.pii)
        .map_err(ApiError::internal)?;
    let salt = token::disclosure_salt(&state.pii, found.id);
    let credential = token::CardCredential {
        card_number: &found.number,
        scheme: &found.scheme,
        tier: &found.tier,
        issuer: &found.issuer,
        valid_from: found.valid_from,
        valid_until: found.valid_until,
        status_index: entry,
        status_uri: status_list::uri(&state.public_base_url, &found.issuer, list_no),
        holder_name: &name,
        salt: &salt,
        issued_at: signed.iat,
        base_url: &state.public_base_url,
        holder_jwk: holder_jwk.as_ref(),
    };
    let issued = token::issue_with_relation(&credential, found.relation.as_deref(), &key.kid, &der)
        .map_err(ApiError::internal)?;
    Ok((found, issued, name))
}

/// The holder's card as a signed credential.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id"), CredentialQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The credential: without the name disclosure unless asked for", body = CredentialView),
        (status = 404, description = "No such card of the caller's"),
        (status = 409, description = "the card is revoked"),
    )
)]
#[get("/cards/{id}/credential")]
pub async fn get_credential(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<CredentialQuery>,
) -> Result<HttpResponse, ApiError> {
    let (_, issued, _) = holder_credential(&state, talent.0.account_id, *id).await?;
    let disclose = query.disclose == Some(Disclose::HolderName);
    Ok(HttpResponse::Ok().json(CredentialView {
        format: token::TYP,
        credential: issued.presentation(disclose),
    }))
}

fn qr_of(credential: &str) -> Result<qrcode::QrCode, ApiError> {
    qr::encode(credential).map_err(ApiError::internal)
}

/// The credential as an SVG QR code.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The image, as SVG", content_type = "image/svg+xml"),
        (status = 404, description = "No such card of the caller's"),
    )
)]
#[get("/cards/{id}/qr.svg")]
pub async fn get_qr_svg(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (_, issued, _) = holder_credential(&state, talent.0.account_id, *id).await?;
    let svg = qr::svg(&qr_of(&issued.presentation(false))?);
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "image/svg+xml"))
        .body(svg))
}

/// The credential as a PNG QR code.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "PNG", content_type = "image/png"),
        (status = 404, description = "No such card of the caller's"),
    )
)]
#[get("/cards/{id}/qr.png")]
pub async fn get_qr_png(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (_, issued, _) = holder_credential(&state, talent.0.account_id, *id).await?;
    let png = qr::png(&qr_of(&issued.presentation(false))?).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "image/png"))
        .body(png))
}

/// A printable card face: the scheme, tier, issuer and district by name in Chinese and English
/// (from the reference tables), the holder's name, number, validity and the QR code.
#[utoipa::path(
    tag = "cards",
    params(("id" = Uuid, Path, description = "Card id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "SVG", content_type = "image/svg+xml"),
        (status = 404, description = "No such card of the caller's"),
    )
)]
#[get("/cards/{id}/card.svg")]
pub async fn get_card_svg(
    talent: Talent,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (found, issued, holder) = holder_credential(&state, talent.0.account_id, *id).await?;
    let mut conn = state.pool.get().await?;
    let names = reference::card_names(&mut conn, &found.scheme, &found.tier, &found.issuer)
        .await?
        .ok_or_else(|| ApiError::internal("a card whose scheme, tier or issuer has no names"))?;
    drop(conn);
    fn name((zh, en): &(String, String)) -> card_face::Name<'_> {
        card_face::Name { zh, en }
    }
    let face = card_face::render(
        &card_face::Face {
            scheme: name(&names.scheme),
            tier: name(&names.tier),
            issuer: name(&names.issuer),
            district: name(&names.district),
            holder: &holder,
            number: &found.number,
            valid_from: found.valid_from,
            valid_until: found.valid_until,
        },
        &qr::svg(&qr_of(&issued.presentation(false))?),
    );
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "image/svg+xml"))
        .body(face))
}
