-- Schema version 2 of the read models (PRAGMA user_version = 2): payouts.
-- A new file runs schema.sql (version 1) and then this step, an existing
-- version-1 file this step alone (migrate in models.go), so both end with
-- the same schema. Never edit it once released: add the next step.

-- payouts: one row per payout (the payouts projection), every figure of
-- its notice and the bank's outcome. Dates are days since 1970-01-01,
-- instants Unix nanoseconds UTC, as in the other tables.
CREATE TABLE payouts (
    notice_no        TEXT    NOT NULL PRIMARY KEY, -- <merchant>-<seq>-<YYYYMMDD>
    merchant         TEXT    NOT NULL,
    payday           INTEGER NOT NULL,
    notice_date      INTEGER NOT NULL,
    lines            TEXT    NOT NULL, -- JSON array of the notice's lines, as in the payout.issued event
    fee_total        INTEGER NOT NULL,
    fee_tax          INTEGER NOT NULL,
    prior_period     INTEGER NOT NULL,
    prior_from       TEXT    NOT NULL, -- notice the prior-period amount came from; '' if none
    transfer_fee     INTEGER NOT NULL,
    transfer_fee_tax INTEGER NOT NULL,
    net              INTEGER NOT NULL,
    carried_forward  INTEGER NOT NULL,
    transferred      INTEGER NOT NULL, -- 1: transferred, 0: carried forward
    fee_waived       INTEGER NOT NULL, -- 1: Mizuho payee, no transfer fee
    status           TEXT    NOT NULL, -- issued | paid | returned
    reason           TEXT    NOT NULL, -- of a return; '' otherwise
    issued_at        INTEGER NOT NULL,
    outcome_at       INTEGER,          -- the bank outcome's processing time; NULL while issued
    pos_commit       INTEGER NOT NULL, -- position of the last event applied
    pos_prepare      INTEGER NOT NULL
) WITHOUT ROWID;

-- A merchant's payouts by payday, and every merchant's payout of a payday.
CREATE INDEX payouts_merchant ON payouts (merchant, payday);
CREATE INDEX payouts_payday ON payouts (payday, merchant);

-- tx_unsettled: the listing rows whose sale no payout has settled yet.
-- A payout stamps its notice number on the rows its lines cover with one
-- update per line, which reads this index; the rows leave it as they are
-- stamped, so it stays small (the last weeks' sales). Unlike the search
-- indexes, a rebuild keeps it: without it each line's update would scan
-- the whole listing.
CREATE INDEX tx_unsettled ON transactions (merchant, sales_date) WHERE sales_date IS NOT NULL AND payout = '';

-- Journal entries of a payout name its notice.
ALTER TABLE journal ADD COLUMN notice TEXT NOT NULL DEFAULT '';

-- The journal and the listing of a version-1 file never read a payout
-- event. They are derived: empty them and their checkpoints, and the next
-- catch-up folds the log again (the payouts projection, new, starts from
-- the beginning by itself).
DELETE FROM journal;
DELETE FROM trial_balance;
DELETE FROM transactions;
DELETE FROM tx_merchants;
DELETE FROM checkpoints WHERE name IN ('transactions', 'journal');
