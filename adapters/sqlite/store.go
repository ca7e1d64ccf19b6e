package sqlite

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

	"upay/adapters/logfeed"
	"upay/adapters/readgate"
	"upay/domain"
)

//go:embed schema.sql
var schemaSQL string

// schemaVersion is the PRAGMA user_version this code writes and reads.
const schemaVersion = 1

const (
	// busyTimeout is how long a writer waits for another process's write
	// transaction before the append fails with U3003 (and may be retried).
	busyTimeout = 10 * time.Second
	// PollInterval is how often an idle subscription looks for appends made
	// through another *Store or another process on the same file; appends
	// through the same *Store wake subscribers at once.
	PollInterval = 50 * time.Millisecond
	// pageSize is how many events a subscription reads per query.
	pageSize = 512
)

// chunkSizes are the row counts of the multi-row statements prepared once
// on the write connection, largest first: a batch is looked up and inserted
// in as few statement executions as these sizes allow, without building SQL
// per call.
var chunkSizes = [...]int{64, 8, 1}

// chunk returns the largest prepared size that fits n rows (n > 0).
func chunk(n int) int {
	for _, k := range chunkSizes {
		if n >= k {
			return k
		}
	}
	return 1
}

// Store is the embedded event store on one SQLite file. It is safe for
// concurrent use; several Stores (in one or several processes) may share
// one file.
type Store struct {
	path string

	// Writes: one connection, owned by whoever holds the wsem token (the
	// group-commit leader), so in-process writers queue here rather than on
	// SQLite's busy handler. queue holds the appends waiting for a leader.
	wsem  chan struct{}
	qmu   sync.Mutex
	queue []*job
	w     *sql.DB
	wc    *sql.Conn
	ws    writeStmts

	// Reads: a pool of read-only connections; WAL lets them run beside a
	// writer.
	r    *sql.DB
	rs   readStmts
	gate readgate.Gate // every read of r passes it

	// notify is closed (and replaced) after every commit that appended
	// something, waking waiting subscriptions.
	notify *logfeed.Notifier

	// smu guards closed and subs.Add so that Close can wait for every
	// subscription goroutine.
	smu    sync.Mutex
	closed bool
	done   chan struct{}
	subs   sync.WaitGroup
}

var _ domain.EventStore = (*Store)(nil)

type writeStmts struct {
	maxPos      *sql.Stmt
	heads       map[int]*sql.Stmt // by row count
	requests    map[int]*sql.Stmt
	insEvents   map[int]*sql.Stmt
	insRequests map[int]*sql.Stmt
}

type readStmts struct {
	stream, all, allLean, last, request *sql.Stmt
}

var errClosed = domain.Err(domain.CodeStoreFailure, "the event store is closed")

// storeErr maps an engine error (busy, locked, I/O, corrupt file, closed
// handle, cancelled context) to U3003, keeping it as the cause.
func storeErr(err error, format string, args ...any) error {
	return domain.Wrap(domain.CodeStoreFailure, err, "sqlite: "+format, args...)
}

// dsn builds the connection string: an SQLite URI for the absolute path
// (so a name with '?' or '#' stays a name) with the driver's pragma keys.
func dsn(path string, write bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.Itoa(int(busyTimeout/time.Millisecond)))
	if write {
		// WAL: readers never block the writer nor the writer them.
		// synchronous=FULL: a commit fsyncs the WAL before it returns.
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL")
		// A larger page cache keeps the (stream, revision) index hot during
		// bulk ingest; 32 MiB of one connection is cheap.
		q.Add("_pragma", "cache_size(-32768)")
		// Checkpoint every 64 MiB of WAL instead of 4 MiB: pages rewritten by
		// consecutive batches reach the database file once, not per batch.
		q.Add("_pragma", "wal_autocheckpoint(16384)")
	} else {
		q.Set("_query_only", "1")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// Open opens (creating when missing) the event store file at path, a file
// system path rather than an SQLite URI. ":memory:" is refused: reads run
// on their own connections, which would each see another empty database.
// Errors: U1003 for an empty path, U1009 for ":memory:", U3003 when the file
// cannot be opened or was written by a newer schema.
func Open(path string) (*Store, error) {
	if strings.TrimSpace(path) == "" {
		return nil, domain.Err(domain.CodeMissingField, "event store path is empty")
	}
	if path == ":memory:" {
		return nil, domain.Err(domain.CodeInvalidField, "event store path %q: the store needs a file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, storeErr(err, "event store path %s", path)
	}
	s := &Store{path: abs, wsem: make(chan struct{}, 1), notify: logfeed.NewNotifier(), done: make(chan struct{})}
	if err := s.open(); err != nil {
		s.closeHandles()
		return nil, err
	}
	return s, nil
}

func (s *Store) open() error {
	ctx := context.Background()
	c, err := OpenConns(ctx, dsn(s.path, true), dsn(s.path, false))
	if err != nil {
		return storeErr(err, "open %s", s.path)
	}
	s.w, s.wc, s.r, s.gate = c.W, c.WC, c.R, c.Gate
	if err := migrate(ctx, s.wc, s.path); err != nil {
		return err
	}
	if err := s.prepareWrites(ctx); err != nil {
		return err
	}
	return s.prepareReads(ctx)
}

// migrate creates the schema in a new file and refuses a file written by a
// newer version of this code.
func migrate(ctx context.Context, c *sql.Conn, path string) (err error) {
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return storeErr(err, "%s: begin schema transaction", path)
	}
	defer func() {
		if err != nil {
			_, _ = c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var v int
	if err := c.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return storeErr(err, "%s: read schema version", path)
	}
	switch {
	case v == schemaVersion:
	case v == 0:
		if _, err := c.ExecContext(ctx, schemaSQL); err != nil {
			return storeErr(err, "%s: create schema", path)
		}
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			return storeErr(err, "%s: set schema version", path)
		}
	default:
		return domain.Err(domain.CodeStoreFailure, "sqlite: %s has schema version %d; this build reads up to %d", path, v, schemaVersion)
	}
	if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
		return storeErr(err, "%s: commit schema", path)
	}
	return nil
}

const eventCols = "pos, stream, revision, type, version, time_ns, request_id, data, prev_hash, hash"

// leanCols are the columns of a ReadOptions.Lean read: no request id and
// no hashes, a third less to copy per event.
const leanCols = "pos, stream, revision, type, version, time_ns, data"

// rowsSQL renders n parenthesised groups of k placeholders: "(?,?),(?,?)".
func rowsSQL(n, k int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", k), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", n), ",")
}

func (s *Store) prepareWrites(ctx context.Context) error {
	prep := func(q string) (*sql.Stmt, error) {
		st, err := s.wc.PrepareContext(ctx, q)
		if err != nil {
			return nil, storeErr(err, "prepare %q", q)
		}
		return st, nil
	}
	ws := writeStmts{
		heads:       map[int]*sql.Stmt{},
		requests:    map[int]*sql.Stmt{},
		insEvents:   map[int]*sql.Stmt{},
		insRequests: map[int]*sql.Stmt{},
	}
	var err error
	if ws.maxPos, err = prep("SELECT COALESCE(MAX(pos), 0) FROM events"); err != nil {
		return err
	}
	for _, k := range chunkSizes {
		// The head of each stream: its last revision through the
		// (stream, revision) index (MAX is one index probe), then that row.
		if ws.heads[k], err = prep(`WITH s(stream) AS (VALUES ` + rowsSQL(k, 1) + `)
			SELECT e.stream, e.revision, e.hash FROM s CROSS JOIN events AS e
			WHERE e.stream = s.stream
			  AND e.revision = (SELECT MAX(revision) FROM events WHERE stream = s.stream)`); err != nil {
			return err
		}
		if ws.requests[k], err = prep(`SELECT request_id, request_hash, stream, first_rev, last_rev, pos
			FROM requests WHERE request_id IN (` + strings.TrimSuffix(strings.Repeat("?,", k), ",") + `)`); err != nil {
			return err
		}
		if ws.insEvents[k], err = prep("INSERT INTO events (" + eventCols + ") VALUES " + rowsSQL(k, 10)); err != nil {
			return err
		}
		if ws.insRequests[k], err = prep("INSERT INTO requests (request_id, request_hash, stream, first_rev, last_rev, pos) VALUES " + rowsSQL(k, 6)); err != nil {
			return err
		}
	}
	s.ws = ws
	return nil
}

func (s *Store) prepareReads(ctx context.Context) error {
	prep := func(q string) (*sql.Stmt, error) {
		st, err := s.r.PrepareContext(ctx, q)
		if err != nil {
			return nil, storeErr(err, "prepare %q", q)
		}
		return st, nil
	}
	var err error
	if s.rs.stream, err = prep("SELECT " + eventCols + " FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?"); err != nil {
		return err
	}
	if s.rs.all, err = prep("SELECT " + eventCols + " FROM events WHERE pos >= ? ORDER BY pos LIMIT ?"); err != nil {
		return err
	}
	if s.rs.allLean, err = prep("SELECT " + leanCols + " FROM events WHERE pos >= ? ORDER BY pos LIMIT ?"); err != nil {
		return err
	}
	if s.rs.request, err = prep("SELECT request_hash FROM requests WHERE request_id = ?"); err != nil {
		return err
	}
	s.rs.last, err = prep("SELECT " + eventCols + " FROM events ORDER BY pos DESC LIMIT 1")
	return err
}

// Close waits for an append in flight, ends every subscription (their Err
// says the store was closed) and releases the file. Closing twice is a no-op.
func (s *Store) Close() error {
	s.smu.Lock()
	if s.closed {
		s.smu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.smu.Unlock()
	s.subs.Wait()
	// Wait for the group commit in flight; later leaders see closed and
	// fail their jobs without touching the handles.
	s.wsem <- struct{}{}
	defer func() { <-s.wsem }()
	return s.closeHandles()
}

func (s *Store) closeHandles() error {
	var errs []error
	closeStmt := func(st *sql.Stmt) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	closeStmt(s.ws.maxPos)
	for _, m := range []map[int]*sql.Stmt{s.ws.heads, s.ws.requests, s.ws.insEvents, s.ws.insRequests} {
		for _, st := range m {
			closeStmt(st)
		}
	}
	closeStmt(s.rs.stream)
	closeStmt(s.rs.all)
	closeStmt(s.rs.allLean)
	closeStmt(s.rs.last)
	closeStmt(s.rs.request)
	if s.wc != nil {
		errs = append(errs, s.wc.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return storeErr(err, "close %s", s.path)
	}
	return nil
}

func (s *Store) isClosed() bool {
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.closed
}

// changed returns the channel the next commit closes.
