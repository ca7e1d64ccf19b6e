package sqlitemodels

import (
	"context"
	"database/sql"

	"upay/adapters/readgate"
	"upay/adapters/sqlmodels"
	"upay/domain"
)

// The reads of projections.ReadModels are sqlmodels.Reader's, run through
// query; the store embeds one.
type reader = sqlmodels.Reader

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

// query runs a read statement on the pool of read connections, prepared
// once per text (stmt). It holds a place in the gate until the rows close.
func (m *Models) query(ctx context.Context, q string, args ...any) (sqlmodels.Rows, error) {
	st, err := m.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := m.gate.Enter(ctx); err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		m.gate.Leave()
		return nil, err
	}
	return &gatedRows{sqlRows: sqlRows{rows}, gate: m.gate}, nil
}

// gatedRows give the query's place in the gate back when they close.
type gatedRows struct {
	sqlRows
	gate   readgate.Gate
	closed bool
}

func (r *gatedRows) Close() {
	r.sqlRows.Close()
	if !r.closed {
		r.closed = true
		r.gate.Leave()
	}
}

// readErr maps the error of a failed query: one that query has mapped
// already (the models are closed, a statement did not prepare) as it is,
// the engine's to U3003.
func readErr(err error, format string, args ...any) error {
	if domain.CodeOf(err) != "" {
		return err
	}
	return storeErr(err, format, args...)
}

// sqlRows are database/sql's rows as sqlmodels reads them.
type sqlRows struct{ *sql.Rows }

// Close releases the rows; database/sql reports a failure of the
// iteration by Err, which the readers check.
func (r sqlRows) Close() { _ = r.Rows.Close() }

// Checkpoints returns each projection's committed position.
func (m *Models) Checkpoints(ctx context.Context) (map[string]domain.Position, error) {
	rows, err := m.query(ctx, sqlmodels.QueryCheckpoints)
	if err != nil {
		return nil, readErr(err, "read checkpoints")
	}
	return dialect.ScanCheckpoints(rows)
}
