-- The holder's log names the card it checked without a foreign key. PostgreSQL checks a
-- foreign key by locking the referenced row (`SELECT … FOR KEY SHARE`) for every row inserted:
-- each logged check wrote a lock on a random card row, dirtying its page and writing WAL for
-- it (a full page image after each checkpoint), and a backend that later evicted the page had
-- to flush that WAL first. The log's card id comes from the lookup the same check made, and
-- cards are never deleted (revoked, superseded or expired, they stay on record): the trigger
-- below refuses a delete, which is what the key guarded against.
ALTER TABLE verifications DROP CONSTRAINT verifications_card_id_fkey;

CREATE FUNCTION cards_refuse_delete() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cards are never deleted: revoke the card instead'
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cards_never_deleted BEFORE DELETE ON cards
    FOR EACH ROW EXECUTE FUNCTION cards_refuse_delete();
CREATE TRIGGER cards_never_truncated BEFORE TRUNCATE ON cards
    FOR EACH STATEMENT EXECUTE FUNCTION cards_refuse_delete();
