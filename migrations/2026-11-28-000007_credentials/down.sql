DROP TABLE status_lists;
ALTER TABLE cards
    DROP CONSTRAINT cards_status_index_unique,
    DROP COLUMN status_changed_at,
    DROP COLUMN status_reason,
    DROP COLUMN status_index,
    DROP COLUMN kid;
DROP TABLE issuer_keys;
