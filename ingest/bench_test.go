package ingest_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the ceiling's plain inserts use the same engine

	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ingest"
	"upay/ledger"
	"upay/workload"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkIngestMonth ingests a generated month (10 merchants x 30 days x
// 1,000 payments/day by default; UPAY_BENCH_MERCHANTS, _DAYS, _PER_DAY scale
// it) into a fresh embedded store with durability on, then inserts the same
// rows with a plain loop and no checks into a bare table of the same engine:
// the ceiling. Both are measured in the same run, so the ratio holds on a
// noisy machine. Run: go test ./ingest -run '^$' -bench IngestMonth -benchtime 1x
func BenchmarkIngestMonth(b *testing.B) {
	cfg := workload.Config{Merchants: envInt("UPAY_BENCH_MERCHANTS", 10), Days: envInt("UPAY_BENCH_DAYS", 30),
		PaymentsPerDay: envInt("UPAY_BENCH_PER_DAY", 1000), Seed: 1, Start: time.Date(2019, 10, 1, 0, 0, 0, 0, domain.Tokyo)}
	var month bytes.Buffer
	if _, err := workload.Write(&month, cfg); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var ours, ceiling time.Duration
	var events int
	for i := 0; b.Loop(); i++ {
		dir := b.TempDir()
		store, err := sqlite.Open(filepath.Join(dir, "upay.db"))
		if err != nil {
			b.Fatal(err)
		}
		l, err := ledger.New(ctx, store, ledger.Options{Import: true})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		sum, err := ingest.Run(ctx, bytes.NewReader(month.Bytes()), l, ingest.Decoder{Key: []byte("k")}, ingest.Options{})
		ours += time.Since(start)
		if err != nil || sum.RejectedTotal() != 0 {
			b.Fatalf("ingest: %v\n%s", err, sum)
		}
		events = sum.Events
		b.StopTimer()
		recorded, err := store.ReadAll(ctx, domain.Start, domain.ReadOptions{})
		store.Close()
		if err != nil || len(recorded) != events {
			b.Fatalf("read back %d events of %d: %v", len(recorded), events, err)
		}
		d, err := plainInsert(filepath.Join(dir, "ceiling.db"), recorded, perTx(recorded, sum.Lines))
		if err != nil {
			b.Fatal(err)
		}
		ceiling += d
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(events)*n/ours.Seconds(), "events/s")
	b.ReportMetric(float64(events)*n/ceiling.Seconds(), "ceiling-events/s")
	b.ReportMetric(ceiling.Seconds()/ours.Seconds(), "ratio-to-ceiling")
	b.ReportMetric(float64(events), "events")
}

// perTx is the number of events our ingest wrote per transaction on average
// (a batch of the default size in commands), so the ceiling commits as often.
func perTx(evs []domain.RecordedEvent, lines int) int {
	batches := (lines + 4999) / 5000
	return max(1, len(evs)/max(1, batches))
}

// plainInsert is the ceiling: the same rows, the same engine, durability and
// page cache (WAL, synchronous=FULL, cache_size and wal_autocheckpoint as the
// store sets them), transactions of the same size, one prepared INSERT in a
// loop, no decoding, no rules, no hashing, no idempotency table.
func plainInsert(path string, evs []domain.RecordedEvent, perTx int) (time.Duration, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-32768)&_pragma=wal_autocheckpoint(16384)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE events(pos INTEGER PRIMARY KEY, stream TEXT NOT NULL, revision INTEGER NOT NULL,
		type TEXT NOT NULL, version INTEGER NOT NULL, time_ns INTEGER NOT NULL, request_id TEXT, data BLOB NOT NULL,
		prev_hash BLOB, hash BLOB NOT NULL, UNIQUE(stream, revision))`); err != nil {
		return 0, err
	}
	start := time.Now()
	for i := 0; i < len(evs); i += perTx {
		tx, err := db.Begin()
		if err != nil {
			return 0, err
		}
		st, err := tx.Prepare(`INSERT INTO events(stream, revision, type, version, time_ns, request_id, data, prev_hash, hash) VALUES(?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return 0, err
		}
		for _, e := range evs[i:min(i+perTx, len(evs))] {
			if _, err := st.Exec(string(e.Stream), e.Revision, e.Type, e.Version, e.Time.UnixNano(), e.RequestID, e.Data, e.PrevHash[:], e.Hash[:]); err != nil {
				return 0, fmt.Errorf("plain insert: %w", err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}
