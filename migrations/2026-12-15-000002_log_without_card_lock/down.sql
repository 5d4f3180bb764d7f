DROP TRIGGER cards_never_truncated ON cards;
DROP TRIGGER cards_never_deleted ON cards;
DROP FUNCTION cards_refuse_delete();
ALTER TABLE verifications ADD CONSTRAINT verifications_card_id_fkey
    FOREIGN KEY (card_id) REFERENCES cards (id);
