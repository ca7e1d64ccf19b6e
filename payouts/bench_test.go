package payouts_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/secretfile"
	"upay/adapters/sqlite"
	"upay/adapters/sqlitemodels"
	"upay/domain"
	"upay/ingest"
	"upay/ledger"
	"upay/merchants"
	"upay/payouts"
	"upay/projections"
	"upay/settlement"
	"upay/workload"
)

// BenchmarkPayoutBatch: card period A of October 2019 for many merchants
// (UPAY_BENCH_MERCHANTS, default 1,000) with UPAY_BENCH_PER_DAY payments per
// merchant and day over the 15 days (default 7: ~100k payments), ingested,
// projected, then the payday's batch computed and recorded, timed alone.
// The size: UPAY_BENCH_MERCHANTS=10000 UPAY_BENCH_PER_DAY=7 (~1M payments).
// Reports merchants/s and the batch's peak heap growth above the heap in
// use before it (the month's input and the read models stay outside).
func BenchmarkPayoutBatch(b *testing.B) {
	ctx := context.Background()
	nm := workload.EnvInt("UPAY_BENCH_MERCHANTS", 1000)
	var month bytes.Buffer
	if _, err := workload.Write(&month, workload.Config{Merchants: nm, Days: 15, PaymentsPerDay: workload.EnvInt("UPAY_BENCH_PER_DAY", 7), Seed: 1,
		Start: time.Date(2019, 10, 1, 0, 0, 0, 0, domain.Tokyo)}); err != nil {
		b.Fatal(err)
	}
	var elapsed time.Duration
	var peak uint64
	b.StopTimer() // only the batch itself is timed
	for range b.N {
		dir := b.TempDir()
		st, err := sqlite.Open(filepath.Join(dir, "upay.db"))
		if err != nil {
			b.Fatal(err)
		}
		led, _ := ledger.New(ctx, st, ledger.Options{Import: true})
		if _, err := ingest.Run(ctx, bytes.NewReader(month.Bytes()), led, ingest.Decoder{Key: []byte("k")}, ingest.Options{}); err != nil {
			b.Fatal(err)
		}
		sec, _ := secretfile.Open(filepath.Join(dir, "secrets"))
		ms := &merchants.Service{Store: st, Secrets: sec, Clock: fixed{time.Date(2019, 10, 20, 0, 0, 0, 0, time.UTC)}}
		for i := range nm {
			reg := domain.RegisterMerchant{MerchantRegistered: domain.MerchantRegistered{Merchant: workload.MerchantID(i), Name: fmt.Sprintf("店%d", i),
				Contact: "担当", Email: "shop@example.jp", Bank: domain.BankAccount{BankCode: "0010", BankName: "りそな銀行", BranchCode: "101",
					BranchName: "本店", Type: domain.AccountOrdinary, Number: "1234567", Holder: "ﾃｽﾄ"},
				Rates: domain.Rates{VisaMaster: "3.24", JCBOther: "3.74", Emoney: "3.24"}}}
			if _, err := ms.Handle(ctx, reg); err != nil {
				b.Fatal(err)
			}
		}
		rm, err := sqlitemodels.Open(filepath.Join(dir, "read.db"), sqlitemodels.Options{Events: st})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := projections.NewRunner(st, rm, projections.RunnerOptions{}).CatchUp(ctx); err != nil {
			b.Fatal(err)
		}
		batch := &payouts.Batch{Store: st, Merchants: ms, Totals: rm, Calendar: settlement.DefaultCalendar()}
		led = nil // the ingest's state cache is not the batch's memory
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var stop atomic.Bool
		done := make(chan struct{})
		go func() { // sample the heap while the batch runs
			defer close(done)
			var m runtime.MemStats
			for !stop.Load() {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > base.HeapInuse {
					peak = max(peak, m.HeapInuse-base.HeapInuse)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		b.StartTimer()
		start := time.Now()
		_, sum, err := batch.Run(ctx, payouts.Options{Payday: date.MustParseISO("2019-10-31"), At: time.Date(2019, 10, 29, 0, 0, 0, 0, time.UTC)})
		elapsed += time.Since(start)
		b.StopTimer()
		stop.Store(true)
		<-done
		if err != nil || sum.Issued != nm {
			b.Fatalf("batch: %+v %v", sum, err)
		}
		rm.Close()
		st.Close()
	}
	b.ReportMetric(float64(nm)*float64(b.N)/elapsed.Seconds(), "merchants/s")
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/batch")
	b.ReportMetric(float64(peak)/(1<<20), "batch-heap-MiB") // growth above the heap before the batch
}

type fixed struct{ t time.Time }

func (f fixed) Now() time.Time { return f.t }
