// Package logfeed delivers a store's global log to subscribers: the
// catch-up-then-follow loop the SQL event stores share (adapters/sqlite,
// adapters/postgres), so that "never skip, never repeat" is written once.
// A store supplies how to read a page after a position and tells the feed
// when it appended (Notifier); the feed pages through the backlog, then
// waits for a wake-up or its poll interval, which picks up appends made by
// other processes.
package logfeed

import (
	"context"
	"sync"
	"time"

	"upay/domain"
)

// Notifier wakes waiting subscriptions after an append. The zero value is
// not ready: use NewNotifier.
type Notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewNotifier returns a notifier with nobody waiting.
func NewNotifier() *Notifier { return &Notifier{ch: make(chan struct{})} }

// Changed returns a channel closed at the next Broadcast. Take it before
// reading, so that an append landing after the read still wakes the reader.
func (n *Notifier) Changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

// Broadcast wakes everyone waiting on Changed.
func (n *Notifier) Broadcast() {
	n.mu.Lock()
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}

// Feed is one store's log as subscriptions read it.
type Feed struct {
	// Read returns at most max events after position from, in global order.
	Read func(ctx context.Context, from domain.Position, max int) ([]domain.RecordedEvent, error)
	// Notify is woken by the store's appends.
	Notify *Notifier
	// Done is closed when the store closes; the subscription then ends
	// with Closed as its error.
	Done   <-chan struct{}
	Closed error
	// Poll is how often an idle subscription reads anyway; Page how many
	// events it reads at a time.
	Poll time.Duration
	Page int
	// Transient reports a read error worth retrying (a dropped connection
	// that the pool replaces); up to Retries in a row are retried, after
	// a growing multiple of Poll. Nil: every read error ends the
	// subscription.
	Transient func(error) bool
	Retries   int
}

// Subscription is a running feed: domain.Subscription.
type Subscription struct {
	ch  chan domain.RecordedEvent
	mu  sync.Mutex
	err error
}

// Events delivers the events in global order; closed when the
// subscription ends.
func (s *Subscription) Events() <-chan domain.RecordedEvent { return s.ch }

// Err says why the subscription ended: nil after ctx was cancelled.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Start runs a subscription of f after position from on its own goroutine,
// counted in wg so that the store's Close can wait for it.
func Start(ctx context.Context, wg *sync.WaitGroup, f *Feed, from domain.Position) *Subscription {
	sub := &Subscription{ch: make(chan domain.RecordedEvent, f.Page)}
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := f.follow(ctx, from, sub.ch)
		sub.mu.Lock()
		sub.err = err
		sub.mu.Unlock()
		close(sub.ch)
	}()
	return sub
}

// follow feeds ch until ctx ends, the store closes or a read fails.
func (f *Feed) follow(ctx context.Context, pos domain.Position, ch chan<- domain.RecordedEvent) error {
	tick := time.NewTicker(f.Poll)
	defer tick.Stop()
	failures := 0
	for {
		wake := f.Notify.Changed()
		evs, err := f.Read(ctx, pos, f.Page)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			select {
			case <-f.Done:
				return f.Closed
			default:
			}
			if failures++; f.Transient != nil && f.Transient(err) && failures < f.Retries {
				if !f.sleep(ctx, time.Duration(failures)*f.Poll) {
					return f.ended(ctx)
				}
				continue
			}
			return err
		}
		failures = 0
		for _, e := range evs {
			select {
			case ch <- e:
				pos = e.Position
			case <-ctx.Done():
				return nil
			case <-f.Done:
				return f.Closed
			}
		}
		if len(evs) == f.Page {
			continue // more backlog
		}
		select {
		case <-wake:
		case <-tick.C:
		case <-ctx.Done():
			return nil
		case <-f.Done:
			return f.Closed
		}
	}
}

// sleep waits d; false when ctx ended or the store closed first.
func (f *Feed) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-f.Done:
	}
	return false
}

func (f *Feed) ended(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	return f.Closed
}
