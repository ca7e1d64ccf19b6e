package scenarios_test

import (
	"context"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
	"upay/scenarios"
)

// foldTotals answers period totals by folding the store's events with the
// projections' own TotalDelta: the read models' answer without their
// tables. Tests only: production runs use the read models.
type foldTotals struct{ s domain.EventStore }

func (foldTotals) CatchUp(context.Context) error { return nil }

func (f foldTotals) PeriodTotals(ctx context.Context, m domain.MerchantID, from, to date.Date) ([]projections.TotalRow, error) {
	evs, err := f.s.ReadAll(ctx, domain.Start, domain.ReadOptions{})
	if err != nil {
		return nil, err
	}
	cells := map[projections.TotalKey]projections.Total{}
	var order []projections.TotalKey
	for _, r := range evs {
		e, err := domain.DecodeEvent(r.Type, r.Version, r.Data)
		if err != nil {
			continue // events of other packages' types
		}
		if k, d, ok := projections.TotalDelta(e, r.Time); ok && k.Merchant == m && !k.Date.Before(from) && !k.Date.After(to) {
			c, seen := cells[k]
			if !seen {
				order = append(order, k)
			}
			cells[k] = projections.Total{Count: c.Count + d.Count, Sales: c.Sales + d.Sales}
		}
	}
	out := make([]projections.TotalRow, 0, len(order))
	for _, k := range order {
		out = append(out, projections.TotalRow{TotalKey: k, Total: cells[k]})
	}
	return out, nil
}

func openFold(_ context.Context, s domain.EventStore, _ string) (scenarios.Totals, func() error, error) {
	return foldTotals{s}, func() error { return nil }, nil
}
