// Package sqlite is the embedded default event store: the whole log in one
// local SQLite file, through the pure-Go driver modernc.org/sqlite.
//
// Why SQLite, and why modernc: a ledger that runs on a terminal operator's
// laptop or a small server should need no server process, and SQLite is the
// most widely deployed and tested transactional engine there is. The modernc
// build is SQLite's C source translated to Go, so the binary needs no cgo, no
// C toolchain and cross-compiles like any Go program; it tracks upstream
// SQLite releases closely and is well maintained. One file (plus its -wal
// and -shm companions while open) is easy to back up, copy and inspect with
// the sqlite3 shell.
//
// Model. Table events holds every event once, keyed by pos, the global
// position (Position{Commit: pos, Prepare: pos}); UNIQUE(stream, revision)
// both forbids two events at one revision and is the index from which a
// stream's head (last revision and hash) is read. Table requests maps each
// applied request id to its content hash and result, which makes appends
// idempotent. The schema version is PRAGMA user_version.
//
// Writes. Every append runs in one BEGIN IMMEDIATE transaction on the
// store's single write connection: the immediate lock is taken before
// anything is read, so the expected-revision check, the revision and hash
// computation and the insert see a state no other writer (goroutine or
// process) can change until commit. Positions are assigned inside that
// transaction, and SQLite admits one writer at a time, so position order is
// commit order and a reader never sees a later position without every
// earlier one. The store computes revisions, PrevHash and Hash
// (domain.ChainHash) itself; callers cannot supply them. AppendBatch applies
// all its items in one transaction, looking up the heads and request ids of
// the whole batch in a few set queries and inserting rows many at a time.
//
// Concurrent appends share transactions (group commit): the first caller to
// find the write connection free applies every append queued behind it in
// one transaction, each append inside its own savepoint so that a refused
// one leaves no trace and does not affect the others, and commits them with
// one fsync. Every caller still returns only after the commit holding its
// append.
//
// Reads run on a separate pool of read-only connections. In WAL mode a
// reader sees the last committed snapshot and never waits for a writer.
//
// Durability. The file is in WAL journal mode with synchronous=FULL: a commit
// returns only after its WAL frames have been fsynced, so an append that
// returned without error survives a process crash (kill -9) and a power
// failure, provided the disk honours fsync. A crash before commit leaves no
// trace of the transaction; SQLite rolls the WAL back to the last commit on
// the next open.
//
// Subscriptions first page through the backlog, then wait for appends: an
// append through the same *Store wakes them at once, and a poll every
// PollInterval picks up appends made by other processes (or other *Store
// handles) on the same file.
//
// Errors: engine failures (busy beyond the busy timeout, I/O errors, a
// corrupt file) are domain.ErrStoreFailure (U3003); expected-revision
// conflicts are domain.ErrConcurrency (U3001) naming the stream and the
// expected and actual revision; a request id reused with other content is
// domain.ErrRequestReused (U3002).
package sqlite
