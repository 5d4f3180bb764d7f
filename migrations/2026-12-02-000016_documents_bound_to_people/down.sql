DROP TABLE document_disputes;
-- Disputed profiles cannot survive the return of one account per document.
DELETE FROM profiles WHERE disputed_at IS NOT NULL;
DROP INDEX profiles_document_idx;
DROP INDEX profiles_held_document_idx;
ALTER TABLE profiles ADD CONSTRAINT profiles_id_number_index_key UNIQUE (id_number_index);
ALTER TABLE profiles DROP COLUMN disputed_at;
DROP TABLE application_identity_documents;
