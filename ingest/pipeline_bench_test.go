package ingest_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"upay/adapters/pgtest"
	"upay/adapters/postgres"
	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ingest"
	"upay/ledger"
	"upay/workload"
)

// timed sums the time spent in AppendBatch: recording, as opposed to
// deciding (and reading, which overlaps with both).
type timed struct {
	domain.EventStore
	appending atomic.Int64
}

func (s *timed) AppendBatch(ctx context.Context, reqs []domain.AppendRequest) ([]domain.AppendResult, error) {
	start := time.Now()
	defer func() { s.appending.Add(int64(time.Since(start))) }()
	return s.EventStore.AppendBatch(ctx, reqs)
}

// BenchmarkIngestPipeline ingests a generated month (10 merchants x 30 days
// x 1,000 payments a day; UPAY_BENCH_MERCHANTS, _DAYS, _PER_DAY scale it) in
// import mode into fresh stores, once deciding each batch after the
// previous one is recorded (seq) and once while it is (pipe), twice each in
// the same run so that the ratio holds on a noisy machine. It reports events/s of
// both, their ratio, and ideal-ev/s: the events over max(deciding,
// recording) of the sequential run, which overlapping at best reaches.
// Embedded store always; PostgreSQL when UPAY_TEST_PG is set. Run:
//
//	UPAY_TEST_PG=$(scripts/pg-up) go test ./ingest -run '^$' -bench IngestPipeline -benchtime 1x
func BenchmarkIngestPipeline(b *testing.B) {
	cfg := workload.Bench(10, 30, 1000)
	var month bytes.Buffer
	if _, err := workload.Write(&month, cfg); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("embedded", func(b *testing.B) {
		benchPipeline(b, month.Bytes(), func(b *testing.B) domain.EventStore {
			s, err := sqlite.Open(filepath.Join(b.TempDir(), "upay.db"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		})
	})
	b.Run("postgres", func(b *testing.B) {
		pgtest.ServerURL(b)
		benchPipeline(b, month.Bytes(), func(b *testing.B) domain.EventStore {
			s, err := postgres.Open(ctx, pgtest.DB(b), postgres.Options{Migrate: true})
			if err != nil {
				b.Fatal(err)
			}
			return s
		})
	})
}

func benchPipeline(b *testing.B, month []byte, open func(*testing.B) domain.EventStore) {
	ctx := context.Background()
	var elapsed [2]time.Duration // seq, pipe
	var deciding time.Duration
	var recording [2]time.Duration
	var events int
	for i := 0; b.Loop(); i++ {
		// Each mode runs twice, ABBA, so that a drift (the machine, the
		// engine's checkpoints after the previous run) weighs on both.
		for k := range 4 {
			mode := (i + k + k/2) % 2
			b.StopTimer()
			s := &timed{EventStore: open(b)}
			l, err := ledger.New(ctx, s, ledger.Options{Import: true})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			sum, err := ingest.Run(ctx, bytes.NewReader(month), l, ingest.Decoder{Key: []byte("k")}, ingest.Options{Sequential: mode == 0})
			d := time.Since(start)
			b.StopTimer()
			if err != nil || sum.RejectedTotal() != 0 {
				b.Fatalf("ingest: %v\n%s", err, sum)
			}
			elapsed[mode] += d
			app := time.Duration(s.appending.Load())
			recording[mode] += app
			if mode == 0 {
				deciding += d - app
			}
			events = sum.Events
			s.Close()
			b.StartTimer()
		}
	}
	n := float64(2 * b.N * events)
	b.ReportMetric(n/elapsed[0].Seconds(), "seq-ev/s")
	b.ReportMetric(n/elapsed[1].Seconds(), "pipe-ev/s")
	b.ReportMetric(elapsed[0].Seconds()/elapsed[1].Seconds(), "speedup")
	b.ReportMetric(n/max(deciding, recording[0]).Seconds(), "ideal-ev/s")
	b.ReportMetric(float64(events), "events")
	per := func(d time.Duration) time.Duration { return (d / time.Duration(2*b.N)).Round(time.Millisecond) }
	b.Logf("per run: sequential %s = %s deciding (reading overlaps) + %s recording; pipelined %s, of which %s recording",
		per(elapsed[0]), per(deciding), per(recording[0]), per(elapsed[1]), per(recording[1]))
}
