-- An agency's verifications all updated one counter row per minute, so concurrent checks of one
-- busy agency queued on its lock. Each check now bumps one of several shard rows; the limit is
-- checked against their sum.
ALTER TABLE agency_rate_windows ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0 CHECK (shard >= 0);
ALTER TABLE agency_rate_windows ALTER COLUMN shard DROP DEFAULT;
ALTER TABLE agency_rate_windows DROP CONSTRAINT agency_rate_windows_pkey;
ALTER TABLE agency_rate_windows ADD PRIMARY KEY (agency_id, window_start, shard);
