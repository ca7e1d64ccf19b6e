// Package pgmodels holds the read models in PostgreSQL, in the same
// database as the event store (adapters/postgres), through pgx and a
// pgxpool. It implements projections.ReadModels, what the CLI readers and
// the admin API read, and projections.Writer, what a projections.Runner
// writes through, with the behaviour of adapters/sqlitemodels: both pass
// adapters/readmodeltest unchanged.
//
// Schema. Migration 0002_read_models.sql of adapters/pgschema creates the
// tables of sqlitemodels column for column: transactions (the listing,
// with the admin search's indexes), tx_merchants, period_totals, journal,
// trial_balance and checkpoints, plus deferred_indexes (see Rebuilds);
// 0003_payouts.sql adds payouts, tx_unsettled (the payout stamps' index,
// which Reset keeps) and the journal's notice column, and empties the
// listing and the journal of a database migrated earlier so that the next
// catch-up folds them again with the payout events; 0004_notices.sql adds
// notices (the notices projection), empty and without a checkpoint, so the
// next catch-up folds it from the start of the log.
// Dates stay days since 1970-01-01 and instants Unix nanoseconds, so rows
// map as in sqlitemodels; positions are (pos_commit, pos_prepare) bigint
// pairs, compared and never subtracted (on PostgreSQL Commit is a
// transaction id). Text compared for order is COLLATE "C", byte order as
// in Go, whatever the server's locale. Open refuses a database at another
// migration level (pgschema.Check) unless Options.Migrate.
//
// Write transactions. A WriteTx is a READ COMMITTED transaction that first
// takes a transaction-level advisory lock (SQLite's BEGIN IMMEDIATE): the
// runner reads the checkpoints and the rows it continues after the lock,
// so a runner in another process that held it has committed and is seen,
// and writes the batch's rows and the new checkpoints before the commit
// releases it. Runners of one process queue on a semaphore first, not each
// holding a pooled connection. Commits do not wait for the WAL flush
// (synchronous_commit=off, SQLite's synchronous=NORMAL): a crash loses
// whole batches with their checkpoints, which the runner applies again. A
// connection lost mid-batch (server restart, pg_terminate_backend) fails
// the batch with U3003 saying so; the server rolled it back, or, if the
// COMMIT reached it, committed rows and checkpoints together; either way
// the next batch starts from the checkpoints.
//
// Bulk writes. A batch is one statement per table whatever its size: each
// column travels as one array parameter and unnest turns the arrays back
// into rows (INSERT ... SELECT FROM unnest(...) ON CONFLICT ...), queued
// in one pipelined round trip; big journal batches, plain inserts, go by
// COPY. Measured on a rebuild of 109,000 events (two shared cores), the
// listing's upsert took ~0.5 s this way, ~0.8 s as a pgx.Batch of one-row
// upserts, and about the same as unnest when COPY-ed into a temporary
// table and upserted from it, which also needs per-session state; the
// journal took ~0.1 s by COPY against ~0.17 s by unnest.
//
// Rebuilds. Reset truncates the projections' tables and keeps the
// listing's indexes; Ready, at the end of the catch-up, analyzes the
// refilled listing. Dropping the indexes and building them once after the
// refill would make a rebuild about 20% faster, but the build would be one
// long write transaction, and every append on the server waits for older
// write transactions before its events become visible (adapters/postgres):
// appends would stall for the whole build. deferred_indexes (migration 2)
// is kept for databases rebuilt by an earlier build that did drop them:
// Ready recreates what it lists.
//
// Reads run on the pool and see committed rows only; pgx prepares each
// statement once per connection (sqlitemodels' statement cache). The
// admin search has three forms (sqlmodels.Dialect.Search): no date range
// walks an index in the listing's order; one merchant over up to a week
// merges per-day branches that each read their index in that order and
// stop at the page; any other range ORs the three date indexes and sorts
// the matches.
//
// Shared SQL. The SQL and row mapping this store shares with sqlitemodels
// (column lists, the reads and the admin search's builder, upsert clauses,
// scan targets, the journal's and payouts' stored encodings) are package
// sqlmodels', written with ? placeholders. Differences from sqlitemodels,
// each named in dialect.go with its reason: in the shared SQL (the dialect
// value) $n placeholders (rebind), int4 dates, the merchant list as an
// array for the every-merchant search, ordered branches in the merged
// search (PostgreSQL merges only branches that sort themselves), NULL
// sales dates in its return branches, upserts that name the stored row's
// columns, and the search over a long date range as OR-ed index bitmaps
// (indexOr, where SQLite needs an explicit key-only union) fenced so that
// the planner, which does not know that dates follow creation times,
// cannot walk the whole listing instead; and in this store alone, array
// parameters instead of chunks of ? groups, the advisory lock, the
// asynchronous commit, COPY, TRUNCATE, index definitions taken from the
// catalog, and jit off for the searches.
//
// Errors: U1009 for a store URL that does not parse (its password never
// shown) and invalid queries (projections.TxQuery.Validate); U3003
// (domain.ErrStoreFailure) when the server cannot be reached or the
// engine fails.
package pgmodels
