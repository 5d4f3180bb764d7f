ALTER TABLE status_lists
    DROP COLUMN stamped_at,
    DROP COLUMN stamped_version,
    DROP COLUMN version;
ALTER TABLE issuer_keys DROP CONSTRAINT issuer_keys_compromised_at_check;
ALTER TABLE issuer_keys DROP COLUMN compromised_at;
DROP TABLE card_credentials;
