package projections

import (
	"slices"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
)

// TotalKey identifies one period-totals cell: a merchant's money in one
// brand group on one business date. Settlement sums the dates of a period,
// so it never scans raw events.
type TotalKey struct {
	Merchant domain.MerchantID
	Group    domain.Group
	Date     date.Date
}

// Total is what a cell holds: count is captures and refunds (a refund
// counts as one transaction), sales is captures minus refunds.
type Total struct {
	Count int64
	Sales domain.Yen
}

// TotalDelta returns the change an event makes to period totals, ok false
// when it makes none.
func TotalDelta(e domain.Event, at time.Time) (TotalKey, Total, bool) {
	d := domain.BusinessDate(at)
	switch e := e.(type) {
	case domain.CardCaptured:
		return TotalKey{e.Merchant, e.Brand.Group(), d}, Total{1, e.Amount}, true
	case domain.CardRefunded:
		return TotalKey{e.Merchant, e.Brand.Group(), d}, Total{1, -e.Amount}, true
	case domain.EmoneyDebit:
		if !e.Training && e.Outcome == domain.OutcomeSucceeded {
			return TotalKey{e.Merchant, domain.GroupEmoney, d}, Total{1, e.Amount}, true
		}
	case domain.EmoneyResolved:
		if !e.Training && e.Outcome == domain.OutcomeSucceeded {
			return TotalKey{e.Merchant, domain.GroupEmoney, d}, Total{1, e.Amount}, true
		}
	}
	return TotalKey{}, Total{}, false
}

// SortTotalRows puts one merchant's cells in the order PeriodTotals
// returns them: by date, then in payout-line order of the groups
// (domain.Groups).
func SortTotalRows(rows []TotalRow) {
	slices.SortStableFunc(rows, func(a, b TotalRow) int {
		if c := a.Date.Sub(b.Date); c != 0 {
			return int(c)
		}
		return slices.Index(domain.Groups, a.Group) - slices.Index(domain.Groups, b.Group)
	})
}
