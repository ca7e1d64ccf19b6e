-- Schema version 3 of the read models (PRAGMA user_version = 3): payout
-- notices. A new file runs schema.sql and every step, an existing file the
-- steps after its version (migrate in models.go), so both end with the
-- same schema. Never edit it once released: add the next step.

-- notices: one row per payout notice number (the notices projection): its
-- current file and its delivery. A reissue has a notice number, so a row,
-- of its own. Dates are days since 1970-01-01, instants Unix nanoseconds
-- UTC, as in the other tables.
CREATE TABLE notices (
    notice_no    TEXT    NOT NULL PRIMARY KEY, -- <merchant>-<seq>-<YYYYMMDD>
    merchant     TEXT    NOT NULL,
    payday       INTEGER NOT NULL,
    seq          INTEGER NOT NULL, -- 1 for the first issue, 2 for the first reissue...
    issue_date   INTEGER NOT NULL, -- 発行日 printed on the notice
    file         TEXT    NOT NULL, -- base name of the current file
    sha256       TEXT    NOT NULL, -- of the current file
    reason       TEXT    NOT NULL, -- of the last notice.issued; '' if none
    rewrites     INTEGER NOT NULL, -- files written again after the first was lost
    issued_at    INTEGER,          -- processing time of the last notice.issued
    status       TEXT    NOT NULL, -- pending | delivered | failed
    delivered_to TEXT    NOT NULL, -- '' unless delivered
    message_id   TEXT    NOT NULL, -- '' unless delivered
    delivered_at INTEGER,          -- NULL unless delivered
    attempts     INTEGER NOT NULL, -- failed delivery attempts
    last_code    TEXT    NOT NULL, -- of the last failed attempt; '' if none
    last_error   TEXT    NOT NULL,
    pos_commit   INTEGER NOT NULL, -- position of the last event applied
    pos_prepare  INTEGER NOT NULL
) WITHOUT ROWID;

-- Every merchant's notices of a payday.
CREATE INDEX notices_payday ON notices (payday, merchant);

-- The table is new and empty, and the notices checkpoint absent: the next
-- catch-up folds the notices from the beginning of the log by itself.
