DROP TABLE verification_nonces;
DROP TABLE presentation_codes;
