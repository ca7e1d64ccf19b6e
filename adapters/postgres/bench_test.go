package postgres

import (
	"fmt"
	"testing"
	"time"

	"upay/adapters/pgtest"
	"upay/domain"
)

// BenchmarkAppendBatch appends ingest-sized batches: 5,000 requests, each
// one small event on a new stream with a request id, as `upay ingest`
// sends them. Skipped without a server (UPAY_TEST_PG).
func BenchmarkAppendBatch(b *testing.B) {
	s := mustOpen(b, pgtest.DB(b), Options{Migrate: true})
	const size = 5000
	data := []byte(`{"payment":"p","merchant":"270212122","amount":1200,"brand":"VISA"}`)
	batch := func(n int) []domain.AppendRequest {
		reqs := make([]domain.AppendRequest, size)
		for i := range reqs {
			id := fmt.Sprintf("b%d-%d", n, i)
			reqs[i] = domain.AppendRequest{
				Stream: domain.StreamID("pay-" + id), Expected: domain.NoStream(),
				RequestID: id, RequestHash: domain.Hash{byte(i), byte(i >> 8), byte(n)},
				Events: []domain.ProposedEvent{{Type: "payment.authorized", Version: 1, Time: t0.Add(time.Duration(i)), Data: data}},
			}
		}
		return reqs
	}
	n := 0
	for ; b.Loop(); n++ {
		b.StopTimer()
		reqs := batch(n)
		b.StartTimer()
		if _, err := s.AppendBatch(b.Context(), reqs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*size)/b.Elapsed().Seconds(), "events/s")
}
