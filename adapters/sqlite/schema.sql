-- Schema version 1 of the embedded event store (PRAGMA user_version = 1).
-- Never edit a released version in place: add a migration step in store.go.

-- events is the log. pos is the global position (Position.Commit ==
-- Position.Prepare == pos); it is assigned inside the write transaction, and
-- SQLite has one writer at a time, so pos order is commit order.
CREATE TABLE events (
    pos        INTEGER PRIMARY KEY,
    stream     TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    time_ns    INTEGER NOT NULL, -- processing time, Unix nanoseconds UTC
    request_id TEXT    NOT NULL,
    data       BLOB    NOT NULL,
    prev_hash  BLOB    NOT NULL, -- hash of the stream's previous event, 32 zero bytes at revision 0
    hash       BLOB    NOT NULL, -- domain.ChainHash(prev_hash, ...)
    -- Also the stream head index: the last revision and hash of a stream are
    -- ORDER BY revision DESC LIMIT 1 on it, so no streams table is needed.
    UNIQUE (stream, revision)
);

-- requests makes appends idempotent: one row per applied request id, with
-- the request's content hash and where it landed.
CREATE TABLE requests (
    request_id   TEXT    PRIMARY KEY,
    request_hash BLOB    NOT NULL,
    stream       TEXT    NOT NULL,
    first_rev    INTEGER NOT NULL,
    last_rev     INTEGER NOT NULL,
    pos          INTEGER NOT NULL -- global position of the request's last event
) WITHOUT ROWID;
