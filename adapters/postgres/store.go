package postgres

import (
	"context"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"upay/adapters/logfeed"
	"upay/adapters/pgconfig"
	"upay/adapters/pgschema"
	"upay/domain"
)

const (
	// PollInterval is how often an idle subscription reads the log although
	// nothing woke it: NOTIFY wakes it for appends by any process, the poll
	// covers a lost notification, a dropped listener connection and a
	// transaction (possibly not upay's) that held the visible log back and
	// has now ended, which notifies nobody.
	PollInterval = 100 * time.Millisecond
	// pageSize is how many events a subscription reads per query.
	pageSize = 512
	// channel is the NOTIFY channel appends signal on.
	channel = "upay_events"
)

// Options tune Open; the zero value is the production default.
type Options struct {
	// Migrate applies the pending migrations (pgschema.Migrate) before use.
	// Without it a database below this binary's level is refused, so that
	// only `upay migrate` (or an explicit --migrate) changes a schema.
	Migrate bool
	// MaxConns bounds the pool; default pool_max_conns from the URL, else
	// max(4, 2*GOMAXPROCS). Subscriptions add one LISTEN connection.
	MaxConns int32
	// StatementTimeout is the server's statement_timeout for the pool's
	// sessions (default 30s), also used as idle_in_transaction_session_timeout:
	// a stuck session of ours must not hold the log's visibility back.
	// A value set in the URL wins over the default.
	StatementTimeout time.Duration
	// ApplicationName is shown in pg_stat_activity; default "upay" (unless
	// the URL sets one).
	ApplicationName string
	// VisibilityWait bounds how long an append, once committed, waits for
	// its events to become visible in the global log (see the package doc):
	// default 5s; negative: never wait. The append succeeds either way.
	VisibilityWait time.Duration
	// SettleWait bounds how long Settle waits for older transactions to end
	// before it fails: default 30s.
	SettleWait time.Duration
}

// Store is the PostgreSQL event store. It is safe for concurrent use, and
// any number of Stores in any number of processes may share one database.
type Store struct {
	pool *pgxpool.Pool
	addr string // host:port, for messages
	wait time.Duration
	// settleWait is Options.SettleWait with its default.
	settleWait time.Duration
	// commitTimeout bounds a COMMIT, which runs whatever the caller's
	// context says (see try): the statement timeout.
	commitTimeout time.Duration

	// notify is closed (and replaced) after every append that landed,
	// waking this process's subscriptions; the listener does the same for
	// NOTIFYs from other processes.
	notify *logfeed.Notifier

	// smu guards closed, ops.Add and subs.Add so that Close can wait for
	// appends in flight and for every goroutine it started.
	smu       sync.Mutex
	closed    bool
	done      chan struct{}
	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	ops       sync.WaitGroup
	subs      sync.WaitGroup
	listening bool
	notified  atomic.Int64 // notifications the listener received

	// test, set only by tests before use, reaches inside an append.
	test *testHooks
}

// testHooks let tests pause an append inside its transaction (to kill its
// connection or to hold a low transaction id open) and replace its COMMIT.
type testHooks struct {
	pause  func(ctx context.Context, stage string, tx pgx.Tx) // stages "begun", "beforeCommit"
	commit func(ctx context.Context, tx pgx.Tx) error
}

var _ domain.EventStore = (*Store)(nil)

var errClosed = domain.Err(domain.CodeStoreFailure, "the event store is closed")

// storeErr maps an engine error to U3003, keeping it as the cause.
func storeErr(err error, format string, args ...any) error {
	return domain.Wrap(domain.CodeStoreFailure, err, "postgres: "+format, args...)
}

// Open connects to the database at url (a postgres:// or postgresql://
// URL), checks that its schema is at this binary's level (or
// migrates it when opt.Migrate) and returns the store. Errors: U1009 for a
// URL that cannot be read; U3003 when the server cannot be reached or the
// schema is at another level. Messages never repeat the password.
func Open(ctx context.Context, dbURL string, opt Options) (*Store, error) {
	cfg, err := pgconfig.Parse(dbURL)
	if err != nil {
		return nil, err
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	} else if !strings.Contains(dbURL, "pool_max_conns") {
		cfg.MaxConns = int32(max(4, 2*runtime.GOMAXPROCS(0)))
	}
	params := cfg.ConnConfig.RuntimeParams
	timeout := opt.StatementTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ms := strconv.FormatInt(max(1, timeout.Milliseconds()), 10) // 0 would mean none
	if _, set := params["statement_timeout"]; !set || opt.StatementTimeout > 0 {
		params["statement_timeout"] = ms
	}
	if _, set := params["idle_in_transaction_session_timeout"]; !set || opt.StatementTimeout > 0 {
		params["idle_in_transaction_session_timeout"] = ms
	}
	if opt.ApplicationName != "" {
		params["application_name"] = opt.ApplicationName
	} else if params["application_name"] == "" {
		params["application_name"] = "upay"
	}
	wait := opt.VisibilityWait
	if wait == 0 {
		wait = 5 * time.Second
	}
	settleWait := opt.SettleWait
	if settleWait <= 0 {
		settleWait = 30 * time.Second
	}

	addr := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, pgconfig.ConnectError(cfg, dbURL, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, pgconfig.ConnectError(cfg, dbURL, err)
	}
	if opt.Migrate {
		_, _, err = pgschema.Migrate(ctx, pool, 0)
	} else {
		err = pgschema.Check(ctx, pool)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	s := &Store{pool: pool, addr: addr, wait: wait, settleWait: settleWait, commitTimeout: timeout, notify: logfeed.NewNotifier(), done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Pool is the store's connection pool, for diagnostics (upay doctor) and
// for read models kept in the same database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close waits for the appends in flight, ends every subscription (their Err
// says the store was closed) and closes the pool. Closing twice is a no-op.
func (s *Store) Close() error {
	s.smu.Lock()
	if s.closed {
		s.smu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.cancel()
	s.smu.Unlock()
	s.subs.Wait()
	s.ops.Wait()
	s.pool.Close()
	return nil
}

// begin registers an operation that Close must wait for; false once closed.
func (s *Store) begin() bool {
	s.smu.Lock()
	defer s.smu.Unlock()
	if s.closed {
		return false
	}
	s.ops.Add(1)
	return true
}

func (s *Store) isClosed() bool {
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.closed
}

// changed returns the channel the next append (or notification) closes.

// listen starts, once, the goroutine that LISTENs for other processes'
// appends. Called with smu held and the store open.
func (s *Store) listen() {
	if s.listening {
		return
	}
	s.listening = true
	s.subs.Add(1)
	go func() {
		defer s.subs.Done()
		backoff := PollInterval
		for s.ctx.Err() == nil {
			start := time.Now()
			_ = s.listenOnce() // it only returns when the connection failed
			if s.ctx.Err() != nil {
				return
			}
			if time.Since(start) > time.Minute {
				backoff = PollInterval // it had been listening: a new failure
			}
			// The connection is gone; subscriptions still poll meanwhile.
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
}

// listenOnce holds one LISTEN connection until it fails or the store closes.
func (s *Store) listenOnce() error {
	conn, err := pgx.ConnectConfig(s.ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(s.ctx, "LISTEN "+channel); err != nil {
		return err
	}
	// Appends may have landed while no connection listened.
	s.notify.Broadcast()
	for {
		if _, err := conn.WaitForNotification(s.ctx); err != nil {
			return err
		}
		s.notified.Add(1)
		s.notify.Broadcast()
	}
}
