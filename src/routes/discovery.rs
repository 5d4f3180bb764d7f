//! Discovery under the public origin, outside `/api/v1`, where SD-JWT VC verifiers look: issuer
//! metadata at `/.well-known/jwt-vc-issuer/issuers/{code}` (the credentials' `iss` is
//! `{origin}/issuers/{code}`, and draft-ietf-oauth-sd-jwt-vc puts its metadata at the
//! well-known prefix plus the `iss` path), and type metadata at `/vct/{scheme}` (the
//! credentials' `vct`). Both are public, cacheable and CORS `*`, like the trust list.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::reference::known_issuer;
use super::schemes::known_scheme;
use super::trust::{JwkSet, TTL_SECS, cacheable, keys_in_force};
use crate::credentials::token;
use crate::error::ApiError;
use crate::state::AppState;

/// SD-JWT VC issuer metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerMetadata {
    /// Identical to the credentials' `iss`.
    pub issuer: String,
    /// The issuer's keys in force.
    pub jwks: JwkSet,
}

/// The issuer metadata of issuer `code`: its identifier and keys in force.
#[utoipa::path(
    tag = "trust",
    params(("code" = String, Path, description = "Issuer code")),
    responses(
        (status = 200, description = "The issuer's metadata", body = IssuerMetadata),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such issuer"),
    )
)]
#[get("/.well-known/jwt-vc-issuer/issuers/{code}")]
pub async fn issuer_metadata(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // The connection goes back to the pool before `keys_in_force` takes one of its own.
    {
        let mut conn = state.pool.get().await?;
        known_issuer(&mut conn, &code).await?;
    }
    let metadata = IssuerMetadata {
        issuer: token::issuer_url(&state.public_base_url, &code),
        jwks: keys_in_force(&state, Some(&code)).await?,
    };
    let body = serde_json::to_vec(&metadata).map_err(ApiError::internal)?;
    Ok(cacheable(&req, body, TTL_SECS))
}

/// A name and description in one language.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypeDisplay {
    /// `zh-CN` or `en` (the draft's earlier name for `locale`, kept for older verifiers).
    pub lang: &'static str,
    /// The same, under the current draft's name.
    pub locale: &'static str,
    /// The card's name.
    pub name: String,
    /// What it is.
    pub description: String,
}

/// A claim's label in one language.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimDisplay {
    /// `zh-CN` or `en` (the draft's earlier name for `locale`).
    pub lang: &'static str,
    /// The same, under the current draft's name.
    pub locale: &'static str,
    /// The label.
    pub label: &'static str,
}

/// How a verifier shows one claim.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimMetadata {
    /// The claim's path in the credential.
    pub path: Vec<&'static str>,
    /// Labels.
    pub display: Vec<ClaimDisplay>,
    /// `always` (selectively disclosable only) or `never`.
    pub sd: &'static str,
}

/// SD-JWT VC type metadata of a scheme's cards.
#[derive(Debug, Serialize, ToSchema)]
pub struct TypeMetadata {
    /// Identical to the credentials' `vct`.
    pub vct: String,
    /// The card's name (Chinese).
    pub name: String,
    /// What it is (Chinese).
    pub description: String,
    /// Names in Chinese and English.
    pub display: Vec<TypeDisplay>,
    /// The claims a verifier may show.
    pub claims: Vec<ClaimMetadata>,
}

/// The claims of every card credential: (path, Chinese label, English label, disclosable).
const CLAIMS: [(&str, &str, &str, bool); 8] = [
    ("card_number", "卡号", "Card number", false),
    ("scheme", "卡种", "Scheme", false),
    ("tier", "层级", "Tier", false),
    ("issuer", "发卡机构", "Issuer", false),
    ("holder_name", "持卡人姓名", "Holder's name", true),
    ("kind", "卡类别（附属卡）", "Card kind (dependant)", false),
    (
        "relation",
        "与持卡人关系",
        "Relation to the principal holder",
        false,
    ),
    ("status", "状态", "Status", false),
];

/// The type metadata of scheme `scheme`'s cards, in Chinese and English.
#[utoipa::path(
    tag = "trust",
    params(("scheme" = String, Path, description = "Scheme code")),
    responses(
        (status = 200, description = "The card type's metadata", body = TypeMetadata),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such scheme"),
    )
)]
#[get("/vct/{scheme}")]
pub async fn type_metadata(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let found = {
        let mut conn = state.pool.get().await?;
        known_scheme(&mut conn, &code).await?
    };
    let issuers = found.issuers.join("、");
    let row = found.row;
    let zh = format!("{}：由{issuers}签发、京津冀互认的人才服务卡", row.name);
    let en = format!(
        "{}: a talent service card issued by {} and recognised across Beijing, Tianjin and Hebei",
        row.name_en,
        found.issuers.join(", ")
    );
    let metadata = TypeMetadata {
        vct: token::vct_url(&state.public_base_url, &row.code),
        display: vec![
            TypeDisplay {
                lang: "zh-CN",
                locale: "zh-CN",
                name: row.name.clone(),
                description: zh.clone(),
            },
            TypeDisplay {
                lang: "en",
                locale: "en",
                name: row.name_en,
                description: en,
            },
        ],
        name: row.name,
        description: zh,
        claims: CLAIMS
            .iter()
            .map(|(path, zh, en, sd)| ClaimMetadata {
                path: vec![path],
                display: vec![
                    ClaimDisplay {
                        lang: "zh-CN",
                        locale: "zh-CN",
                        label: zh,
                    },
                    ClaimDisplay {
                        lang: "en",
                        locale: "en",
                        label: en,
                    },
                ],
                sd: if *sd { "always" } else { "never" },
            })
            .collect(),
    };
    let body = serde_json::to_vec(&metadata).map_err(ApiError::internal)?;
    Ok(cacheable(&req, body, TTL_SECS))
}
