DROP INDEX sessions_expires_at_idx;
DROP INDEX idempotency_keys_created_at_idx;
DROP INDEX agency_unknown_windows_window_start_idx;
DROP INDEX agency_rate_windows_window_start_idx;
DROP INDEX address_rate_windows_window_start_idx;
DROP INDEX login_throttles_hour_started_idx;
ALTER TABLE login_throttles DROP COLUMN last_success_at;
-- Keyed rows mean nothing to the unsalted scheme; they only held throttle state.
DELETE FROM login_throttles WHERE key LIKE 'account:%' OR key LIKE 'pair:%';
