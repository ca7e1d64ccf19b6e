// Package sqlitemodels holds the read models in one SQLite file, through the
// same pure-Go driver as the embedded event store (modernc.org/sqlite). It
// implements projections.ReadModels, what the CLI readers and the admin API
// read, and projections.Writer, what a projections.Runner writes through.
//
// Why a file of its own ("<store>.read.db" beside the event store, see
// PathFor): SQLite admits one writer per file, so read models in the event
// store's file would make every projection batch queue behind (and hold up)
// ledger appends, and a rebuild would hold the ledger's write lock for
// seconds at a time. In their own file the runner's transactions never
// contend with appends. The file also has its own durability: the events
// are the truth, everything here can be rebuilt from them, so it commits
// without waiting for fsync (synchronous=NORMAL) while keeping SQLite's
// atomicity, and deleting it is always safe.
//
// Model. Table transactions is the listing, one row per payment with every
// field of projections.Transaction; its secondary indexes serve the admin
// search (see indexes in models.go). tx_merchants lists the merchants that
// have rows. period_totals holds one cell per merchant, business date and
// brand group. journal holds one balanced entry per money event and
// trial_balance the running totals per account. payouts holds one row per
// payout, notices one per payout notice number; a payout's lines stamp their notice on the listing rows they
// settle through tx_unsettled, a partial index of the rows not yet paid out
// that a rebuild keeps. checkpoints holds each projection's position. The
// schema version is PRAGMA user_version: schema.sql is version 1, each later
// version a step (schema_v2.sql: payouts; schema_v3.sql: notices) that Open applies to an older
// file in one transaction, refolding what the step empties.
//
// Checkpoints. A WriteTx is one BEGIN IMMEDIATE transaction on the single
// write connection: the runner reads the checkpoints and the stored rows it
// continues through it, and writes the batch's rows and the new
// checkpoints in it, so they commit together or not at all. The immediate
// lock makes the read-then-write safe against runners in other processes
// on the same file: a second runner waits, then sees the first one's
// checkpoints and skips what it applied.
//
// Rebuilds. Reset of the listing drops its secondary indexes with its
// rows; Ready recreates them once the catch-up reaches the end of the log.
// Building an index once over the full table is about twice as fast as
// keeping it up to date row by row. Searches during a rebuild are correct
// but slower.
//
// Reads run on a pool of read-only connections and see the last committed
// snapshot (WAL); search statements are prepared once per query shape.
//
// Shared SQL. The SQL and row mapping this store shares with
// adapters/pgmodels (column lists, the reads and the admin search's
// builder, upsert clauses, scan targets, the journal's and payouts' stored
// encodings) are package sqlmodels'; dialect.go has SQLite's side of each
// difference: ? placeholders as written, int64 dates, the every-merchant
// skip-scan, bare merged-search branches, and the search over a long date
// range as a union of key-only branches (keyUnion). What stays here is
// SQLite's alone: the connections, BEGIN IMMEDIATE, the multi-row
// statements prepared in chunks, the index list that Reset drops and Ready
// recreates, and the schema steps.
//
// Errors: engine failures are domain.ErrStoreFailure (U3003); invalid
// queries are U1009 (see projections.TxQuery.Validate).
package sqlitemodels
