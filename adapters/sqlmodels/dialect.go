package sqlmodels

import (
	"errors"
	"math"

	"github.com/rickb777/date"

	"upay/domain"
)

// Dialect is what one engine spells or plans differently in the SQL this
// package writes: each field is one difference, each adapter's value says
// why it takes its side.
type Dialect struct {
	// Name is the store's, the prefix of its error messages.
	Name string
	// Integer names the engine's signed 64-bit column type, for the error
	// of a position that does not fit one.
	Integer string
	// Rebind turns the ? placeholders the shared SQL is written with into
	// the engine's.
	Rebind func(string) string
	// Day is a business date's bind value, days since 1970-01-01, in the
	// type of the engine's date columns.
	Day func(date.Date) any
	// EveryMerchant is the search's merchant condition when the query
	// names none: how the engine seeks the (merchant, date) indexes once
	// per merchant of tx_merchants.
	EveryMerchant string
	// OrderedBranches makes each branch of the merged search sort and cut
	// itself to the page, and the union a subquery sorted again; without
	// it the bare branches are joined and the union sorted.
	OrderedBranches bool
	// OutsideSales is the merged search's condition that leaves out of a
	// return-date branch the rows whose sales date is in the range, with
	// two ? for the range's first and last days.
	OutsideSales string
	// DateRange renders the search over any date range that is not
	// merged (see Search), with ? placeholders.
	DateRange func(DateRange) (string, []any)
	// QualifyExisting makes the delta upserts name the stored row's
	// column by its table (see AddOnConflict).
	QualifyExisting bool
}

// Err maps an engine error to U3003, keeping it as the cause.
func (d *Dialect) Err(err error, format string, args ...any) error {
	return domain.Wrap(domain.CodeStoreFailure, err, d.Name+": "+format, args...)
}

// Int converts a position component for a signed 64-bit column.
func (d *Dialect) Int(v uint64, what string) (int64, error) {
	if v > math.MaxInt64 {
		return 0, domain.Err(domain.CodeStoreFailure, "%s: %s %d does not fit %s", d.Name, what, v, d.Integer)
	}
	return int64(v), nil
}

// Position converts a position for its (pos_commit, pos_prepare) columns.
func (d *Dialect) Position(p domain.Position) (commit, prepare int64, err error) {
	c, err1 := d.Int(p.Commit, "position")
	q, err2 := d.Int(p.Prepare, "position")
	return c, q, errors.Join(err1, err2)
}
