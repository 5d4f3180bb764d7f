DROP TABLE redemptions;
DROP TABLE agency_rate_windows;
DROP TABLE verifications;
DROP TABLE policy_documents;
DROP FUNCTION policy_documents_refuse_change();
