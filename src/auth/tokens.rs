//! Signed access tokens (JWT, HS256 only) and their strict validation.
//!
//! One algorithm, a key from configuration, `exp`, `iss`, `aud` and `sub` required, a leeway of
//! five seconds, and a token type both in the header (`at+jwt`, RFC 9068) and in the claims, so a
//! refresh token, an MFA-enrolment token or a card credential is never taken for an access token.
//! Time checks use the injected clock, so tests move time instead of sleeping.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `iss` of every access token.
pub const ISSUER: &str = "talentcard";
/// The `aud` of every access token.
pub const AUDIENCE: &str = "talentcard-api";
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: i64 = 5;
/// The JOSE `typ` of access tokens (RFC 9068).
pub const ACCESS_JWT_TYP: &str = "at+jwt";

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenUse {
    /// The API, as the role allows.
    Access,
    /// Only `POST /auth/mfa/enroll` and `/auth/mfa/confirm`.
    MfaEnrollment,
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The account id, or the agency client id.
    pub sub: String,
    /// `talent`, `official`, `agency` or `admin`.
    pub role: String,
    /// Always [`ISSUER`].
    pub iss: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Unique id of this token.
    pub jti: String,
    /// What the token may be used for.
    pub token_use: TokenUse,
    /// The session (login) the token belongs to; revoking it ends the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    /// The issuer code, for officials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The agency id, for agency clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<Uuid>,
}

/// Who a new token is for.
#[derive(Debug, Clone)]
pub struct Subject {
    /// Account or client id.
    pub id: Uuid,
    /// Role name.
    pub role: String,
    /// Session, for people.
    pub session: Option<Uuid>,
    /// Issuer, for officials.
    pub issuer: Option<String>,
    /// Agency, for agency clients.
    pub agency: Option<Uuid>,
}

/// Why a token was refused; every variant is a 401 and none says more to the client.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Bad signature, algorithm, shape, issuer, audience or type.
    #[error("the token is invalid")]
    Invalid,
    /// Past `exp` (plus leeway) or before `nbf` (minus leeway).
    #[error("the token has expired or is not valid yet")]
    Expired,
}

/// The keys and rules for access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl TokenKeys {
    /// Keys from the configured secret; `ttl_secs` is the access-token lifetime.
    pub fn new(secret: &SecretString, ttl_secs: i64) -> anyhow::Result<Self> {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        // Time is checked below against the injected clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(bytes)?,
            decoding: DecodingKey::from_secret(bytes)?,
            validation,
            ttl_secs,
        })
    }

    /// The lifetime of access tokens, in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs a token of `token_use` for `subject`, valid from `now` for the configured lifetime.
    pub fn issue(
        &self,
        subject: &Subject,
        token_use: TokenUse,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let iat = now.timestamp();
        let claims = AccessClaims {
            sub: subject.id.to_string(),
            role: subject.role.clone(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            exp: iat + self.ttl_secs,
            iat,
            nbf: iat,
            jti: Uuid::now_v7().to_string(),
            token_use,
            sid: subject.session,
            issuer: subject.issuer.clone(),
            agency: subject.agency,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(ACCESS_JWT_TYP.to_owned());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// Validates signature, algorithm, `typ`, issuer, audience and times; returns the claims.
    pub fn decode(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.header.typ.as_deref() != Some(ACCESS_JWT_TYP)
            || data.header.jku.is_some()
            || data.header.jwk.is_some()
            || data.header.x5u.is_some()
        {
            return Err(TokenError::Invalid);
        }
        let claims = data.claims;
        let now = now.timestamp();
        if claims.exp + LEEWAY_SECS < now || claims.nbf - LEEWAY_SECS > now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn keys() -> TokenKeys {
        let secret = SecretString::from("k".repeat(40));
        TokenKeys::new(&secret, 900).unwrap_or_else(|_| unreachable!())
    }

    fn subject() -> Subject {
        Subject {
            id: Uuid::now_v7(),
            role: "talent".to_owned(),
            session: Some(Uuid::now_v7()),
            issuer: None,
            agency: None,
        }
    }

    #[test]
    fn a_token_lives_its_ttl_plus_the_leeway_and_not_a_second_more() {
        let keys = keys();
        let now = Utc::now();
        let token = keys
            .issue(&subject(), TokenUse::Access, now)
            .unwrap_or_default();
        assert!(keys.decode(&token, now).is_ok());
        assert!(
            keys.decode(&token, now + Duration::seconds(900 + LEEWAY_SECS))
                .is_ok()
        );
        let late = keys.decode(&token, now + Duration::seconds(900 + LEEWAY_SECS + 1));
        assert_eq!(late.err(), Some(TokenError::Expired));
        let early = keys.decode(&token, now - Duration::seconds(LEEWAY_SECS + 1));
        assert_eq!(early.err(), Some(TokenError::Expired));
    }

    #[test]
    fn another_key_is_refused() {
        let token = keys()
            .issue(&subject(), TokenUse::Access, Utc::now())
            .unwrap_or_default();
        let other = TokenKeys::new(&SecretString::from("o".repeat(40)), 900)
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(
            other.decode(&token, Utc::now()).err(),
            Some(TokenError::Invalid)
        );
    }
}
