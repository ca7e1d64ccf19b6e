package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"upay/domain"
)

// ev is a small event with its own time and content.
func ev(i int) domain.ProposedEvent {
	return domain.ProposedEvent{Type: "test.event", Version: 1, Time: baseTime.Add(time.Duration(i) * time.Second), Data: fmt.Appendf(nil, `{"i":%d}`, i)}
}

// testInvalidAppends: requests no store may append are refused with their
// code and append nothing, alone or as one item of a batch.
func testInvalidAppends(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	cases := []struct {
		name string
		req  domain.AppendRequest
		code string
	}{
		{"empty stream", domain.AppendRequest{Events: []domain.ProposedEvent{ev(0)}}, domain.CodeMissingField},
		{"no events", domain.AppendRequest{Stream: "s"}, domain.CodeMissingField},
		{"zero time", domain.AppendRequest{Stream: "s", Events: []domain.ProposedEvent{{Type: "t", Data: []byte("{}")}}}, domain.CodeInvalidField},
		{"time past 2262", domain.AppendRequest{Stream: "s", Events: []domain.ProposedEvent{{Type: "t", Time: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}}}, domain.CodeInvalidField},
	}
	for _, c := range cases {
		if _, err := s.Append(ctx, c.req); domain.CodeOf(err) != c.code {
			t.Errorf("%s: err = %v, want %s", c.name, err, c.code)
		}
	}
	_, err := s.AppendBatch(ctx, []domain.AppendRequest{{Stream: "ok", Events: []domain.ProposedEvent{ev(1)}}, cases[1].req})
	var be *domain.BatchError
	if !errors.As(err, &be) || be.Index != 1 || domain.CodeOf(err) != domain.CodeMissingField {
		t.Fatalf("batch with an invalid item 1: %v", err)
	}
	if n := len(ReadAll(t, s)); n != 0 {
		t.Fatalf("invalid appends left %d events", n)
	}
	res, err := s.AppendBatch(ctx, nil)
	if err != nil || len(res) != 0 {
		t.Fatalf("empty batch = %v, %v; want no results, nil", res, err)
	}
	// Nil data is stored as empty, not refused.
	if _, err := s.Append(ctx, domain.AppendRequest{Stream: "nil-data", Events: []domain.ProposedEvent{{Type: "t", Version: 1, Time: baseTime}}}); err != nil {
		t.Fatalf("append with nil data: %v", err)
	}
	if evs := readStream(t, s, "nil-data"); len(evs) != 1 || len(evs[0].Data) != 0 {
		t.Fatalf("nil data read back as %+v", evs)
	}
}

// testConflictDetail: a concurrency error names the stream, what was
// expected and what was found.
func testConflictDetail(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	mustAppend(t, s, domain.AppendRequest{Stream: "pay-9", Events: []domain.ProposedEvent{ev(0), ev(1)}})
	_, err := s.Append(ctx, domain.AppendRequest{Stream: "pay-9", Expected: domain.Exact(0), Events: []domain.ProposedEvent{ev(2)}})
	if !errors.Is(err, domain.ErrConcurrency) {
		t.Fatalf("err = %v, want ErrConcurrency", err)
	}
	for _, want := range []string{`"pay-9"`, "expected revision 0", "actual revision 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("conflict %q does not say %s", err, want)
		}
	}
	_, err = s.Append(ctx, domain.AppendRequest{Stream: "pay-10", Expected: domain.StreamExists(), Events: []domain.ProposedEvent{ev(2)}})
	if !errors.Is(err, domain.ErrConcurrency) || !strings.Contains(err.Error(), "actual no stream") {
		t.Fatalf("conflict on a missing stream: %v", err)
	}
}

// testClose: Close ends subscriptions with U3003, later calls fail with
// U3003, and a second Close is harmless.
func testClose(t *testing.T, s domain.EventStore) {
	sub, err := s.Subscribe(context.Background(), domain.Start)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, ok := <-sub.Events(); ok {
		t.Fatal("subscription delivered an event from an empty store")
	}
	if !errors.Is(sub.Err(), domain.ErrStoreFailure) {
		t.Fatalf("subscription ended by Close: Err = %v, want U3003", sub.Err())
	}
	if _, err := s.Append(context.Background(), domain.AppendRequest{Stream: "s", Events: []domain.ProposedEvent{ev(0)}}); !errors.Is(err, domain.ErrStoreFailure) {
		t.Fatalf("Append after Close: %v, want U3003", err)
	}
	if _, err := s.ReadAll(context.Background(), domain.Start, domain.ReadOptions{}); !errors.Is(err, domain.ErrStoreFailure) {
		t.Fatalf("ReadAll after Close: %v, want U3003", err)
	}
	if _, err := s.Subscribe(context.Background(), domain.Start); !errors.Is(err, domain.ErrStoreFailure) {
		t.Fatalf("Subscribe after Close: %v, want U3003", err)
	}
}

// Handles opens a fresh store and returns it with a function that opens
// another handle on the same store (the same file or database), as
// another process would.
type Handles func(t *testing.T) (domain.EventStore, func() domain.EventStore)

// RunHandles runs the tests that need several handles on one store:
// reopening keeps everything, two handles share one log, and a subscriber
// on one sees the appends made through the other. The suite closes every
// handle it opens.
func RunHandles(t *testing.T, open Handles) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, domain.EventStore, func() domain.EventStore)
	}{
		{"ReopenKeepsEverything", testReopen},
		{"TwoHandles", testTwoHandles},
		{"SubscribeSeesOtherHandle", testSubscribeOtherHandle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, another := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s, func() domain.EventStore {
				o := another()
				t.Cleanup(func() { o.Close() })
				return o
			})
		})
	}
}

// VerifyStreams checks that every stream of all is numbered 0, 1, 2, ...
// and chains from the zero hash.
func VerifyStreams(t testing.TB, s domain.EventStore, all []domain.RecordedEvent) {
	t.Helper()
	streams := map[domain.StreamID]bool{}
	for _, e := range all {
		streams[e.Stream] = true
	}
	for st := range streams {
		evs := readStream(t, s, st)
		for i, e := range evs {
			if e.Revision != uint64(i) {
				t.Fatalf("stream %s: event %d has revision %d", st, i, e.Revision)
			}
		}
		if i := domain.VerifyChain(domain.Hash{}, evs); i != -1 {
			t.Fatalf("stream %s does not chain at revision %d", st, i)
		}
	}
}

func testReopen(t *testing.T, s domain.EventStore, another func() domain.EventStore) {
	ctx := t.Context()
	req := domain.AppendRequest{Stream: "pay-1", Expected: domain.NoStream(), RequestID: "r1", RequestHash: domain.Hash{1}, Events: []domain.ProposedEvent{ev(0), ev(1)}}
	first := mustAppend(t, s, req)
	if _, err := s.AppendBatch(ctx, []domain.AppendRequest{
		{Stream: "pay-2", Events: []domain.ProposedEvent{ev(2)}},
		{Stream: "pay-1", Expected: domain.Exact(1), RequestID: "r2", RequestHash: domain.Hash{2}, Events: []domain.ProposedEvent{ev(3)}},
	}); err != nil {
		t.Fatal(err)
	}
	before := ReadAll(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = another()
	after := ReadAll(t, s)
	sameEvents(t, "reopened", after, before)
	// The request ids survived: a retry is still a duplicate.
	dup, err := s.Append(ctx, req)
	if err != nil || !dup.Duplicate || dup.Position != first.Position {
		t.Fatalf("retry after reopen = %+v, %v; want a duplicate of %+v", dup, err, first)
	}
	if h, ok, err := s.RequestHash(ctx, "r2"); err != nil || !ok || h != (domain.Hash{2}) {
		t.Fatalf("RequestHash(r2) after reopen = %s, %v, %v", h, ok, err)
	}
	// And the log goes on from where it was.
	res, err := s.Append(ctx, domain.AppendRequest{Stream: "pay-1", Expected: domain.Exact(2), Events: []domain.ProposedEvent{ev(4)}})
	if err != nil || res.FirstRevision != 3 || !before[len(before)-1].Position.Less(res.Position) {
		t.Fatalf("append after reopen = %+v, %v", res, err)
	}
	VerifyStreams(t, s, ReadAll(t, s))
}

// testTwoHandles runs writers on two handles, as two processes would, all
// contending for one stream and also writing their own.
func testTwoHandles(t *testing.T, a domain.EventStore, another func() domain.EventStore) {
	b := another()
	ctx := t.Context()
	const perWriter = 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[uint64]bool{}
	for w := range 8 {
		s := []domain.EventStore{a, b}[w%2]
		wg.Go(func() {
			own := domain.StreamID(fmt.Sprint("own-", w))
			for i := 0; i < perWriter; {
				evs, err := s.ReadStream(ctx, "shared", 0, domain.ReadOptions{})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				exp := domain.NoStream()
				if n := len(evs); n > 0 {
					exp = domain.Exact(uint64(n - 1))
				}
				res, err := s.AppendBatch(ctx, []domain.AppendRequest{
					{Stream: "shared", Expected: exp, Events: []domain.ProposedEvent{ev(i)}},
					{Stream: own, Events: []domain.ProposedEvent{ev(i)}},
				})
				if errors.Is(err, domain.ErrConcurrency) {
					continue
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				if won[res[0].FirstRevision] {
					t.Errorf("revision %d of the shared stream appended twice", res[0].FirstRevision)
				}
				won[res[0].FirstRevision] = true
				mu.Unlock()
				i++
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	fromA, fromB := ReadAll(t, a), ReadAll(t, b)
	if len(fromA) != 2*8*perWriter {
		t.Fatalf("handle A sees %d events, want %d", len(fromA), 2*8*perWriter)
	}
	sameEvents(t, "the two handles' logs", fromB, fromA)
	if n := len(won); n != 8*perWriter {
		t.Fatalf("%d shared revisions won, want %d", n, 8*perWriter)
	}
	VerifyStreams(t, a, fromA)
}

// testSubscribeOtherHandle: appends through handle B reach a subscriber on
// handle A (by whatever wakes it: a poll, a notification), in order.
func testSubscribeOtherHandle(t *testing.T, a domain.EventStore, another func() domain.EventStore) {
	b := another()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sub, err := a.Subscribe(ctx, domain.Start)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	go func() {
		for i := range n {
			if _, err := b.Append(ctx, domain.AppendRequest{Stream: domain.StreamID(fmt.Sprint("s-", i%3)), Events: []domain.ProposedEvent{ev(i)}}); err != nil {
				t.Errorf("append through B: %v", err)
				return
			}
			if i%5 == 0 {
				time.Sleep(150 * time.Millisecond) // let the subscriber go idle between some appends
			}
		}
	}()
	got := receive(t, sub, n)
	sameEvents(t, "subscriber on A vs B's log", got, ReadAll(t, b))
	endSubscription(t, cancel, sub)
}
