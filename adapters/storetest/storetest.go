// Package storetest is the conformance suite of domain.EventStore. Every
// event store adapter (the embedded SQLite file, PostgreSQL, EventStoreDB)
// runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) domain.EventStore { return openFresh(t) })
//	}
//
// so that the ledger behaves the same on every engine: the same revisions,
// hash chains, idempotency and concurrency errors, and a global order that
// subscriptions follow without skipping or repeating an event.
//
// The suite assumes nothing about how an engine numbers positions beyond
// the port's contract: positions are compared only with Position.Less and
// must be strictly increasing in ReadAll order.
package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"upay/domain"
)

// Run runs the suite. open must return a fresh, empty store for each
// subtest (a new file, schema or database); Run closes it when the subtest
// ends and expects Close to succeed.
func Run(t *testing.T, open func(t *testing.T) domain.EventStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, domain.EventStore)
	}{
		{"EmptyStore", testEmptyStore},
		{"AppendAndRead", testAppendAndRead},
		{"ReadStreamFromAndMax", testReadStreamFromAndMax},
		{"ReadAllFromAndMax", testReadAllFromAndMax},
		{"ExpectedRevision", testExpectedRevision},
		{"Idempotency", testIdempotency},
		{"BatchAllOrNothing", testBatchAllOrNothing},
		{"BatchDuplicates", testBatchDuplicates},
		{"HashChain", testHashChain},
		{"TimePrecision", testTimePrecision},
		{"Last", testLast},
		{"CountAfter", testCountAfter},
		{"InvalidAppends", testInvalidAppends},
		{"ConflictDetail", testConflictDetail},
		{"Close", testClose},
		{"SubscribeWhileAppending", testSubscribeWhileAppending},
		{"SubscribeResume", testSubscribeResume},
		{"ConcurrentWritersSameStream", testConcurrentSameStream},
		{"ConcurrentWritersOwnStreams", testConcurrentOwnStreams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// writers is how many goroutines the concurrency tests run.
const writers = 16

// waitFor bounds every wait on a subscription.
const waitFor = 20 * time.Second

// baseTime has nanoseconds and a non-UTC zone, so a store that rounds or
// keeps the zone is caught.
var baseTime = time.Date(2025, 4, 1, 9, 30, 0, 123456789, time.FixedZone("JST", 9*60*60))

// events makes n proposed events tagged with tag, each with its own time
// and content.
func events(tag string, n int) []domain.ProposedEvent {
	out := make([]domain.ProposedEvent, n)
	for i := range out {
		out[i] = domain.ProposedEvent{
			Type:    "test.event",
			Version: 1 + i%2,
			Time:    baseTime.Add(time.Duration(i)*time.Second + time.Duration(i)),
			Data:    fmt.Appendf(nil, `{"tag":%q,"i":%d}`, tag, i),
		}
	}
	return out
}

func hashOf(s string) domain.Hash { return sha256.Sum256([]byte(s)) }

func mustAppend(t *testing.T, s domain.EventStore, req domain.AppendRequest) domain.AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), req)
	if err != nil {
		t.Fatalf("Append to %q: %v", req.Stream, err)
	}
	if res.Duplicate {
		t.Fatalf("Append to %q: Duplicate set on a first append", req.Stream)
	}
	if res.Stream != req.Stream {
		t.Fatalf("Append to %q: result names stream %q", req.Stream, res.Stream)
	}
	if got := res.LastRevision - res.FirstRevision + 1; got != uint64(len(req.Events)) {
		t.Fatalf("Append to %q of %d events: revisions %d..%d", req.Stream, len(req.Events), res.FirstRevision, res.LastRevision)
	}
	return res
}

// ReadAll reads the whole log and checks its global order (positions
// strictly increasing, each stream's revisions one by one).
func ReadAll(t testing.TB, s domain.EventStore) []domain.RecordedEvent {
	t.Helper()
	evs, err := s.ReadAll(t.Context(), domain.Start, domain.ReadOptions{})
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	checkGlobalOrder(t, evs)
	return evs
}

func readStream(t testing.TB, s domain.EventStore, stream domain.StreamID) []domain.RecordedEvent {
	t.Helper()
	evs, err := s.ReadStream(t.Context(), stream, 0, domain.ReadOptions{})
	if err != nil {
		t.Fatalf("ReadStream %q: %v", stream, err)
	}
	for i, e := range evs {
		if e.Stream != stream || e.Revision != uint64(i) {
			t.Fatalf("ReadStream %q: event %d is %s@%d, want %s@%d", stream, i, e.Stream, e.Revision, stream, i)
		}
	}
	return evs
}

// checkGlobalOrder checks that positions strictly increase along evs, that
// no position is the zero Start, and that each stream's revisions increase
// by one along the global order.
func checkGlobalOrder(t testing.TB, evs []domain.RecordedEvent) {
	t.Helper()
	next := map[domain.StreamID]uint64{}
	for i, e := range evs {
		if !domain.Start.Less(e.Position) {
			t.Fatalf("event %d (%s@%d) has position %s, not after Start", i, e.Stream, e.Revision, e.Position)
		}
		if i > 0 && !evs[i-1].Position.Less(e.Position) {
			t.Fatalf("positions not strictly increasing: event %d at %s, event %d at %s", i-1, evs[i-1].Position, i, e.Position)
		}
		if e.Revision != next[e.Stream] {
			t.Fatalf("event %d: %s@%d in global order, want revision %d next", i, e.Stream, e.Revision, next[e.Stream])
		}
		next[e.Stream]++
	}
}

// sameEvent compares every field of two recorded events.
func sameEvent(t *testing.T, what string, got, want domain.RecordedEvent) {
	t.Helper()
	if got.Stream != want.Stream || got.Revision != want.Revision || got.Position != want.Position ||
		got.Type != want.Type || got.Version != want.Version || !got.Time.Equal(want.Time) ||
		got.RequestID != want.RequestID || !bytes.Equal(got.Data, want.Data) ||
		got.PrevHash != want.PrevHash || got.Hash != want.Hash {
		t.Fatalf("%s:\n got %s\nwant %s", what, describe(got), describe(want))
	}
}

func sameEvents(t *testing.T, what string, got, want []domain.RecordedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		sameEvent(t, fmt.Sprintf("%s: event %d", what, i), got[i], want[i])
	}
}

func describe(e domain.RecordedEvent) string {
	return fmt.Sprintf("%s@%d pos=%s type=%s v%d time=%s req=%q data=%q prev=%.8s hash=%.8s",
		e.Stream, e.Revision, e.Position, e.Type, e.Version, e.Time.Format(time.RFC3339Nano), e.RequestID, e.Data, e.PrevHash, e.Hash)
}

// matches checks a recorded event against what was proposed.
func matches(t *testing.T, got domain.RecordedEvent, stream domain.StreamID, rev uint64, requestID string, p domain.ProposedEvent) {
	t.Helper()
	if got.Stream != stream || got.Revision != rev || got.Type != p.Type || got.Version != p.Version ||
		!got.Time.Equal(p.Time) || got.RequestID != requestID || !bytes.Equal(got.Data, p.Data) {
		t.Fatalf("recorded %s\nproposed %s@%d type=%s v%d time=%s req=%q data=%q",
			describe(got), stream, rev, p.Type, p.Version, p.Time.Format(time.RFC3339Nano), requestID, p.Data)
	}
}
