package projections

import (
	"context"

	"github.com/rickb777/date"

	"upay/domain"
)

// SearchLimit is the admin UI's contract: at most 50 rows, and when more
// match, say so with the manual's message (domain.CodeSearchOverflow, A25).
const SearchLimit = 50

// TxQuery selects rows of the transaction listing. The zero value lists
// everything, newest first.
type TxQuery struct {
	Merchant domain.MerchantID // "" = every merchant
	// From and To bound the processing date (売上/返品処理日), inclusive: a
	// row matches when its sales date or its return date falls in the range;
	// a row with neither (authorized, declined, voided, unknown, failed,
	// training) matches on the business date of its first event.
	From, To  *date.Date
	MinAmount *domain.Yen // on Transaction.Amount, inclusive
	MaxAmount *domain.Yen
	Status    string // one of Statuses, "" = any
	Brand     string // a card brand or "emoney", "" = any
	Limit     int    // rows per page; 0 means SearchLimit
	After     string // keyset cursor from TxPage.Next; "" = first page
}

// TxPage is one page of a search, newest first (CreatedAt desc, then
// payment id desc).
type TxPage struct {
	Rows []Transaction
	More bool   // more rows match than were returned
	Next string // cursor for the next page when More
}

// TotalRow is one period-totals cell.
type TotalRow struct {
	TotalKey
	Total
}

// JournalEntry is the balanced entry one event posted.
type JournalEntry struct {
	Position domain.Position
	Time     string // processing time, RFC 3339
	Type     string // event type
	Payment  domain.PaymentID
	Notice   string // the payout's notice number, for a payout's entries
	Postings []Posting
}

// Status of one projection for `upay projections status`.
type Status struct {
	Name     string
	Position domain.Position // last event applied
	Lag      int64           // events in the store after Position
}

// ReadModels is the read-model port: what the CLI readers and the HTTP
// admin API read. Every method reads committed rows only; a runner keeps
// them in step with the event store, each projection's checkpoint in the
// same transaction as its rows.
//
// Errors: U1009 for an invalid query (unknown status or brand, from > to,
// min > max, a bad cursor), U3003 when the engine fails.
type ReadModels interface {
	SearchTransactions(ctx context.Context, q TxQuery) (TxPage, error)
	Transaction(ctx context.Context, id domain.PaymentID) (Transaction, bool, error)
	// PeriodTotals returns a merchant's cells with dates in [from, to].
	PeriodTotals(ctx context.Context, m domain.MerchantID, from, to date.Date) ([]TotalRow, error)
	// UnknownEmoney lists a merchant's e-money debits awaiting resolution.
	UnknownEmoney(ctx context.Context, m domain.MerchantID) ([]Transaction, error)
	TrialBalance(ctx context.Context) (TrialBalance, error)
	Journal(ctx context.Context, after domain.Position, limit int) ([]JournalEntry, error)
	// Payouts lists a merchant's payouts with paydays in [from, to], by
	// payday.
	Payouts(ctx context.Context, m domain.MerchantID, from, to date.Date) ([]Payout, error)
	// PayoutsOn lists every merchant's payout for one payday, by merchant.
	PayoutsOn(ctx context.Context, payday date.Date) ([]Payout, error)
	// Notices lists every merchant's payout notices for one payday (a
	// reissue is a notice of its own), by merchant, then notice number.
	Notices(ctx context.Context, payday date.Date) ([]Notice, error)
	Status(ctx context.Context) ([]Status, error)
}
