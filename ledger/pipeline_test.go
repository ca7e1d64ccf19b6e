package ledger_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ledger"
)

// gate holds the ledger's AppendBatch calls until released, so that a test
// can decide the next batch while one is "being recorded"; before, when set,
// runs first (another writer, or a failure to return).
type gate struct {
	domain.EventStore
	release chan struct{}
	before  func() error
}

func (g *gate) AppendBatch(ctx context.Context, reqs []domain.AppendRequest) ([]domain.AppendResult, error) {
	<-g.release
	if g.before != nil {
		if err := g.before(); err != nil {
			return nil, err
		}
	}
	return g.EventStore.AppendBatch(ctx, reqs)
}

type recorded struct {
	res   []ledger.Result
	clean bool
	err   error
}

// recordAsync starts Record and returns where its outcome arrives.
func recordAsync(ctx context.Context, l *ledger.Ledger, p *ledger.Pending) <-chan recorded {
	ch := make(chan recorded, 1)
	go func() {
		var r recorded
		r.res, r.clean, r.err = l.Record(ctx, p)
		ch <- r
	}()
	return ch
}

func at(c domain.Command, t time.Time) domain.Command {
	switch c := c.(type) {
	case domain.Authorize:
		c.At = t
		return c
	case domain.Capture:
		c.At = t
		return c
	case domain.Void:
		c.At = t
		return c
	}
	panic("at")
}

var t0 = time.Date(2019, 10, 1, 1, 0, 0, 0, time.UTC)

func sec(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// A batch decided on top of one in flight that is recorded as decided is
// recorded as decided: it saw the first batch's payments, and a retry of
// one of its requests answers with the original's position.
func TestSpeculationHolds(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	g := &gate{EventStore: s, release: make(chan struct{})}
	l, _ := ledger.New(ctx, g, ledger.Options{Import: true})
	a, err := l.Decide(ctx, []domain.Command{at(authorize("r1", "p1"), sec(1)), at(authorize("r2", "p2"), sec(2))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ra := recordAsync(ctx, l, a)
	b, err := l.Decide(ctx, []domain.Command{at(capture("r3", "p1"), sec(3)), at(authorize("r1", "p1"), sec(1))}, a)
	if err != nil {
		t.Fatal(err)
	}
	close(g.release)
	first := <-ra
	if first.err != nil || !first.clean {
		t.Fatalf("first batch: clean %v, %v", first.clean, first.err)
	}
	res, clean, err := l.Record(ctx, b)
	if err != nil || !clean {
		t.Fatalf("second batch: clean %v, %v", clean, err)
	}
	if !res[0].Accepted || res[0].Duplicate {
		t.Fatalf("capture decided on the batch in flight: %+v", res[0])
	}
	if !res[1].Duplicate || res[1].Position != first.res[0].Position || res[1].Position == (domain.Position{}) {
		t.Fatalf("retry: %+v, original at %v", res[1], first.res[0].Position)
	}
	if _, _, err := l.Record(ctx, b); err == nil {
		t.Fatal("a batch was recorded twice")
	}
}

// When the batch in flight is not recorded as decided (another writer made
// it conflict), the batch decided on top of it is decided again: its retry
// of a request that ended up rejected is decided, not answered as a
// duplicate, and the import clock is the recorded one, not the one of the
// discarded decisions (which would make its first command U1010).
func TestSpeculationDiscarded(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	l, _ := ledger.New(ctx, s, ledger.Options{Import: true})
	if _, err := l.HandleBatch(ctx, []domain.Command{at(authorize("r1", "p1"), sec(1))}); err != nil {
		t.Fatal(err)
	}
	g := &gate{EventStore: s, release: make(chan struct{})}
	l, _ = ledger.New(ctx, g, ledger.Options{Import: true})
	g.before = func() error {
		// Another process voids p1 before the first batch lands.
		other, err := sqlite.Open(path)
		if err != nil {
			return err
		}
		defer other.Close()
		ol, _ := ledger.New(ctx, other, ledger.Options{Import: true})
		res, err := ol.Handle(ctx, at(domain.Void{CommandMeta: domain.CommandMeta{RequestID: "x1"}, Payment: "p1"}, sec(2)))
		if err == nil && !res.Accepted {
			err = res.Err
		}
		return err
	}
	a, err := l.Decide(ctx, []domain.Command{at(authorize("r2", "p2"), sec(3)), at(capture("r3", "p1"), sec(5))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ra := recordAsync(ctx, l, a)
	b, err := l.Decide(ctx, []domain.Command{at(authorize("r4", "p4"), sec(4)), at(capture("r3", "p1"), sec(5))}, a)
	if err != nil {
		t.Fatal(err)
	}
	close(g.release)
	first := <-ra
	if first.err != nil || first.clean {
		t.Fatalf("first batch: clean %v, %v", first.clean, first.err)
	}
	if !first.res[0].Accepted || first.res[1].Code != domain.CodeNotCapturable {
		t.Fatalf("first batch after the conflict: %+v", first.res)
	}
	g.before = nil
	res, clean, err := l.Record(ctx, b)
	if err != nil || clean {
		t.Fatalf("second batch: clean %v, %v", clean, err)
	}
	if !res[0].Accepted {
		t.Fatalf("at 4 s after a recorded 3 s: %+v", res[0])
	}
	if res[1].Duplicate || res[1].Code != domain.CodeNotCapturable {
		t.Fatalf("retry of a rejected capture: %+v", res[1])
	}
	evs, _ := s.ReadAll(ctx, domain.Start, domain.ReadOptions{})
	var got []string
	for _, e := range evs {
		got = append(got, e.RequestID)
	}
	if strings.Join(got, " ") != "r1 x1 r2 r4" {
		t.Fatalf("recorded requests %v", got)
	}
}

// A batch whose Record fails leaves no trace: the import clock was never
// advanced by its decisions nor by those of the batch decided on top of it,
// so deciding the same commands again accepts them.
func TestSpeculationAfterFailure(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	g := &gate{EventStore: s, release: make(chan struct{})}
	g.before = func() error { return domain.Err(domain.CodeStoreFailure, "disk on fire") }
	l, _ := ledger.New(ctx, g, ledger.Options{Import: true})
	first := []domain.Command{at(authorize("r1", "p1"), sec(5))}
	second := []domain.Command{at(authorize("r2", "p2"), sec(9))}
	a, _ := l.Decide(ctx, first, nil)
	ra := recordAsync(ctx, l, a)
	if _, err := l.Decide(ctx, second, a); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	if r := <-ra; r.err == nil || r.clean {
		t.Fatalf("failing append: clean %v, %v", r.clean, r.err)
	}
	g.before = nil
	res, err := l.HandleBatch(ctx, []domain.Command{at(authorize("r0", "p0"), sec(1)), first[0], second[0]})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.Accepted || r.Duplicate {
			t.Fatalf("command %d after a failed batch: %+v", i, r)
		}
	}
}

// Speculation is one batch deep: deciding on a batch whose own predecessor
// is not recorded would miss that predecessor's effects.
func TestDecideTwoDeepRefused(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	l, _ := ledger.New(ctx, s, ledger.Options{})
	a, _ := l.Decide(ctx, []domain.Command{authorize("r1", "p1")}, nil)
	b, err := l.Decide(ctx, []domain.Command{capture("r2", "p1")}, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Decide(ctx, []domain.Command{capture("r3", "p1")}, b); err == nil {
		t.Fatal("decided two batches deep")
	}
	// Recording b before a decides b again on the recorded state (nothing).
	res, clean, err := l.Record(ctx, b)
	if err != nil || clean || res[0].Code != domain.CodePaymentNotFound {
		t.Fatalf("b before a: %+v clean %v %v", res, clean, err)
	}
	if _, _, err := l.Record(ctx, a); err != nil {
		t.Fatal(err)
	}
}
