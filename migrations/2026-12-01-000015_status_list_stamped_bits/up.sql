-- Status List Tokens carry `iat` in whole seconds (verifiers compare it with the current second,
-- rounded down), so a list takes at most one stamp a second, never ahead of the clock. A change
-- in the second after a stamp waits for the next second; meanwhile the stamp's own content is
-- served, kept here (the live `bits` may already differ).
ALTER TABLE status_lists ADD COLUMN stamped_bits BYTEA;
-- Stamps taken so far had milliseconds: round them down. Where the stamp names the current bits
-- they are its content; otherwise the stamp names nothing kept, and the next publication takes a
-- new one.
UPDATE status_lists
   SET stamped_at = date_trunc('second', stamped_at),
       stamped_bits = CASE WHEN stamped_version = version THEN bits END,
       stamped_version = CASE WHEN stamped_version = version THEN version ELSE 0 END;
-- Whoever takes a stamp (this release, or the previous one still running during a rolling
-- deploy, which knows nothing of this column), the content it names is kept with it.
CREATE FUNCTION status_lists_keep_stamped_bits() RETURNS trigger AS $$
BEGIN
    IF NEW.stamped_at IS DISTINCT FROM OLD.stamped_at THEN
        NEW.stamped_bits := NEW.bits;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER status_lists_keep_stamped_bits BEFORE UPDATE ON status_lists
    FOR EACH ROW EXECUTE FUNCTION status_lists_keep_stamped_bits();
