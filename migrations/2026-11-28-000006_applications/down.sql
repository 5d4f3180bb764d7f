DROP TABLE idempotency_keys;
DROP TABLE cards;
DROP TABLE card_serials;
DROP TABLE application_documents;
DROP TABLE applications;
