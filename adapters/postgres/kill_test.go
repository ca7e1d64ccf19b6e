package postgres

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"upay/adapters/pgtest"
	"upay/domain"
)

// TestKilledConnection terminates the server session of an append in the
// middle of its transaction (pg_terminate_backend, as an administrator or
// a failover would) and checks the outcome: a retry where that is safe, a
// clear error where it is not, never a partial append, and a store that
// keeps working.
func TestKilledConnection(t *testing.T) {
	app := appName(t)
	s := mustOpen(t, pgtest.DB(t), Options{Migrate: true, ApplicationName: app})
	type killKey struct{}
	type kill struct {
		stage string
		done  atomic.Bool
	}
	s.test = &testHooks{pause: func(ctx context.Context, stage string, tx pgx.Tx) {
		k, ok := ctx.Value(killKey{}).(*kill)
		if !ok || k.stage != stage || k.done.Swap(true) {
			return // only the first attempt of a marked append
		}
		// The store's session is the one idle inside a transaction under
		// its application name.
		rows, err := s.pool.Query(context.Background(), "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'", app)
		if err != nil {
			t.Fatal(err)
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) != 1 || uint32(pids[0]) != tx.Conn().PgConn().PID() {
			t.Fatalf("sessions idle in transaction: %v, want only the append's, %d", pids, tx.Conn().PgConn().PID())
		}
		// The timeout makes it wait until the session is gone.
		pgtest.Exec(t, "SELECT pg_terminate_backend($1, 10000)", pids[0])
	}}

	batch := func(tag string, ids bool) []domain.AppendRequest {
		var reqs []domain.AppendRequest
		for i := range 3 {
			r := domain.AppendRequest{Stream: domain.StreamID(fmt.Sprintf("%s-%d", tag, i)), Expected: domain.NoStream(), Events: []domain.ProposedEvent{ev(2 * i), ev(2*i + 1)}}
			if ids {
				r.RequestID = fmt.Sprintf("%s-r%d", tag, i)
				r.RequestHash = domain.Hash{byte(i + 1)}
			}
			reqs = append(reqs, r)
		}
		return reqs
	}
	cases := []struct {
		name, stage string
		reqs        []domain.AppendRequest
		landed      bool // else: a U3003 saying the outcome is unknown, nothing landed
	}{
		// Nothing was sent to COMMIT: the transaction is gone, a retry is safe.
		{"killed at its start, no request ids", "begun", batch("start", false), true},
		// The COMMIT went out on a dead session. The request ids make a
		// retry safe (it would find what had landed).
		{"killed before COMMIT, request ids", "beforeCommit", batch("ids", true), true},
		// Without request ids nobody can tell whether COMMIT landed: the
		// store says so rather than risk appending twice.
		{"killed before COMMIT, no request ids", "beforeCommit", batch("noids", false), false},
	}
	for _, c := range cases {
		k := &kill{stage: c.stage}
		res, err := s.AppendBatch(context.WithValue(t.Context(), killKey{}, k), c.reqs)
		if !k.done.Load() {
			t.Fatalf("%s: the session was not killed", c.name)
		}
		t.Logf("%s: %v", c.name, err)
		for i, r := range c.reqs {
			evs := readStream(t, s, r.Stream)
			switch {
			case c.landed && err != nil:
				t.Fatalf("%s: %v, want the retry to land it", c.name, err)
			case c.landed && (len(evs) != 2 || res[i].Duplicate || res[i].FirstRevision != 0 || res[i].Position != evs[1].Position):
				t.Fatalf("%s: item %d: result %+v, stream %d events; want it appended once, not a duplicate", c.name, i, res[i], len(evs))
			case !c.landed && len(evs) != 0:
				t.Fatalf("%s: stream %s has %d events after a failed append", c.name, r.Stream, len(evs))
			}
		}
		if !c.landed {
			wantErr(t, c.name, err, domain.CodeStoreFailure, "outcome is unknown", "no request id")
		}
	}

	// The pool replaced the dead sessions; the store goes on.
	if _, err := s.Append(t.Context(), domain.AppendRequest{Stream: "after", Events: []domain.ProposedEvent{ev(0)}}); err != nil {
		t.Fatalf("append after the kills: %v", err)
	}
	all := readAll(t, s)
	if len(all) != 2*3*2+1 {
		t.Fatalf("%d events, want %d", len(all), 2*3*2+1)
	}
	verifyStreams(t, s, all)
}

// TestUnknownCommit: COMMIT lands but its answer is lost (the connection
// breaks right after). With request ids the retry finds the append and
// reports it as this call's own (not a duplicate); without, the error says
// the outcome is unknown, and indeed it did land.
func TestUnknownCommit(t *testing.T) {
	s := openFresh(t)
	var lose atomic.Bool
	s.test = &testHooks{commit: func(ctx context.Context, tx pgx.Tx) error {
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		if lose.Swap(false) {
			return &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
		}
		return nil
	}}
	ctx := t.Context()
	before, err := s.Append(ctx, domain.AppendRequest{Stream: "a", RequestID: "r0", RequestHash: domain.Hash{9}, Events: []domain.ProposedEvent{ev(0)}})
	if err != nil {
		t.Fatal(err)
	}

	lose.Store(true)
	res, err := s.AppendBatch(ctx, []domain.AppendRequest{
		{Stream: "a", Expected: domain.Exact(0), RequestID: "r1", RequestHash: domain.Hash{1}, Events: []domain.ProposedEvent{ev(1), ev(2)}},
		{Stream: "b", Expected: domain.NoStream(), RequestID: "r2", RequestHash: domain.Hash{2}, Events: []domain.ProposedEvent{ev(3)}},
		{Stream: "a", Expected: domain.Any(), RequestID: "r0", RequestHash: domain.Hash{9}, Events: []domain.ProposedEvent{ev(0)}}, // applied before
		{Stream: "b", Expected: domain.Any(), RequestID: "r2", RequestHash: domain.Hash{2}, Events: []domain.ProposedEvent{ev(3)}}, // item 1 again
	})
	if err != nil {
		t.Fatalf("batch whose COMMIT answer was lost: %v", err)
	}
	if lose.Load() {
		t.Fatal("the commit hook did not run")
	}
	a, b := readStream(t, s, "a"), readStream(t, s, "b")
	if len(a) != 3 || len(b) != 1 {
		t.Fatalf("streams have %d and %d events, want 3 and 1", len(a), len(b))
	}
	for i, want := range []struct {
		dup bool
		pos domain.Position
	}{{false, a[2].Position}, {false, b[0].Position}, {true, before.Position}, {true, b[0].Position}} {
		if res[i].Duplicate != want.dup || res[i].Position != want.pos {
			t.Errorf("item %d: %+v, want duplicate=%v at %s", i, res[i], want.dup, want.pos)
		}
	}

	lose.Store(true)
	_, err = s.Append(ctx, domain.AppendRequest{Stream: "c", Events: []domain.ProposedEvent{ev(4)}})
	wantErr(t, "lost COMMIT answer, no request id", err, domain.CodeStoreFailure, `"c"`, "outcome is unknown")
	if n := len(readStream(t, s, "c")); n != 1 {
		t.Fatalf("stream c has %d events: the COMMIT did land", n)
	}
}
