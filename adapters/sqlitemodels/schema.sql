-- Schema version 1 of the read models (PRAGMA user_version = 1).
-- Never edit a released version in place: add a migration step in models.go.
-- Everything here is derived from the event store and can be rebuilt from it
-- (upay projections rebuild); the secondary indexes are in models.go, because
-- a rebuild drops and recreates them.

-- transactions is the listing (取引一覧): one row per payment, every field of
-- projections.Transaction. Dates are business dates (Asia/Tokyo) as days
-- since 1970-01-01; instants are Unix nanoseconds, UTC.
CREATE TABLE transactions (
    payment        TEXT    NOT NULL PRIMARY KEY,
    merchant       TEXT    NOT NULL,
    kind           TEXT    NOT NULL, -- card | emoney
    brand          TEXT    NOT NULL, -- a card brand or emoney
    amount         INTEGER NOT NULL, -- authorized (card) or debited (e-money) yen
    captured       INTEGER NOT NULL,
    refunded       INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    last_code      TEXT    NOT NULL,
    card_code      TEXT    NOT NULL,
    sales_date     INTEGER,          -- 売上処理日; NULL until money is taken
    return_date    INTEGER,          -- 返品処理日 of the last refund; NULL if none
    masked_card    TEXT    NOT NULL,
    installments   INTEGER NOT NULL,
    terminal       TEXT    NOT NULL,
    balance_before INTEGER,          -- e-money only
    balance_after  INTEGER,          -- e-money only; NULL while unknown
    payout         TEXT    NOT NULL, -- notice number once paid out
    created_at     INTEGER NOT NULL, -- processing time of the first event
    updated_at     INTEGER NOT NULL,
    pos_commit     INTEGER NOT NULL, -- position of the last event applied
    pos_prepare    INTEGER NOT NULL
);

-- tx_merchants lists the merchants that have a row, so a search by date
-- without a merchant can seek the (merchant, date) indexes once per
-- merchant instead of scanning (an explicit skip-scan).
CREATE TABLE tx_merchants (
    merchant TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

-- period_totals: one cell per merchant, business date and brand group;
-- count is captures and refunds, sales captures minus refunds. Keyed by
-- date before group, so a merchant's period is one range scan.
CREATE TABLE period_totals (
    merchant TEXT    NOT NULL,
    date     INTEGER NOT NULL, -- days since 1970-01-01
    grp      TEXT    NOT NULL, -- VISA/MASTER | JCB/その他 | 電子マネー
    count    INTEGER NOT NULL,
    sales    INTEGER NOT NULL,
    PRIMARY KEY (merchant, date, grp)
) WITHOUT ROWID;

-- journal: one balanced entry per money event, in log order. A two-line
-- entry (every entry so far) is debit/credit/amount; any other is in
-- postings as JSON [{"account":..,"debit":..,"credit":..}], debit, credit
-- and amount NULL.
CREATE TABLE journal (
    pos_commit  INTEGER NOT NULL,
    pos_prepare INTEGER NOT NULL,
    time_ns     INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    payment     TEXT    NOT NULL,
    debit       TEXT,
    credit      TEXT,
    amount      INTEGER,
    postings    TEXT,
    PRIMARY KEY (pos_commit, pos_prepare)
) WITHOUT ROWID;

-- trial_balance: total debits and credits per account of the journal.
CREATE TABLE trial_balance (
    account TEXT    NOT NULL PRIMARY KEY,
    debit   INTEGER NOT NULL,
    credit  INTEGER NOT NULL
) WITHOUT ROWID;

-- checkpoints: the position of the last event each projection applied,
-- written in the same transaction as that projection's rows. No row: the
-- projection is at the start of the log.
CREATE TABLE checkpoints (
    name        TEXT    NOT NULL PRIMARY KEY,
    pos_commit  INTEGER NOT NULL,
    pos_prepare INTEGER NOT NULL
) WITHOUT ROWID;
