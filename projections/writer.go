package projections

import (
	"context"
	"fmt"
	"slices"
	"time"

	"upay/domain"
	"upay/notice"
)

// Projection names. Each projection keeps its own checkpoint, so one can be
// rebuilt while the others stay where they are.
const (
	NameTransactions = "transactions"  // the listing: table transactions
	NameTotals       = "period_totals" // period totals per merchant, brand group and business date
	NameJournal      = "journal"       // the double-entry journal and its trial balance
	NamePayouts      = "payouts"       // one row per payout with its bank outcome
	NameNotices      = "notices"       // one row per payout notice with its file and delivery
)

// Names lists every projection, in the order status prints them.
var Names = []string{NameTransactions, NameTotals, NameJournal, NamePayouts, NameNotices}

// CheckNames returns names, or every projection when names is empty, and
// refuses an unknown name with U1009.
func CheckNames(names []string) ([]string, error) {
	if len(names) == 0 {
		return slices.Clone(Names), nil
	}
	var out []string
	for _, n := range names {
		if !slices.Contains(Names, n) {
			return nil, domain.Err(domain.CodeInvalidField, "projection %q is not one of %q", n, Names)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Writer is the write side of a read-model store: what the Runner needs to
// keep the read models in step with the event store. The store holds the
// rows of every projection and, beside them, each projection's checkpoint
// (the position of the last event it applied); a WriteTx changes both in one
// transaction, so a crash never applies an event twice or skips one.
//
// Errors: U3003 when the engine fails; U1009 from Reset for an unknown name.
type Writer interface {
	// Checkpoints returns each projection's committed position; a
	// projection that never ran is absent (it is at domain.Start).
	Checkpoints(ctx context.Context) (map[string]domain.Position, error)
	// Begin starts a write transaction. It holds the store's write lock
	// until Commit or Rollback, so what it reads stays true until it
	// commits, also against runners in other processes.
	Begin(ctx context.Context) (WriteTx, error)
	// Reset deletes the rows and the checkpoints of the named projections
	// in one transaction. A store may also drop what only speeds up reads
	// (indexes) until the next Ready, to refill faster.
	Reset(ctx context.Context, names []string) error
	// Ready is called when a catch-up has reached the end of the log:
	// the store restores anything Reset deferred.
	Ready(ctx context.Context) error
}

// WriteTx is one write transaction of a Writer.
type WriteTx interface {
	// Checkpoints returns the positions as this transaction sees them.
	Checkpoints() (map[string]domain.Position, error)
	// Transactions returns the stored listing rows of the given payments
	// (those that have one).
	Transactions(ids []domain.PaymentID) (map[domain.PaymentID]Transaction, error)
	// Notices returns the stored notices rows of the given notice
	// numbers (those that have one).
	Notices(nos []string) (map[string]Notice, error)
	// Write applies a batch: its rows and its checkpoints.
	Write(b *Batch) error
	Commit() error
	// Rollback abandons the transaction; after Commit it does nothing.
	Rollback() error
}

// Batch is what one page of events changes in the read models.
type Batch struct {
	// Checkpoints holds the new position of each projection that moved.
	Checkpoints map[string]domain.Position
	// Settled are the payout lines of the page, in log order. The store
	// stamps each on the stored listing rows it covers (the rule of
	// Settlement.Stamp, as an update) before it writes Transactions,
	// which the fold has stamped already.
	Settled []Settlement
	// Transactions are listing rows to store whole (insert or replace),
	// ordered by CreatedAt then payment id.
	Transactions []*Transaction
	// Totals are deltas to add to period-totals cells.
	Totals map[TotalKey]Total
	// Journal holds the new journal entries in log order.
	Journal []Entry
	// Balances are deltas to add to the trial balance, per account.
	Balances TrialBalance
	// Payouts are the payouts issued in the page, to store whole, with
	// any bank outcome the page also holds.
	Payouts []*Payout
	// Outcomes are bank outcomes of payouts issued before the page, in
	// log order, to apply to the stored rows.
	Outcomes []PayoutOutcome
	// Notices are the notices rows the page changed, to store whole:
	// each folded over its stored row.
	Notices []*Notice
}

// Entry is a journal entry as the runner posts it; JournalEntry is its
// read form.
type Entry struct {
	Position domain.Position
	Time     time.Time // processing time
	Type     string    // event type
	Payment  domain.PaymentID
	Notice   string // payout events: the notice number
	Postings []Posting
}

// Read renders an entry as readers see it.
func (e Entry) Read() JournalEntry {
	return JournalEntry{Position: e.Position, Time: e.Time.UTC().Format(time.RFC3339Nano), Type: e.Type, Payment: e.Payment,
		Notice: e.Notice, Postings: e.Postings}
}

// NoticeOf returns the notice number of a payout event; ok is false for
// any other event.
func NoticeOf(e domain.Event) (notice string, ok bool) {
	switch e := e.(type) {
	case domain.PayoutIssued:
		return e.NoticeNo, true
	case domain.PayoutPaid:
		return e.NoticeNo, true
	case domain.PayoutReturned:
		return e.NoticeNo, true
	}
	return "", false
}

// PaymentOf returns the payment a payment event belongs to; ok is false for
// any other event.
func PaymentOf(e domain.Event) (id domain.PaymentID, ok bool) {
	switch e := e.(type) {
	case domain.CardAuthorized:
		return e.Payment, true
	case domain.CardDeclined:
		return e.Payment, true
	case domain.CardCaptured:
		return e.Payment, true
	case domain.CardVoided:
		return e.Payment, true
	case domain.CardRefunded:
		return e.Payment, true
	case domain.EmoneyDebit:
		return e.Payment, true
	case domain.EmoneyResolved:
		return e.Payment, true
	}
	return "", false
}

// starts reports whether an event begins a payment's row (Transaction.Apply
// replaces the row), so folding it needs no stored row.
func starts(e domain.Event) bool {
	switch e.(type) {
	case domain.CardAuthorized, domain.CardDeclined, domain.EmoneyDebit:
		return true
	}
	return false
}

// folds reports whether the projections read events of this type. Other
// events (merchants, the payout history index, and types a newer build
// may add) are passed over without decoding; their positions still advance
// the checkpoints.
func folds(typ string) bool {
	switch typ {
	case domain.TypeCardAuthorized, domain.TypeCardDeclined, domain.TypeCardCaptured, domain.TypeCardVoided,
		domain.TypeCardRefunded, domain.TypeEmoneySucceeded, domain.TypeEmoneyFailed, domain.TypeEmoneyUnknown,
		domain.TypeEmoneyResolved, domain.TypeEmoneyTrainingOK,
		domain.TypePayoutIssued, domain.TypePayoutPaid, domain.TypePayoutReturned,
		notice.TypeIssued, notice.TypeDelivered, notice.TypeDeliveryFailed:
		return true
	}
	return false
}

// errGap says a page does not continue from a projection's checkpoint
// (another runner reset or overtook it): the runner re-reads from the
// checkpoints.
var errGap = fmt.Errorf("projections: page does not continue from the checkpoint")
