package readgate

import (
	"context"
	"errors"
	"testing"
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
