package storebench

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the SQLite ceiling uses the store's engine

	"upay/adapters/httpapi"
	"upay/adapters/pgmodels"
	"upay/adapters/pgtest"
	"upay/adapters/postgres"
	"upay/adapters/sqlite"
	"upay/adapters/sqlitemodels"
	"upay/domain"
	"upay/ingest"
	"upay/ledger"
	"upay/projections"
	"upay/workload"
)

// clients is the admin search's concurrency (issue 3: p99 under 32).
const clients = 32

// readModels is what a rebuild writes and the search reads.
type readModels interface {
	projections.ReadModels
	projections.Writer
	Close() error
}

// engine is one store under test: how to open an empty event store, its
// read models, and its ceiling for the month's rows.
type engine struct {
	name    string
	open    func(b *testing.B) domain.EventStore
	models  func(b *testing.B, events domain.EventStore) readModels
	ceiling func(b *testing.B, evs []domain.RecordedEvent, perTx int) time.Duration
}

// result is one engine's figures.
type result struct {
	events                   int
	ingest, ceiling, rebuild time.Duration
	p50, p99                 time.Duration
	qps                      float64
}

// BenchmarkStores runs the side-by-side comparison in one process:
// for the embedded store and PostgreSQL in turn, it ingests the generated
// month (10 merchants x 30 days x 1,000 payments a day by default;
// UPAY_BENCH_MERCHANTS, _DAYS, _PER_DAY scale it) in import mode with
// durability on; writes the same recorded rows into a bare table of the
// same engine as fast as the engine takes them (the ceiling: SQLite plain
// INSERTs, PostgreSQL COPY), in transactions of the same size; rebuilds
// every projection into empty read models of the same engine; and runs
// UPAY_BENCH_QUERIES (default 6,400) one-merchant, one-day admin searches
// through the HTTP API from 32 concurrent clients. It needs PostgreSQL
// (UPAY_TEST_PG, as the tests). Run:
//
//	UPAY_TEST_PG=$(scripts/pg-up) go test ./storebench -run '^$' -bench Stores -benchtime 1x -timeout 30m
func BenchmarkStores(b *testing.B) {
	pgURL := pgtest.DB(b)
	cfg := workload.Bench(10, 30, 1000)
	var month bytes.Buffer
	if _, err := workload.Write(&month, cfg); err != nil {
		b.Fatal(err)
	}
	engines := []engine{embedded(b.TempDir()), onPostgres(pgURL)}
	results := make([]result, len(engines))
	for b.Loop() {
		for i, e := range engines {
			results[i] = run(b, e, cfg, month.Bytes())
		}
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n| store | ingest events/s | ceiling events/s | ratio | rebuild events/s | search p50 | search p99 | searches/s |\n|---|---|---|---|---|---|---|---|\n")
	for i, e := range engines {
		r := results[i]
		ev := float64(r.events)
		b.ReportMetric(ev/r.ingest.Seconds(), e.name+"-ingest-ev/s")
		b.ReportMetric(r.ceiling.Seconds()/r.ingest.Seconds(), e.name+"-ratio")
		b.ReportMetric(ev/r.rebuild.Seconds(), e.name+"-rebuild-ev/s")
		b.ReportMetric(float64(r.p99.Microseconds())/1000, e.name+"-search-p99-ms")
		fmt.Fprintf(&table, "| %s | %.0f | %.0f | %.2f | %.0f | %.1f ms | %.1f ms | %.0f |\n", e.name, ev/r.ingest.Seconds(), ev/r.ceiling.Seconds(),
			r.ceiling.Seconds()/r.ingest.Seconds(), ev/r.rebuild.Seconds(), float64(r.p50.Microseconds())/1000, float64(r.p99.Microseconds())/1000, r.qps)
	}
	b.ReportMetric(float64(results[0].events), "events")
	b.Logf("%d events (%d merchants x %d days x %d payments/day)%s", results[0].events, cfg.Merchants, cfg.Days, cfg.PaymentsPerDay, table.String())
}

func run(b *testing.B, e engine, cfg workload.Config, month []byte) result {
	ctx := context.Background()
	var r result
	store := e.open(b)
	defer store.Close()
	l, err := ledger.New(ctx, store, ledger.Options{Import: true})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	sum, err := ingest.Run(ctx, bytes.NewReader(month), l, ingest.Decoder{Key: []byte("bench-key")}, ingest.Options{})
	r.ingest = time.Since(start)
	if err != nil || sum.RejectedTotal() != 0 {
		b.Fatalf("%s ingest: %v\n%s", e.name, err, sum)
	}
	r.events = sum.Events
	recorded, err := store.ReadAll(ctx, domain.Start, domain.ReadOptions{})
	if err != nil || len(recorded) != r.events {
		b.Fatalf("%s: read back %d events of %d: %v", e.name, len(recorded), r.events, err)
	}
	r.ceiling = e.ceiling(b, recorded, perTx(recorded, sum.Lines))
	recorded = nil

	rm := e.models(b, store)
	defer rm.Close()
	start = time.Now()
	n, err := projections.NewRunner(store, rm, projections.RunnerOptions{}).Rebuild(ctx, nil)
	r.rebuild = time.Since(start)
	if err != nil || n != r.events {
		b.Fatalf("%s rebuild: %d events of %d: %v", e.name, n, r.events, err)
	}
	r.p50, r.p99, r.qps = search(b, rm, cfg)
	return r
}

// perTx is the number of events ingest wrote per transaction on average (a
// batch of the default 5,000 commands), so the ceiling commits as often.
func perTx(evs []domain.RecordedEvent, lines int) int {
	batches := (lines + 4999) / 5000
	return max(1, len(evs)/max(1, batches))
}

func embedded(dir string) engine {
	return engine{
		name: "embedded",
		open: func(b *testing.B) domain.EventStore {
			s, err := sqlite.Open(filepath.Join(dir, "upay.db"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		models: func(b *testing.B, events domain.EventStore) readModels {
			m, err := sqlitemodels.Open(filepath.Join(dir, "upay.db.read.db"), sqlitemodels.Options{Events: events})
			if err != nil {
				b.Fatal(err)
			}
			return m
		},
		ceiling: func(b *testing.B, evs []domain.RecordedEvent, perTx int) time.Duration {
			d, err := sqliteInsert(filepath.Join(dir, "ceiling.db"), evs, perTx)
			if err != nil {
				b.Fatal(err)
			}
			return d
		},
	}
}

func onPostgres(url string) engine {
	return engine{
		name: "postgres",
		open: func(b *testing.B) domain.EventStore {
			s, err := postgres.Open(context.Background(), url, postgres.Options{Migrate: true})
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		models: func(b *testing.B, events domain.EventStore) readModels {
			m, err := pgmodels.Open(context.Background(), url, pgmodels.Options{Events: events})
			if err != nil {
				b.Fatal(err)
			}
			return m
		},
		ceiling: func(b *testing.B, evs []domain.RecordedEvent, perTx int) time.Duration {
			d, err := pgCopy(url, evs, perTx)
			if err != nil {
				b.Fatal(err)
			}
			return d
		},
	}
}

// sqliteInsert is the embedded store's ceiling: the same rows, engine,
// durability and page cache (WAL, synchronous=FULL, cache_size and
// wal_autocheckpoint as the store sets them), transactions of the same
// size, one prepared INSERT in a loop; no decoding, rules, hashing or
// idempotency table.
func sqliteInsert(path string, evs []domain.RecordedEvent, perTx int) (time.Duration, error) {
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

// pgCopy is PostgreSQL's ceiling, as the issue sets it: COPY of the same
// rows into a bare table (the event table's columns and its one unique
// index, nothing else), in transactions of the same size, with the
// server's default durability (synchronous_commit on).
func pgCopy(url string, evs []domain.RecordedEvent, perTx int) (time.Duration, error) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `CREATE TABLE ceiling (seq bigint NOT NULL, stream text COLLATE "C" NOT NULL, revision bigint NOT NULL,
		type text NOT NULL, version int NOT NULL, time_ns bigint NOT NULL, request_id text NOT NULL, data bytea NOT NULL,
		prev_hash bytea NOT NULL, hash bytea NOT NULL, UNIQUE (stream, revision))`); err != nil {
		return 0, err
	}
	cols := []string{"seq", "stream", "revision", "type", "version", "time_ns", "request_id", "data", "prev_hash", "hash"}
	start := time.Now()
	for i := 0; i < len(evs); i += perTx {
		chunk := evs[i:min(i+perTx, len(evs))]
		tx, err := c.Begin(ctx)
		if err != nil {
			return 0, err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"ceiling"}, cols, pgx.CopyFromSlice(len(chunk), func(j int) ([]any, error) {
			e := &chunk[j]
			return []any{int64(i + j), string(e.Stream), int64(e.Revision), e.Type, int32(e.Version), e.Time.UnixNano(), e.RequestID, e.Data, e.PrevHash[:], e.Hash[:]}, nil
		}))
		if err != nil {
			return 0, fmt.Errorf("copy: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// search serves rm through the admin API's full handler (auth, parsing,
// JSON) on a loopback server and has 32 clients with keep-alive
// connections share the queries: every merchant and day of the month, in
// a fixed shuffled order. It returns the latency percentiles and the rate.
func search(b *testing.B, rm projections.ReadModels, cfg workload.Config) (p50, p99 time.Duration, qps float64) {
	const token = "bench-token-0123456789abcdef"
	tokens, err := httpapi.ParseTokens(strings.NewReader(token+" admin\n"), "bench")
	if err != nil {
		b.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Config{ReadModels: rm, Tokens: tokens})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config = httpapi.NewServer("", h, nil)
	srv.Start()
	defer srv.Close()
	var targets []string
	for d := range cfg.Days {
		for m := range cfg.Merchants {
			day := domain.BusinessDate(cfg.Start).AddDate(0, 0, (d*7+m)%cfg.Days)
			targets = append(targets, fmt.Sprintf("%s/api/v1/merchants/%s/transactions?from=%s&to=%s", srv.URL, workload.MerchantID(m), day, day))
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	get := func(target string) time.Duration {
		req, _ := http.NewRequest("GET", target, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return 0
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Errorf("GET %s: %d", target, res.StatusCode)
		}
		return time.Since(start)
	}
	for i := range clients {
		get(targets[i%len(targets)]) // warm the connections
	}
	total := workload.EnvInt("UPAY_BENCH_QUERIES", 6400)
	var next atomic.Int64
	lat := make([]time.Duration, total)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < total; i = int(next.Add(1)) - 1 {
				lat[i] = get(targets[i%len(targets)])
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return lat[total/2], lat[total*99/100], float64(total) / elapsed.Seconds()
}
