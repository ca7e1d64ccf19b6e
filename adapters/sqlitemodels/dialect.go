package sqlitemodels

import (
	"strings"

	"github.com/rickb777/date"

	"upay/adapters/sqlmodels"
)

// dialect is how SQLite takes the read models' shared SQL (package
// sqlmodels); adapters/pgmodels' dialect.go has PostgreSQL's side of each
// difference.
var dialect = &sqlmodels.Dialect{
	Name:    "sqlitemodels",
	Integer: "an SQLite integer",
	// SQLite takes ? placeholders as they are.
	Rebind: func(s string) string { return s },
	// Dates are INTEGER columns, and every SQLite integer binds as int64.
	Day: func(d date.Date) any { return int64(d.DaysSinceEpoch()) },
	// SQLite plans `merchant IN (SELECT ...)` as a skip-scan: one seek of
	// the (merchant, date) index per merchant.
	EveryMerchant: "merchant IN (SELECT merchant FROM tx_merchants)",
	// SQLite merges the bare branches of a UNION ALL ordered by their
	// indexes' trailing columns (MERGE (UNION ALL)), sorting nothing.
	OrderedBranches: false,
	// A row without a sales date compares neither below nor above the
	// range, so it is left out here too; a return date implies a sales
	// date (a refund follows a capture).
	OutsideSales: "(sales_date < ? OR sales_date > ?)",
	DateRange:    keyUnion,
	// SQLite's DO UPDATE reads a bare column as the stored row's.
	QualifyExisting: false,
}

// keyUnion renders a search over a date range as three branches, one per
// index: the sales date, the return date, and the first event's instant
// for rows with neither date. Each branch names the merchant (or every
// merchant of tx_merchants, an explicit skip-scan) so that it seeks its
// (merchant, date) index, and selects only the keys the order needs, which
// those indexes cover; the union is sorted and cut to the page on keys
// alone, and only the page's rows are read in full. A day of one merchant
// is a thousand rows or so, and sorting their keys rather than their rows
// makes the query several times faster. SQLite cannot OR several indexes
// in one scan, which PostgreSQL's form does.
func keyUnion(r sqlmodels.DateRange) (string, []any) {
	var branches []string
	var args []any
	for _, arm := range r.Arms {
		all := append(append([]string{r.Who}, arm.Conds...), r.Common.Conds...)
		branches = append(branches, "SELECT rowid AS rid, created_at, payment FROM transactions WHERE "+strings.Join(all, " AND "))
		args = append(append(append(args, r.WhoArgs...), arm.Args...), r.Common.Args...)
	}
	s := "SELECT " + sqlmodels.TxCols + " FROM transactions WHERE rowid IN (SELECT rid FROM (" +
		strings.Join(branches, " UNION ") + ")" + sqlmodels.NewestFirst + " LIMIT ?)" + sqlmodels.NewestFirst
	return s, append(args, r.Limit)
}

// inList is an IN condition of n placeholders: SQLite takes a key set as
// one ? per key, in prepared chunks, where PostgreSQL takes one array.
func inList(n int) string {
	return "IN (" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
}
