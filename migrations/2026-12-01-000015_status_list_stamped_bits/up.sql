-- Status List Tokens carry `iat` in whole seconds (verifiers compare it with the current second,
-- rounded down), so a list takes at most one stamp a second, never ahead of the clock. A change
-- in the second after a stamp waits for the next second; meanwhile the stamp's own content is
-- served, kept here (the live `bits` may already differ).
ALTER TABLE status_lists ADD COLUMN stamped_bits BYTEA;
-- Stamps taken so far had milliseconds: round them down, so every stamp is a whole second.
UPDATE status_lists SET stamped_at = date_trunc('second', stamped_at), stamped_version = 0;
