package pgmodels

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"upay/adapters/pgconfig"
	"upay/adapters/pgschema"
	"upay/adapters/sqlmodels"
	"upay/domain"
	"upay/projections"
)

// Options configure Open; the zero value works.
type Options struct {
	// Events is the event store the models follow. Status needs it to
	// compute each projection's lag; without it Lag is -1 (unknown).
	Events domain.EventStore
	// Migrate applies the embedded migrations (pgschema) up to
	// pgschema.Latest before use; without it a database at another level
	// is refused.
	Migrate bool
	// MaxConns bounds the pool's connections (readers and the one write
	// transaction at a time); 0 means the URL's pool_max_conns, else
	// max(4, 2 x GOMAXPROCS).
	MaxConns int
	// StatementTimeout bounds each read statement on the server
	// (statement_timeout); 0 leaves the server's setting. Write
	// transactions lift it: a rebuild page, or waiting for another
	// runner's transaction, may rightly take longer than any search, and
	// their context bounds them instead.
	StatementTimeout time.Duration
	// ApplicationName is the connections' application_name, what
	// pg_stat_activity shows; "" means the URL's, else "upay".
	ApplicationName string
}

// Models is the read models in a PostgreSQL database. It implements
// projections.ReadModels (what the CLI and the admin API read) and
// projections.Writer (what a projections.Runner writes through). It is
// safe for concurrent use; several Models (in one or several processes)
// may share one database.
type Models struct {
	*reader // SearchTransactions ... PayoutsOn, through query

	pool *pgxpool.Pool
	opt  Options

	// wsem admits one WriteTx of this Models at a time, so that runners
	// of one process queue here, not each holding a pooled connection
	// while it waits for the advisory lock, and Close can wait for the
	// transaction in flight.
	wsem chan struct{}

	mu     sync.Mutex
	closed bool // guarded by mu

	// refilled is set by a Reset of the listing: the next Ready refreshes
	// the planner's statistics of the refilled table.
	refilled atomic.Bool

	// failBeforeCheckpoint, when set (tests), runs between a batch's rows
	// and its checkpoints; an error fails the write there.
	failBeforeCheckpoint func() error
}

var (
	_ projections.ReadModels = (*Models)(nil)
	_ projections.Writer     = (*Models)(nil)
)

// storeErr maps an engine error to U3003, keeping it as the cause.
func storeErr(err error, format string, args ...any) error {
	return dialect.Err(err, format, args...)
}

var errClosed = domain.Err(domain.CodeStoreFailure, "pgmodels: the read models are closed")

// Open connects to the database at url (postgres:// or postgresql://),
// checks that it is at this binary's migration level, migrating it first
// when opt.Migrate, and returns the read models in it.
//
// Errors: U1009 for a URL that does not parse (the message never shows
// its password); U3003 when the server cannot be reached or refuses the
// login, and pgschema.Check's U3003 for a database at another level.
func Open(ctx context.Context, url string, opt Options) (*Models, error) {
	cfg, err := pgconfig.Parse(url)
	if err != nil {
		return nil, err
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = int32(min(opt.MaxConns, math.MaxInt32))
	} else if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(4, 2*runtime.GOMAXPROCS(0)))
	}
	params := cfg.ConnConfig.RuntimeParams
	if opt.ApplicationName != "" {
		params["application_name"] = opt.ApplicationName
	} else if params["application_name"] == "" {
		params["application_name"] = "upay"
	}
	for k, v := range sessionParams {
		if _, ok := params[k]; !ok {
			params[k] = v
		}
	}
	if opt.StatementTimeout > 0 {
		params["statement_timeout"] = fmt.Sprint(max(1, opt.StatementTimeout.Milliseconds()))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, pgconfig.ConnectError(cfg, url, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, pgconfig.ConnectError(cfg, url, err)
	}
	if opt.Migrate {
		if _, _, err := pgschema.Migrate(ctx, pool, 0); err != nil {
			pool.Close()
			return nil, err
		}
	}
	if err := pgschema.Check(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	m := &Models{pool: pool, opt: opt, wsem: make(chan struct{}, 1)}
	// A failed read is U3003 saying what was read, the models closed
	// included.
	m.reader = sqlmodels.NewReader(dialect, m.query, storeErr)
	return m, nil
}

// Close releases the pool, waiting for a write transaction in flight.
// Closing twice is a no-op.
func (m *Models) Close() error {
	m.wsem <- struct{}{}
	defer func() { <-m.wsem }()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	// Readers racing with Close get "closed pool" from it (U3003).
	m.pool.Close()
	return nil
}

func (m *Models) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// Status returns each projection's checkpoint and lag (-1 when the models
// were opened without Options.Events), the lag from projections.Lag: never
// a difference of positions, which means nothing on PostgreSQL.
func (m *Models) Status(ctx context.Context) ([]projections.Status, error) {
	cps, err := m.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	return sqlmodels.Status(ctx, m.opt.Events, cps)
}
