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

fn hasher() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string with a fresh random salt.
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    run_bounded(move || {
        let phc = hasher()?
            .hash_password(password.expose_secret().as_bytes())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
        Ok(phc.to_string())
    })
    .await
}

/// Verifies a password against a stored PHC string; `false` for a mismatch or a hash that
/// cannot be parsed.
pub async fn verify(password: SecretString, phc: String) -> anyhow::Result<bool> {
    run_bounded(move || {
        Ok(hasher()?
            .verify_password(password.expose_secret().as_bytes(), phc.as_str())
            .is_ok())
    })
    .await
}

async fn run_bounded<T, F>(work: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> anyhow::Result<T> + Send + 'static,
{
    let _slot = HASHING_SLOTS.acquire().await?;
    tokio::task::spawn_blocking(work).await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verifies_and_records_its_parameters() -> anyhow::Result<()> {
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
