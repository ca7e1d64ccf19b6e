package sqlmodels

import (
	"context"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
)

// Reader is the read side of projections.ReadModels over one engine: the
// shared SQL and row mapping, run through the engine's Query. A store
// embeds it.
type Reader struct {
	d     *Dialect
	query Query
	fail  Fail
	// The reads' SQL, rendered for the dialect once.
	transaction, periodTotals, unknownEmoney, trialBalance, journal, payouts, payoutsOn, notices string
}

// Query runs a read statement on an engine; each engine prepares a text
// once and reuses it.
type Query func(ctx context.Context, sql string, args ...any) (Rows, error)

// Fail maps the error of a Query that failed, format saying what was read.
type Fail func(err error, format string, args ...any) error

// NewReader returns the reads of a store of dialect d.
func NewReader(d *Dialect, query Query, fail Fail) *Reader {
	return &Reader{d: d, query: query, fail: fail,
		transaction:   d.Rebind(QueryTransaction),
		periodTotals:  d.Rebind(QueryPeriodTotals),
		unknownEmoney: d.Rebind(QueryUnknownEmoney),
		trialBalance:  d.Rebind(QueryTrialBalance),
		journal:       d.Rebind(QueryJournal),
		payouts:       d.Rebind(QueryPayouts),
		payoutsOn:     d.Rebind(QueryPayoutsOn),
		notices:       d.Rebind(QueryNotices),
	}
}

// SearchTransactions runs the admin search: newest first, at most
// q.PageSize() rows, More and Next set when more match. Errors: U1009 for
// an invalid query, U3003.
func (r *Reader) SearchTransactions(ctx context.Context, q projections.TxQuery) (projections.TxPage, error) {
	if err := q.Validate(); err != nil {
		return projections.TxPage{}, err
	}
	var cur *projections.Cursor
	if q.After != "" {
		c, err := projections.ParseCursor(q.After)
		if err != nil {
			return projections.TxPage{}, err
		}
		cur = &c
	}
	n := q.PageSize()
	s, args := r.d.Search(q, cur, n+1)
	rows, err := r.query(ctx, s, args...)
	if err != nil {
		return projections.TxPage{}, r.fail(err, "search transactions")
	}
	out, err := r.d.ScanTxs(rows, n+1)
	if err != nil {
		return projections.TxPage{}, err
	}
	page := projections.TxPage{Rows: out}
	if len(out) > n {
		page.Rows, page.More = out[:n], true
		page.Next = projections.CursorOf(out[n-1]).String()
	}
	return page, nil
}

// Transaction returns one payment's row; ok is false when there is none.
// Errors: U3003.
func (r *Reader) Transaction(ctx context.Context, id domain.PaymentID) (projections.Transaction, bool, error) {
	rows, err := r.query(ctx, r.transaction, string(id))
	if err != nil {
		return projections.Transaction{}, false, r.fail(err, "read transaction %s", id)
	}
	out, err := r.d.ScanTxs(rows, 1)
	if err != nil || len(out) == 0 {
		return projections.Transaction{}, false, err
	}
	return out[0], true, nil
}

// PeriodTotals returns a merchant's cells with dates in [from, to], by
// date and then in payout-line order of the groups. Errors: U1009 when
// from is after to, U3003.
func (r *Reader) PeriodTotals(ctx context.Context, mid domain.MerchantID, from, to date.Date) ([]projections.TotalRow, error) {
	if from.After(to) {
		return nil, domain.Err(domain.CodeInvalidField, "from %s is after to %s", from, to)
	}
	rows, err := r.query(ctx, r.periodTotals, string(mid), r.d.Day(from), r.d.Day(to))
	if err != nil {
		return nil, r.fail(err, "read period totals")
	}
	defer rows.Close()
	var out []projections.TotalRow
	var d int64
	var grp string
	var t projections.TotalRow
	dest := []any{&d, &grp, &t.Count, &t.Sales} // one list for every row (see txScan)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, r.d.Err(err, "read period totals")
		}
		t.Merchant, t.Group, t.Date = mid, domain.Group(grp), date.NewOfDays(date.PeriodOfDays(d))
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, r.d.Err(err, "read period totals")
	}
	projections.SortTotalRows(out)
	return out, nil
}

// UnknownEmoney lists a merchant's e-money debits awaiting resolution,
// oldest first. Errors: U3003.
func (r *Reader) UnknownEmoney(ctx context.Context, mid domain.MerchantID) ([]projections.Transaction, error) {
	rows, err := r.query(ctx, r.unknownEmoney, string(mid))
	if err != nil {
		return nil, r.fail(err, "read unknown e-money debits")
	}
	return r.d.ScanTxs(rows, 0)
}

// TrialBalance returns every account's total debits and credits.
// Errors: U3003.
func (r *Reader) TrialBalance(ctx context.Context) (projections.TrialBalance, error) {
	rows, err := r.query(ctx, r.trialBalance)
	if err != nil {
		return nil, r.fail(err, "read trial balance")
	}
	defer rows.Close()
	tb := projections.TrialBalance{}
	var a string
	var d, c int64
	dest := []any{&a, &d, &c} // one list for every row (see txScan)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, r.d.Err(err, "read trial balance")
		}
		tb[a] = struct{ Debit, Credit domain.Yen }{d, c}
	}
	if err := rows.Err(); err != nil {
		return nil, r.d.Err(err, "read trial balance")
	}
	return tb, nil
}

// Journal returns up to limit entries after position after, in log order
// (limit 0: projections.JournalLimit). Errors: U1009 for a limit outside
// 0..projections.MaxJournalLimit, U3003.
func (r *Reader) Journal(ctx context.Context, after domain.Position, limit int) ([]projections.JournalEntry, error) {
	limit, err := projections.CheckJournalLimit(limit)
	if err != nil {
		return nil, err
	}
	c, p, err := r.d.Position(after)
	if err != nil {
		return nil, domain.Wrap(domain.CodeInvalidField, err, "journal after %s", after)
	}
	rows, err := r.query(ctx, r.journal, c, p, int64(limit))
	if err != nil {
		return nil, r.fail(err, "read journal")
	}
	return collect(r.d, rows, r.d.newEntryScan().row, "read journal")
}

// Payouts returns a merchant's payouts with paydays in [from, to], by
// payday. Errors: U1009 when from is after to, U3003.
func (r *Reader) Payouts(ctx context.Context, mid domain.MerchantID, from, to date.Date) ([]projections.Payout, error) {
	if from.After(to) {
		return nil, domain.Err(domain.CodeInvalidField, "from %s is after to %s", from, to)
	}
	rows, err := r.query(ctx, r.payouts, string(mid), r.d.Day(from), r.d.Day(to))
	if err != nil {
		return nil, r.fail(err, "read payouts")
	}
	return collect(r.d, rows, r.d.newPayoutScan().row, "read payouts")
}

// PayoutsOn returns every merchant's payout for a payday, by merchant.
// Errors: U3003.
func (r *Reader) PayoutsOn(ctx context.Context, payday date.Date) ([]projections.Payout, error) {
	rows, err := r.query(ctx, r.payoutsOn, r.d.Day(payday))
	if err != nil {
		return nil, r.fail(err, "read payouts")
	}
	return collect(r.d, rows, r.d.newPayoutScan().row, "read payouts")
}

// Notices returns every merchant's notices for a payday, by merchant and
// notice number. Errors: U3003.
func (r *Reader) Notices(ctx context.Context, payday date.Date) ([]projections.Notice, error) {
	rows, err := r.query(ctx, r.notices, r.d.Day(payday))
	if err != nil {
		return nil, r.fail(err, "read notices")
	}
	return collect(r.d, rows, r.d.newNoticeScan().row, "read notices")
}

// collect reads every row of rows with scan, and closes them; what says
// what was read.
func collect[T any](d *Dialect, rows Rows, scan func(Rows) (T, error), what string) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, d.Err(err, what)
	}
	return out, nil
}

// Status returns each projection's checkpoint, cps, and lag: from
// projections.StatusOf (never a difference of positions, which means
// nothing on PostgreSQL), or -1 (unknown) without events.
func Status(ctx context.Context, events domain.EventStore, cps map[string]domain.Position) ([]projections.Status, error) {
	if events != nil {
		return projections.StatusOf(ctx, events, cps)
	}
	out := make([]projections.Status, 0, len(projections.Names))
	for _, n := range projections.Names {
		out = append(out, projections.Status{Name: n, Position: cps[n], Lag: -1})
	}
	return out, nil
}
