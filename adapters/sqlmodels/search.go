package sqlmodels

import (
	"strings"

	"upay/projections"
)

// NewestFirst is the listing's order.
const NewestFirst = " ORDER BY created_at DESC, payment DESC"

// MaxDayBranches is the longest date range (in days) that the merged
// search splits into one branch per day and date column.
const MaxDayBranches = 7

// DateRange is a search over a date range that is not merged, in parts,
// for Dialect.DateRange to assemble. A row matches when it is of Who, is
// in one of the Arms and meets Common.
type DateRange struct {
	// Who is the merchant condition (the query's merchant, or
	// Dialect.EveryMerchant) and WhoArgs its arguments.
	Who     string
	WhoArgs []any
	// Arms are the three ways a row's date falls in the range, each
	// served by a partial (merchant, date) index: its sales date, its
	// return date, and, for a row with neither, its first event's instant.
	Arms [3]Cond
	// Common are the filters and the cursor, which every arm carries.
	Common Cond
	// HasEnd is whether the range has a last day.
	HasEnd bool
	// Limit is the page's row count, bound last.
	Limit int64
}

// Cond is a conjunction of conditions with their arguments, in order.
type Cond struct {
	Conds []string
	Args  []any
}

func (c *Cond) add(cond string, args ...any) {
	c.Conds = append(c.Conds, cond)
	c.Args = append(c.Args, args...)
}

// Search renders a validated query for the dialect; rows come newest first
// and the cursor continues after a row. Search SQL depends only on which
// filters are set (a few hundred shapes at most), never on their values, so
// the engines prepare each shape once.
//
// Without a date range, the listing's indexes (tx_merchant_created,
// tx_created) deliver rows newest first and a page stops after its rows.
// One merchant over up to MaxDayBranches days is merged (see merged); any
// other range is the dialect's DateRange.
func (d *Dialect) Search(q projections.TxQuery, cur *projections.Cursor, limit int) (string, []any) {
	var common Cond // conditions every branch carries
	if q.Status != "" {
		common.add("status = ?", q.Status)
	}
	if q.Brand != "" {
		common.add("brand = ?", q.Brand)
	}
	if q.MinAmount != nil {
		common.add("amount >= ?", *q.MinAmount)
	}
	if q.MaxAmount != nil {
		common.add("amount <= ?", *q.MaxAmount)
	}
	if cur != nil {
		common.add("(created_at, payment) < (?, ?)", cur.CreatedAt.UnixNano(), string(cur.Payment))
	}
	if q.From == nil && q.To == nil {
		where, args := common.Conds, common.Args
		if q.Merchant != "" {
			where = append([]string{"merchant = ?"}, where...)
			args = append([]any{string(q.Merchant)}, args...)
		}
		s := "SELECT " + TxCols + " FROM transactions"
		if len(where) > 0 {
			s += " WHERE " + strings.Join(where, " AND ")
		}
		return d.Rebind(s + NewestFirst + " LIMIT ?"), append(args, int64(limit))
	}
	if q.Merchant != "" && q.From != nil && q.To != nil && int(q.To.Sub(*q.From)) < MaxDayBranches {
		return d.merged(q, common, limit)
	}
	r := DateRange{Who: d.EveryMerchant, Common: common, HasEnd: q.To != nil, Limit: int64(limit)}
	if q.Merchant != "" {
		r.Who, r.WhoArgs = "merchant = ?", []any{string(q.Merchant)}
	}
	for i, col := range []string{"sales_date", "return_date"} {
		if q.From != nil {
			r.Arms[i].add(col+" >= ?", d.Day(*q.From))
		}
		if q.To != nil {
			r.Arms[i].add(col+" <= ?", d.Day(*q.To))
		}
	}
	dateless := &r.Arms[2]
	dateless.Conds = []string{"sales_date IS NULL", "return_date IS NULL"}
	if q.From != nil {
		dateless.add("created_at >= ?", projections.DayStart(*q.From).UnixNano())
	}
	if q.To != nil {
		dateless.add("created_at < ?", projections.DayStart(q.To.Add(1)).UnixNano())
	}
	s, args := d.DateRange(r)
	return d.Rebind(s), args
}

// merged renders a search of one merchant over a short date range (the
// admin screen's usual query: one day) as a merge of branches that each
// deliver their rows already in the listing's order, so the engine reads
// the first page's rows and stops, sorting nothing: one branch per day on
// the sales-date index and on the return-date index (for a fixed date,
// those indexes are ordered by created_at and payment), and the range of
// first events on the index of rows with neither date. The branches are
// disjoint, so UNION ALL repeats no row: a row has one sales date and one
// return date, and the return branches leave out rows whose sales date is
// also in the range (OutsideSales). Against sorting the day's rows this
// reads about 50 index entries instead of a thousand, about five times
// faster.
func (d *Dialect) merged(q projections.TxQuery, common Cond, limit int) (string, []any) {
	lo, hi := *q.From, *q.To
	var branches []string
	var args []any
	branch := func(conds []string, condArgs ...any) {
		all := append(append([]string{"merchant = ?"}, conds...), common.Conds...)
		sel := "SELECT " + TxCols + " FROM transactions WHERE " + strings.Join(all, " AND ")
		args = append(append(append(args, string(q.Merchant)), condArgs...), common.Args...)
		if d.OrderedBranches {
			sel = "(" + sel + NewestFirst + " LIMIT ?)"
			args = append(args, int64(limit))
		}
		branches = append(branches, sel)
	}
	for day := lo; !day.After(hi); day = day.Add(1) {
		branch([]string{"sales_date = ?"}, d.Day(day))
	}
	for day := lo; !day.After(hi); day = day.Add(1) {
		branch([]string{"return_date = ?", d.OutsideSales}, d.Day(day), d.Day(lo), d.Day(hi))
	}
	branch([]string{"sales_date IS NULL", "return_date IS NULL", "created_at >= ?", "created_at < ?"},
		projections.DayStart(lo).UnixNano(), projections.DayStart(hi.Add(1)).UnixNano())
	s := strings.Join(branches, " UNION ALL ")
	if d.OrderedBranches {
		s = "SELECT * FROM (" + s + ") AS t"
	}
	return d.Rebind(s + NewestFirst + " LIMIT ?"), append(args, int64(limit))
}
