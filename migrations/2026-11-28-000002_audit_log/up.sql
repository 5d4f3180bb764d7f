-- The tamper-evident audit log. Each row carries the hash of the row before it and a hash over
-- its own canonical content; `audit_chain_head` holds the newest link so that a deleted tail is
-- noticed and so that concurrent writers serialise on one row lock instead of forking the chain.
CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY CHECK (seq > 0),
    occurred_at   TIMESTAMPTZ NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    entity_type   TEXT NOT NULL,
    entity_id     TEXT,
    detail        JSONB NOT NULL DEFAULT '{}'::jsonb,
    detail_digest TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE
);

CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor);
CREATE INDEX audit_log_occurred_at_idx ON audit_log (occurred_at);

CREATE TABLE audit_chain_head (
    id        BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);

-- The genesis link: 64 zeros stand for "no previous row".
INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (TRUE, 0, repeat('0', 64));

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
