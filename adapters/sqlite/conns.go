package sqlite

import (
	"context"
	"database/sql"
	"runtime"
	"strings"

	"upay/adapters/readgate"
)

// Conns are the handles a user of one SQLite file in WAL mode keeps: one
// write connection, held for good so that the process's writers queue in
// Go rather than on SQLite's busy handler, and a pool of read-only
// connections beside it (WAL lets them read while a write runs). The event
// store and the read models (adapters/sqlitemodels) both open theirs here.
type Conns struct {
	W  *sql.DB
	WC *sql.Conn // the write connection
	R  *sql.DB
	// Gate admits as many reads as R has connections; readers Enter it
	// before a query and Leave it when its rows are closed.
	Gate readgate.Gate
}

// OpenConns opens the handles with the given driver DSNs and checks that
// the write connection is in WAL mode; what is not WAL would make readers
// and the writer block each other. On an error the handles opened are
// closed. Errors are plain; the caller gives them its code.
func OpenConns(ctx context.Context, writeDSN, readDSN string) (Conns, error) {
	var c Conns
	fail := func(err error) (Conns, error) {
		c.Close()
		return Conns{}, err
	}
	var err error
	if c.W, err = sql.Open("sqlite", writeDSN); err != nil {
		return fail(err)
	}
	c.W.SetMaxOpenConns(1)
	c.W.SetMaxIdleConns(1)
	c.W.SetConnMaxLifetime(0)
	c.W.SetConnMaxIdleTime(0)
	if c.WC, err = c.W.Conn(ctx); err != nil {
		return fail(err)
	}
	var mode string
	if err := c.WC.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fail(errNotWAL(mode))
	}
	if c.R, err = sql.Open("sqlite", readDSN); err != nil {
		return fail(err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	c.R.SetMaxOpenConns(n)
	c.R.SetMaxIdleConns(n)
	c.Gate = readgate.New(n)
	return c, nil
}

// Close closes whatever of the handles is open.
func (c *Conns) Close() {
	if c.WC != nil {
		c.WC.Close()
	}
	if c.W != nil {
		c.W.Close()
	}
	if c.R != nil {
		c.R.Close()
	}
}

type errNotWAL string

func (e errNotWAL) Error() string { return "journal mode is " + string(e) + ", want wal" }
