package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"upay/adapters/pgtest"
	"upay/domain"
)

// TestGapSubscriberNeverSkips plays the schedule that breaks a log ordered
// by a sequence alone: a slow writer takes its transaction id and sequence
// number, inserts, and stays open while fast writers append and commit
// events with higher numbers. A naive reader (seq > checkpoint ORDER BY
// seq) sees the fast events, moves its checkpoint past them, and never sees
// the slow event when it finally commits below the checkpoint. The test
// proves that hazard on the real server, then checks that the store's
// bounded reads hold the fast events back until the slow one has ended,
// so a subscriber started first gets every event exactly once, in strictly
// increasing positions, equal to ReadAll. Several rounds, random sleeps.
func TestGapSubscriberNeverSkips(t *testing.T) {
	// No visibility wait: a fast append returns as soon as it commits, so
	// the schedule is what the test says it is.
	s := mustOpen(t, pgtest.DB(t), Options{Migrate: true, MaxConns: 12, VisibilityWait: -1})
	type slowKey struct{}
	type slowCtl struct{ paused, release chan struct{} }
	s.test = &testHooks{pause: func(ctx context.Context, stage string, tx pgx.Tx) {
		if c, ok := ctx.Value(slowKey{}).(*slowCtl); ok && stage == "beforeCommit" {
			close(c.paused)
			<-c.release
		}
	}}
	ctx := t.Context()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := s.Subscribe(sctx, domain.Start)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []domain.RecordedEvent
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for e := range sub.Events() {
			mu.Lock()
			got = append(got, e)
			mu.Unlock()
		}
	}()
	received := func() []domain.RecordedEvent {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	sleeps := func(n, maxMs int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = time.Duration(rng.IntN(maxMs*1000+1)) * time.Microsecond
		}
		return out
	}
	// fast runs writers appending one event per sleep, each to its own
	// stream, and returns what they appended.
	fast := func(tag string, plan [][]time.Duration) []domain.AppendResult {
		var wg sync.WaitGroup
		res := make([][]domain.AppendResult, len(plan))
		for w, ds := range plan {
			wg.Go(func() {
				for i, d := range ds {
					time.Sleep(d)
					r, err := s.Append(ctx, domain.AppendRequest{Stream: domain.StreamID(fmt.Sprintf("%s-%d", tag, w)), Events: []domain.ProposedEvent{ev(i)}})
					if err != nil {
						t.Errorf("fast writer %s-%d: %v", tag, w, err)
						return
					}
					res[w] = append(res[w], r)
				}
			})
		}
		wg.Wait()
		return slices.Concat(res...)
	}
	// naive reads the way a reader without the bound would.
	naive := func(after int64) []int64 {
		rows, err := s.pool.Query(ctx, "SELECT seq FROM events WHERE seq > $1 ORDER BY seq", after)
		if err != nil {
			t.Fatal(err)
		}
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		return seqs
	}
	var checkpoint int64 // the naive reader's

	const rounds, writers = 5, 4
	for round := range rounds {
		ctl := &slowCtl{paused: make(chan struct{}), release: make(chan struct{})}
		release := sync.OnceFunc(func() { close(ctl.release) })
		t.Cleanup(release) // a failing round must not leave Close waiting for the slow append
		type result struct {
			res domain.AppendResult
			err error
		}
		slowDone := make(chan result, 1)
		go func() {
			r, err := s.Append(context.WithValue(ctx, slowKey{}, ctl), domain.AppendRequest{Stream: domain.StreamID(fmt.Sprint("slow-", round)), Events: []domain.ProposedEvent{ev(round)}})
			slowDone <- result{r, err}
		}()
		<-ctl.paused // its id and sequence number are taken, its row inserted

		// Fast writers append and commit while the slow one is open.
		plan := make([][]time.Duration, writers)
		for w := range plan {
			plan[w] = sleeps(1+rng.IntN(3), 3)
		}
		committed := fast(fmt.Sprint("early-", round), plan)
		if t.Failed() {
			return
		}
		seen := naive(checkpoint)
		if len(seen) == 0 {
			t.Fatal("the naive reader sees none of the committed fast events")
		}
		checkpoint = seen[len(seen)-1]
		// The bounded reads hold them back.
		early := fmt.Sprintf("early-%d-", round)
		for _, e := range readAll(t, s) {
			if strings.HasPrefix(string(e.Stream), early) {
				t.Fatalf("round %d: ReadAll returns %s@%d while an older transaction is open", round, e.Stream, e.Revision)
			}
		}
		if last, ok, err := s.Last(ctx); err != nil || ok && strings.HasPrefix(string(last.Stream), early) {
			t.Fatalf("round %d: Last = %s, %v while the slow transaction is open", round, last.Stream, err)
		}
		for _, e := range received() {
			if strings.HasPrefix(string(e.Stream), early) {
				t.Fatalf("round %d: the subscriber got %s@%d while an older transaction was open", round, e.Stream, e.Revision)
			}
		}

		// The slow writer commits at a random moment while others write.
		for w := range plan {
			plan[w] = sleeps(1+rng.IntN(3), 5)
		}
		lateDone := make(chan struct{})
		go func() {
			defer close(lateDone)
			fast(fmt.Sprint("late-", round), plan)
		}()
		time.Sleep(time.Duration(rng.IntN(10_000)) * time.Microsecond)
		release()
		slow := <-slowDone
		<-lateDone
		if slow.err != nil {
			t.Fatalf("round %d: slow append: %v", round, slow.err)
		}
		if t.Failed() {
			return
		}

		// The hazard is real: the slow event lies below the naive
		// checkpoint, so reading on from it never returns the event.
		slowSeq := int64(slow.res.Position.Prepare)
		if slowSeq >= checkpoint {
			t.Fatalf("round %d: the slow event's seq %d is not below the naive checkpoint %d", round, slowSeq, checkpoint)
		}
		more := naive(checkpoint)
		if slices.Contains(seen, slowSeq) || slices.Contains(more, slowSeq) {
			t.Fatalf("round %d: the naive reader saw the slow event", round)
		}
		if len(more) > 0 {
			checkpoint = more[len(more)-1]
		}
		// The store orders it before every event that waited for it.
		for _, r := range committed {
			if !slow.res.Position.Less(r.Position) {
				t.Fatalf("round %d: slow event at %s, a fast event that committed before it at %s", round, slow.res.Position, r.Position)
			}
		}
	}

	want := readAll(t, s)
	deadline := time.Now().Add(20 * time.Second)
	for len(received()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-collected
	if err := sub.Err(); err != nil {
		t.Fatalf("subscription: %v", err)
	}
	gotAll := received()
	if len(gotAll) != len(want) {
		t.Fatalf("the subscriber got %d events, ReadAll has %d", len(gotAll), len(want))
	}
	for i := range want {
		if gotAll[i].Position != want[i].Position || gotAll[i].Hash != want[i].Hash {
			t.Fatalf("event %d: subscriber got %s@%d at %s, ReadAll has %s@%d at %s", i, gotAll[i].Stream, gotAll[i].Revision, gotAll[i].Position, want[i].Stream, want[i].Revision, want[i].Position)
		}
		if i > 0 && !gotAll[i-1].Position.Less(gotAll[i].Position) {
			t.Fatalf("positions not strictly increasing at %d", i)
		}
	}
	verifyStreams(t, s, want)
}
