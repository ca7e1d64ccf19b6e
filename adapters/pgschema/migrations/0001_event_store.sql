-- Event store (adapters/postgres): the log and the applied request ids.
-- adapters/postgres/doc.go explains the model; in short:
--
-- An event's global position is (tx, seq): the id of the transaction that
-- appended it, then a sequence number. Readers of the global log only
-- return rows whose tx is below the xmin of their snapshot (every
-- transaction below it has ended), so a transaction that commits late can
-- never land below a position a reader has already passed.

-- events is the log, one row per event.
CREATE TABLE events (
    -- The appending transaction (xid8 with epoch, so it never wraps). The
    -- store writes it explicitly; the default only serves hand-written
    -- inserts, which then still get a correct position.
    tx         bigint  NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    -- Order within the transaction. Drawn from a sequence so it also rises
    -- across transactions, which keeps positions readable; gaps are normal.
    seq        bigserial NOT NULL,
    stream     text    COLLATE "C" NOT NULL,
    revision   bigint  NOT NULL CHECK (revision >= 0), -- 0-based within the stream
    type       text    NOT NULL,
    version    integer NOT NULL,
    time_ns    bigint  NOT NULL, -- processing time, Unix nanoseconds UTC
    request_id text    NOT NULL, -- '' when the append had none
    data       bytea   NOT NULL,
    prev_hash  bytea   NOT NULL CHECK (length(prev_hash) = 32), -- 32 zero bytes at revision 0
    hash       bytea   NOT NULL CHECK (length(hash) = 32),      -- domain.ChainHash(prev_hash, ...)
    -- The global order: ReadAll, Subscribe and Last walk this index.
    PRIMARY KEY (tx, seq),
    -- Forbids two events at one revision (a concurrent writer that lost the
    -- race fails here and retries) and is the index a stream's head (last
    -- revision and hash) is read from, so no streams table is needed.
    CONSTRAINT events_stream_revision UNIQUE (stream, revision)
);

-- requests makes appends idempotent: one row per applied request id, with
-- the request's content hash and where it landed.
CREATE TABLE requests (
    request_id   text   COLLATE "C" NOT NULL PRIMARY KEY,
    request_hash bytea  NOT NULL CHECK (length(request_hash) = 32),
    stream       text   COLLATE "C" NOT NULL,
    first_rev    bigint NOT NULL,
    last_rev     bigint NOT NULL,
    pos_commit   bigint NOT NULL, -- position of the request's last event
    pos_prepare  bigint NOT NULL
);
