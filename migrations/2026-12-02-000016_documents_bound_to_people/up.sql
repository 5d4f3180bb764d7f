-- Identity documents bound to people (issue 17).
--
-- The document an application was submitted with, copied from the profile at submission (the
-- sealed number is bound to the applicant's account, as in `profiles`, so the copy opens with
-- the same key and account). Officials read this copy, never the profile as it is today.
CREATE TABLE application_identity_documents (
    application_id       UUID PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    id_type              TEXT NOT NULL CHECK (id_type IN ('resident_id', 'passport')),
    id_number_ciphertext BYTEA NOT NULL,
    id_number_key_id     TEXT NOT NULL,
    id_number_index      TEXT NOT NULL,
    id_number_masked     TEXT NOT NULL,
    copied_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX application_identity_documents_index_idx
    ON application_identity_documents (id_number_index);

-- Applications submitted before this migration get the profile as it is now: the best record
-- there is of what they were submitted with.
INSERT INTO application_identity_documents
    (application_id, id_type, id_number_ciphertext, id_number_key_id, id_number_index,
     id_number_masked, copied_at)
SELECT a.id, p.id_type, p.id_number_ciphertext, p.id_number_key_id, p.id_number_index,
       p.id_number_masked, a.submitted_at
FROM applications a
JOIN profiles p ON p.account_id = a.talent_id
WHERE a.submitted_at IS NOT NULL;

-- A profile claiming a document another account holds is kept, marked disputed, instead of
-- being refused with an answer that would confirm the number is registered. One account holds
-- a document (the partial unique index); any number may claim it until it is resolved.
ALTER TABLE profiles ADD COLUMN disputed_at TIMESTAMPTZ;
ALTER TABLE profiles DROP CONSTRAINT profiles_id_number_index_key;
CREATE UNIQUE INDEX profiles_held_document_idx ON profiles (id_number_index)
    WHERE disputed_at IS NULL;
CREATE INDEX profiles_document_idx ON profiles (id_number_index);

-- A claim on a document another account held, until an administrator or an official of the
-- issuer concerned assigns the document to one of them after checking the person.
CREATE TABLE document_disputes (
    id              UUID PRIMARY KEY,
    id_number_index TEXT NOT NULL,
    holder_id       UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    claimant_id     UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    opened_at       TIMESTAMPTZ NOT NULL,
    resolved_at     TIMESTAMPTZ,
    -- NULL with `resolved_at` set: the claimant withdrew the claim (changed their document).
    resolved_by     UUID REFERENCES accounts (id),
    assigned_to     UUID REFERENCES accounts (id),
    CHECK (holder_id <> claimant_id),
    CHECK (resolved_at IS NOT NULL OR (resolved_by IS NULL AND assigned_to IS NULL))
);
CREATE UNIQUE INDEX document_disputes_open_idx ON document_disputes (id_number_index, claimant_id)
    WHERE resolved_at IS NULL;
CREATE INDEX document_disputes_holder_idx ON document_disputes (holder_id);
CREATE INDEX document_disputes_claimant_idx ON document_disputes (claimant_id);
