// Package projections holds pure folds from recorded events to the read
// models the admin UI and the finance team read: the transaction listing
// (with the payout that settled each sale), the double-entry journal
// (payments and payouts), period totals per merchant, brand group and
// business date, and the payouts. The folds know nothing of storage.
//
// Two ports meet here. ReadModels is what readers (the CLI, the admin API)
// ask of a read-model store; TxQuery.Validate and TxQuery.Matches define the
// search once for every store. Writer is what the Runner needs to keep a
// store in step with the event store: a transaction that reads each
// projection's checkpoint and the rows it continues, and writes a page's
// rows with the new checkpoints, all or nothing. Each projection
// (transactions, period_totals, journal, payouts) has its own checkpoint,
// so one can be rebuilt while the others stay; an event at or before a
// projection's checkpoint is never applied to it again, which makes
// applying idempotent by global position.
//
// The Runner reads the log in pages from the lowest checkpoint, decodes each
// page on its own goroutine (with a fast path for the ledger's own encoding,
// see Decode), folds it into a Batch and hands that to the Writer. It
// catches up, then follows live appends through the store's subscription.
// A crash between pages loses nothing and repeats nothing: the next run
// starts from the checkpoints the last commit left.
package projections
