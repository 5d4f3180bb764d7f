//! The `Idempotency-Key` envelope of decisions and redemptions, in one place: who asks (the
//! audit actor's spelling), the key from the header, and a digest of what is asked. Inside the
//! request's transaction, [`Keyed::claim`] says whether to replay a first answer, and
//! [`Keyed::complete`] stores the record of a new one.

use actix_web::HttpRequest;
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::Actor;
use crate::error::ApiError;
use crate::extract::idempotency_key;
use crate::models::idempotency::{self, Claim};

/// A request that may carry an `Idempotency-Key`.
#[derive(Debug)]
pub struct Keyed {
    principal: String,
    key: Option<String>,
    hash: String,
}

impl Keyed {
    /// The envelope of `request` by `actor`; `scope` separates kinds of requests (and, for a
    /// decision, the application decided), so one key cannot replay another kind's answer.
    pub fn new(
        req: &HttpRequest,
        actor: &Actor,
        scope: &str,
        request: &impl Serialize,
    ) -> Result<Self, ApiError> {
        let body = serde_json::to_string(request).map_err(ApiError::internal)?;
        Ok(Keyed {
            principal: actor.as_text(),
            key: idempotency_key(req)?,
            hash: hex::encode(Sha256::digest(format!("{scope}|{body}"))),
        })
    }

    /// Claims the key: `None` to process the request, or the status and record of the first
    /// answer to replay; 422 when the key came with another request.
    pub async fn claim(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> Result<Option<(u16, serde_json::Value)>, ApiError> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        match idempotency::claim(conn, &self.principal, key, &self.hash).await? {
            Claim::New => Ok(None),
            Claim::Replay(status, record) => Ok(Some((status, record))),
            Claim::Mismatch => Err(ApiError::invalid_field(
                "Idempotency-Key",
                "was used with another request",
            )),
        }
    }

    /// Stores what a retry replays (nothing without a key).
    pub async fn complete(
        &self,
        conn: &mut AsyncPgConnection,
        status: u16,
        record: &serde_json::Value,
    ) -> Result<(), ApiError> {
        if let Some(key) = &self.key {
            idempotency::complete(conn, &self.principal, key, status, record).await?;
        }
        Ok(())
    }
}
