-- Holder binding (issue 18): a check may be by presentation (credential + KB-JWT) or by a
-- dynamic code, and its record says whether the presenter was proved to be the holder, so a
-- redemption under a rule that insists can tell a holder-bound presentation from a photo of
-- the QR code, and the holder's log shows which checks were bound.
ALTER TABLE verifications DROP CONSTRAINT verifications_method_check;
ALTER TABLE verifications ADD CONSTRAINT verifications_method_check
    CHECK (method IN ('card_number', 'credential', 'presentation', 'presentation_code'));
ALTER TABLE verifications ADD COLUMN holder_bound BOOLEAN NOT NULL DEFAULT false;
