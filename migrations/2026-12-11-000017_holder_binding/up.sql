-- Holder binding (issue 18): a holder binds a card to a key of their wallet with a proof of
-- possession over a nonce of ours, and credentials fetched afterwards name that key in
-- `cnf.jwk`, so a verifier can ask for a key-binding JWT a photographed QR code cannot make.

-- Nonces for proofs (`POST /api/v1/nonce`): single use, bound to the account that asked, five
-- minutes at most. Only the SHA-256 of a nonce is stored: a database reader cannot use one.
-- `used_at` is set by the one UPDATE that consumes a nonce, so two requests racing on it (on
-- any instance) get one success; expired rows are swept.
CREATE TABLE holder_nonces (
    nonce_hash TEXT PRIMARY KEY CHECK (nonce_hash ~ '^[0-9a-f]{64}$'),
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX holder_nonces_expires_at_idx ON holder_nonces (expires_at);

-- The bound key: the public JWK (no personal data), its RFC 7638 thumbprint and when it was
-- bound; all three or none. Rebinding replaces them.
ALTER TABLE cards
    ADD COLUMN holder_jwk          JSONB,
    ADD COLUMN holder_jkt          TEXT,
    ADD COLUMN holder_key_bound_at TIMESTAMPTZ,
    ADD CONSTRAINT cards_holder_key_complete CHECK (
        (holder_jwk IS NULL) = (holder_jkt IS NULL)
        AND (holder_jkt IS NULL) = (holder_key_bound_at IS NULL)
    );
