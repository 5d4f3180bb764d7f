-- Requests per client address per window, for flows that need no account and must not be
-- scripted at scale (registration). In PostgreSQL, so every instance counts together.
CREATE TABLE address_rate_windows (
    key          TEXT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
