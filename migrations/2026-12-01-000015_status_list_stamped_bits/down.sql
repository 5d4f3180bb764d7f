DROP TRIGGER status_lists_keep_stamped_bits ON status_lists;
DROP FUNCTION status_lists_keep_stamped_bits();
ALTER TABLE status_lists DROP COLUMN stamped_bits;
