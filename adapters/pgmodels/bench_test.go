package pgmodels

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/pgtest"
	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ingest"
	"upay/ledger"
	"upay/projections"
	"upay/workload"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchConfig is the generated workload: 5 merchants x 4 days x 1,000
// payments a day by default, a fraction of sqlitemodels' month so that a
// run stays short on a shared machine (UPAY_BENCH_MERCHANTS, _DAYS,
// _PER_DAY scale it, as there).
func benchConfig() workload.Config {
	return workload.Config{Merchants: envInt("UPAY_BENCH_MERCHANTS", 5), Days: envInt("UPAY_BENCH_DAYS", 4),
		PaymentsPerDay: envInt("UPAY_BENCH_PER_DAY", 1000), Seed: 1, Start: time.Date(2019, 10, 1, 0, 0, 0, 0, domain.Tokyo)}
}

var bench struct {
	once  sync.Once
	dir   string
	store string
	err   error
}

// benchStore returns an embedded event store file holding the generated
// workload, ingested once per process through ingest.Run and the ledger
// (the events' source does not matter here: the read-model store is what
// is measured). With UPAY_BENCH_STORE naming a file that exists, that file
// is used instead.
func benchStore(b *testing.B) string {
	bench.once.Do(func() {
		if p := os.Getenv("UPAY_BENCH_STORE"); p != "" {
			if _, err := os.Stat(p); err == nil {
				bench.store = p
				return
			}
		}
		ctx := context.Background()
		var month bytes.Buffer
		if _, bench.err = workload.Write(&month, benchConfig()); bench.err != nil {
			return
		}
		if bench.dir, bench.err = os.MkdirTemp("", "upay-pgbench-"); bench.err != nil {
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

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRebuild rebuilds every projection of the generated workload
// from the embedded store into a fresh database and reports events/s, this
// process's CPU time per event (the server's is not counted), and the peak
// heap in use while it ran. It skips without a server (pgtest).
// Run: go test ./adapters/pgmodels -run '^$' -bench Rebuild -benchtime 3x
func BenchmarkRebuild(b *testing.B) {
	pgtest.ServerURL(b)
	ctx := context.Background()
	path := benchStore(b)
	s, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	var events int
	var wall, cpu time.Duration
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		m := openFresh(b, Options{})
		runtime.GC()
		stop := make(chan struct{})
		heap := peakHeap(stop)
		c0, t0 := cpuTime(), time.Now()
		b.StartTimer()
		n, err := projections.NewRunner(s, m, projections.RunnerOptions{}).Rebuild(ctx, nil)
		b.StopTimer()
		wall += time.Since(t0)
		cpu += cpuTime() - c0
		close(stop)
		peak = max(peak, <-heap)
		if err != nil {
			b.Fatal(err)
		}
		events = n
		m.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(events)*float64(b.N)/wall.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(events*b.N), "cpu-ns/event")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(events), "events")
}

// BenchmarkSearch runs the admin search's typical query (one merchant, one
// business day, first page of 50) from 32 goroutines over the read models
// of the generated workload and reports the latency percentiles. One op is
// a round of 32 x 100 queries, so that even -benchtime 1x measures a p99
// over 3,200 queries. It skips without a server (pgtest).
// Run: go test ./adapters/pgmodels -run '^$' -bench Search -benchtime 3x
func BenchmarkSearch(b *testing.B) {
	pgtest.ServerURL(b)
	ctx := context.Background()
	path := benchStore(b)
	s, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m := openFresh(b, Options{})
	defer m.Close()
	if _, err := projections.NewRunner(s, m, projections.RunnerOptions{}).Rebuild(ctx, nil); err != nil {
		b.Fatal(err)
	}
	cfg := benchConfig()
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
