package logfeed

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"upay/domain"
)

// fakeLog is an in-memory log whose reads can fail on demand.
type fakeLog struct {
	mu    sync.Mutex
	evs   []domain.RecordedEvent
	fails []error // returned by the next reads, in order
}

func (l *fakeLog) read(_ context.Context, from domain.Position, max int) ([]domain.RecordedEvent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 0 {
		err := l.fails[0]
		l.fails = l.fails[1:]
		return nil, err
	}
	var out []domain.RecordedEvent
	for _, e := range l.evs {
		if from.Less(e.Position) && len(out) < max {
			out = append(out, e)
		}
	}
	return out, nil
}

func (l *fakeLog) append(n uint64) {
	l.mu.Lock()
	l.evs = append(l.evs, domain.RecordedEvent{Position: domain.Position{Commit: n, Prepare: n}})
	l.mu.Unlock()
}

var errTransient = errors.New("connection reset")
var errClosed = errors.New("closed")

func feed(l *fakeLog, done chan struct{}, n *Notifier) *Feed {
	return &Feed{Read: l.read, Notify: n, Done: done, Closed: errClosed, Poll: time.Hour, Page: 2,
		Transient: func(err error) bool { return errors.Is(err, errTransient) }, Retries: 3}
}

func next(t *testing.T, sub *Subscription) uint64 {
	t.Helper()
	select {
	case e, ok := <-sub.Events():
		if !ok {
			t.Fatalf("subscription ended: %v", sub.Err())
		}
		return e.Position.Commit
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	return 0
}

// A backlog longer than a page, then live appends woken by Broadcast (the
// poll is an hour: only the wake-up can deliver), none skipped or repeated.
func TestBacklogThenLive(t *testing.T) {
	l := &fakeLog{}
	for i := uint64(1); i <= 5; i++ {
		l.append(i)
	}
	n, done := NewNotifier(), make(chan struct{})
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	sub := Start(ctx, &wg, feed(l, done, n), domain.Position{Commit: 1, Prepare: 1})
	for want := uint64(2); want <= 5; want++ {
		if got := next(t, sub); got != want {
			t.Fatalf("got position %d, want %d", got, want)
		}
	}
	l.append(6)
	n.Broadcast()
	if got := next(t, sub); got != 6 {
		t.Fatalf("live: got %d, want 6", got)
	}
	cancel()
	wg.Wait()
	if _, open := <-sub.Events(); open || sub.Err() != nil {
		t.Fatalf("after cancel: open=%v err=%v", open, sub.Err())
	}
}

// Transient read errors are retried up to Retries in a row; a lasting one,
// or any other error, ends the subscription with that error; Close ends it
// with Closed.
func TestErrorsAndClose(t *testing.T) {
	l := &fakeLog{fails: []error{errTransient, errTransient}}
	l.append(1)
	n, done := NewNotifier(), make(chan struct{})
	var wg sync.WaitGroup
	f := feed(l, done, n)
	f.Poll = time.Millisecond
	sub := Start(context.Background(), &wg, f, domain.Start)
	if got := next(t, sub); got != 1 {
		t.Fatalf("after two transient errors: got %d, want 1", got)
	}
	close(done)
	wg.Wait()
	if err := sub.Err(); !errors.Is(err, errClosed) {
		t.Fatalf("after close: %v", err)
	}

	bad := errors.New("disk on fire")
	for _, fails := range [][]error{{bad}, {errTransient, errTransient, errTransient}} {
		l := &fakeLog{fails: fails}
		f := feed(l, make(chan struct{}), NewNotifier())
		f.Poll = time.Millisecond
		sub := Start(context.Background(), &wg, f, domain.Start)
		wg.Wait()
		if err := sub.Err(); !errors.Is(err, fails[0]) {
			t.Errorf("fails %v: ended with %v", fails, err)
		}
	}
}
