-- What a partner's check answers about the person, stored on the card row: the name the card
-- shows, masked (`张*明`; on a dependant card the family member's). A check then reads the card
-- by one index and nothing of `accounts`, which was half the buffers of its lookup. A name does
-- not change after registration; every card insert sets it (`card::issue_between`, the seed),
-- and marking a dependant card sets the family member's.
--
-- The mask here backfills existing cards and matches `domain::recognition::mask_name`: the
-- first and last characters kept, the ones between starred, a two-character name keeps its
-- first.
CREATE FUNCTION talentcard_mask_name(name TEXT) RETURNS TEXT AS $$
    SELECT CASE char_length(n)
               WHEN 0 THEN ''
               WHEN 1 THEN '*'
               WHEN 2 THEN left(n, 1) || '*'
               ELSE left(n, 1) || repeat('*', char_length(n) - 2) || right(n, 1)
           END
      FROM btrim($1, E' \t\n\r\u3000') AS n
$$ LANGUAGE sql IMMUTABLE STRICT;

ALTER TABLE cards ADD COLUMN name_masked TEXT;
UPDATE cards c
   SET name_masked = talentcard_mask_name(coalesce(c.dependant_name, a.full_name))
  FROM accounts a
 WHERE a.id = c.holder_id;
ALTER TABLE cards ALTER COLUMN name_masked SET NOT NULL;

DROP FUNCTION talentcard_mask_name(TEXT);
