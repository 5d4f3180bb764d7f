-- Login throttle keys of accounts were an unsalted SHA-256 of the email, so a database reader
-- could confirm an email. They are now an HMAC under the configured blind-index key; the old
-- rows cannot be rekeyed (emails are not stored with them) and hold only throttle state.
DELETE FROM login_throttles WHERE key LIKE 'account:%';

-- Failures are now counted per (account, address) as well: such a row remembers when the
-- account last signed in fully from that address, which lets the owner past the account-wide
-- ceiling that stops distributed guessing.
ALTER TABLE login_throttles ADD COLUMN last_success_at TIMESTAMPTZ;

-- The periodic sweep deletes by age, in small batches; these keep each batch an index scan.
CREATE INDEX login_throttles_hour_started_idx ON login_throttles (hour_started);
CREATE INDEX address_rate_windows_window_start_idx ON address_rate_windows (window_start);
CREATE INDEX agency_rate_windows_window_start_idx ON agency_rate_windows (window_start);
CREATE INDEX agency_unknown_windows_window_start_idx ON agency_unknown_windows (window_start);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
