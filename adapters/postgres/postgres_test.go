package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"upay/adapters/pgschema"
	"upay/adapters/pgtest"
	"upay/adapters/storetest"
	"upay/domain"
)

// appName gives a test's store its own application_name, so that the test
// finds its sessions in pg_stat_activity among everyone else's.
func appName(t testing.TB) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "upay-test-" + hex.EncodeToString(b[:])
}

func mustOpen(t testing.TB, url string, opt Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openFresh opens a store on a new, migrated database.
func openFresh(t testing.TB) *Store {
	t.Helper()
	return mustOpen(t, pgtest.DB(t), Options{Migrate: true, ApplicationName: appName(t)})
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) domain.EventStore {
		s, err := Open(t.Context(), pgtest.DB(t), Options{Migrate: true})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s // Run closes it
	})
}

var t0 = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)

func ev(i int) domain.ProposedEvent {
	return domain.ProposedEvent{Type: "test.event", Version: 1, Time: t0.Add(time.Duration(i) * time.Microsecond), Data: fmt.Appendf(nil, `{"i":%d}`, i)}
}

func readStream(t testing.TB, s *Store, stream domain.StreamID) []domain.RecordedEvent {
	t.Helper()
	evs, err := s.ReadStream(context.Background(), stream, 0, domain.ReadOptions{})
	if err != nil {
		t.Fatalf("ReadStream %s: %v", stream, err)
	}
	return evs
}

func wantErr(t *testing.T, what string, err error, code string, says ...string) {
	t.Helper()
	t.Logf("%s: %v", what, err)
	if domain.CodeOf(err) != code {
		t.Fatalf("%s: err = %v, want %s", what, err, code)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: %q does not say %q", what, err, s)
		}
	}
}

// TestHandles: the suite's tests with several handles on one database, as
// several processes would have.
func TestHandles(t *testing.T) {
	storetest.RunHandles(t, func(t *testing.T) (domain.EventStore, func() domain.EventStore) {
		url := pgtest.DB(t)
		return mustOpen(t, url, Options{Migrate: true}), func() domain.EventStore { return mustOpen(t, url, Options{}) }
	})
}

func TestOpenWrongURL(t *testing.T) {
	for _, u := range []string{
		"postgres://upay:s3cr3tpw@127.0.0.1:notaport/upay",
		"postgres://upay:s3cr3tpw@127.0.0.1:5432/upay?sslmode=sometimes",
		"host=127.0.0.1 password=s3cr3tpw sslmode=sometimes",
	} {
		_, err := Open(t.Context(), u, Options{})
		wantErr(t, u, err, domain.CodeInvalidField, "postgres")
		if err != nil && strings.Contains(err.Error(), "s3cr3tpw") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
}

func TestOpenRefusedConnection(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://upay:s3cr3tpw@127.0.0.1:1/upay?sslmode=disable&connect_timeout=5", Options{})
	wantErr(t, "connecting to port 1", err, domain.CodeStoreFailure, "cannot connect to PostgreSQL at upay@127.0.0.1:1/upay", "refused")
	if err != nil && strings.Contains(err.Error(), "s3cr3tpw") {
		t.Errorf("the error repeats the password: %v", err)
	}
}

func TestOpenChecksMigrationLevel(t *testing.T) {
	url := pgtest.DB(t)
	// Empty database, no Migrate: refused, the fix named.
	_, err := Open(t.Context(), url, Options{})
	wantErr(t, "an empty database", err, domain.CodeStoreFailure, "level 0", fmt.Sprintf("needs %d", pgschema.Latest), "run `upay migrate`")

	// Partly migrated (an older binary's level): refused; Migrate finishes it.
	if pgschema.Latest > 1 {
		older := pgtest.DB(t)
		pool, err := pgxpool.New(t.Context(), older)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = pgschema.Migrate(t.Context(), pool, pgschema.Latest-1)
		pool.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, err = Open(t.Context(), older, Options{})
		wantErr(t, "an older level", err, domain.CodeStoreFailure, fmt.Sprintf("level %d", pgschema.Latest-1), "run `upay migrate`")
		mustOpen(t, older, Options{Migrate: true}).Close()
	}

	// Migrated: opens without Migrate; Migrate again is a no-op.
	s := mustOpen(t, url, Options{Migrate: true})
	s.Close()
	s = mustOpen(t, url, Options{})
	s.Close()
	s = mustOpen(t, url, Options{Migrate: true})
	// A newer binary migrated it further: refused, with or without Migrate.
	if _, err := s.Pool().Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future')"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, migrate := range []bool{false, true} {
		_, err = Open(t.Context(), url, Options{Migrate: migrate})
		wantErr(t, fmt.Sprintf("a database at level 999 (Migrate %v)", migrate), err, domain.CodeStoreFailure, "level 999", "upgrade upay")
	}
}

// TestConcurrentOpenMigrate: two processes starting with --migrate on an
// empty database both come up; the schema is applied once.
func TestConcurrentOpenMigrate(t *testing.T) {
	url := pgtest.DB(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), url, Options{Migrate: true}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var n, level int
	if err := stores[0].Pool().QueryRow(t.Context(), "SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &level); err != nil {
		t.Fatal(err)
	}
	if n != pgschema.Latest || level != pgschema.Latest {
		t.Fatalf("schema_migrations has %d rows up to %d, want 1..%d once each", n, level, pgschema.Latest)
	}
	for i, s := range stores {
		if _, err := s.Append(t.Context(), domain.AppendRequest{Stream: domain.StreamID(fmt.Sprint("s", i)), Events: []domain.ProposedEvent{ev(i)}}); err != nil {
			t.Fatalf("append through store %d: %v", i, err)
		}
	}
	if n := len(readAll(t, stores[0])); n != len(stores) {
		t.Fatalf("%d events, want %d", n, len(stores))
	}
}

// TestSessionSettings: the pool's sessions carry the application name and
// the timeouts that keep a stuck session from holding the log back.
func TestSessionSettings(t *testing.T) {
	url := pgtest.DB(t)
	for _, c := range []struct {
		opt           Options
		app, timeout  string
		maxConnsAtLea int32
	}{
		{Options{Migrate: true}, "upay", "30s", 4},
		{Options{ApplicationName: "upay-x", StatementTimeout: 1500 * time.Millisecond, MaxConns: 2}, "upay-x", "1500ms", 2},
	} {
		s := mustOpen(t, url, c.opt)
		var app, st, idle string
		if err := s.Pool().QueryRow(t.Context(), "SELECT current_setting('application_name'), current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')").Scan(&app, &st, &idle); err != nil {
			t.Fatal(err)
		}
		if app != c.app || st != c.timeout || idle != c.timeout {
			t.Errorf("%+v: application_name %q, statement_timeout %q, idle_in_transaction_session_timeout %q; want %q, %q, %q", c.opt, app, st, idle, c.app, c.timeout, c.timeout)
		}
		if got := s.Pool().Config().MaxConns; got < c.maxConnsAtLea || (c.opt.MaxConns > 0 && got != c.opt.MaxConns) {
			t.Errorf("%+v: MaxConns %d", c.opt, got)
		}
		s.Close()
	}
	// A timeout in the URL wins over the default.
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s := mustOpen(t, url+sep+"statement_timeout=7000", Options{})
	var st string
	if err := s.Pool().QueryRow(t.Context(), "SHOW statement_timeout").Scan(&st); err != nil || st != "7s" {
		t.Errorf("statement_timeout from the URL: %q, %v; want 7s", st, err)
	}
}

// TestHotStreamAny: writers appending to one stream with no expectation
// all land, although each round only one of them can take the next
// revision: the losers retry (serialized by the stream lock).
func TestHotStreamAny(t *testing.T) {
	s := openFresh(t)
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Append(t.Context(), domain.AppendRequest{Stream: "hot", Events: []domain.ProposedEvent{ev(w*each + i)}}); err != nil {
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	all := readAll(t, s)
	if len(all) != writers*each {
		t.Fatalf("%d events, want %d", len(all), writers*each)
	}
	verifyStreams(t, s, all)
}

// TestNotifyWakesOtherProcess: a subscriber whose poll is out of the
// picture still sees another handle's append, through LISTEN/NOTIFY: the
// append's pg_notify reaches the listener connection.
func TestNotifyWakesOtherProcess(t *testing.T) {
	url := pgtest.DB(t)
	a := mustOpen(t, url, Options{Migrate: true})
	b := mustOpen(t, url, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if _, err := a.Subscribe(ctx, domain.Start); err != nil { // starts a's listener
		t.Fatal(err)
	}
	// Wait for the listener to be up: its session ran LISTEN.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var listening bool
		if err := b.Pool().QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN "+channel+"')").Scan(&listening); err != nil {
			t.Fatal(err)
		}
		if listening {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a's listener never ran LISTEN")
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := a.notified.Load()
	if _, err := b.Append(ctx, domain.AppendRequest{Stream: "s", Events: []domain.ProposedEvent{ev(0)}}); err != nil {
		t.Fatal(err)
	}
	for a.notified.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("an append through b sent no notification to a's listener")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestVisibilityWait: a transaction that took an id before an append and
// is still open holds the append's events out of the visible log (that is
// what keeps readers from skipping it). The append waits for it, so that
// whoever appended reads what it wrote; with a short wait it returns
// anyway, and the events show once the old transaction ends.
func TestVisibilityWait(t *testing.T) {
	url := pgtest.DB(t)
	s := mustOpen(t, url, Options{Migrate: true})
	short := mustOpen(t, url, Options{VisibilityWait: 50 * time.Millisecond})
	ctx := t.Context()
	// Any write transaction in the cluster counts, not only appends.
	old := func() (pgx.Tx, *pgx.Conn) {
		c, err := pgx.Connect(ctx, pgtest.ServerURL(t))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
			t.Fatal(err)
		}
		return tx, c
	}

	tx, c := old()
	var ending atomic.Bool // set just before the old transaction ends
	committed := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		ending.Store(true)
		committed <- tx.Commit(ctx)
	}()
	if _, err := s.Append(ctx, domain.AppendRequest{Stream: "a", Events: []domain.ProposedEvent{ev(0)}}); err != nil {
		t.Fatal(err)
	}
	if !ending.Load() {
		t.Fatal("the append returned while an older transaction was open")
	}
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	if n := len(readAll(t, s)); n != 1 {
		t.Fatalf("after the append returned: %d events visible, want 1", n)
	}

	tx, c = old()
	defer c.Close(ctx)
	if _, err := short.Append(ctx, domain.AppendRequest{Stream: "b", Events: []domain.ProposedEvent{ev(1)}}); err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, s)); n != 1 {
		t.Fatalf("with an older transaction open: %d events visible, want 1", n)
	}
	if evs := readStream(t, s, "b"); len(evs) != 1 {
		t.Fatalf("ReadStream does not wait for older transactions: got %d events, want 1", len(evs))
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// Other transactions on the server may still hold it back a moment.
	for deadline := time.Now().Add(20 * time.Second); len(readAll(t, s)) != 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after the older transaction ended: %d events visible, want 2", len(readAll(t, s)))
		}
	}
}

func TestCountAfter(t *testing.T) {
	s := openFresh(t)
	ctx := t.Context()
	for i := range 5 {
		if _, err := s.Append(ctx, domain.AppendRequest{Stream: domain.StreamID(fmt.Sprint("s", i%2)), Events: []domain.ProposedEvent{ev(i), ev(i + 10)}}); err != nil {
			t.Fatal(err)
		}
	}
	all := readAll(t, s)
	for i, e := range append([]domain.RecordedEvent{{}}, all...) {
		n, err := s.CountAfter(ctx, e.Position)
		if err != nil || n != int64(len(all)-i) {
			t.Fatalf("CountAfter(%s) = %d, %v; want %d", e.Position, n, err, len(all)-i)
		}
	}
}

func readAll(t testing.TB, s *Store) []domain.RecordedEvent { return storetest.ReadAll(t, s) }

func verifyStreams(t testing.TB, s *Store, all []domain.RecordedEvent) {
	storetest.VerifyStreams(t, s, all)
}
