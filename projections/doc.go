// Package projections holds pure folds from recorded events to the read
// models the admin UI and the finance team read: the transaction listing,
// the double-entry journal, and period totals per merchant, brand group and
// business date. The folds know nothing of storage; a runner applies them in
// global order and keeps each projection's checkpoint with its rows, so a
// crash never applies an event twice or skips one.
package projections
