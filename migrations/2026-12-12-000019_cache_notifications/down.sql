DROP TRIGGER cache_changed ON policy_documents;
DROP TRIGGER cache_changed ON issuers;
DROP TRIGGER cache_changed ON scheme_issuers;
DROP TRIGGER cache_changed ON issuer_keys;
DROP TRIGGER cache_changed ON agency_clients;
DROP TRIGGER cache_changed ON agencies;
DROP FUNCTION talentcard_cache_changed();
