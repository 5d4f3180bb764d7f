-- Reverting forgets the MACs: the chain is then verified by plain SHA-256 alone again.
ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_key_and_mac_together,
    DROP COLUMN mac,
    DROP COLUMN key_id;
