-- Card schemes, their issuers and tiers, and their eligibility rules as versioned,
-- effective-dated documents. A published version is never changed: a new one is added.
CREATE TABLE schemes (
    code        TEXT PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_]{1,15}$'),
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    review_days INTEGER NOT NULL DEFAULT 10 CHECK (review_days BETWEEN 1 AND 90),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE scheme_issuers (
    scheme TEXT NOT NULL REFERENCES schemes (code),
    issuer TEXT NOT NULL REFERENCES issuers (code),
    PRIMARY KEY (scheme, issuer)
);

-- Rank 1 is the highest tier.
CREATE TABLE scheme_tiers (
    scheme         TEXT NOT NULL REFERENCES schemes (code),
    code           TEXT NOT NULL CHECK (code ~ '^[A-Z][A-Z0-9]{0,7}$'),
    name           TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    rank           INTEGER NOT NULL CHECK (rank > 0),
    validity_years INTEGER NOT NULL CHECK (validity_years BETWEEN 1 AND 10),
    PRIMARY KEY (scheme, code),
    UNIQUE (scheme, rank)
);

CREATE TABLE rule_sets (
    scheme         TEXT NOT NULL REFERENCES schemes (code),
    version        INTEGER NOT NULL CHECK (version > 0),
    effective_from DATE NOT NULL,
    document       JSONB NOT NULL,
    published_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_by   TEXT NOT NULL,
    PRIMARY KEY (scheme, version)
);
CREATE INDEX rule_sets_in_force_idx ON rule_sets (scheme, effective_from DESC, version DESC);

CREATE FUNCTION rule_sets_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'rule_sets are immutable: publish a new version'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER rule_sets_immutable BEFORE UPDATE OR DELETE ON rule_sets
    FOR EACH ROW EXECUTE FUNCTION rule_sets_refuse_change();
