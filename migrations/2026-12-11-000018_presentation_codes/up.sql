-- Holder binding without a wallet, and the agencies' challenges for holders with one (issue 18).
--
-- A dynamic presentation code proves that the person at the counter holds the card now: the
-- holder's app asks for one, shows it as a QR code, and an agency verifies it once within a
-- minute or so. Only the SHA-256 (hex) of the code is stored, never the code: it has 130 random
-- bits, so a fast hash is enough and a database reader cannot present a code. A code is consumed
-- by one UPDATE (used_at IS NULL and not expired), so two agencies or two instances racing on
-- one code yield one success; the row stays until the sweep so that a second scan answers
-- `replayed` and a late one `code_expired`, not `unknown`.
CREATE TABLE presentation_codes (
    code_hash      TEXT PRIMARY KEY,
    card_id        UUID NOT NULL REFERENCES cards (id),
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    used_at        TIMESTAMPTZ,
    -- The agency that verified it (the holder's log of verifications names it too).
    used_by_agency UUID REFERENCES agencies (id),
    CONSTRAINT presentation_codes_expire_after_creation CHECK (expires_at > created_at),
    CONSTRAINT presentation_codes_use_complete CHECK ((used_at IS NULL) = (used_by_agency IS NULL))
);
-- The periodic sweep deletes by expiry, in batches.
CREATE INDEX presentation_codes_expires_at_idx ON presentation_codes (expires_at);
CREATE INDEX presentation_codes_card_idx ON presentation_codes (card_id);

-- Nonces an agency hands a holder's wallet to sign into its key-binding JWT: single use, bound
-- to the agency that asked for it, alive 300 s at most. Stored as SHA-256 (hex) like the codes;
-- consumed by one UPDATE, so a nonce replayed to two instances at once succeeds once.
CREATE TABLE verification_nonces (
    nonce_hash TEXT PRIMARY KEY,
    agency_id  UUID NOT NULL REFERENCES agencies (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    CONSTRAINT verification_nonces_expire_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX verification_nonces_expires_at_idx ON verification_nonces (expires_at);
