-- The audit chain becomes keyed outside the database: every new row carries an HMAC-SHA-256 of
-- its hash under a key the service reads from its configuration (TALENTCARD__SECRETS__AUDIT_HMAC_KEY)
-- and the id of that key. A database writer who deletes a row and re-chains the rest with plain
-- SHA-256 cannot recompute the MACs, so `talentcard audit verify` names the first re-chained row.
--
-- Rows written before this migration keep NULL here and are verified by the old rule: the first
-- keyed row's hash covers their last hash, so they are anchored by it. The service writes that
-- anchor row (`audit.keyed`) at start-up; no secret is needed by this migration.
ALTER TABLE audit_log
    ADD COLUMN key_id TEXT,
    ADD COLUMN mac    TEXT,
    ADD CONSTRAINT audit_log_key_and_mac_together CHECK ((key_id IS NULL) = (mac IS NULL));
