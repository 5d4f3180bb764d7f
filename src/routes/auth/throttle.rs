//! Who may try to sign in, and what an attempt costs them: the limits of the sign-in flow.
//!
//! Failures count per (account, address), per address and, under an hourly ceiling, per account
//! ([`crate::domain::throttle`] holds the rules). Attempts with the right password count too, per
//! account and per address in fixed windows, because each costs an argon2 verification: a
//! client's own sign-in storm must not slow everybody else's. The keys name the account by an
//! HMAC of the email under the configured blind-index key, so a database reader cannot confirm
//! an email by hashing it, and lockouts say nothing about which emails exist.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use diesel_async::AsyncPgConnection;

use crate::crypto::pii::PiiCipher;
use crate::domain::throttle::{
    PER_ACCOUNT_ADDRESS, PER_ADDRESS, ThrottlePolicy, account_ceiling, address_bucket,
    is_known_address,
};
use crate::error::{ApiError, ErrorCode};
use crate::models::address_rate;
use crate::models::throttle::{self, Settlement};
use crate::state::AppState;

/// The blind-index domain of throttle keys (distinct from ID numbers' domains).
const KEY_DOMAIN: &str = "login_throttle";

/// The throttle keys of one attempt.
pub struct Keys {
    /// `account:<hmac>`: the account-wide ceiling.
    account: String,
    /// `pair:<hmac>:<address>`: the failure streak of this account from this address.
    pair: String,
    /// `address:<address>`: failures of this address at any account.
    address: Option<String>,
    /// `login_account:<hmac>`: right passwords of this account, hourly windows.
    successes_account: String,
    /// `login_address:<address>`: right passwords from this address, minute windows.
    successes_address: Option<String>,
}

/// The keys of every throttle row an account can have, for the staff unlock path.
pub struct AccountKeys {
    /// Exact keys in `login_throttles`.
    pub throttles: Vec<String>,
    /// Prefixes of its (account, address) keys.
    pub pair_prefixes: Vec<String>,
    /// Its key in `address_rate_windows`.
    pub successes: String,
}

fn account_hash(pii: &PiiCipher, email: &str) -> String {
    pii.blind_index(KEY_DOMAIN, email)
}

/// The keys of an attempt at `email` (normalised, known or not) from `client`.
pub fn keys(pii: &PiiCipher, email: &str, client: Option<IpAddr>) -> Keys {
    let hash = account_hash(pii, email);
    let bucket = client.map(address_bucket);
    Keys {
        account: format!("account:{hash}"),
        pair: format!(
            "pair:{hash}:{}",
            bucket.as_deref().unwrap_or("unknown-address")
        ),
        address: bucket.as_ref().map(|b| format!("address:{b}")),
        successes_account: format!("login_account:{hash}"),
        successes_address: bucket.map(|b| format!("login_address:{b}")),
    }
}

/// Every key of the account with `email`, for clearing them all.
pub fn account_keys(pii: &PiiCipher, email: &str) -> AccountKeys {
    let hash = account_hash(pii, email);
    AccountKeys {
        throttles: vec![format!("account:{hash}")],
        pair_prefixes: vec![format!("pair:{hash}:")],
        successes: format!("login_account:{hash}"),
    }
}

/// 429 `rate_limited` with `Retry-After` rounded up to whole seconds.
pub fn throttled(wait: TimeDelta, detail: &'static str) -> ApiError {
    let seconds = u64::try_from(wait.num_milliseconds().div_euclid(1000) + 1).unwrap_or(1);
    ApiError::new(ErrorCode::RateLimited, detail).with_retry_after(seconds.max(1))
}

const TOO_MANY_FAILURES: &str = "too many failed attempts; wait before trying again";
const TOO_MANY_SIGN_INS: &str = "too many sign-ins; wait before signing in again";

fn ceiling(state: &AppState) -> ThrottlePolicy {
    account_ceiling(state.auth.login_failures_per_account_hour)
}

/// Admits an attempt or answers 429, before any argon2 work is spent on it.
///
/// The address is only checked here and charged on failure (an office behind one NAT signs in
/// many people). The (account, address) pair and the account are reserved under their row locks
/// as failures until [`settle`], so parallel guesses cannot outrun either. The account ceiling
/// stops only addresses the account has not signed in from lately: the owner at home passes while
/// a botnet keeps it full.
pub async fn admit(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    keys: &Keys,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if let Some(address) = &keys.address
        && let Some(wait) = throttle::blocked_for(conn, address, PER_ADDRESS, now).await?
    {
        return Err(throttled(wait, TOO_MANY_FAILURES));
    }
    check_sign_in_rate(state, conn, keys, now).await?;
    let known = is_known_address(throttle::last_sign_in(conn, &keys.pair).await?, now);
    if known {
        throttle::record_failure(conn, &keys.account, ceiling(state), now).await?;
    } else if let Err(wait) = throttle::reserve(conn, &keys.account, ceiling(state), now).await? {
        return Err(throttled(wait, TOO_MANY_FAILURES));
    }
    if let Err(wait) = throttle::reserve(conn, &keys.pair, PER_ACCOUNT_ADDRESS, now).await? {
        let refund = Settlement::Refund;
        throttle::settle(conn, &keys.account, ceiling(state), refund, now).await?;
        return Err(throttled(wait, TOO_MANY_FAILURES));
    }
    Ok(())
}

/// 429 when the account's or the address's window of right passwords is already full.
async fn check_sign_in_rate(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    keys: &Keys,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    for (key, limit, window) in sign_in_windows(state, keys) {
        let (count, ends) = address_rate::peek(conn, key, window, now).await?;
        if count >= limit {
            return Err(throttled(ends - now, TOO_MANY_SIGN_INS));
        }
    }
    Ok(())
}

fn sign_in_windows<'k>(state: &AppState, keys: &'k Keys) -> Vec<(&'k str, i32, TimeDelta)> {
    let auth = &state.auth;
    let mut windows = vec![(
        keys.successes_account.as_str(),
        auth.logins_per_account_hour,
        TimeDelta::hours(1),
    )];
    if let Some(address) = &keys.successes_address {
        windows.push((
            address.as_str(),
            auth.logins_per_address_minute,
            TimeDelta::minutes(1),
        ));
    }
    windows.retain(|(_, limit, _)| *limit > 0);
    windows
}

/// The password was right: the reserved attempts are settled (`signed_in` when the sign-in
/// completed, which vouches for this address from now on) and the right password is counted
/// against the account's and the address's windows.
pub async fn settle(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    keys: &Keys,
    signed_in: bool,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let settlement = if signed_in {
        Settlement::SignedIn
    } else {
        Settlement::Reset
    };
    throttle::settle(conn, &keys.pair, PER_ACCOUNT_ADDRESS, settlement, now).await?;
    throttle::settle(conn, &keys.account, ceiling(state), Settlement::Reset, now).await?;
    for (key, _, window) in sign_in_windows(state, keys) {
        address_rate::take(conn, key, window, now).await?;
    }
    Ok(())
}

/// A failed attempt: the pair's and the account's were counted by their reservations, the
/// address's is counted now. Returns the lockout it caused, if any (`"address"` when this
/// address is now locked out of the account, `"account"` when the ceiling is reached).
pub async fn record_failure(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    keys: &Keys,
    now: DateTime<Utc>,
) -> Result<Option<(&'static str, TimeDelta)>, ApiError> {
    if let Some(address) = &keys.address {
        throttle::record_failure(conn, address, PER_ADDRESS, now).await?;
    }
    if let Some(wait) = throttle::blocked_for(conn, &keys.pair, PER_ACCOUNT_ADDRESS, now).await? {
        return Ok(Some(("address", wait)));
    }
    let wait = throttle::blocked_for(conn, &keys.account, ceiling(state), now).await?;
    Ok(wait.map(|wait| ("account", wait)))
}

/// Attempts at most `limit` a window per `key` (0: no limit): counts this one, 429 with
/// `Retry-After` to the window's end beyond it. For endpoints that cost little each but must
/// not be hammered (refresh, the client-credentials grant).
pub async fn take_or_refuse(
    conn: &mut AsyncPgConnection,
    key: &str,
    limit: i32,
    window: TimeDelta,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if limit <= 0 {
        return Ok(());
    }
    let (count, ends) = address_rate::take(conn, key, window, now).await?;
    if count > limit {
        return Err(throttled(ends - now, "too many requests; try again later"));
    }
    Ok(())
}

/// 429 when `key`'s window already holds `limit` (0: no limit), counting nothing: for what
/// only a success is charged for (tokens issued to one client).
pub async fn refuse_if_full(
    conn: &mut AsyncPgConnection,
    key: &str,
    limit: i32,
    window: TimeDelta,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if limit <= 0 {
        return Ok(());
    }
    let (count, ends) = address_rate::peek(conn, key, window, now).await?;
    if count >= limit {
        return Err(throttled(ends - now, "too many requests; try again later"));
    }
    Ok(())
}
