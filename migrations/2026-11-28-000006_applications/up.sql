-- Applications from draft to decision, their evidence, the cards approval issues, and
-- idempotency records for decision (and later redemption) requests.

CREATE TABLE applications (
    id                 UUID PRIMARY KEY,
    talent_id          UUID NOT NULL REFERENCES accounts (id),
    scheme             TEXT NOT NULL,
    issuer             TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN
                           ('draft', 'submitted', 'supplement_requested', 'approved', 'rejected', 'withdrawn')),
    -- Facts carry salaries and tax (personal data): sealed with AES-256-GCM under `key_id`,
    -- bound to the application id. So is the evaluation trace, which quotes them.
    facts              BYTEA NOT NULL,
    key_id             TEXT NOT NULL,
    -- The latest evaluation, made at submission.
    suggested_tier     TEXT,
    eligible           BOOLEAN,
    rules_version      INTEGER,
    evaluation_trace   BYTEA,
    submitted_at       TIMESTAMPTZ,
    review_due         DATE,
    -- The decision, or the open supplement request.
    decision           TEXT CHECK (decision IN ('approve', 'reject', 'request_supplement')),
    decided_tier       TEXT,
    reason_code        TEXT,
    decision_comment   TEXT,
    supplement_items   JSONB,
    decided_by         UUID REFERENCES accounts (id),
    decided_at         TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    -- The issuer must issue the scheme.
    FOREIGN KEY (scheme, issuer) REFERENCES scheme_issuers (scheme, issuer)
);

-- One open application per talent and scheme.
CREATE UNIQUE INDEX applications_one_open_idx ON applications (talent_id, scheme)
    WHERE status IN ('draft', 'submitted', 'supplement_requested');
-- The officials' queue: an issuer's applications by status, oldest submission first.
CREATE INDEX applications_queue_idx ON applications (issuer, status, submitted_at, id);
-- The whole queue (no status filter), oldest submission first.
CREATE INDEX applications_issuer_submitted_idx ON applications (issuer, submitted_at, id)
    WHERE submitted_at IS NOT NULL;
CREATE INDEX applications_talent_idx ON applications (talent_id, created_at DESC, id);

-- Evidence. The content is sealed (AES-256-GCM) like other personal data.
CREATE TABLE application_documents (
    id             UUID PRIMARY KEY,
    application_id UUID NOT NULL REFERENCES applications (id),
    filename       TEXT NOT NULL,
    content_type   TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size           INTEGER NOT NULL CHECK (size > 0 AND size <= 10485760),
    sha256         TEXT NOT NULL,
    content        BYTEA NOT NULL,
    key_id         TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX application_documents_application_idx ON application_documents (application_id, created_at);

-- Serials per issuer and year, handed out under a row lock.
CREATE TABLE card_serials (
    issuer TEXT NOT NULL REFERENCES issuers (code),
    year   INTEGER NOT NULL,
    last   BIGINT NOT NULL,
    PRIMARY KEY (issuer, year)
);

CREATE TABLE cards (
    id             UUID PRIMARY KEY,
    number         TEXT NOT NULL UNIQUE,
    -- One card per approved application, whatever races.
    application_id UUID NOT NULL UNIQUE REFERENCES applications (id),
    holder_id      UUID NOT NULL REFERENCES accounts (id),
    scheme         TEXT NOT NULL REFERENCES schemes (code),
    issuer         TEXT NOT NULL REFERENCES issuers (code),
    tier           TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    valid_from     DATE NOT NULL,
    valid_until    DATE NOT NULL CHECK (valid_until > valid_from),
    issued_at      TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (scheme, tier) REFERENCES scheme_tiers (scheme, code)
);
CREATE INDEX cards_holder_idx ON cards (holder_id);
CREATE INDEX cards_issuer_idx ON cards (issuer, issued_at);

-- The first answer to a request carrying an Idempotency-Key, per caller.
CREATE TABLE idempotency_keys (
    principal    TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
