-- Identity and access: staff MFA, sessions with rotating refresh tokens, login throttling,
-- talent profiles with encrypted ID numbers, partner agencies and their API clients.

ALTER TABLE accounts
    ADD COLUMN mfa_secret        BYTEA,
    ADD COLUMN mfa_key_id        TEXT,
    ADD COLUMN mfa_confirmed_at  TIMESTAMPTZ,
    -- The TOTP time step last accepted: a code is accepted once.
    ADD COLUMN mfa_last_step     BIGINT,
    -- Wrong codes within the 30-second step `mfa_failed_step`.
    ADD COLUMN mfa_failed_step   BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN mfa_failed_count  INTEGER NOT NULL DEFAULT 0,
    ADD CONSTRAINT accounts_mfa_secret_has_key CHECK ((mfa_secret IS NULL) = (mfa_key_id IS NULL));

-- A sign-in: the family of refresh tokens descending from one login. Access tokens name their
-- session, so revoking it (logout, reuse, disabling the account) ends them at once.
CREATE TABLE sessions (
    id             UUID PRIMARY KEY,
    account_id     UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL,
    last_used_at   TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoked_reason TEXT
);
CREATE INDEX sessions_account_idx ON sessions (account_id);

-- Refresh tokens are stored as SHA-256 hashes; `used_at` marks one rotated away.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Failed-login counters per account (keyed by a hash of the email, known or not) and per
-- client address, shared by every instance.
CREATE TABLE login_throttles (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL DEFAULT 0,
    hour_started  TIMESTAMPTZ NOT NULL,
    hour_failures INTEGER NOT NULL DEFAULT 0,
    locked_until  TIMESTAMPTZ
);

-- A talent's identity document. The number is AES-256-GCM encrypted under `id_number_key_id`;
-- `id_number_index` is an HMAC blind index so one document cannot hold two accounts.
CREATE TABLE profiles (
    account_id           UUID PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    id_type              TEXT NOT NULL CHECK (id_type IN ('resident_id', 'passport')),
    id_number_ciphertext BYTEA NOT NULL,
    id_number_key_id     TEXT NOT NULL,
    id_number_index      TEXT NOT NULL UNIQUE,
    id_number_masked     TEXT NOT NULL,
    phone_ciphertext     BYTEA,
    phone_masked         TEXT,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
SELECT diesel_manage_updated_at('profiles');

CREATE TABLE agencies (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    district   TEXT NOT NULL REFERENCES districts (code),
    services   TEXT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- API clients of an agency: the secret is 256 random bits, stored as its SHA-256.
CREATE TABLE agency_clients (
    id          UUID PRIMARY KEY,
    agency_id   UUID NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX agency_clients_agency_idx ON agency_clients (agency_id);
