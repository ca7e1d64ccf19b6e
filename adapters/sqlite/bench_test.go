package sqlite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"upay/domain"
)

// benchBatch is the events per batch of the bulk-ingest benchmarks.
const benchBatch = 1000

// payload is a ~300-byte event body shaped like a card authorization.
func payload(n int) []byte {
	return fmt.Appendf(nil, `{"payment_id":"p%09d","merchant_id":"270212122","terminal_id":"T%06d","brand":"visa",`+
		`"amount":%d,"currency":"JPY","last4":"4242","fingerprint":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",`+
		`"auth_code":"%06d","installments":1,"entry":"ic","slip":"%08d","at":"2025-04-01T09:30:00.123456789Z"}`,
		n, n%1000000, 100+n%99900, n%1000000, n)
}

// ingestBatch builds batch k: 1000 single-event requests, each with a
// request id, two per payment stream (created, then appended to with an
// exact revision inside the same batch), as a bulk import of authorizations
// and their captures would be.
func ingestBatch(k int) []domain.AppendRequest {
	reqs := make([]domain.AppendRequest, benchBatch)
	for i := range reqs {
		n := k*benchBatch + i
		stream := domain.StreamID(fmt.Sprintf("pay-%d", k*benchBatch/2+i/2))
		exp := domain.NoStream()
		typ := "card.authorized"
		if i%2 == 1 {
			exp, typ = domain.Exact(0), "card.captured"
		}
		data := payload(n)
		id := fmt.Sprintf("req-%d", n)
		reqs[i] = domain.AppendRequest{
			Stream: stream, Expected: exp, RequestID: id, RequestHash: sha256.Sum256([]byte(id)),
			Events: []domain.ProposedEvent{{Type: typ, Version: 1, Time: t0.Add(time.Duration(n) * time.Millisecond), Data: data}},
		}
	}
	return reqs
}

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.TempDir() + "/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func reportRate(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendBatch: bulk ingest through AppendBatch, 1000 events of
// ~300 bytes per batch, with every check, the hash chain and idempotency.
func BenchmarkAppendBatch(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		b.StopTimer()
		reqs := ingestBatch(k)
		b.StartTimer()
		if _, err := s.AppendBatch(ctx, reqs); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N*benchBatch)
}

// BenchmarkPlainInsertCeiling inserts the same rows (events and request
// ids) as BenchmarkAppendBatch on the same connection settings, one INSERT
// per row in transactions of the same size, with no lookup, no check and no
// hashing: the most the engine gives with this schema, which AppendBatch is
// compared with.
func BenchmarkPlainInsertCeiling(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	insEvent, err := s.wc.PrepareContext(ctx, "INSERT INTO events ("+eventCols+") VALUES (?,?,?,?,?,?,?,?,?,?)")
	if err != nil {
		b.Fatal(err)
	}
	defer insEvent.Close()
	insReq, err := s.wc.PrepareContext(ctx, "INSERT INTO requests (request_id, request_hash, stream, first_rev, last_rev, pos) VALUES (?,?,?,?,?,?)")
	if err != nil {
		b.Fatal(err)
	}
	defer insReq.Close()
	var hash [32]byte // a constant stands in for the hashes: no hashing here
	pos := int64(0)
	b.ResetTimer()
	for k := 0; k < b.N; k++ {
		b.StopTimer()
		reqs := ingestBatch(k)
		b.StartTimer()
		if _, err := s.wc.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			b.Fatal(err)
		}
		for i := range reqs {
			r := &reqs[i]
			e := &r.Events[0]
			pos++
			rev := int64(i % 2)
			if _, err := insEvent.ExecContext(ctx, pos, string(r.Stream), rev, e.Type, int64(e.Version), e.Time.UnixNano(), r.RequestID, e.Data, hash[:], hash[:]); err != nil {
				b.Fatal(err)
			}
			if _, err := insReq.ExecContext(ctx, r.RequestID, r.RequestHash[:], string(r.Stream), rev, rev, pos); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.wc.ExecContext(ctx, "COMMIT"); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N*benchBatch)
}

// BenchmarkAppendSingleConcurrent16: 16 goroutines each append single
// events to their own stream, one durable commit per append; reports the
// latency percentiles a terminal sees.
func BenchmarkAppendSingleConcurrent16(b *testing.B) {
	const writers = 16
	s := openBench(b)
	ctx := context.Background()
	data := payload(1)
	lat := make([][]time.Duration, writers)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			stream := domain.StreamID(fmt.Sprint("terminal-", w))
			exp := domain.NoStream()
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				start := time.Now()
				res, err := s.Append(ctx, domain.AppendRequest{
					Stream: stream, Expected: exp, RequestID: fmt.Sprint("req-", n),
					Events: []domain.ProposedEvent{{Type: "card.authorized", Version: 1, Time: t0.Add(time.Duration(n)), Data: data}},
				})
				lat[w] = append(lat[w], time.Since(start))
				if err != nil {
					b.Error(err)
					return
				}
				exp = domain.Exact(res.LastRevision)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	pct := func(p float64) float64 {
		return float64(all[int(p*float64(len(all)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50_us")
	b.ReportMetric(pct(0.99), "p99_us")
	reportRate(b, len(all))
}
