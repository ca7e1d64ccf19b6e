package sqlitemodels

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"upay/adapters/readmodeltest"
	"upay/adapters/sqlite"
	"upay/adapters/sqlmodels"
	"upay/domain"
	"upay/projections"
	"upay/workload"
)

// benchConfig is the generated month: 10 merchants x 30 days x 1,000
// payments a day by default (readmodeltest.BenchConfig).
func benchConfig() workload.Config { return readmodeltest.BenchConfig(10, 30) }

// openBench opens the read models in a new file.
func openBench(b *testing.B) readmodeltest.Store {
	m, err := Open(filepath.Join(b.TempDir(), "r.read.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkRebuild rebuilds every projection of the generated month from
// the embedded store into a fresh read-model file and reports events/s,
// the CPU time per event (both cores), and the peak heap in use while it
// ran (readmodeltest.BenchRebuild).
// Run: go test ./adapters/sqlitemodels -run '^$' -bench Rebuild -benchtime 3x
func BenchmarkRebuild(b *testing.B) {
	readmodeltest.BenchRebuild(b, benchConfig(), openBench)
}

// BenchmarkSearchOneDayOneMerchant runs the admin search's typical query
// (one merchant, one business day, first page of 50) from 32 goroutines
// over the read models of the generated month and reports the latency
// percentiles (readmodeltest.BenchSearch).
// Run: go test ./adapters/sqlitemodels -run '^$' -bench Search -benchtime 5x
func BenchmarkSearchOneDayOneMerchant(b *testing.B) {
	readmodeltest.BenchSearch(b, benchConfig(), openBench)
}

// BenchmarkRebuildFloor measures, on the generated month, what a rebuild
// into these read models cannot do without, each part alone, as CPU
// nanoseconds per event of the log: reading the log once (ReadAll pages),
// inserting the month's listing rows into a bare listing (primary key only,
// plain multi-row INSERT, 8,192 rows a transaction: the engine's best case,
// no upsert, no journal, no other projection) and building the listing's
// search indexes over them. Their sum against the CPU a rebuild at
// 300,000 events/s has on this machine's cores (budget-ns/event) shows
// whether the target is reachable with this engine at all.
// Run: go test ./adapters/sqlitemodels -run '^$' -bench RebuildFloor -benchtime 1x
func BenchmarkRebuildFloor(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(readmodeltest.BenchStore(b, benchConfig()))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	full := openBench(b).(*Models)
	defer full.Close()
	events, err := projections.NewRunner(s, full, projections.RunnerOptions{}).Rebuild(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	rows, err := listingRows(ctx, full)
	if err != nil {
		b.Fatal(err)
	}
	var read, insert, index time.Duration
	for b.Loop() {
		read += cpuOf(func() {
			for pos := domain.Start; ; {
				evs, err := s.ReadAll(ctx, pos, domain.ReadOptions{Max: projections.DefaultPageSize, Lean: true})
				if err != nil {
					b.Fatal(err)
				}
				if len(evs) == 0 {
					return
				}
				pos = evs[len(evs)-1].Position
			}
		})
		bare := openBench(b).(*Models)
		c := bare.wc
		if _, err := c.ExecContext(ctx, "DROP INDEX tx_unsettled"); err != nil {
			b.Fatal(err)
		}
		for _, ix := range indexes {
			if _, err := c.ExecContext(ctx, "DROP INDEX "+ix.name); err != nil {
				b.Fatal(err)
			}
		}
		insert += cpuOf(func() {
			const k = 64
			st, err := c.PrepareContext(ctx, "INSERT INTO transactions ("+sqlmodels.TxCols+") VALUES "+rowsSQL(k, txColCount))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			one, err := c.PrepareContext(ctx, "INSERT INTO transactions ("+sqlmodels.TxCols+") VALUES "+rowsSQL(1, txColCount))
			if err != nil {
				b.Fatal(err)
			}
			defer one.Close()
			args := make([]any, 0, k*txColCount)
			for p := 0; p < len(rows); p += projections.DefaultPageSize {
				page := rows[p:min(p+projections.DefaultPageSize, len(rows))]
				if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
					b.Fatal(err)
				}
				i := 0
				for ; i+k <= len(page); i += k {
					args = args[:0]
					for _, r := range page[i : i+k] {
						args = append(args, r...)
					}
					if _, err := st.ExecContext(ctx, args...); err != nil {
						b.Fatal(err)
					}
				}
				for _, r := range page[i:] {
					if _, err := one.ExecContext(ctx, r...); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := c.ExecContext(ctx, "COMMIT"); err != nil {
					b.Fatal(err)
				}
			}
		})
		var n int
		if err := c.QueryRowContext(ctx, "SELECT count(*) FROM transactions").Scan(&n); err != nil || n != len(rows) {
			b.Fatalf("bare listing holds %d rows (%v), want %d", n, err, len(rows))
		}
		index += cpuOf(func() {
			if err := createIndexes(ctx, c); err != nil {
				b.Fatal(err)
			}
		})
		bare.Close()
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(events*b.N) }
	b.ReportMetric(float64(len(rows)), "listing-rows")
	b.ReportMetric(per(read), "read-ns/event")
	b.ReportMetric(per(insert), "listing-insert-ns/event")
	b.ReportMetric(per(index), "index-ns/event")
	b.ReportMetric(per(read+insert+index), "floor-ns/event")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0))*1e9/300_000, "budget-ns/event")
}

// listingRows reads every listing row's bind values back from m.
func listingRows(ctx context.Context, m *Models) ([][]any, error) {
	rs, err := m.r.QueryContext(ctx, "SELECT "+sqlmodels.TxCols+" FROM transactions")
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out [][]any
	for rs.Next() {
		r := make([]any, txColCount)
		ptrs := make([]any, txColCount)
		for i := range r {
			ptrs[i] = &r[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// cpuOf returns the CPU time (user and system, every thread of the
// process) f takes.
func cpuOf(f func()) time.Duration {
	c0 := readmodeltest.CPUTime()
	f()
	return readmodeltest.CPUTime() - c0
}
