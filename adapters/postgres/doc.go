// Package postgres is the event store on a PostgreSQL server, through
// github.com/jackc/pgx/v5 (pgxpool). Any number of upay processes may
// share one database; the read models (adapters/pgmodels) live beside the
// log in it. The schema is migration 1 of adapters/pgschema; Open refuses a
// database at another level unless Options.Migrate asks it to migrate.
//
// Model. Table events holds every event once. Its global position is
// Position{Commit: tx, Prepare: seq}: tx is the id of the transaction that
// appended it (xid8, 64 bits with the epoch, so it never wraps), seq a
// number from a sequence, rising within the transaction. UNIQUE(stream,
// revision) both forbids two events at one revision and is the index a
// stream's head (last revision and hash) is read from. Table requests maps
// each applied request id to its content hash and result, which makes
// appends idempotent. Times are stored as Unix nanoseconds (bigint), not
// timestamptz, which has microseconds only.
//
// The gap problem. Positions are taken before commit, and transactions
// commit in any order: a transaction holding a low position can commit
// after one holding a higher position. A reader that walks the log in
// position order and remembers the last position it read (a subscription,
// a projection's checkpoint) would move past the slow transaction's events
// while they are invisible, and never see them. A plain sequence has the
// same hole. So every read of the global log (ReadAll, Subscribe, Last,
// CountAfter) returns only events whose tx is below the xmin of the reading
// statement's own snapshot, pg_snapshot_xmin(pg_current_snapshot()): every
// transaction with a lower id has ended, committed or not, so nothing can
// appear later below a position a reader has passed, and in (tx, seq) order
// every event up to the last one returned is there. This is how Emmett's
// PostgreSQL event store reads; Marten's high-water-mark daemon guards the
// same gap. TestGapSubscriberNeverSkips plays the schedule and shows a
// naive "seq > checkpoint" reader skipping the event this bound keeps.
//
// The price: xids are cluster-wide, so any transaction that has written
// something (it holds an xid), in any database of the cluster, holds back
// the visibility of every event appended after it began, until it ends.
// Durability is not affected: the appends are committed; readers see them
// late. A long write transaction is rare in the upay database (appends and
// read-model updates are short), but an idle-in-transaction session of
// another application on the same cluster would stall subscriptions; set
// idle_in_transaction_session_timeout on the server (upay sets it, with
// statement_timeout, on its own sessions).
//
// Why not the usual alternative, a global advisory lock taken by every
// append until commit: positions would then be in commit order and readers
// need no bound, but appends would be serial, each waiting for the previous
// one's COMMIT and WAL flush, so throughput is capped at one append per
// fsync. Here writers run concurrently, taking no lock; PostgreSQL's group
// commit flushes their commits together, and readers pay a short delay
// (none when nothing older is running).
//
// Read your writes. An append that returns has committed; it also waits
// (up to Options.VisibilityWait, default 5s) until every older transaction
// has ended, so that its caller, and whoever it tells, finds the events in
// ReadAll, Last and subscriptions at once, as with the embedded store. The
// append checks before COMMIT whether any older transaction is running
// and waits only then; a single writer never waits. Past the bound it
// returns anyway, and the events show when the old transaction ends.
// ReadStream needs no bound: revision r+1 is only inserted by a transaction
// that saw revision r committed, so a stream never reads with a hole.
//
// Writes. An append (or a batch: AppendBatch) is one transaction: read the
// heads of the streams and the request ids already applied, then take the
// transaction id and sequence numbers (set queries, one round trip; the id
// last, so that it is newer than every transaction whose events the heads
// build on and a stream's revisions never sort backwards), check
// each item's expectation with ExpectedRevision.Check, compute revisions
// and hashes (domain.ChainHash), insert the rows (COPY from 256 rows, as for
// ingest batches of 5,000 commands; otherwise INSERT ... SELECT FROM unnest
// of arrays), NOTIFY, commit. Rows go in sorted by (stream, revision) so two
// batches over the same streams cannot deadlock on the unique index.
// Nothing is locked while reading: a concurrent writer that took the same
// revision or request id first makes the insert fail on the unique index,
// and the transaction is rolled back and run again from the new heads. An
// Exact or NoStream expectation that no longer holds then fails with
// U3001, a request id that landed meanwhile is a duplicate (or U3002); an
// Any append retries, and its retries take an advisory lock per stream (at
// most 64 streams) so that writers on one hot stream take turns instead of
// colliding again. Serialization failures, deadlocks and lost connections
// are retried with backoff (5 tries from 10ms), which is safe because a
// failed transaction leaves nothing. A connection lost during COMMIT
// leaves the outcome unknown: the append is retried only when every item
// carries a request id (the retry finds what landed and reports it as this
// call's own append), otherwise the error (U3003) says the outcome is
// unknown. No append is ever partly applied.
//
// Subscriptions page through the backlog with the bounded read, then wait.
// An append through the same *Store wakes them at once; appends by other
// processes wake them through LISTEN upay_events (one connection per
// Store, opened with the first subscription; the append's pg_notify is
// delivered at its commit); a poll every PollInterval covers a lost
// notification and an old transaction that ended without notifying. Close
// ends the subscriptions and waits for their goroutines and for the appends
// in flight.
//
// Durability is the server's: a commit returns after its WAL flush when
// synchronous_commit is on (the default; upay does not change it). With it
// off, a server crash can lose the last appends that were acknowledged.
//
// Errors: engine failures (unreachable server, timeouts, I/O) are
// domain.ErrStoreFailure (U3003) naming what failed, never the password;
// expected-revision conflicts are domain.ErrConcurrency (U3001) naming the
// stream and the expected and actual revision; a request id reused with
// other content is domain.ErrRequestReused (U3002); a URL that cannot be
// read is U1009.
package postgres
