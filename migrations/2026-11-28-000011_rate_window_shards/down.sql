ALTER TABLE agency_rate_windows DROP CONSTRAINT agency_rate_windows_pkey;
DELETE FROM agency_rate_windows WHERE shard > 0;
ALTER TABLE agency_rate_windows DROP COLUMN shard;
ALTER TABLE agency_rate_windows ADD PRIMARY KEY (agency_id, window_start);
