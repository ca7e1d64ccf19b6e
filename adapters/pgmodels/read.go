package pgmodels

import (
	"context"

	"upay/adapters/sqlmodels"
	"upay/domain"
)

// The reads of projections.ReadModels are sqlmodels.Reader's, run through
// query; the store embeds one.
type reader = sqlmodels.Reader

// query runs a read statement. pgx prepares each statement text once per
// connection and caches it, which is sqlitemodels' statement cache: search
// SQL depends only on which filters are set (a few hundred shapes at most),
// never on their values.
func (m *Models) query(ctx context.Context, q string, args ...any) (sqlmodels.Rows, error) {
	if m.isClosed() {
		return nil, errClosed
	}
	return m.pool.Query(ctx, q, args...)
}

// Checkpoints returns each projection's committed position.
func (m *Models) Checkpoints(ctx context.Context) (map[string]domain.Position, error) {
	rows, err := m.pool.Query(ctx, sqlmodels.QueryCheckpoints)
	if err != nil {
		return nil, storeErr(err, "read checkpoints")
	}
	return dialect.ScanCheckpoints(rows)
}
