package readmodeltest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ledger"
	"upay/projections"
)

// This file holds the scenarios each store's own tests run with their
// engine's hooks (a failure injected between a batch's rows and its
// checkpoints), and what those tests compare.

// SalesMerchants are the merchants of Sales.
var SalesMerchants = []domain.MerchantID{"270000001", "270000002", "270000003"}

// Sales records n card sales (authorize and capture), one a minute from
// 2019-10-01 00:00 JST, for the three SalesMerchants in turn, into a new
// embedded event store at path, closed when the test ends.
func Sales(t testing.TB, path string, n int) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	l, err := ledger.New(ctx, s, ledger.Options{Import: true})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2019, 10, 1, 0, 0, 0, 0, domain.Tokyo)
	var cmds []domain.Command
	for i := range n {
		id := domain.PaymentID(fmt.Sprintf("p%05d", i))
		at = at.Add(time.Minute)
		cmds = append(cmds,
			domain.Authorize{CommandMeta: domain.CommandMeta{RequestID: fmt.Sprintf("a%d", i), At: at}, Payment: id,
				Merchant: SalesMerchants[i%3], Brand: domain.Brands[i%len(domain.Brands)],
				Amount: domain.Yen(100 + i), Installments: 1, Card: domain.NewCardRef([]byte("k"), "4111111111111111"), Result: domain.ResultApproved},
			domain.Capture{CommandMeta: domain.CommandMeta{RequestID: fmt.Sprintf("c%d", i), At: at}, Payment: id})
	}
	res, err := l.HandleBatch(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Accepted {
			t.Fatalf("fixture command rejected: %v", r.Err)
		}
	}
	return s
}

// MoreSales records n more sales of the first merchant, numbered from
// first, a minute apart after the last event of s.
func MoreSales(t testing.TB, s *sqlite.Store, first, n int) {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.New(ctx, s, ledger.Options{Import: true})
	if err != nil {
		t.Fatal(err)
	}
	last, _, _ := s.Last(ctx)
	at := last.Time
	for i := first; i < first+n; i++ {
		at = at.Add(time.Minute)
		id := domain.PaymentID(fmt.Sprintf("p%05d", i))
		for _, c := range []domain.Command{
			domain.Authorize{CommandMeta: domain.CommandMeta{RequestID: fmt.Sprintf("a%d", i), At: at}, Payment: id, Merchant: SalesMerchants[0],
				Brand: domain.Visa, Amount: 500, Installments: 1, Card: domain.NewCardRef([]byte("k"), "4111111111111111"), Result: domain.ResultApproved},
			domain.Capture{CommandMeta: domain.CommandMeta{RequestID: fmt.Sprintf("c%d", i), At: at}, Payment: id},
		} {
			if r, err := l.Handle(ctx, c); err != nil || !r.Accepted {
				t.Fatalf("%v %v", err, r.Err)
			}
		}
	}
}

// State is what a store holds for the SalesMerchants, read through the
// port, for comparing a store with itself earlier or with another.
type State struct {
	Rows        []projections.Transaction
	Journal     []projections.JournalEntry
	Checkpoints map[string]domain.Position
	dump        dump
}

// ReadState reads rm's State.
func ReadState(t *testing.T, rm Store) State {
	t.Helper()
	ctx := context.Background()
	d := readDump(t, ctx, rm, SalesMerchants)
	cps, err := rm.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return State{Rows: d.rows, Journal: d.journal, Checkpoints: cps, dump: d}
}

// SameState fails unless two States are equal.
func SameState(t *testing.T, what string, got, want State) {
	t.Helper()
	sameDump(t, what, got.dump, want.dump)
	if !reflect.DeepEqual(got.Checkpoints, want.Checkpoints) {
		t.Fatalf("%s: checkpoints %v, want %v", what, got.Checkpoints, want.Checkpoints)
	}
}

// Open returns a new, empty store under test that follows events (for
// its Status), closed when the test ends.
type Open func(t *testing.T, events domain.EventStore) Store

// FailureBetweenRowsAndCheckpoint checks that a failure after a batch's
// rows and before its checkpoints (an error, or the context cancelled
// there) rolls the whole batch back. setHook sets m's hook that runs at
// that point (nil: none); an error the hook returns fails the write there.
func FailureBetweenRowsAndCheckpoint(t *testing.T, open Open, setHook func(m Store, hook func() error)) {
	ctx := context.Background()
	s := Sales(t, filepath.Join(t.TempDir(), "upay.db"), 50)
	m := open(t, s)
	failBeforeCheckpoint := func(hook func() error) { setHook(m, hook) }
	r := projections.NewRunner(s, m, projections.RunnerOptions{PageSize: 30})
	if _, err := r.CatchUp(ctx); err != nil { // first: 100 events in pages of 30
		t.Fatal(err)
	}
	committed := ReadState(t, m)
	if len(committed.Rows) != 50 {
		t.Fatalf("fixture: %d rows", len(committed.Rows))
	}
	MoreSales(t, s, 50, 20)

	calls := 0
	failBeforeCheckpoint(func() error { calls++; return errors.New("disk on fire") })
	if _, err := r.CatchUp(ctx); err == nil || calls != 1 {
		t.Fatalf("CatchUp with a failing batch: %v after %d calls", err, calls)
	}
	SameState(t, "after a failure before the checkpoint", ReadState(t, m), committed)

	cctx, cancel := context.WithCancel(ctx)
	failBeforeCheckpoint(func() error { cancel(); return nil })
	if _, err := r.CatchUp(cctx); err == nil {
		t.Fatal("CatchUp whose context ends before the checkpoint succeeded")
	}
	SameState(t, "after a cancellation before the checkpoint", ReadState(t, m), committed)

	failBeforeCheckpoint(nil)
	if n, err := r.CatchUp(ctx); err != nil || n != 40 {
		t.Fatalf("catch-up after the failures: %d, %v; want the 40 new events", n, err)
	}
	if st := ReadState(t, m); len(st.Rows) != 70 {
		t.Fatalf("%d rows after recovery, want 70", len(st.Rows))
	}
	status, err := m.Status(ctx)
	if err != nil || len(status) != len(projections.Names) || status[0].Lag != 0 || status[0].Position.Commit != 140 {
		t.Fatalf("status %+v, %v", status, err)
	}
}

// ReadsDuringRebuild checks that readers keep reading while a rebuild
// empties, refills and re-indexes the listing: they see committed pages
// only and never fail. It returns the store, rebuilt, for the engine's own
// checks.
func ReadsDuringRebuild(t *testing.T, open Open) Store {
	ctx := context.Background()
	s := Sales(t, filepath.Join(t.TempDir(), "upay.db"), 400)
	m := open(t, s)
	r := projections.NewRunner(s, m, projections.RunnerOptions{PageSize: 50})
	if _, err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			day := date.New(2019, 10, 1)
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				var err error
				switch (g + i) % 3 {
				case 0:
					var p projections.TxPage
					p, err = m.SearchTransactions(ctx, projections.TxQuery{Merchant: SalesMerchants[0], From: &day, To: &day})
					if err == nil && len(p.Rows) > projections.SearchLimit {
						err = fmt.Errorf("%d rows", len(p.Rows))
					}
				case 1:
					var tb projections.TrialBalance
					if tb, err = m.TrialBalance(ctx); err == nil {
						if d, c := tb.Totals(); d != c {
							err = fmt.Errorf("trial balance %d != %d mid-rebuild", d, c)
						}
					}
				default:
					_, err = m.Status(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 2 {
		if _, err := r.Rebuild(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("reader: %v", err)
		}
	}
	if st := ReadState(t, m); len(st.Rows) != 400 {
		t.Fatalf("%d rows after the rebuilds", len(st.Rows))
	}
	return m
}
