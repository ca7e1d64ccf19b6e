package readmodeltest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ingest"
	"upay/ledger"
	"upay/projections"
	"upay/workload"
)

// This file holds the stores' benchmarks, BenchRebuild and BenchSearch,
// each store running them under its own name and workload.

// BenchConfig is a generated workload of merchants x days x 1,000 payments
// a day; UPAY_BENCH_MERCHANTS, _DAYS and _PER_DAY scale it, as for the
// ingest benchmark.
func BenchConfig(merchants, days int) workload.Config {
	return workload.Bench(merchants, days, 1000)
}

var bench struct {
	once  sync.Once
	dir   string
	store string
	err   error
}

// BenchStore returns an embedded event store file holding cfg's workload,
// ingested once per process (the first call's cfg) through ingest.Run and
// the ledger: the events' source does not matter, the read-model store is
// what is measured. With UPAY_BENCH_STORE naming a file that exists, that
// file is used instead (ingesting a month takes longer than rebuilding it).
func BenchStore(b *testing.B, cfg workload.Config) string {
	bench.once.Do(func() {
		if p := os.Getenv("UPAY_BENCH_STORE"); p != "" {
			if _, err := os.Stat(p); err == nil {
				bench.store = p
				return
			}
		}
		ctx := context.Background()
		var month bytes.Buffer
		if _, bench.err = workload.Write(&month, cfg); bench.err != nil {
			return
		}
		if bench.dir, bench.err = os.MkdirTemp("", "upay-bench-"); bench.err != nil {
			return
		}
		bench.store = filepath.Join(bench.dir, "upay.db")
		s, err := sqlite.Open(bench.store)
		if err != nil {
			bench.err = err
			return
		}
		defer s.Close()
		l, err := ledger.New(ctx, s, ledger.Options{Import: true})
		if err != nil {
			bench.err = err
			return
		}
		sum, err := ingest.Run(ctx, &month, l, ingest.Decoder{Key: []byte("k")}, ingest.Options{})
		if err == nil && sum.RejectedTotal() != 0 {
			err = fmt.Errorf("ingest rejected lines: %s", sum)
		}
		bench.err = err
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.store
}

// RemoveBenchStore removes the file BenchStore made, if any: a TestMain
// calls it after the run.
func RemoveBenchStore() {
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
}

// peakHeap samples HeapInuse until stop is closed and returns the maximum.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var ms runtime.MemStats
		var peak uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// CPUTime is the CPU time (user and system, every thread) this process has
// used so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchEvents opens the event store of cfg's workload (BenchStore), closed
// when the benchmark's run ends.
func benchEvents(b *testing.B, cfg workload.Config) *sqlite.Store {
	s, err := sqlite.Open(BenchStore(b, cfg))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchOpen returns a new, empty store under test for a benchmark.
type BenchOpen func(b *testing.B) Store

// BenchRebuild rebuilds every projection of cfg's workload (BenchStore)
// into a fresh store from open per op, and reports events/s, this
// process's CPU time per event (an engine's server is not counted), and
// the peak heap in use while it ran.
func BenchRebuild(b *testing.B, cfg workload.Config, open BenchOpen) {
	ctx := context.Background()
	s := benchEvents(b, cfg)
	b.ReportAllocs()
	var events int
	var wall, cpu time.Duration
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		m := open(b)
		runtime.GC()
		stop := make(chan struct{})
		heap := peakHeap(stop)
		c0, t0 := CPUTime(), time.Now()
		b.StartTimer()
		n, err := projections.NewRunner(s, m, projections.RunnerOptions{}).Rebuild(ctx, nil)
		b.StopTimer()
		wall += time.Since(t0)
		cpu += CPUTime() - c0
		close(stop)
		peak = max(peak, <-heap)
		if err != nil {
			b.Fatal(err)
		}
		events = n
		if c, ok := m.(io.Closer); ok {
			c.Close()
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(events)*float64(b.N)/wall.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(events*b.N), "cpu-ns/event")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(events), "events")
}

// BenchSearch runs the admin search's typical query (one merchant, one
// business day, first page of 50) from 32 goroutines over a store from
// open holding cfg's workload, and reports the latency percentiles. One op
// is a round of 32 x 100 queries, so that even -benchtime 1x measures a
// p99 over 3,200 queries.
func BenchSearch(b *testing.B, cfg workload.Config, open BenchOpen) {
	ctx := context.Background()
	s := benchEvents(b, cfg)
	m := open(b)
	if c, ok := m.(io.Closer); ok {
		defer c.Close()
	}
	if _, err := projections.NewRunner(s, m, projections.RunnerOptions{}).Rebuild(ctx, nil); err != nil {
		b.Fatal(err)
	}
	first := domain.BusinessDate(cfg.Start)
	const clients, perRound = 32, 100
	var all []time.Duration
	var rows int
	var elapsed time.Duration
	for round := 0; b.Loop(); round++ {
		lat := make([][]time.Duration, clients)
		counts := make([]int, clients)
		var wg sync.WaitGroup
		start := time.Now()
		for c := range clients {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(c)))
				for range perRound {
					day := first.Add(date.PeriodOfDays(rng.IntN(cfg.Days)))
					q := projections.TxQuery{Merchant: workload.MerchantID(rng.IntN(cfg.Merchants)), From: &day, To: &day}
					t0 := time.Now()
					p, err := m.SearchTransactions(ctx, q)
					lat[c] = append(lat[c], time.Since(t0))
					if err != nil {
						b.Error(err)
						return
					}
					counts[c] += len(p.Rows)
				}
			})
		}
		wg.Wait()
		elapsed += time.Since(start)
		all = append(all, slices.Concat(lat...)...)
		for _, n := range counts {
			rows += n
		}
	}
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "queries/s")
	b.ReportMetric(float64(rows)/float64(len(all)), "rows/query")
}
