package sqlitemodels

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
)

// stmt returns the prepared read statement for q, preparing it on first
// use. The cache is bounded: search SQL depends only on which filters are
// set (a few hundred shapes at most), never on their values.
func (m *Models) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	m.smu.Lock()
	defer m.smu.Unlock()
	if m.closed {
		return nil, errClosed
	}
	if st, ok := m.stmts[q]; ok {
		return st, nil
	}
	st, err := m.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, storeErr(err, "prepare %q", q)
	}
	m.stmts[q] = st
	return st, nil
}

// searchSQL renders a validated query; rows come newest first and the
// cursor continues after a row. One merchant over a short range of days is
// mergedSQL's; every other date range is sorted as follows.
//
// A date range is three branches, one per index: the sales date, the
// return date, and the first event's instant for rows with neither date.
// Each branch names the merchant (or every merchant of tx_merchants, an
// explicit skip-scan) so that it seeks its (merchant, date) index, and
// selects only the keys the order needs, which those indexes cover; the
// union is sorted and cut to the page on keys alone, and only the page's
// rows are read in full. A day of one merchant is a thousand rows or so,
// and sorting their keys rather than their rows makes the query several
// times faster.
func searchSQL(q projections.TxQuery, cur *projections.Cursor, limit int) (string, []any) {
	var common []string // conditions every branch carries
	var commonArgs []any
	if q.Status != "" {
		common = append(common, "status = ?")
		commonArgs = append(commonArgs, q.Status)
	}
	if q.Brand != "" {
		common = append(common, "brand = ?")
		commonArgs = append(commonArgs, q.Brand)
	}
	if q.MinAmount != nil {
		common = append(common, "amount >= ?")
		commonArgs = append(commonArgs, *q.MinAmount)
	}
	if q.MaxAmount != nil {
		common = append(common, "amount <= ?")
		commonArgs = append(commonArgs, *q.MaxAmount)
	}
	if cur != nil {
		common = append(common, "(created_at, payment) < (?, ?)")
		commonArgs = append(commonArgs, cur.CreatedAt.UnixNano(), string(cur.Payment))
	}
	const order = " ORDER BY created_at DESC, payment DESC"
	if q.From == nil && q.To == nil {
		where, args := common, commonArgs
		if q.Merchant != "" {
			where = append([]string{"merchant = ?"}, where...)
			args = append([]any{string(q.Merchant)}, args...)
		}
		s := "SELECT " + txCols + " FROM transactions"
		if len(where) > 0 {
			s += " WHERE " + strings.Join(where, " AND ")
		}
		return s + order + " LIMIT ?", append(args, int64(limit))
	}
	if q.Merchant != "" && q.From != nil && q.To != nil && int(q.To.Sub(*q.From)) < maxDayBranches {
		return mergedSQL(q, common, commonArgs, limit)
	}
	who, whoArgs := "merchant IN (SELECT merchant FROM tx_merchants)", []any(nil)
	if q.Merchant != "" {
		who, whoArgs = "merchant = ?", []any{string(q.Merchant)}
	}
	var branches []string
	var args []any
	branch := func(conds []string, condArgs []any) {
		all := append(append([]string{who}, conds...), common...)
		branches = append(branches, "SELECT rowid AS rid, created_at, payment FROM transactions WHERE "+strings.Join(all, " AND "))
		args = append(append(append(args, whoArgs...), condArgs...), commonArgs...)
	}
	for _, col := range []string{"sales_date", "return_date"} {
		var conds []string
		var condArgs []any
		if q.From != nil {
			conds = append(conds, col+" >= ?")
			condArgs = append(condArgs, int64(q.From.DaysSinceEpoch()))
		}
		if q.To != nil {
			conds = append(conds, col+" <= ?")
			condArgs = append(condArgs, int64(q.To.DaysSinceEpoch()))
		}
		branch(conds, condArgs)
	}
	conds := []string{"sales_date IS NULL", "return_date IS NULL"}
	var condArgs []any
	if q.From != nil {
		conds = append(conds, "created_at >= ?")
		condArgs = append(condArgs, projections.DayStart(*q.From).UnixNano())
	}
	if q.To != nil {
		conds = append(conds, "created_at < ?")
		condArgs = append(condArgs, projections.DayStart(q.To.Add(1)).UnixNano())
	}
	branch(conds, condArgs)
	s := "SELECT " + txCols + " FROM transactions WHERE rowid IN (SELECT rid FROM (" +
		strings.Join(branches, " UNION ") + ")" + order + " LIMIT ?)" + order
	return s, append(args, int64(limit))
}

// maxDayBranches is the longest date range (in days) that mergedSQL
// splits into one branch per day and date column.
const maxDayBranches = 7

// mergedSQL renders a search of one merchant over a short date range (the
// admin screen's usual query: one day) as a merge of branches that each
// deliver their rows already in the listing's order, so SQLite reads the
// first page's rows and stops, sorting nothing: one branch per day on the
// sales-date index and on the return-date index (for a fixed date, those
// indexes are ordered by created_at and payment), and the range of first
// events on the index of rows with neither date. The branches are
// disjoint, so UNION ALL repeats no row: a row has one sales date and one
// return date, and the return branches leave out rows whose sales date is
// also in the range. Against the sorted form this reads about 50 index
// entries instead of a day's thousand, about five times faster.
func mergedSQL(q projections.TxQuery, common []string, commonArgs []any, limit int) (string, []any) {
	lo, hi := int64(q.From.DaysSinceEpoch()), int64(q.To.DaysSinceEpoch())
	var branches []string
	var args []any
	branch := func(conds []string, condArgs []any) {
		all := append(append([]string{"merchant = ?"}, conds...), common...)
		branches = append(branches, "SELECT "+txCols+" FROM transactions WHERE "+strings.Join(all, " AND "))
		args = append(append(append(args, string(q.Merchant)), condArgs...), commonArgs...)
	}
	for d := lo; d <= hi; d++ {
		branch([]string{"sales_date = ?"}, []any{d})
	}
	for d := lo; d <= hi; d++ {
		branch([]string{"return_date = ?", "(sales_date < ? OR sales_date > ?)"}, []any{d, lo, hi})
	}
	branch([]string{"sales_date IS NULL", "return_date IS NULL", "created_at >= ?", "created_at < ?"},
		[]any{projections.DayStart(*q.From).UnixNano(), projections.DayStart(q.To.Add(1)).UnixNano()})
	return strings.Join(branches, " UNION ALL ") + " ORDER BY created_at DESC, payment DESC LIMIT ?", append(args, int64(limit))
}

// SearchTransactions runs the admin search: newest first, at most
// q.PageSize() rows, More and Next set when more match. Errors: U1009 for
// an invalid query, U3003.
func (m *Models) SearchTransactions(ctx context.Context, q projections.TxQuery) (projections.TxPage, error) {
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
	s, args := searchSQL(q, cur, n+1)
	st, err := m.stmt(ctx, s)
	if err != nil {
		return projections.TxPage{}, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return projections.TxPage{}, storeErr(err, "search transactions")
	}
	out, err := scanTxs(rows, n+1)
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

func scanTxs(rows *sql.Rows, hint int) ([]projections.Transaction, error) {
	defer rows.Close()
	out := make([]projections.Transaction, 0, min(hint, 64))
	for rows.Next() {
		t, err := scanTx(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(err, "read transactions")
	}
	return out, nil
}

// Transaction returns one payment's row; ok is false when there is none.
// Errors: U3003.
func (m *Models) Transaction(ctx context.Context, id domain.PaymentID) (projections.Transaction, bool, error) {
	st, err := m.stmt(ctx, "SELECT "+txCols+" FROM transactions WHERE payment = ?")
	if err != nil {
		return projections.Transaction{}, false, err
	}
	rows, err := st.QueryContext(ctx, string(id))
	if err != nil {
		return projections.Transaction{}, false, storeErr(err, "read transaction %s", id)
	}
	out, err := scanTxs(rows, 1)
	if err != nil || len(out) == 0 {
		return projections.Transaction{}, false, err
	}
	return out[0], true, nil
}

// PeriodTotals returns a merchant's cells with dates in [from, to], by
// date and then in payout-line order of the groups. Errors: U1009 when
// from is after to, U3003.
func (m *Models) PeriodTotals(ctx context.Context, mid domain.MerchantID, from, to date.Date) ([]projections.TotalRow, error) {
	if from.After(to) {
		return nil, domain.Err(domain.CodeInvalidField, "from %s is after to %s", from, to)
	}
	st, err := m.stmt(ctx, "SELECT date, grp, count, sales FROM period_totals WHERE merchant = ? AND date >= ? AND date <= ? ORDER BY date")
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, string(mid), int64(from.DaysSinceEpoch()), int64(to.DaysSinceEpoch()))
	if err != nil {
		return nil, storeErr(err, "read period totals")
	}
	defer rows.Close()
	var out []projections.TotalRow
	for rows.Next() {
		var d int64
		var grp string
		var r projections.TotalRow
		if err := rows.Scan(&d, &grp, &r.Count, &r.Sales); err != nil {
			return nil, storeErr(err, "read period totals")
		}
		r.Merchant, r.Group, r.Date = mid, domain.Group(grp), date.NewOfDays(date.PeriodOfDays(d))
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(err, "read period totals")
	}
	slices.SortStableFunc(out, func(a, b projections.TotalRow) int {
		if c := a.Date.Sub(b.Date); c != 0 {
			return int(c)
		}
		return slices.Index(domain.Groups, a.Group) - slices.Index(domain.Groups, b.Group)
	})
	return out, nil
}

// UnknownEmoney lists a merchant's e-money debits awaiting resolution,
// oldest first. Errors: U3003.
func (m *Models) UnknownEmoney(ctx context.Context, mid domain.MerchantID) ([]projections.Transaction, error) {
	// Unknown debits have neither a sales nor a return date: the partial
	// index of such rows serves the query.
	st, err := m.stmt(ctx, "SELECT "+txCols+" FROM transactions WHERE merchant = ? AND sales_date IS NULL AND return_date IS NULL AND status = 'unknown' ORDER BY created_at, payment")
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, string(mid))
	if err != nil {
		return nil, storeErr(err, "read unknown e-money debits")
	}
	return scanTxs(rows, 0)
}

// TrialBalance returns every account's total debits and credits.
// Errors: U3003.
func (m *Models) TrialBalance(ctx context.Context) (projections.TrialBalance, error) {
	st, err := m.stmt(ctx, "SELECT account, debit, credit FROM trial_balance")
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx)
	if err != nil {
		return nil, storeErr(err, "read trial balance")
	}
	defer rows.Close()
	tb := projections.TrialBalance{}
	for rows.Next() {
		var a string
		var d, c int64
		if err := rows.Scan(&a, &d, &c); err != nil {
			return nil, storeErr(err, "read trial balance")
		}
		tb[a] = struct{ Debit, Credit domain.Yen }{d, c}
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(err, "read trial balance")
	}
	return tb, nil
}

// Journal returns up to limit entries after position after, in log order
// (limit 0: projections.JournalLimit). Errors: U1009 for a limit outside
// 0..projections.MaxJournalLimit, U3003.
func (m *Models) Journal(ctx context.Context, after domain.Position, limit int) ([]projections.JournalEntry, error) {
	limit, err := projections.CheckJournalLimit(limit)
	if err != nil {
		return nil, err
	}
	c, err1 := sqlInt(after.Commit, "position")
	p, err2 := sqlInt(after.Prepare, "position")
	if err := errors.Join(err1, err2); err != nil {
		return nil, domain.Wrap(domain.CodeInvalidField, err, "journal after %s", after)
	}
	st, err := m.stmt(ctx, "SELECT "+journalCols+" FROM journal WHERE (pos_commit, pos_prepare) > (?, ?) ORDER BY pos_commit, pos_prepare LIMIT ?")
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, c, p, int64(limit))
	if err != nil {
		return nil, storeErr(err, "read journal")
	}
	defer rows.Close()
	var out []projections.JournalEntry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(err, "read journal")
	}
	return out, nil
}

// Payouts returns a merchant's payouts with paydays in [from, to], by
// payday, through payouts_merchant. Errors: U1009 when from is after to,
// U3003.
func (m *Models) Payouts(ctx context.Context, mid domain.MerchantID, from, to date.Date) ([]projections.Payout, error) {
	if from.After(to) {
		return nil, domain.Err(domain.CodeInvalidField, "from %s is after to %s", from, to)
	}
	st, err := m.stmt(ctx, "SELECT "+payoutCols+" FROM payouts WHERE merchant = ? AND payday BETWEEN ? AND ? ORDER BY payday, notice_no")
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, string(mid), int64(from.DaysSinceEpoch()), int64(to.DaysSinceEpoch()))
	if err != nil {
		return nil, storeErr(err, "read payouts")
	}
	return scanPayouts(rows)
}

// PayoutsOn returns every merchant's payout for a payday, by merchant,
// through payouts_payday. Errors: U3003.
func (m *Models) PayoutsOn(ctx context.Context, payday date.Date) ([]projections.Payout, error) {
	st, err := m.stmt(ctx, "SELECT "+payoutCols+" FROM payouts WHERE payday = ? ORDER BY merchant, notice_no")
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, int64(payday.DaysSinceEpoch()))
	if err != nil {
		return nil, storeErr(err, "read payouts")
	}
	return scanPayouts(rows)
}

func scanPayouts(rows *sql.Rows) ([]projections.Payout, error) {
	defer rows.Close()
	var out []projections.Payout
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(err, "read payouts")
	}
	return out, nil
}
