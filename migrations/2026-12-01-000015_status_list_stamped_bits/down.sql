ALTER TABLE status_lists DROP COLUMN stamped_bits;
