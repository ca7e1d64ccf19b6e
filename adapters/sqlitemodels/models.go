package sqlitemodels

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"upay/adapters/readgate"
	"upay/adapters/sqlite"
	"upay/adapters/sqlmodels"
	"upay/domain"
	"upay/projections"
)

//go:embed schema.sql
var schemaSQL string

// steps are the migrations after schema.sql (version 1): steps[i] takes a
// file from version i+1 to i+2. A new file runs schema.sql and every step,
// so new and upgraded files have one schema.
var steps = []string{schemaV2, schemaV3}

var (
	//go:embed schema_v2.sql
	schemaV2 string
	//go:embed schema_v3.sql
	schemaV3 string
)

// schemaVersion is the PRAGMA user_version this code writes and reads.
var schemaVersion = 1 + len(steps)

// busyTimeout is how long a writer waits for another process's write
// transaction on the same file before failing with U3003.
const busyTimeout = 10 * time.Second

// indexes are the secondary indexes of the listing: what the admin search
// reads through. Reset drops them when it empties the listing and Ready
// recreates them: building an index once over a full table is about twice
// as fast as keeping it up to date row by row during a rebuild.
//
//   - (merchant, sales_date, created_at, payment) and the same on
//     return_date: the search by processing date; partial, since most rows
//     have no return date and unpaid rows no sales date. They end with the
//     listing's order, so a search sorts keys read from the index alone.
//   - (merchant, created_at, payment) of rows with neither date
//     (authorized, declined, voided, unknown, failed, training): such rows
//     match a date range on their first event's business date, a range of
//     created_at. It also serves the balance's unknown e-money debits.
//   - (merchant, created_at, payment): one merchant's rows newest first.
//   - (created_at, payment): every row newest first, and keyset paging.
//   - (amount): the search by amount alone.
var indexes = []struct{ name, def string }{
	{"tx_merchant_sales", "transactions (merchant, sales_date, created_at, payment) WHERE sales_date IS NOT NULL"},
	{"tx_merchant_return", "transactions (merchant, return_date, created_at, payment) WHERE return_date IS NOT NULL"},
	{"tx_merchant_dateless", "transactions (merchant, created_at, payment) WHERE sales_date IS NULL AND return_date IS NULL"},
	{"tx_merchant_created", "transactions (merchant, created_at, payment)"},
	{"tx_created", "transactions (created_at, payment)"},
	{"tx_amount", "transactions (amount)"},
}

// PathFor returns the read-model file that goes with an event store file:
// "<store>.read.db" beside it.
func PathFor(storePath string) string { return storePath + ".read.db" }

// Options configure Open; the zero value works.
type Options struct {
	// Events is the event store the models follow. Status needs it to
	// compute each projection's lag; without it Lag is -1 (unknown).
	Events domain.EventStore
}

// Models is the read models in one SQLite file. It implements
// projections.ReadModels (what the CLI and the admin API read) and
// projections.Writer (what a projections.Runner writes through). It is safe
// for concurrent use; several Models (in one or several processes) may
// share one file.
type Models struct {
	*reader // SearchTransactions ... PayoutsOn, through query

	path string
	opt  Options

	// Writes: one connection, held by one WriteTx at a time (wsem).
	wsem chan struct{}
	w    *sql.DB
	wc   *sql.Conn
	ws   writeStmts

	// Reads: a pool of read-only connections; WAL lets them read the last
	// committed snapshot while a runner writes.
	r      *sql.DB
	gate   readgate.Gate // every read of r passes it (query)
	smu    sync.Mutex
	closed bool                 // guarded by smu
	stmts  map[string]*sql.Stmt // search statements by SQL text: one per query shape; guarded by smu

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

// dsn builds the connection string for path.
func dsn(path string, write bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.Itoa(int(busyTimeout/time.Millisecond)))
	if write {
		// WAL: readers (the admin API) never wait for the runner, nor it
		// for them.
		q.Set("_journal_mode", "WAL")
		// synchronous=NORMAL: a commit does not wait for fsync, but WAL
		// still orders writes so that a crash or power loss can only lose
		// the last transactions whole, never part of one. Losing a batch
		// loses its checkpoint with it, so the runner applies it again:
		// nothing is applied twice or skipped. Durability proper belongs to
		// the event store; everything here can be rebuilt from it.
		q.Set("_synchronous", "NORMAL")
		// Multi-row upserts need a statement journal; in memory it costs
		// no file writes.
		q.Add("_pragma", "temp_store(MEMORY)")
		// 64 MiB of page cache keeps the listing's indexes hot while a
		// rebuild fills them; checkpoint the WAL every 64 MiB rather than
		// 4 MiB, so pages rewritten by consecutive batches reach the
		// database file once.
		q.Add("_pragma", "cache_size(-65536)")
		q.Add("_pragma", "wal_autocheckpoint(16384)")
	} else {
		q.Set("_query_only", "1")
		q.Add("_pragma", "cache_size(-16384)")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// Open opens (creating when missing) the read-model file at path.
// Errors: U1003 for an empty path, U1009 for ":memory:", U3003 when the
// file cannot be opened or was written by a newer schema.
func Open(path string, opt Options) (*Models, error) {
	if strings.TrimSpace(path) == "" {
		return nil, domain.Err(domain.CodeMissingField, "read-model path is empty")
	}
	if path == ":memory:" {
		return nil, domain.Err(domain.CodeInvalidField, "read-model path %q: the read models need a file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, storeErr(err, "read-model path %s", path)
	}
	m := &Models{path: abs, opt: opt, wsem: make(chan struct{}, 1), stmts: map[string]*sql.Stmt{}}
	m.reader = sqlmodels.NewReader(dialect, m.query, readErr)
	if err := m.open(); err != nil {
		m.closeHandles()
		return nil, err
	}
	return m, nil
}

// Path returns the file's absolute path.
func (m *Models) Path() string { return m.path }

func (m *Models) open() error {
	ctx := context.Background()
	c, err := sqlite.OpenConns(ctx, dsn(m.path, true), dsn(m.path, false))
	if err != nil {
		return storeErr(err, "open %s", m.path)
	}
	m.w, m.wc, m.r, m.gate = c.W, c.WC, c.R, c.Gate
	if err := m.migrate(ctx); err != nil {
		return err
	}
	return m.prepareWrites(ctx)
}

// migrate creates the schema in a new file, upgrades a file written by an
// older version of this code (in the same transaction: all steps or none)
// and refuses one written by a newer version.
func (m *Models) migrate(ctx context.Context) (err error) {
	c := m.wc
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return storeErr(err, "%s: begin schema transaction", m.path)
	}
	defer func() {
		if err != nil {
			_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var v int
	if err := c.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return storeErr(err, "%s: read schema version", m.path)
	}
	if v > schemaVersion {
		return domain.Err(domain.CodeStoreFailure, "sqlitemodels: %s has schema version %d; this build reads up to %d", m.path, v, schemaVersion)
	}
	from := v
	if v == 0 {
		if _, err := c.ExecContext(ctx, schemaSQL); err != nil {
			return storeErr(err, "%s: create schema", m.path)
		}
		if err := createIndexes(ctx, c); err != nil {
			return storeErr(err, "%s: create indexes", m.path)
		}
		v = 1
	}
	if from == 1 {
		// Step 2 empties the listing to refill it: as Reset does, drop its
		// search indexes first; Ready recreates them once the refill has
		// caught up.
		for _, ix := range indexes {
			if _, err := c.ExecContext(ctx, "DROP INDEX IF EXISTS "+ix.name); err != nil {
				return storeErr(err, "%s: drop index %s", m.path, ix.name)
			}
		}
	}
	for ; v < schemaVersion; v++ {
		if _, err := c.ExecContext(ctx, steps[v-1]); err != nil {
			return storeErr(err, "%s: migrate to schema version %d", m.path, v+1)
		}
	}
	if from != schemaVersion {
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			return storeErr(err, "%s: set schema version", m.path)
		}
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return storeErr(err, "%s: commit schema", m.path)
	}
	return nil
}

func createIndexes(ctx context.Context, c *sql.Conn) error {
	for _, ix := range indexes {
		if _, err := c.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS "+ix.name+" ON "+ix.def); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the file, waiting for a write transaction in flight.
// Closing twice is a no-op.
func (m *Models) Close() error {
	m.wsem <- struct{}{}
	defer func() { <-m.wsem }()
	return m.closeHandles()
}

func (m *Models) closeHandles() error {
	var errs []error
	m.smu.Lock()
	if m.closed {
		m.smu.Unlock()
		return nil
	}
	m.closed = true
	for _, st := range m.stmts {
		errs = append(errs, st.Close())
	}
	m.stmts = map[string]*sql.Stmt{}
	m.smu.Unlock()
	errs = append(errs, m.ws.close()...)
	m.ws = writeStmts{}
	if m.wc != nil {
		errs = append(errs, m.wc.Close())
		m.wc = nil
	}
	if m.w != nil {
		errs = append(errs, m.w.Close())
		m.w = nil
	}
	if m.r != nil {
		// m.r stays set: readers racing with Close get "database is
		// closed" from it (U3003) rather than a nil handle.
		errs = append(errs, m.r.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return storeErr(err, "close %s", m.path)
	}
	return nil
}

var errClosed = domain.Err(domain.CodeStoreFailure, "sqlitemodels: the read models are closed")

// Status returns each projection's checkpoint and lag (-1 when the models
// were opened without Options.Events).
func (m *Models) Status(ctx context.Context) ([]projections.Status, error) {
	cps, err := m.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	return sqlmodels.Status(ctx, m.opt.Events, cps)
}
