package ledger_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"upay/adapters/sqlite"
	"upay/ledger"
)

// BenchmarkConcurrentWriters16: 16 goroutines each record single commands
// (one durable transaction each) on their own payments; reports the p50 and
// p99 latency of Handle. Run: go test ./ledger -run '^$' -bench Writers16
func BenchmarkConcurrentWriters16(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(filepath.Join(b.TempDir(), "upay.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l, err := ledger.New(ctx, s, ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	const writers = 16
	per := max(1, b.N/writers)
	lat := make([][]time.Duration, writers)
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				id := fmt.Sprintf("w%d-%d", w, i)
				start := time.Now()
				res, err := l.Handle(ctx, authorize("r"+id, id))
				lat[w] = append(lat[w], time.Since(start))
				if err != nil || !res.Accepted {
					b.Error(res, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(len(all))/b.Elapsed().Seconds(), "commands/s")
}
