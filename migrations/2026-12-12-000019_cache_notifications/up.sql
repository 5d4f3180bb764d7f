-- Instances keep agency clients, issuer keys, issuer districts and the policies in force in
-- memory (src/state/invalidation.rs). Every statement that changes one of those tables, from
-- the service, the CLI or an operator's psql, notifies channel `talentcard_cache` with the
-- table's name; PostgreSQL delivers it to every listening instance when the transaction
-- commits (and never for one that rolls back), so each drops its copies within milliseconds.
CREATE FUNCTION talentcard_cache_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('talentcard_cache', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER cache_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agencies
    FOR EACH STATEMENT EXECUTE FUNCTION talentcard_cache_changed();
CREATE TRIGGER cache_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agency_clients
    FOR EACH STATEMENT EXECUTE FUNCTION talentcard_cache_changed();
CREATE TRIGGER cache_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON issuer_keys
    FOR EACH STATEMENT EXECUTE FUNCTION talentcard_cache_changed();
CREATE TRIGGER cache_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scheme_issuers
    FOR EACH STATEMENT EXECUTE FUNCTION talentcard_cache_changed();
CREATE TRIGGER cache_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON issuers
    FOR EACH STATEMENT EXECUTE FUNCTION talentcard_cache_changed();
CREATE TRIGGER cache_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policy_documents
    FOR EACH STATEMENT EXECUTE FUNCTION talentcard_cache_changed();
