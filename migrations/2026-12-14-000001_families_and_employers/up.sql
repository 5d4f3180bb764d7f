-- Families and employers (issue 21).
--
-- Employers (用人单位) are registered by administrators with their unified social credit code;
-- their accounts (role `employer`) endorse the applications that name that code. An
-- application naming a registered employer waits in `awaiting_employer` (not in the officials'
-- queue) until the employer confirms or declines.
--
-- Dependant cards (附属卡): an application of kind `dependant` names the principal card; the
-- dependant's identity document is sealed and blind-indexed like a profile's. Its card is of
-- kind `dependant`, held by the principal's holder, and follows the principal card in every
-- status change (models::dependant_cascade).

ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('talent', 'official', 'agency', 'admin', 'employer'));

CREATE TABLE employers (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    -- GB 32100 unified social credit code, checked (check character) before it is stored.
    credit_code TEXT NOT NULL UNIQUE,
    district    TEXT NOT NULL REFERENCES districts (code),
    created_at  TIMESTAMPTZ NOT NULL
);

-- Which employer an account of role `employer` speaks for (one each).
CREATE TABLE employer_accounts (
    account_id  UUID PRIMARY KEY REFERENCES accounts (id),
    employer_id UUID NOT NULL REFERENCES employers (id)
);
CREATE INDEX employer_accounts_employer_idx ON employer_accounts (employer_id);

ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check CHECK (status IN
    ('draft', 'awaiting_employer', 'submitted', 'supplement_requested', 'approved', 'rejected',
     'withdrawn'));
ALTER TABLE applications
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'principal' CHECK (kind IN ('principal', 'dependant')),
    ADD COLUMN principal_card UUID REFERENCES cards (id),
    -- The credit code of `facts.employer`, in clear (a company's public identifier, not personal
    -- data): employers list the applications naming them by it.
    ADD COLUMN employer_credit_code TEXT,
    ADD COLUMN employer_endorsement TEXT
        CHECK (employer_endorsement IN ('pending', 'confirmed', 'declined', 'unavailable')),
    ADD COLUMN endorsed_by UUID REFERENCES accounts (id),
    ADD COLUMN endorsed_at TIMESTAMPTZ,
    ADD COLUMN endorsement_comment TEXT,
    ADD CONSTRAINT applications_dependant_names_principal
        CHECK ((kind = 'dependant') = (principal_card IS NOT NULL));

-- One open principal application per talent and scheme, as before (awaiting the employer is
-- open too); dependant applications are many per holder.
DROP INDEX applications_one_open_idx;
CREATE UNIQUE INDEX applications_one_open_idx ON applications (talent_id, scheme)
    WHERE kind = 'principal'
      AND status IN ('draft', 'awaiting_employer', 'submitted', 'supplement_requested');
CREATE INDEX applications_employer_idx ON applications (employer_credit_code, created_at, id)
    WHERE employer_credit_code IS NOT NULL;
CREATE INDEX applications_principal_card_idx ON applications (principal_card)
    WHERE principal_card IS NOT NULL;

-- The person a dependant application is for. The ID number is sealed (AES-256-GCM, bound to
-- the application id) with a keyed blind index, like a profile's.
CREATE TABLE dependant_people (
    application_id       UUID PRIMARY KEY REFERENCES applications (id),
    scheme               TEXT NOT NULL REFERENCES schemes (code),
    relation             TEXT NOT NULL CHECK (relation IN ('spouse', 'child', 'parent')),
    full_name            TEXT NOT NULL,
    birth_date           DATE NOT NULL,
    id_type              TEXT NOT NULL CHECK (id_type IN ('resident_id', 'passport')),
    id_number_ciphertext BYTEA NOT NULL,
    id_number_key_id     TEXT NOT NULL,
    id_number_index      TEXT NOT NULL,
    id_number_masked     TEXT NOT NULL
);
-- "A person can be a live dependant of one card per scheme" is checked by this index under an
-- advisory lock on (scheme, index).
CREATE INDEX dependant_people_person_idx ON dependant_people (scheme, id_number_index);

ALTER TABLE cards
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'principal' CHECK (kind IN ('principal', 'dependant')),
    ADD COLUMN principal_card UUID REFERENCES cards (id),
    ADD COLUMN relation TEXT CHECK (relation IN ('spouse', 'child', 'parent')),
    -- The dependant's name: the card's name disclosure (the holder_id is the principal's holder).
    ADD COLUMN dependant_name TEXT,
    ADD CONSTRAINT cards_dependant_complete CHECK (
        (kind = 'dependant') =
        (principal_card IS NOT NULL AND relation IS NOT NULL AND dependant_name IS NOT NULL));
CREATE INDEX cards_principal_idx ON cards (principal_card) WHERE principal_card IS NOT NULL;

-- Which tiers may add dependants, which relations, how many, per scheme: effective-dated
-- versions like the rule sets. A scheme without one uses the built-in default (tier A; spouse,
-- child under 18, parent; at most 6 live dependant cards).
CREATE TABLE dependant_policies (
    scheme         TEXT NOT NULL REFERENCES schemes (code),
    version        INTEGER NOT NULL CHECK (version > 0),
    effective_from DATE NOT NULL,
    document       JSONB NOT NULL,
    published_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_by   TEXT NOT NULL,
    PRIMARY KEY (scheme, version)
);
