//! Argon2id password hashing on dedicated threads.
//!
//! Hashing costs about 15 ms of one core and 19 MiB. It never runs on an async worker: it runs on
//! a fixed set of hashing threads (cores − 1), and a semaphore caps the work in flight to that
//! many, so a storm of logins cannot take every core from the requests that need none.
//!
//! Why not `spawn_blocking`: the blocking pool grows to many threads, and glibc gives each
//! thread its own heap arena that keeps a freed 19 MiB block for reuse. A login storm spread
//! over 20 blocking threads left the service at 470 MiB resident; on fixed threads the blocks
//! are reused and memory stays bounded at about 19 MiB a thread.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// OWASP's argon2id preset: 19 MiB, two passes, one lane. Stored in every PHC string, so
/// raising them later still verifies old hashes.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Hashing threads: one core is left for everything else.
static SLOTS: LazyLock<usize> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    cores.saturating_sub(1).max(1)
});

static HASHING_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(*SLOTS));

type Job = Box<dyn FnOnce() + Send>;

/// The queue of the hashing threads, `None` when none could be started.
static HASHERS: LazyLock<Option<Sender<Job>>> = LazyLock::new(|| {
    let (jobs, queue) = channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let started = (0..*SLOTS)
        .filter(|i| {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || run_jobs(&queue))
                .inspect_err(|e| tracing::error!(error = %e, "a hashing thread did not start"))
                .is_ok()
        })
        .count();
    (started > 0).then_some(jobs)
});

fn run_jobs(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            // A panicking job drops its answer (its requester gets an error); the thread lives on.
            Ok(job) => {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

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
    let hashers = HASHERS
        .as_ref()
        .ok_or_else(|| HashError::Failed("no hashing thread is running".into()))?;
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // The requester may have gone (a closed connection); its answer is then dropped.
        let _ = done.send(work());
    });
    hashers
        .send(job)
        .map_err(|_| HashError::Failed("the hashing threads stopped".into()))?;
    result
        .await
        .map_err(|_| HashError::Failed("a hashing thread dropped its job".into()))?
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
