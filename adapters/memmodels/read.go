package memmodels

import (
	"cmp"
	"context"
	"math"
	"slices"

	"github.com/rickb777/date"

	"upay/adapters/sqlmodels"
	"upay/domain"
	"upay/projections"
)

// maxDayScan is the longest date range (in days) that a one-merchant
// search reads through the date indexes; a longer or open range, or a
// search of every merchant, scans the rows (every row at 1M payments:
// about 16 ms).
const maxDayScan = 62

// SearchTransactions runs the admin search: newest first, at most
// q.PageSize() rows, More and Next set when more match. Errors: U1009 for
// an invalid query.
func (m *Models) SearchTransactions(_ context.Context, q projections.TxQuery) (projections.TxPage, error) {
	if err := q.Validate(); err != nil {
		return projections.TxPage{}, err
	}

	var cur *key
	if q.After != "" {
		c, err := projections.ParseCursor(q.After)
		if err != nil {
			return projections.TxPage{}, err
		}
		cur = &key{created: c.CreatedAt.UnixNano(), payment: string(c.Payment)}
	}
	n := q.PageSize()
	page := top{m: m, k: n + 1}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.compile(q)
	if !ok { // a merchant, status or brand no row has
		return projections.TxPage{}, nil
	}
	if q.Merchant != "" && q.From != nil && q.To != nil && int(q.To.Sub(*q.From)) < maxDayScan {
		// Through the date indexes, merged newest first: the page is done
		// after its rows, as an index scan in SQL. A row whose sales and
		// return dates are both in the range is in two entries.
		var bs [][]int32
		for day := *q.From; !day.After(*q.To); day = day.Add(1) {
			k := dayKey{c.merchant, day}
			bs = append(bs, m.sales[k], m.returns[k], m.dateless[k])
		}
		prev := int32(-1)
		m.walk(bs, cur, func(i int32) bool {
			// The two entries of one row share its key, so the merge
			// yields them one after the other.
			if i == prev {
				return false
			}
			prev = i
			if c.matches(&m.rows[i]) {
				page.rows = append(page.rows, i)
			}
			return len(page.rows) == page.k
		})
	} else {
		// A scan that keeps the page's newest rows; from the end (the
		// newest last, mostly), the page fills early and later rows rarely
		// enter it.
		scan := func(i int32) {
			if c.matches(&m.rows[i]) && (cur == nil || m.olderThanKey(i, *cur) < 0) {
				page.add(i)
			}
		}
		if q.Merchant != "" {
			rows := m.byMerchant[c.merchant]
			for k := len(rows) - 1; k >= 0; k-- {
				scan(rows[k])
			}
		} else {
			for i := int32(len(m.rows)) - 1; i >= 0; i-- {
				scan(i)
			}
		}
	}
	out := make([]projections.Transaction, len(page.rows))
	for k, i := range page.rows {
		out[k] = m.tx(&m.rows[i])
	}
	res := projections.TxPage{Rows: out}
	if len(out) > n {
		res.Rows, res.More = out[:n], true
		res.Next = projections.CursorOf(out[n-1]).String()
	}
	return res, nil
}

// top keeps the k newest rows offered, newest first.
type top struct {
	m    *Models
	k    int
	rows []int32
}

func (p *top) add(i int32) {
	if len(p.rows) == p.k && p.m.older(i, p.rows[p.k-1]) < 0 {
		return
	}
	// Newest first: the reverse of older.
	at, _ := slices.BinarySearchFunc(p.rows, i, func(a, b int32) int { return p.m.older(b, a) })
	if len(p.rows) == p.k {
		p.rows = p.rows[:p.k-1]
	}
	p.rows = slices.Insert(p.rows, at, i)
}

// Transaction returns one payment's row; ok is false when there is none.
func (m *Models) Transaction(_ context.Context, id domain.PaymentID) (projections.Transaction, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	i, ok := m.find(string(id))
	if !ok {
		return projections.Transaction{}, false, nil
	}
	return m.tx(&m.rows[i]), true, nil
}

// PeriodTotals returns a merchant's cells with dates in [from, to], by
// date and then in payout-line order of the groups. Errors: U1009 when
// from is after to.
func (m *Models) PeriodTotals(_ context.Context, mid domain.MerchantID, from, to date.Date) ([]projections.TotalRow, error) {
	if from.After(to) {
		return nil, domain.Err(domain.CodeInvalidField, "from %s is after to %s", from, to)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []projections.TotalRow
	for k, v := range m.totals[mid] {
		if !k.Date.Before(from) && !k.Date.After(to) {
			out = append(out, projections.TotalRow{TotalKey: k, Total: v})
		}
	}
	projections.SortTotalRows(out)
	return out, nil
}

// UnknownEmoney lists a merchant's e-money debits awaiting resolution,
// oldest first.
func (m *Models) UnknownEmoney(_ context.Context, mid domain.MerchantID) ([]projections.Transaction, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []projections.Transaction
	mi, ok := m.strs.lookup(string(mid))
	unknown, ok2 := m.strs.lookup(projections.StatusUnknown)
	if !ok || !ok2 {
		return nil, nil
	}
	for _, i := range m.byMerchant[mi] {
		if r := &m.rows[i]; !r.hasSales && !r.hasRet && r.status == unknown {
			out = append(out, m.tx(r))
		}
	}
	slices.SortFunc(out, func(a, b projections.Transaction) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Payment, b.Payment)
	})
	return out, nil
}

// TrialBalance returns every account's total debits and credits.
func (m *Models) TrialBalance(context.Context) (projections.TrialBalance, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(projections.TrialBalance, len(m.balances))
	for a, v := range m.balances {
		out[a] = v
	}
	return out, nil
}

// Journal returns up to limit entries after position after, in log order
// (limit 0: projections.JournalLimit). Errors: U1009 for a limit outside
// 0..projections.MaxJournalLimit.
func (m *Models) Journal(_ context.Context, after domain.Position, limit int) ([]projections.JournalEntry, error) {
	limit, err := projections.CheckJournalLimit(limit)
	if err != nil {
		return nil, err
	}
	if after.Commit > math.MaxInt64 || after.Prepare > math.MaxInt64 {
		// As the SQL stores, whose positions are signed 64-bit columns.
		return nil, domain.Err(domain.CodeInvalidField, "journal after %s: not a position of this store", after)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	i, _ := slices.BinarySearchFunc(m.journal, after, func(e jentry, p domain.Position) int {
		if p.Less(e.position()) {
			return 1
		}
		return -1
	})
	var out []projections.JournalEntry
	for k := i; k < min(i+limit, len(m.journal)); k++ {
		out = append(out, m.entry(&m.journal[k]).Read())
	}
	return out, nil
}

// Payouts returns a merchant's payouts with paydays in [from, to], by
// payday. Errors: U1009 when from is after to.
func (m *Models) Payouts(_ context.Context, mid domain.MerchantID, from, to date.Date) ([]projections.Payout, error) {
	if from.After(to) {
		return nil, domain.Err(domain.CodeInvalidField, "from %s is after to %s", from, to)
	}
	return m.payoutsWhere(func(p *projections.Payout) bool {
		return p.Merchant == mid && !p.Payday.Before(from) && !p.Payday.After(to)
	}, func(a, b projections.Payout) int {
		return cmp.Or(int(a.Payday.Sub(b.Payday)), cmp.Compare(a.NoticeNo, b.NoticeNo))
	}), nil
}

// PayoutsOn returns every merchant's payout for a payday, by merchant.
func (m *Models) PayoutsOn(_ context.Context, payday date.Date) ([]projections.Payout, error) {
	return m.payoutsWhere(func(p *projections.Payout) bool { return p.Payday == payday }, func(a, b projections.Payout) int {
		return cmp.Or(cmp.Compare(a.Merchant, b.Merchant), cmp.Compare(a.NoticeNo, b.NoticeNo))
	}), nil
}

func (m *Models) payoutsWhere(keep func(*projections.Payout) bool, order func(a, b projections.Payout) int) []projections.Payout {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []projections.Payout
	for _, p := range m.payouts {
		if keep(&p) {
			p.Lines = slices.Clone(p.Lines)
			out = append(out, p)
		}
	}
	slices.SortFunc(out, order)
	return out
}

// Notices returns every merchant's notices for a payday, by merchant and
// notice number.
func (m *Models) Notices(_ context.Context, payday date.Date) ([]projections.Notice, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []projections.Notice
	for _, n := range m.notices {
		if n.Payday == payday {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b projections.Notice) int {
		return cmp.Or(cmp.Compare(a.Merchant, b.Merchant), cmp.Compare(a.NoticeNo, b.NoticeNo))
	})
	return out, nil
}

// Status returns each projection's checkpoint and lag (-1 without the
// event store).
func (m *Models) Status(ctx context.Context) ([]projections.Status, error) {
	cps, _ := m.Checkpoints(ctx)
	return sqlmodels.Status(ctx, m.events, cps)
}
