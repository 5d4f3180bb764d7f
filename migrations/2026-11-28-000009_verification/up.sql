-- Partner verification: recognition and entitlement rules as versioned documents, the record of
-- every verification (the holder can read it), and service redemptions against quotas.

CREATE TABLE policy_documents (
    kind           TEXT NOT NULL CHECK (kind IN ('recognitions', 'entitlements')),
    version        INTEGER NOT NULL CHECK (version > 0),
    effective_from DATE NOT NULL,
    document       JSONB NOT NULL,
    published_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_by   TEXT NOT NULL,
    PRIMARY KEY (kind, version)
);

CREATE FUNCTION policy_documents_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'policy documents are immutable: publish a new version'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER policy_documents_immutable BEFORE UPDATE OR DELETE ON policy_documents
    FOR EACH ROW EXECUTE FUNCTION policy_documents_refuse_change();

CREATE TABLE verifications (
    id          UUID PRIMARY KEY,
    card_id     UUID REFERENCES cards (id),
    agency_id   UUID NOT NULL REFERENCES agencies (id),
    district    TEXT NOT NULL,
    method      TEXT NOT NULL CHECK (method IN ('card_number', 'credential')),
    valid       BOOLEAN NOT NULL,
    status      TEXT NOT NULL,
    local_tier  TEXT,
    verified_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX verifications_card_idx ON verifications (card_id, verified_at DESC);
CREATE INDEX verifications_agency_idx ON verifications (agency_id, verified_at);

-- Verifications per agency per minute: one counter row per window, incremented in place, so the
-- limit costs one upsert however many checks the agency makes.
CREATE TABLE agency_rate_windows (
    agency_id    UUID NOT NULL REFERENCES agencies (id),
    window_start TIMESTAMPTZ NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (agency_id, window_start)
);

CREATE TABLE redemptions (
    id          UUID PRIMARY KEY,
    card_id     UUID NOT NULL REFERENCES cards (id),
    agency_id   UUID NOT NULL REFERENCES agencies (id),
    district    TEXT NOT NULL,
    service     TEXT NOT NULL,
    -- Which quota period the redemption counts against ("2026", "2026-11", "lifetime", …).
    period_key  TEXT NOT NULL,
    redeemed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX redemptions_quota_idx ON redemptions (card_id, district, service, period_key);
