// Package memmodels holds the read models in the process's memory: every
// projection of package projections, behind the same ports as the SQLite
// and PostgreSQL read models (projections.ReadModels and
// projections.Writer), and passing the same conformance suite.
//
// Why: a rebuild into SQLite is bound by the engine's per-row work (see
// docs/projections.md, "Performance"): inserting the listing's rows and
// building its indexes alone cost more CPU per event than its one write
// connection has at 300,000 events/s. Held in memory, a row costs a few
// array and map updates, and a rebuild runs about as fast as the event
// store can be read. The price is memory that grows with the read models
// themselves (not with the log: a payment's row is replaced, never
// appended), and a process that starts with empty models: `upay serve
// --read-models memory` folds the event store into them when it starts,
// then follows live appends. Nothing is written to disk, so there is
// nothing to corrupt: a crash loses the models, and the next start folds
// the log again.
//
// Consistency: a write transaction applies its batch at Commit, under the
// write lock, together with its checkpoints; readers take the read lock,
// so they see every batch whole or not at all. One write transaction at a
// time (Begin waits for the previous one), as the runner expects.
//
// Search: rows are indexed per merchant and business date (sales date,
// return date, or the first event's date for rows with neither), each index
// entry in the listing's order, so a one-merchant search over a date range
// (up to 62 days) merges the entries newest first and stops after its
// page; other searches scan the merchant's rows, or every row, keeping the
// newest page. The condition is
// projections.TxQuery.Matches, restated on the stored form (query.matches).
//
// Storage: rows, journal entries and indexes hold no pointers (rows.go):
// strings are interned or kept in a byte arena, optional values carry
// flags. The garbage collector then has next to nothing to mark however
// large the models grow, which keeps both the rebuild and the API's tail
// latency from paying for the models' size.
package memmodels
