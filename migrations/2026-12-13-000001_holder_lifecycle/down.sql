DROP INDEX cards_issuer_valid_until_idx;
DROP TABLE card_changes;
DROP TABLE card_successions;
-- Cards issued without an application (replacements, re-tierings) cannot survive the old
-- constraint.
DELETE FROM cards WHERE application_id IS NULL;
ALTER TABLE cards ALTER COLUMN application_id SET NOT NULL;
