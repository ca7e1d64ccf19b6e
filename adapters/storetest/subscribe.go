package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"upay/domain"
)

// receive takes n events from sub, failing on timeout or an early end.
func receive(t *testing.T, sub domain.Subscription, n int) []domain.RecordedEvent {
	t.Helper()
	got := make([]domain.RecordedEvent, 0, n)
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for len(got) < n {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended after %d of %d events: %v", len(got), n, sub.Err())
			}
			got = append(got, e)
		case <-timer.C:
			t.Fatalf("subscription delivered %d of %d events in %s", len(got), n, waitFor)
		}
	}
	return got
}

// endSubscription cancels sub and checks that Events closes and Err is nil.
func endSubscription(t *testing.T, cancel context.CancelFunc, sub domain.Subscription) {
	t.Helper()
	cancel()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-sub.Events():
			if !ok {
				if err := sub.Err(); err != nil {
					t.Fatalf("subscription cancelled: Err() = %v, want nil", err)
				}
				return
			}
		case <-timer.C:
			t.Fatalf("Events not closed %s after cancellation", waitFor)
		}
	}
}

// sentinel appends one event and checks it is the very next event the
// subscription delivers: nothing stale or repeated is left before it.
func sentinel(t *testing.T, s domain.EventStore, sub domain.Subscription) {
	t.Helper()
	r := mustAppend(t, s, domain.AppendRequest{Stream: "sentinel", Events: events("sentinel", 1)})
	got := receive(t, sub, 1)[0]
	if got.Stream != "sentinel" || got.Position != r.Position {
		t.Fatalf("after the expected events the subscription delivered %s, want the sentinel at %s", describe(got), r.Position)
	}
}

func testSubscribeWhileAppending(t *testing.T, s domain.EventStore) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Some backlog first, so the subscription goes from catch-up to live
	// while the writers run.
	for i := range 3 {
		mustAppend(t, s, domain.AppendRequest{Stream: domain.StreamID(fmt.Sprint("backlog-", i)), Events: events("b", 2)})
	}
	sub, err := s.Subscribe(ctx, domain.Start)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	const appendsPerWriter = 8
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			stream := domain.StreamID(fmt.Sprint("writer-", w))
			for i := range appendsPerWriter {
				var err error
				if i%3 == 2 {
					_, err = s.AppendBatch(ctx, []domain.AppendRequest{
						{Stream: stream, Events: events("batch", 1)},
						{Stream: stream + "-b", Events: events("batch", 2)},
					})
				} else {
					_, err = s.Append(ctx, domain.AppendRequest{Stream: stream, Events: events("single", 1+i%2)})
				}
				if err != nil {
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
	want := ReadAll(t, s)
	perWriter := 0
	for i := range appendsPerWriter {
		if i%3 == 2 {
			perWriter += 3
		} else {
			perWriter += 1 + i%2
		}
	}
	if n := 6 + writers*perWriter; len(want) != n {
		t.Fatalf("log has %d events, want the %d appended", len(want), n)
	}
	got := receive(t, sub, len(want))
	sameEvents(t, "subscription from Start vs ReadAll", got, want)
	sentinel(t, s, sub)
	endSubscription(t, cancel, sub)
}

func testSubscribeResume(t *testing.T, s domain.EventStore) {
	for i, st := range []domain.StreamID{"p", "q", "p", "q", "p"} {
		mustAppend(t, s, domain.AppendRequest{Stream: st, Events: events(fmt.Sprint(i), 2)})
	}
	all := ReadAll(t, s)
	if len(all) != 10 {
		t.Fatalf("ReadAll: %d events, want 10", len(all))
	}
	for _, k := range []int{1, 4, 10} {
		ctx, cancel := context.WithCancel(t.Context())
		checkpoint := all[k-1].Position
		sub, err := s.Subscribe(ctx, checkpoint)
		if err != nil {
			t.Fatalf("Subscribe from event %d: %v", k, err)
		}
		sameEvents(t, fmt.Sprintf("resumed after event %d", k), receive(t, sub, len(all)-k), all[k:])
		sentinel(t, s, sub) // then live appends, nothing in between
		endSubscription(t, cancel, sub)
		all = ReadAll(t, s)
	}

	// From the head of the log: only what is appended afterwards.
	ctx, cancel := context.WithCancel(t.Context())
	last, ok, err := s.Last(ctx)
	if err != nil || !ok {
		t.Fatalf("Last: %v %v", ok, err)
	}
	sub, err := s.Subscribe(ctx, last.Position)
	if err != nil {
		t.Fatalf("Subscribe from the head: %v", err)
	}
	sentinel(t, s, sub)
	endSubscription(t, cancel, sub)
}
