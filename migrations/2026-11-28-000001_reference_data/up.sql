-- Reference data: the three provincial-level regions, the districts cards are issued and used in,
-- the issuing authorities, and the catalogue of service categories. Rows come from the data files
-- under config/reference/ and are inserted on start when missing.
CREATE TABLE regions (
    code       TEXT PRIMARY KEY CHECK (code IN ('BJ', 'TJ', 'HE')),
    name       TEXT NOT NULL,
    name_en    TEXT NOT NULL
);

CREATE TABLE districts (
    code       TEXT PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]{1,31}$'),
    name       TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    region     TEXT NOT NULL REFERENCES regions (code)
);

CREATE TABLE issuers (
    code       TEXT PRIMARY KEY CHECK (code ~ '^[A-Z]{2,8}$'),
    name       TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    district   TEXT NOT NULL REFERENCES districts (code),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE service_categories (
    code       TEXT PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]{1,47}$'),
    name       TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    position   INTEGER NOT NULL
);
