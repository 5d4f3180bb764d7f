ALTER TABLE applications DROP COLUMN replaces_card;
