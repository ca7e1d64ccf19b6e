// Package readgate admits a bounded number of reads at a time and queues
// the rest first come, first served (a channel's waiters are woken in
// order). database/sql hands a freed connection to a random waiter
// instead, and Go's scheduler lets CPU-bound goroutines run for a 10 ms
// slice before the next: under the admin API's 32 concurrent searches on
// two cores, either made some searches wait many turns, and the p99 was
// several times the median (docs/benchmarks.md).
package readgate

import "context"

// Gate is the admission queue; make(Gate, n) admits n at a time.
type Gate chan struct{}

// New returns a gate that admits n reads at a time (at least one).
func New(n int) Gate { return make(Gate, max(n, 1)) }

// Enter waits for a place; it fails only when ctx ends first.
func (g Gate) Enter(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Leave gives a place back.
func (g Gate) Leave() { <-g }
