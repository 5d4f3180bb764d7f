ALTER TABLE cards DROP COLUMN name_masked;
