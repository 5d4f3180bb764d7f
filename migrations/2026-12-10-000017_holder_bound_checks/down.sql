ALTER TABLE verifications DROP COLUMN holder_bound;
DELETE FROM verifications WHERE method IN ('presentation', 'presentation_code');
ALTER TABLE verifications DROP CONSTRAINT verifications_method_check;
ALTER TABLE verifications ADD CONSTRAINT verifications_method_check
    CHECK (method IN ('card_number', 'credential'));
