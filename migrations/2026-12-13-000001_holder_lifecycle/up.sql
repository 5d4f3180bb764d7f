-- The holder's year (issue 20): loss reports and replacements, renewals without a gap, and
-- change reports the issuer re-evaluates.

-- A replacement after a loss, or the new tier's card after a change report, is issued without
-- an application of its own. Still one card per application where there is one (UNIQUE lets
-- NULLs repeat).
ALTER TABLE cards ALTER COLUMN application_id DROP NOT NULL;

-- Which card took over from which. The primary key on the old card is what makes "at most one
-- replacement per loss" hold whatever races: a second successor of one card cannot be stored.
CREATE TABLE card_successions (
    old_card_id UUID PRIMARY KEY REFERENCES cards (id),
    new_card_id UUID NOT NULL UNIQUE REFERENCES cards (id),
    kind        TEXT NOT NULL CHECK (kind IN ('renewal', 'upgrade', 'replacement', 'retier')),
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT card_successions_not_itself CHECK (old_card_id <> new_card_id)
);

-- A holder's report of a change of employer, residence or title. The new facts (salaries,
-- employer) and the evaluation trace that quotes them are personal data: sealed with
-- AES-256-GCM under `key_id`, bound to the report's id, like an application's.
CREATE TABLE card_changes (
    id               UUID PRIMARY KEY,
    card_id          UUID NOT NULL REFERENCES cards (id),
    holder_id        UUID NOT NULL REFERENCES accounts (id),
    -- The card's issuer, copied so an official's queue filters on one column.
    issuer           TEXT NOT NULL REFERENCES issuers (code),
    kind             TEXT NOT NULL CHECK (kind IN ('employer', 'residence', 'title', 'other')),
    effective_on     DATE NOT NULL,
    reported_at      TIMESTAMPTZ NOT NULL,
    late             BOOLEAN NOT NULL,
    facts            BYTEA NOT NULL,
    key_id           TEXT NOT NULL,
    suggested_tier   TEXT,
    eligible         BOOLEAN NOT NULL,
    rules_version    INTEGER NOT NULL,
    evaluation_trace BYTEA NOT NULL,
    review_due       DATE NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'decided')),
    decision         TEXT CHECK (decision IN ('keep', 'retier', 'suspend', 'revoke')),
    decided_tier     TEXT,
    reason_code      TEXT,
    decision_comment TEXT,
    decided_by       UUID REFERENCES accounts (id),
    decided_at       TIMESTAMPTZ,
    -- The new tier's card a `retier` issued.
    new_card_id      UUID REFERENCES cards (id),
    CONSTRAINT card_changes_decided_complete CHECK (
        (status = 'open') = (decision IS NULL) AND (decision IS NULL) = (decided_at IS NULL)
    )
);
-- The officials' queue: an issuer's reports by status, oldest first.
CREATE INDEX card_changes_queue_idx ON card_changes (issuer, status, reported_at, id);
CREATE INDEX card_changes_card_idx ON card_changes (card_id, reported_at, id);

-- Officials list their issuer's cards by end date (`GET /cards?expiring_within=`).
CREATE INDEX cards_issuer_valid_until_idx ON cards (issuer, valid_until, id);
