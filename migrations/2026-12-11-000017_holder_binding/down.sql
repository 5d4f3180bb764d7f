ALTER TABLE cards
    DROP CONSTRAINT cards_holder_key_complete,
    DROP COLUMN holder_key_bound_at,
    DROP COLUMN holder_jkt,
    DROP COLUMN holder_jwk;
DROP TABLE holder_nonces;
