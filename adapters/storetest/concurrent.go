package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"upay/domain"
)

func testConcurrentSameStream(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	const appendsPerWriter = 4
	const stream = domain.StreamID("contended")
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		revisions = map[uint64]int{} // revision -> writer that got it
		conflicts int
	)
	for w := range writers {
		wg.Go(func() {
			for i := 0; i < appendsPerWriter; {
				evs, err := s.ReadStream(ctx, stream, 0, domain.ReadOptions{})
				if err != nil {
					t.Errorf("writer %d: ReadStream: %v", w, err)
					return
				}
				exp := domain.NoStream()
				if len(evs) > 0 {
					exp = domain.Exact(evs[len(evs)-1].Revision)
				}
				res, err := s.Append(ctx, domain.AppendRequest{Stream: stream, Expected: exp, Events: events(fmt.Sprint(w, "-", i), 1)})
				if errors.Is(err, domain.ErrConcurrency) {
					mu.Lock()
					conflicts++
					mu.Unlock()
					continue // another writer won; read again and retry
				}
				if err != nil {
					t.Errorf("writer %d: Append: %v", w, err)
					return
				}
				if res.FirstRevision != uint64(len(evs)) {
					t.Errorf("writer %d: appended at %d after reading %d events", w, res.FirstRevision, len(evs))
				}
				mu.Lock()
				if other, dup := revisions[res.FirstRevision]; dup {
					t.Errorf("writers %d and %d both appended revision %d", other, w, res.FirstRevision)
				}
				revisions[res.FirstRevision] = w
				mu.Unlock()
				i++
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	const n = writers * appendsPerWriter
	evs := readStream(t, s, stream) // checks revisions are 0..len-1
	if len(evs) != n || len(revisions) != n {
		t.Fatalf("stream has %d events and %d successful appends, want %d", len(evs), len(revisions), n)
	}
	if i := domain.VerifyChain(domain.Hash{}, evs); i != -1 {
		t.Fatalf("contended stream does not chain at %d", i)
	}
	if all := ReadAll(t, s); len(all) != n {
		t.Fatalf("log has %d events, want %d", len(all), n)
	}
	t.Logf("%d conflicts retried", conflicts)
}

func testConcurrentOwnStreams(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	const appendsPerWriter = 8
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			stream := domain.StreamID(fmt.Sprint("own-", w))
			exp := domain.NoStream()
			for i := range appendsPerWriter {
				res, err := s.Append(ctx, domain.AppendRequest{Stream: stream, Expected: exp, Events: events(fmt.Sprint(i), 1)})
				if err != nil {
					// nobody else writes this stream: no conflict is possible
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
				if res.FirstRevision != uint64(i) {
					t.Errorf("writer %d append %d landed at revision %d", w, i, res.FirstRevision)
					return
				}
				exp = domain.Exact(res.LastRevision)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	all := ReadAll(t, s) // strictly increasing positions, per-stream order
	if len(all) != writers*appendsPerWriter {
		t.Fatalf("log has %d events, want %d", len(all), writers*appendsPerWriter)
	}
	for w := range writers {
		stream := domain.StreamID(fmt.Sprint("own-", w))
		evs := readStream(t, s, stream)
		if len(evs) != appendsPerWriter {
			t.Fatalf("stream %s: %d events, want %d", stream, len(evs), appendsPerWriter)
		}
		if i := domain.VerifyChain(domain.Hash{}, evs); i != -1 {
			t.Fatalf("stream %s does not chain at %d", stream, i)
		}
	}
}
