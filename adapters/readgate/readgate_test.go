package readgate

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// A gate admits n at a time, never fewer than one; a full gate keeps the
// next reader waiting until a place is given back or its context ends.
func TestGateAdmitsNAndWaits(t *testing.T) {
	if g := New(0); cap(g) != 1 {
		t.Fatalf("New(0) admits %d, want 1", cap(g))
	}
	g := New(2)
	ctx := context.Background()
	for i := range 2 {
		if err := g.Enter(ctx); err != nil {
			t.Fatalf("enter %d: %v", i+1, err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := g.Enter(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third enter into a full gate: %v, want the deadline", err)
	}
	entered := make(chan error, 1)
	go func() { entered <- g.Enter(ctx) }()
	select {
	case err := <-entered:
		t.Fatalf("entered a full gate: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	g.Leave()
	if err := <-entered; err != nil {
		t.Fatalf("enter after a leave: %v", err)
	}
}

// Waiters are admitted in the order they arrived: what the gate is for.
func TestGateIsFirstComeFirstServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		g := New(1)
		if err := g.Enter(ctx); err != nil {
			t.Fatal(err)
		}
		const waiters = 8
		order := make(chan int, waiters)
		for i := range waiters {
			go func() {
				if err := g.Enter(ctx); err != nil {
					t.Error(err)
					return
				}
				order <- i
				g.Leave()
			}()
			synctest.Wait() // waiter i is queued before i+1 starts
		}
		g.Leave()
		for want := range waiters {
			if got := <-order; got != want {
				t.Fatalf("admitted waiter %d in turn %d", got, want)
			}
		}
	})
}
