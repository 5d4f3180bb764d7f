-- Cards as signed credentials: issuer signing keys, each card's place in its issuer's status
-- list, and the status lists themselves (2 bits a card: 0 valid, 1 revoked, 2 suspended).

CREATE TABLE issuer_keys (
    kid                TEXT PRIMARY KEY,
    issuer             TEXT NOT NULL REFERENCES issuers (code),
    -- The raw 32-byte Ed25519 public key.
    public_key         BYTEA NOT NULL CHECK (octet_length(public_key) = 32),
    -- The 32-byte seed, sealed with AES-256-GCM under a key from configuration (bound to kid).
    private_key_sealed BYTEA NOT NULL,
    key_id             TEXT NOT NULL,
    -- retired: verifies what it signed until those cards expire; compromised: withdrawn at once.
    status             TEXT NOT NULL CHECK (status IN ('active', 'retired', 'compromised')),
    created_at         TIMESTAMPTZ NOT NULL,
    retired_at         TIMESTAMPTZ
);
-- One active key per issuer.
CREATE UNIQUE INDEX issuer_keys_one_active_idx ON issuer_keys (issuer) WHERE status = 'active';

ALTER TABLE cards
    ADD COLUMN kid            TEXT REFERENCES issuer_keys (kid),
    ADD COLUMN status_index   INTEGER CHECK (status_index >= 0),
    ADD COLUMN status_reason  TEXT,
    ADD COLUMN status_changed_at TIMESTAMPTZ,
    ADD CONSTRAINT cards_status_index_unique UNIQUE (issuer, status_index);

CREATE TABLE status_lists (
    issuer     TEXT PRIMARY KEY REFERENCES issuers (code),
    -- 2 bits an entry, entry i in byte i / 4 at bit offset 2 * (i % 4) (IETF Token Status List).
    bits       BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
