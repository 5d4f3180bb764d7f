-- Several status lists per issuer: one list holds 131,072 cards, and an issuer of a region of
-- tens of millions needs more. A card's status_index stays unique per issuer; list
-- status_index / 131072 holds it at entry status_index % 131072.
ALTER TABLE status_lists DROP CONSTRAINT status_lists_pkey;
ALTER TABLE status_lists ADD COLUMN list_no INTEGER NOT NULL DEFAULT 0 CHECK (list_no >= 0);
ALTER TABLE status_lists ALTER COLUMN list_no DROP DEFAULT;
ALTER TABLE status_lists ADD PRIMARY KEY (issuer, list_no);
