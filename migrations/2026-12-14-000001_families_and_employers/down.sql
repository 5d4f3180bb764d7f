DROP TABLE dependant_policies;
DROP INDEX cards_principal_idx;
ALTER TABLE cards DROP CONSTRAINT cards_dependant_complete,
    DROP COLUMN dependant_name, DROP COLUMN relation, DROP COLUMN principal_card, DROP COLUMN kind;
DROP TABLE dependant_people;
DROP INDEX applications_principal_card_idx;
DROP INDEX applications_employer_idx;
DROP INDEX applications_one_open_idx;
-- Best effort on a database with data: what the old constraints cannot hold is withdrawn.
UPDATE applications SET status = 'withdrawn'
 WHERE status = 'awaiting_employer'
    OR (kind = 'dependant' AND status IN ('draft', 'submitted', 'supplement_requested'));
CREATE UNIQUE INDEX applications_one_open_idx ON applications (talent_id, scheme)
    WHERE status IN ('draft', 'submitted', 'supplement_requested');
ALTER TABLE applications DROP CONSTRAINT applications_dependant_names_principal,
    DROP COLUMN endorsement_comment, DROP COLUMN endorsed_at, DROP COLUMN endorsed_by,
    DROP COLUMN employer_endorsement, DROP COLUMN employer_credit_code,
    DROP COLUMN principal_card, DROP COLUMN kind;
ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check CHECK (status IN
    ('draft', 'submitted', 'supplement_requested', 'approved', 'rejected', 'withdrawn'));
DROP TABLE employer_accounts;
DROP TABLE employers;
DELETE FROM accounts WHERE role = 'employer';
ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('talent', 'official', 'agency', 'admin'));
