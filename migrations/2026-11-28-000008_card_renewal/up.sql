-- Renewal and upgrade (for example C to B) go through a new application naming the card it
-- replaces; its approval revokes that card with the reason `superseded`.
ALTER TABLE applications ADD COLUMN replaces_card UUID REFERENCES cards (id);
