package ledger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ledger"
)

var key = []byte("k")

type fixedClock struct{ t atomic.Pointer[time.Time] }

func (c *fixedClock) Now() time.Time  { return *c.t.Load() }
func (c *fixedClock) set(t time.Time) { c.t.Store(&t) }

func open(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "upay.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func authorize(rid, pid string) domain.Authorize {
	return domain.Authorize{CommandMeta: domain.CommandMeta{RequestID: rid}, Payment: domain.PaymentID(pid), Merchant: "270212122",
		Brand: domain.Visa, Amount: 5000, Installments: 1, Card: domain.NewCardRef(key, "4111111111111111"), Result: "ok-01"}
}

func capture(rid, pid string) domain.Capture {
	return domain.Capture{CommandMeta: domain.CommandMeta{RequestID: rid}, Payment: domain.PaymentID(pid)}
}

func TestHandleStampsAndAppends(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	clk := &fixedClock{}
	clk.set(time.Date(2019, 10, 15, 15, 30, 0, 0, time.UTC))
	l, err := ledger.New(ctx, s, ledger.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Handle(ctx, authorize("r1", "p1"))
	if err != nil || !res.Accepted || res.Code != "ok-01" {
		t.Fatalf("authorize: %+v %v", res, err)
	}
	res, err = l.Handle(ctx, capture("r2", "p1"))
	if err != nil || !res.Accepted {
		t.Fatalf("capture: %+v %v", res, err)
	}
	evs, err := s.ReadStream(ctx, "pay-p1", 0, domain.ReadOptions{})
	if err != nil || len(evs) != 2 {
		t.Fatalf("stream: %d events, %v", len(evs), err)
	}
	if !evs[1].Time.Equal(clk.Now()) || evs[1].RequestID != "r2" || evs[1].Type != domain.TypeCardCaptured {
		t.Fatalf("recorded %+v", evs[1])
	}
	// A rejected command appends nothing.
	res, err = l.Handle(ctx, domain.Void{CommandMeta: domain.CommandMeta{RequestID: "r3"}, Payment: "p1"})
	if err != nil || res.Accepted || res.Code != domain.CodeAlreadyDone {
		t.Fatalf("void after capture: %+v %v", res, err)
	}
	if last, _, _ := s.Last(ctx); last.Revision != 1 || last.Stream != "pay-p1" {
		t.Fatalf("a rejection appended: %+v", last)
	}
	// Live mode refuses a command carrying its own time.
	c := capture("r4", "p1")
	c.At = time.Now()
	if res, _ := l.Handle(ctx, c); res.Code != domain.CodeInvalidField {
		t.Fatalf("at in live mode: %+v", res)
	}
}

// A retry returns the original result and appends nothing, also from a new
// Ledger (a restarted process) that must find the request in the store.
func TestIdempotentRetries(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	l, _ := ledger.New(ctx, s, ledger.Options{})
	first, err := l.Handle(ctx, authorize("r1", "p1"))
	if err != nil || !first.Accepted {
		t.Fatal(first, err)
	}
	for i, led := range []*ledger.Ledger{l, must(ledger.New(ctx, s, ledger.Options{}))} {
		again, err := led.Handle(ctx, authorize("r1", "p1"))
		if err != nil || !again.Duplicate || !again.Accepted || again.Code != "ok-01" || again.Position != first.Position {
			t.Fatalf("retry %d: %+v %v (first %+v)", i, again, err, first)
		}
	}
	// The same id with other content is not a retry, also for a restarted
	// process that has to ask the store what the id was applied with.
	other := authorize("r1", "p1")
	other.Amount = 6000
	for i, led := range []*ledger.Ledger{l, must(ledger.New(ctx, s, ledger.Options{}))} {
		if res, _ := led.Handle(ctx, other); res.Code != domain.CodeRequestReused {
			t.Fatalf("reused id %d: %+v", i, res)
		}
	}
	// ... also on another payment's stream, where only the store can tell.
	if res, _ := l.Handle(ctx, authorize("r1", "p2")); res.Code != domain.CodeRequestReused {
		t.Fatalf("reused id on another stream: %+v", res)
	}
	if evs, _ := s.ReadAll(ctx, domain.Start, domain.ReadOptions{}); len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestImportModeTime(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	l, _ := ledger.New(ctx, s, ledger.Options{Import: true})
	at := time.Date(2019, 10, 1, 1, 0, 0, 0, time.UTC)
	a := authorize("r1", "p1")
	a.At = at
	if res, err := l.Handle(ctx, a); err != nil || !res.Accepted || !res.Time.Equal(at) {
		t.Fatalf("%+v %v", res, err)
	}
	c := capture("r2", "p1")
	c.At = at.Add(-time.Second)
	if res, _ := l.Handle(ctx, c); res.Code != domain.CodeTimeBackwards {
		t.Fatalf("time going back: %+v", res)
	}
	c.At = at // equal is fine
	if res, _ := l.Handle(ctx, c); !res.Accepted {
		t.Fatalf("same time: %+v", res)
	}
	// A new process learns the last time from the store.
	l2, _ := ledger.New(ctx, s, ledger.Options{Import: true})
	b := authorize("r3", "p2")
	b.At = at.Add(-time.Hour)
	if res, _ := l2.Handle(ctx, b); res.Code != domain.CodeTimeBackwards {
		t.Fatalf("restart forgot the last time: %+v", res)
	}
	if res, _ := l2.Handle(ctx, capture("r4", "p2")); res.Code != domain.CodeMissingField {
		t.Fatalf("import without at: %+v", res)
	}
}

// In a batch, later commands see earlier ones; rejections in the middle
// append nothing and do not stop the rest.
func TestHandleBatch(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	l, _ := ledger.New(ctx, s, ledger.Options{})
	cmds := []domain.Command{
		authorize("r1", "p1"), capture("r2", "p1"), capture("r3", "p1"), authorize("r4", "p2"),
		domain.Void{CommandMeta: domain.CommandMeta{RequestID: "r5"}, Payment: "p2"}, authorize("r1", "p1"),
	}
	res, err := l.HandleBatch(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ok-01", "ok", domain.CodeNotCapturable, "ok-01", "ok-90", "dup"}
	for i, r := range res {
		got := r.Code
		if r.Duplicate {
			got = "dup"
		}
		if got != want[i] {
			t.Errorf("command %d: %s (%v), want %s", i, got, r.Err, want[i])
		}
	}
	if evs, _ := s.ReadAll(ctx, domain.Start, domain.ReadOptions{}); len(evs) != 4 {
		t.Fatalf("%d events, want 4", len(evs))
	}
}

// Two ledgers (two processes) on one file: each decides on its cache, the
// expected revision catches the stale one, and no rule is broken: a payment
// is captured exactly once.
func TestConcurrentLedgersNeverDoubleCapture(t *testing.T) {
	ctx := context.Background()
	s1, path := open(t)
	s2, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	l1, _ := ledger.New(ctx, s1, ledger.Options{})
	l2, _ := ledger.New(ctx, s2, ledger.Options{})
	const n = 40
	for i := range n {
		if res, err := l1.Handle(ctx, authorize(fmt.Sprintf("a%d", i), fmt.Sprintf("p%d", i))); err != nil || !res.Accepted {
			t.Fatal(res, err)
		}
		// Warm l2's cache so that its state is stale once l1 captures.
		l2.Handle(ctx, domain.Void{CommandMeta: domain.CommandMeta{RequestID: fmt.Sprintf("warm%d", i)}, Payment: domain.PaymentID(fmt.Sprintf("missing%d", i))})
	}
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for _, l := range []*ledger.Ledger{l1, l2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				res, err := l.Handle(ctx, capture(fmt.Sprintf("c%p-%d", l, i), fmt.Sprintf("p%d", i)))
				if err != nil {
					t.Error(err)
					return
				}
				if res.Accepted {
					accepted.Add(1)
				} else if res.Code != domain.CodeNotCapturable {
					t.Errorf("capture %d: %+v", i, res)
				}
			}
		}()
	}
	wg.Wait()
	if accepted.Load() != n {
		t.Fatalf("%d captures accepted for %d payments", accepted.Load(), n)
	}
}

// Re-running an import is safe: every line comes back as a duplicate, not
// as a time going backwards.
func TestReimportIsDuplicates(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	at := time.Date(2019, 10, 1, 1, 0, 0, 0, time.UTC)
	cmds := func() []domain.Command {
		a, c := authorize("r1", "p1"), capture("r2", "p1")
		a.At, c.At = at, at.Add(time.Second)
		return []domain.Command{a, c}
	}
	for run := 0; run < 2; run++ {
		l, _ := ledger.New(ctx, s, ledger.Options{Import: true})
		res, err := l.HandleBatch(ctx, cmds())
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if !r.Accepted || r.Duplicate != (run == 1) {
				t.Fatalf("run %d command %d: %+v", run, i, r)
			}
		}
	}
}

// losing is a store whose batch appends keep losing races to other writers
// (PostgreSQL's "won n times in a row": a plain U3001, not a refused item)
// until the ledger goes one command at a time.
type losing struct {
	domain.EventStore
	lost int
}

func (s *losing) AppendBatch(ctx context.Context, reqs []domain.AppendRequest) ([]domain.AppendResult, error) {
	if len(reqs) > 1 {
		s.lost++
		return nil, domain.Err(domain.CodeConcurrency, "concurrent appends won 10 times in a row")
	}
	return s.EventStore.AppendBatch(ctx, reqs)
}

// A batch that keeps losing races is decided again one by one, not
// reported as a store failure that would stop an ingest.
func TestBatchLosingRacesFallsBack(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	st := &losing{EventStore: s}
	l, err := ledger.New(ctx, st, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.HandleBatch(ctx, []domain.Command{authorize("r1", "p1"), capture("r2", "p1"), authorize("r3", "p2")})
	if err != nil {
		t.Fatalf("HandleBatch: %v, want a fallback", err)
	}
	for i, want := range []string{"ok-01", "ok", "ok-01"} {
		if res[i].Code != want || res[i].Err != nil {
			t.Errorf("command %d: %s %v, want %s", i, res[i].Code, res[i].Err, want)
		}
	}
	if evs, _ := s.ReadAll(ctx, domain.Start, domain.ReadOptions{}); st.lost != 1 || len(evs) != 3 {
		t.Fatalf("lost %d batches, %d events; want 1 and 3", st.lost, len(evs))
	}
}
