-- Every person or system that signs in: talent, officials (bound to one issuer), partner-agency
-- staff and administrators. Emails are stored normalised (trimmed, lower case).
CREATE TABLE accounts (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE CHECK (email = lower(btrim(email)) AND email <> ''),
    password_hash TEXT NOT NULL,
    full_name     TEXT NOT NULL CHECK (char_length(full_name) BETWEEN 1 AND 200),
    role          TEXT NOT NULL CHECK (role IN ('talent', 'official', 'agency', 'admin')),
    issuer        TEXT REFERENCES issuers (code),
    disabled_at   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT accounts_official_has_issuer CHECK ((role = 'official') = (issuer IS NOT NULL))
);

SELECT diesel_manage_updated_at('accounts');
