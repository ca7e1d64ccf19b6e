-- Payouts in the read models (adapters/pgmodels): the payouts projection,
-- the listing's payout stamps and the journal's payout entries. Mirrors
-- adapters/sqlitemodels/schema_v2.sql; representations as in 0002.

-- payouts: one row per payout, every figure of its notice and the bank's
-- outcome.
CREATE TABLE payouts (
    notice_no        text COLLATE "C" NOT NULL PRIMARY KEY, -- <merchant>-<seq>-<YYYYMMDD>
    merchant         text COLLATE "C" NOT NULL,
    payday           integer NOT NULL,
    notice_date      integer NOT NULL,
    lines            text    NOT NULL, -- JSON array of the notice's lines, as in the payout.issued event
    fee_total        bigint  NOT NULL,
    fee_tax          bigint  NOT NULL,
    prior_period     bigint  NOT NULL,
    prior_from       text    NOT NULL, -- notice the prior-period amount came from; '' if none
    transfer_fee     bigint  NOT NULL,
    transfer_fee_tax bigint  NOT NULL,
    net              bigint  NOT NULL,
    carried_forward  bigint  NOT NULL,
    transferred      boolean NOT NULL, -- false: carried forward
    fee_waived       boolean NOT NULL, -- Mizuho payee, no transfer fee
    status           text    NOT NULL, -- issued | paid | returned
    reason           text    NOT NULL, -- of a return; '' otherwise
    issued_at        bigint  NOT NULL,
    outcome_at       bigint,           -- the bank outcome's processing time; NULL while issued
    pos_commit       bigint  NOT NULL, -- position of the last event applied
    pos_prepare      bigint  NOT NULL
);

-- A merchant's payouts by payday, and every merchant's payout of a payday.
CREATE INDEX payouts_merchant ON payouts (merchant, payday);
CREATE INDEX payouts_payday ON payouts (payday, merchant);

-- tx_unsettled: the listing rows whose sale no payout has settled yet. A
-- payout stamps its notice number on the rows its lines cover, one update
-- per line through this index; stamped rows leave it, so it stays small.
-- Reset keeps it while it defers the search indexes (pgmodels'
-- sqlSecondaryIndexes leaves it out): without it a rebuild would scan the
-- whole listing for each line.
CREATE INDEX tx_unsettled ON transactions (merchant, sales_date) WHERE sales_date IS NOT NULL AND payout = '';

-- Journal entries of a payout name its notice.
ALTER TABLE journal ADD COLUMN notice text NOT NULL DEFAULT '';

-- The journal and the listing at level 2 never read a payout event. They
-- are derived: empty them and their checkpoints, and the next catch-up
-- folds the log again (the payouts projection, new, starts from the
-- beginning by itself).
TRUNCATE journal, trial_balance, transactions, tx_merchants;
DELETE FROM checkpoints WHERE name IN ('transactions', 'journal');
