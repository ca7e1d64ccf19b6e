-- Payout notices in the read models (adapters/pgmodels): the notices
-- projection. Mirrors adapters/sqlitemodels/schema_v3.sql; representations
-- as in 0002.

-- notices: one row per payout notice number, its current file and its
-- delivery. A reissue has a notice number, so a row, of its own.
CREATE TABLE notices (
    notice_no    text COLLATE "C" NOT NULL PRIMARY KEY, -- <merchant>-<seq>-<YYYYMMDD>
    merchant     text COLLATE "C" NOT NULL,
    payday       integer NOT NULL,
    seq          integer NOT NULL, -- 1 for the first issue, 2 for the first reissue...
    issue_date   integer NOT NULL, -- 発行日 printed on the notice
    file         text    NOT NULL, -- base name of the current file
    sha256       text    NOT NULL, -- of the current file
    reason       text    NOT NULL, -- of the last notice.issued; '' if none
    rewrites     integer NOT NULL, -- files written again after the first was lost
    issued_at    bigint,           -- processing time of the last notice.issued
    status       text    NOT NULL, -- pending | delivered | failed
    delivered_to text    NOT NULL, -- '' unless delivered
    message_id   text    NOT NULL, -- '' unless delivered
    delivered_at bigint,           -- NULL unless delivered
    attempts     integer NOT NULL, -- failed delivery attempts
    last_code    text    NOT NULL, -- of the last failed attempt; '' if none
    last_error   text    NOT NULL,
    pos_commit   bigint  NOT NULL, -- position of the last event applied
    pos_prepare  bigint  NOT NULL
);

-- Every merchant's notices of a payday.
CREATE INDEX notices_payday ON notices (payday, merchant);

-- The table is new and empty, and the notices checkpoint absent: the next
-- catch-up folds the notices from the beginning of the log by itself.
