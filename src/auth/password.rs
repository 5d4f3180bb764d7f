//! Argon2id password hashing on the blocking pool.
//!
//! Hashing costs about 15 ms of one core and 19 MiB. It runs on `spawn_blocking`, never on an
//! async worker, and a semaphore caps how many run at once so that a storm of logins cannot take
//! every core from the requests that need none.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// OWASP's argon2id preset: 19 MiB, two passes, one lane. Stored in every PHC string, so
/// raising them later still verifies old hashes.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

static HASHING_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Semaphore::new(cores.saturating_sub(1).max(1))
});

fn hasher() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| HashError::Failed(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Longest wait for a hashing slot before the request is answered 503 instead of queueing on.
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a hash could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing slot stayed busy for [`SLOT_WAIT`]: the machine is saturated with logins.
    #[error("every password-hashing slot is busy")]
    Busy,
    /// The hasher itself failed (it should not).
    #[error("password hashing failed: {0}")]
    Failed(String),
}

impl From<HashError> for crate::error::ApiError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => crate::error::ApiError::unavailable(),
            HashError::Failed(cause) => crate::error::ApiError::internal(cause),
        }
    }
}

/// Hashes a password into a PHC string with a fresh random salt.
pub async fn hash(password: SecretString) -> Result<String, HashError> {
    run_bounded(move || {
        let phc = hasher()?
            .hash_password(password.expose_secret().as_bytes())
            .map_err(|e| HashError::Failed(e.to_string()))?;
        Ok(phc.to_string())
    })
    .await
}

/// Verifies a password against a stored PHC string; `false` for a mismatch or a hash that
/// cannot be parsed.
pub async fn verify(password: SecretString, phc: String) -> Result<bool, HashError> {
    run_bounded(move || {
        Ok(hasher()?
            .verify_password(password.expose_secret().as_bytes(), phc.as_str())
            .is_ok())
    })
    .await
}

async fn run_bounded<T, F>(work: F) -> Result<T, HashError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, HashError> + Send + 'static,
{
    let _slot = tokio::time::timeout(SLOT_WAIT, HASHING_SLOTS.acquire())
        .await
        .map_err(|_| HashError::Busy)?
        .map_err(|e| HashError::Failed(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HashError::Failed(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verifies_and_records_its_parameters() -> Result<(), HashError> {
        let phc = hash(SecretString::from("correct horse battery".to_owned())).await?;
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            verify(
                SecretString::from("correct horse battery".to_owned()),
                phc.clone()
            )
            .await?
        );
        assert!(!verify(SecretString::from("wrong horse battery".to_owned()), phc).await?);
        assert!(!verify(SecretString::from("x".to_owned()), "not a hash".to_owned()).await?);
        Ok(())
    }
}
