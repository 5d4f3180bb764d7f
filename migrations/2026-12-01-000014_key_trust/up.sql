-- Keys vouch only for what they signed. Every credential served is recorded with the key that
-- signed it, so a retired key verifies exactly the credentials recorded for it (online) and
-- never past the latest expiry of what it signed (offline, `not_after` in the trust list), and
-- a key stays published while a credential it signed is in force. Any key, active or retired,
-- can be marked compromised. Status lists carry an exact publication stamp that strictly
-- increases with every published change, so offline verifiers can order them.

CREATE TABLE card_credentials (
    card_id         UUID NOT NULL REFERENCES cards (id),
    kid             TEXT NOT NULL REFERENCES issuer_keys (kid),
    -- The credential's `iat` and `exp`, exactly as signed (credentials are deterministic).
    iat             TIMESTAMPTZ NOT NULL,
    exp             TIMESTAMPTZ NOT NULL,
    first_served_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (card_id, kid)
);
-- What keeps a retired key published: the latest expiry of what it signed.
CREATE INDEX card_credentials_kid_exp_idx ON card_credentials (kid, exp);

-- Credentials served before this migration were not recorded: any key of the card's issuer
-- that was in force (not compromised) between the card's issue and now may have signed one,
-- with `iat` the card's issue time and `exp` the end of its last day (Beijing time), as the
-- signer then made them. Recording them all keeps every credential in holders' hands valid.
INSERT INTO card_credentials (card_id, kid, iat, exp, first_served_at)
SELECT c.id, k.kid,
       date_trunc('second', c.issued_at),
       ((c.valid_until + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'),
       c.issued_at
  FROM cards c
  JOIN issuer_keys k ON k.issuer = c.issuer
 WHERE k.status <> 'compromised'
   AND (k.retired_at IS NULL OR k.retired_at >= c.issued_at);

ALTER TABLE issuer_keys ADD COLUMN compromised_at TIMESTAMPTZ;
UPDATE issuer_keys SET compromised_at = retired_at WHERE status = 'compromised';
ALTER TABLE issuer_keys ADD CONSTRAINT issuer_keys_compromised_at_check
    CHECK ((status = 'compromised') = (compromised_at IS NOT NULL));

-- `version` counts changes of the bits; `stamped_at` is the publication stamp of
-- `stamped_version`: a publication of a changed (or aging) list takes a new stamp, at least
-- one millisecond after the previous one, in the same statement that reads the bits, so one
-- stamp always names one content.
ALTER TABLE status_lists
    ADD COLUMN version         BIGINT NOT NULL DEFAULT 1,
    ADD COLUMN stamped_version BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN stamped_at      TIMESTAMPTZ NOT NULL DEFAULT 'epoch';
