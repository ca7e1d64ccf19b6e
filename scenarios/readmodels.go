package scenarios

import (
	"context"
	"path/filepath"

	"upay/adapters/sqlitemodels"
	"upay/domain"
	"upay/payouts"
	"upay/projections"
)

// ReadModels is the production OpenTotals: the embedded read models
// (adapters/sqlitemodels) in a file beside the scenario's store, kept in
// step with it by a projections.Runner, exactly as `upay payout run` reads
// them. The runner catches them up before every payout_run step.
func ReadModels(_ context.Context, store domain.EventStore, dir string) (Totals, func() error, error) {
	m, err := sqlitemodels.Open(sqlitemodels.PathFor(filepath.Join(dir, "upay.db")), sqlitemodels.Options{Events: store})
	if err != nil {
		return nil, nil, err
	}
	return follow(store, m), m.Close, nil
}

// followed is read models kept up to date with a store by a runner.
type followed struct {
	payouts.Totals
	run *projections.Runner
}

func follow(store domain.EventStore, m interface {
	payouts.Totals
	projections.Writer
}) followed {
	return followed{Totals: m, run: projections.NewRunner(store, m, projections.RunnerOptions{})}
}

func (r followed) CatchUp(ctx context.Context) error {
	_, err := r.run.CatchUp(ctx)
	return err
}
