DELETE FROM status_lists WHERE list_no > 0;
ALTER TABLE status_lists DROP CONSTRAINT status_lists_pkey;
ALTER TABLE status_lists DROP COLUMN list_no;
ALTER TABLE status_lists ADD PRIMARY KEY (issuer);
