// Package sqlmodels holds the read models' SQL and row mapping that the
// SQLite store (adapters/sqlitemodels) and the PostgreSQL store
// (adapters/pgmodels) share: one schema, column for column, so one text
// for every statement the two engines read alike.
//
// What is here: the column lists and the statements both engines run as
// written (the single-row reads, the checkpoints, the payout outcome and
// stamp, the upserts' ON CONFLICT clauses), the admin search's builder
// (filters, keyset cursor, the unsorted form without a date range and the
// merged per-day form of one merchant's short range), the read side of
// projections.ReadModels over any engine's rows (Reader, Status), the scan
// targets and their mapping to projections' types, the journal's and
// payouts' stored encodings, and Within, the write transaction around
// Reset's and Ready's statements. SQL is written with ? placeholders; a
// Dialect renders them.
//
// What is not: each engine's connections, transactions and locking, its
// bulk-write mechanism (SQLite's prepared multi-row statements, PostgreSQL's
// unnest arrays and COPY), its index handling during a rebuild, and the
// search over a long date range, whose best form differs (SQLite: a union of
// key-only branches; PostgreSQL: OR-ed index bitmaps). Each difference the
// shared SQL meets is a named field of Dialect, with its reason.
package sqlmodels
