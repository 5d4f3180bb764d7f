-- Trust that holds when an agency misbehaves.
--
-- Quotas count per holder and scheme, not per card: a renewal, an upgrade or a second card of
-- the same person and scheme shares the same counts. Each redemption records its holder and
-- scheme (backfilled from its card) and the presentation it relied on; the quota index counts
-- by holder. A redemption may be reversed by its agency within 24 hours; reversed ones count
-- nowhere.
ALTER TABLE redemptions
    ADD COLUMN holder_id        UUID REFERENCES accounts (id),
    ADD COLUMN scheme           TEXT REFERENCES schemes (code),
    -- The verification by credential that proved the card was shown (NULL: by number, where
    -- the entitlement rule allows it).
    ADD COLUMN presentation_id  UUID REFERENCES verifications (id),
    ADD COLUMN reversed_at      TIMESTAMPTZ,
    ADD COLUMN reversal_reason  TEXT
        CHECK (reversal_reason IN ('entered_in_error', 'service_not_given', 'other')),
    ADD COLUMN reversal_comment TEXT,
    -- The agency client that reversed it.
    ADD COLUMN reversed_by      UUID,
    ADD CONSTRAINT redemptions_reversal_complete
        CHECK ((reversed_at IS NULL) = (reversal_reason IS NULL));
UPDATE redemptions r SET holder_id = c.holder_id, scheme = c.scheme FROM cards c WHERE c.id = r.card_id;
ALTER TABLE redemptions
    ALTER COLUMN holder_id SET NOT NULL,
    ALTER COLUMN scheme SET NOT NULL;

-- Multi-year periods (`every: N` years) were counted from the card's first year ("y0", "y1"),
-- so a renewal started a fresh block. They are anchored on the calendar now: the key is the
-- first year of the N-year block ("y2026" for 2026-2027 when N = 2). Existing keys move to the
-- block of the year they were redeemed in (Beijing time), with N from the newest rule of that
-- district and service.
UPDATE redemptions r
   SET period_key = 'y' || (extract(year FROM r.redeemed_at AT TIME ZONE 'Asia/Shanghai')::int
                            / e.every * e.every)
  FROM (SELECT DISTINCT ON (rule ->> 'district', rule ->> 'service')
               rule ->> 'district' AS district, rule ->> 'service' AS service,
               (rule ->> 'every')::int AS every
          FROM policy_documents p, jsonb_array_elements(p.document -> 'rules') rule
         WHERE p.kind = 'entitlements' AND rule ->> 'period' = 'year'
           AND coalesce((rule ->> 'every')::int, 1) > 1
         ORDER BY rule ->> 'district', rule ->> 'service', p.version DESC) e
 WHERE r.period_key ~ '^y-?[0-9]+$' AND e.district = r.district AND e.service = r.service;

DROP INDEX redemptions_quota_idx;
CREATE INDEX redemptions_quota_idx ON redemptions (holder_id, scheme, district, service, period_key)
    WHERE reversed_at IS NULL;
CREATE INDEX redemptions_card_idx ON redemptions (card_id);
CREATE INDEX redemptions_agency_idx ON redemptions (agency_id, redeemed_at);

-- Answers of `unknown` to checks by number, per agency and hour: past a threshold the agency's
-- further checks by number are refused (enumeration). In PostgreSQL, so every instance counts
-- together; bumped by the verification's own statement (models::prepared::RecordVerification).
CREATE TABLE agency_unknown_windows (
    agency_id    UUID NOT NULL REFERENCES agencies (id),
    window_start TIMESTAMPTZ NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (agency_id, window_start)
);
