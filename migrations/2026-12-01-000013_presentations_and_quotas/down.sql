DROP TABLE agency_unknown_windows;
DROP INDEX redemptions_agency_idx;
DROP INDEX redemptions_card_idx;
DROP INDEX redemptions_quota_idx;
-- Reversed redemptions counted nowhere; before this migration every row counted.
DELETE FROM redemptions WHERE reversed_at IS NOT NULL;
-- Calendar blocks back to blocks counted from the card's first year.
UPDATE redemptions r
   SET period_key = 'y' || ((substr(r.period_key, 2)::int - extract(year FROM c.valid_from)::int)
                            / e.every)
  FROM cards c,
       (SELECT DISTINCT ON (rule ->> 'district', rule ->> 'service')
               rule ->> 'district' AS district, rule ->> 'service' AS service,
               (rule ->> 'every')::int AS every
          FROM policy_documents p, jsonb_array_elements(p.document -> 'rules') rule
         WHERE p.kind = 'entitlements' AND rule ->> 'period' = 'year'
           AND coalesce((rule ->> 'every')::int, 1) > 1
         ORDER BY rule ->> 'district', rule ->> 'service', p.version DESC) e
 WHERE c.id = r.card_id AND r.period_key ~ '^y[0-9]+$'
   AND e.district = r.district AND e.service = r.service;
CREATE INDEX redemptions_quota_idx ON redemptions (card_id, district, service, period_key);
ALTER TABLE redemptions
    DROP CONSTRAINT redemptions_reversal_complete,
    DROP COLUMN reversed_by,
    DROP COLUMN reversal_comment,
    DROP COLUMN reversal_reason,
    DROP COLUMN reversed_at,
    DROP COLUMN presentation_id,
    DROP COLUMN scheme,
    DROP COLUMN holder_id;
