-- Read models (adapters/pgmodels): the tables a projections.Runner keeps in
-- step with the event store, beside it in the same database. Everything here
-- is derived from the events and can be rebuilt from them (upay projections
-- rebuild). The layout mirrors adapters/sqlitemodels/schema.sql column for
-- column; see adapters/pgmodels/doc.go for the differences and why.
--
-- Representations: dates are business dates (Asia/Tokyo) as days since
-- 1970-01-01 (integer); instants are Unix nanoseconds, UTC (bigint); an
-- event position is (pos_commit, pos_prepare), both bigint, compared as a
-- pair and never subtracted. Text compared for order (payment ids, the
-- keyset cursor) is COLLATE "C": byte order, as Go compares strings, on any
-- server locale.

-- transactions is the listing (取引一覧): one row per payment, every field of
-- projections.Transaction.
CREATE TABLE transactions (
    payment        text COLLATE "C" NOT NULL PRIMARY KEY,
    merchant       text COLLATE "C" NOT NULL,
    kind           text    NOT NULL, -- card | emoney
    brand          text    NOT NULL, -- a card brand or emoney
    amount         bigint  NOT NULL, -- authorized (card) or debited (e-money) yen
    captured       bigint  NOT NULL,
    refunded       bigint  NOT NULL,
    status         text    NOT NULL,
    last_code      text    NOT NULL,
    card_code      text    NOT NULL,
    sales_date     integer,          -- 売上処理日; NULL until money is taken
    return_date    integer,          -- 返品処理日 of the last refund; NULL if none
    masked_card    text    NOT NULL,
    installments   integer NOT NULL,
    terminal       text    NOT NULL,
    balance_before bigint,           -- e-money only
    balance_after  bigint,           -- e-money only; NULL while unknown
    payout         text    NOT NULL, -- notice number once paid out
    created_at     bigint  NOT NULL, -- processing time of the first event
    updated_at     bigint  NOT NULL,
    pos_commit     bigint  NOT NULL, -- position of the last event applied
    pos_prepare    bigint  NOT NULL
);

-- The admin search's indexes (secondary: Reset of the listing drops them
-- and Ready recreates them from deferred_indexes, below). Each ends with the listing's order
-- (created_at, payment), so that for one merchant and one date an index
-- scan (backwards) yields rows already newest first and a page stops after
-- 50 rows instead of sorting the day.
--   * processing date: the sales date and the return date, partial since
--     unpaid rows have no sales date and most rows no return date;
CREATE INDEX tx_merchant_sales ON transactions (merchant, sales_date, created_at, payment) WHERE sales_date IS NOT NULL;
CREATE INDEX tx_merchant_return ON transactions (merchant, return_date, created_at, payment) WHERE return_date IS NOT NULL;
--   * rows with neither date (authorized, declined, voided, unknown, failed,
--     training) match a date range on their first event's business date, a
--     range of created_at; this also serves the unknown e-money debits;
CREATE INDEX tx_merchant_dateless ON transactions (merchant, created_at, payment) WHERE sales_date IS NULL AND return_date IS NULL;
--   * one merchant newest first, every row newest first (and keyset paging
--     by the cursor), and the search by amount alone.
CREATE INDEX tx_merchant_created ON transactions (merchant, created_at, payment);
CREATE INDEX tx_created ON transactions (created_at, payment);
CREATE INDEX tx_amount ON transactions (amount);

-- tx_merchants lists the merchants that have a row: a search by date
-- without a merchant seeks the (merchant, date) indexes for each of them
-- (merchant = ANY(...)) instead of reading all of a date index's merchants.
CREATE TABLE tx_merchants (
    merchant text COLLATE "C" NOT NULL PRIMARY KEY
);

-- period_totals: one cell per merchant, business date and brand group;
-- count is captures and refunds, sales captures minus refunds. Keyed by
-- date before group, so a merchant's period is one range scan.
CREATE TABLE period_totals (
    merchant text COLLATE "C" NOT NULL,
    date     integer NOT NULL, -- days since 1970-01-01
    grp      text    NOT NULL, -- VISA/MASTER | JCB/その他 | 電子マネー
    count    bigint  NOT NULL,
    sales    bigint  NOT NULL,
    PRIMARY KEY (merchant, date, grp)
);

-- journal: one balanced entry per money event, in log order. A two-line
-- entry (every entry so far) is debit/credit/amount; any other is in
-- postings as JSON [{"account":..,"debit":..,"credit":..}], debit, credit
-- and amount NULL.
CREATE TABLE journal (
    pos_commit  bigint NOT NULL,
    pos_prepare bigint NOT NULL,
    time_ns     bigint NOT NULL,
    type        text   NOT NULL,
    payment     text   NOT NULL,
    debit       text,
    credit      text,
    amount      bigint,
    postings    text,
    PRIMARY KEY (pos_commit, pos_prepare)
);

-- trial_balance: total debits and credits per account of the journal.
CREATE TABLE trial_balance (
    account text   NOT NULL PRIMARY KEY,
    debit   bigint NOT NULL,
    credit  bigint NOT NULL
);

-- checkpoints: the position of the last event each projection applied,
-- written in the same transaction as that projection's rows. No row: the
-- projection is at the start of the log.
CREATE TABLE checkpoints (
    name        text   NOT NULL PRIMARY KEY,
    pos_commit  bigint NOT NULL,
    pos_prepare bigint NOT NULL
);

-- deferred_indexes holds the definitions (pg_indexes.indexdef) of the
-- listing's secondary indexes while a rebuild refills it without them:
-- Reset drops them and records them here in its transaction, Ready (a
-- catch-up that reached the end of the log, in any process) recreates them
-- and empties it. Building an index once over the full table is cheaper
-- than keeping it up to date row by row.
CREATE TABLE deferred_indexes (
    name text NOT NULL PRIMARY KEY,
    def  text NOT NULL
);
