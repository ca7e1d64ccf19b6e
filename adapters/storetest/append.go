package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"upay/domain"
)

func testExpectedRevision(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	cases := []struct {
		name     string
		existing int // events in the stream before the append
		expected domain.ExpectedRevision
		ok       bool
	}{
		{"any on new stream", 0, domain.Any(), true},
		{"any on existing stream", 2, domain.Any(), true},
		{"no stream on new stream", 0, domain.NoStream(), true},
		{"no stream on existing stream", 2, domain.NoStream(), false},
		{"stream exists on new stream", 0, domain.StreamExists(), false},
		{"stream exists on existing stream", 2, domain.StreamExists(), true},
		{"exact 0 on new stream", 0, domain.Exact(0), false},
		{"exact last revision", 3, domain.Exact(2), true},
		{"exact 0 on one event", 1, domain.Exact(0), true},
		{"exact behind", 3, domain.Exact(1), false},
		{"exact ahead", 2, domain.Exact(5), false},
	}
	for i, c := range cases {
		stream := domain.StreamID(fmt.Sprintf("exp-%d", i))
		if c.existing > 0 {
			mustAppend(t, s, domain.AppendRequest{Stream: stream, Events: events("setup", c.existing)})
		}
		before := len(ReadAll(t, s))
		reqID := fmt.Sprintf("exp-req-%d", i)
		req := domain.AppendRequest{Stream: stream, Expected: c.expected, RequestID: reqID, RequestHash: hashOf(reqID), Events: events(c.name, 2)}
		res, err := s.Append(ctx, req)
		after := ReadAll(t, s)
		if c.ok {
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if res.FirstRevision != uint64(c.existing) || res.LastRevision != uint64(c.existing+1) || res.Duplicate {
				t.Fatalf("%s: result %+v, want revisions %d..%d", c.name, res, c.existing, c.existing+1)
			}
			if len(after) != before+2 || len(readStream(t, s, stream)) != c.existing+2 {
				t.Fatalf("%s: the append did not land whole", c.name)
			}
			continue
		}
		if !errors.Is(err, domain.ErrConcurrency) || domain.CodeOf(err) != domain.CodeConcurrency {
			t.Fatalf("%s: err = %v, want %s (ErrConcurrency)", c.name, err, domain.CodeConcurrency)
		}
		if errors.Is(err, domain.ErrRequestReused) || errors.Is(err, domain.ErrStoreFailure) {
			t.Fatalf("%s: a conflict also matches another sentinel: %v", c.name, err)
		}
		if len(after) != before || len(readStream(t, s, stream)) != c.existing {
			t.Fatalf("%s: a failed append changed the log: %d -> %d events", c.name, before, len(after))
		}
		// A failed append does not consume its request id: the same request
		// with a condition that holds lands normally.
		req.Expected = domain.Any()
		if res, err := s.Append(ctx, req); err != nil || res.Duplicate || res.FirstRevision != uint64(c.existing) {
			t.Fatalf("%s: retry after the conflict = %+v, %v; want a fresh append at revision %d", c.name, res, err, c.existing)
		}
	}
}

func testIdempotency(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	req := domain.AppendRequest{Stream: "pay-1", Expected: domain.NoStream(), RequestID: "req-1", RequestHash: hashOf("content-1"), Events: events("p1", 2)}
	first := mustAppend(t, s, req)
	for _, e := range readStream(t, s, "pay-1") {
		if e.RequestID != "req-1" {
			t.Fatalf("event %s@%d records request %q, want req-1", e.Stream, e.Revision, e.RequestID)
		}
	}

	// A retry returns the original result and appends nothing, even though
	// its expected revision (no stream) no longer holds.
	again, err := s.Append(ctx, req)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !again.Duplicate {
		t.Fatalf("retry: Duplicate not set: %+v", again)
	}
	again.Duplicate = false
	if again != first {
		t.Fatalf("retry result %+v, want the original %+v", again, first)
	}
	if n := len(ReadAll(t, s)); n != 2 {
		t.Fatalf("after a retry the log has %d events, want 2", n)
	}

	// The store tells a restarted writer what content the id was applied with.
	if h, ok, err := s.RequestHash(ctx, "req-1"); err != nil || !ok || h != hashOf("content-1") {
		t.Fatalf("RequestHash(req-1) = %s, %v, %v; want the hash of content-1", h, ok, err)
	}
	if _, ok, err := s.RequestHash(ctx, "never-applied"); err != nil || ok {
		t.Fatalf("RequestHash(never-applied) = %v, %v; want not found", ok, err)
	}

	// Still a duplicate after the stream moved on.
	mustAppend(t, s, domain.AppendRequest{Stream: "pay-1", Expected: domain.Exact(1), Events: events("p1-more", 1)})
	again, err = s.Append(ctx, req)
	if err != nil || !again.Duplicate {
		t.Fatalf("late retry = %+v, %v; want a duplicate", again, err)
	}
	again.Duplicate = false
	if again != first {
		t.Fatalf("late retry result %+v, want the original %+v", again, first)
	}

	// The same id with other content is refused, on any stream.
	for _, other := range []domain.AppendRequest{
		{Stream: "pay-1", RequestID: "req-1", RequestHash: hashOf("content-2"), Events: events("p1", 2)},
		{Stream: "pay-2", RequestID: "req-1", RequestHash: hashOf("content-3"), Events: events("p2", 1)},
	} {
		_, err := s.Append(ctx, other)
		if !errors.Is(err, domain.ErrRequestReused) || domain.CodeOf(err) != domain.CodeRequestReused {
			t.Fatalf("reused id on %q: err = %v, want %s", other.Stream, err, domain.CodeRequestReused)
		}
	}
	if n := len(ReadAll(t, s)); n != 3 {
		t.Fatalf("after refused appends the log has %d events, want 3", n)
	}

	// Without a request id nothing is deduplicated.
	plain := domain.AppendRequest{Stream: "pay-3", Events: events("p3", 1)}
	a := mustAppend(t, s, plain)
	b := mustAppend(t, s, plain)
	if a.FirstRevision != 0 || b.FirstRevision != 1 {
		t.Fatalf("two appends without request id landed at %d and %d, want 0 and 1", a.FirstRevision, b.FirstRevision)
	}
}

func testBatchAllOrNothing(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	pa, pb, pa2 := events("a", 2), events("b", 1), events("a2", 1)
	res, err := s.AppendBatch(ctx, []domain.AppendRequest{
		{Stream: "a", Expected: domain.NoStream(), RequestID: "r-a", RequestHash: hashOf("a"), Events: pa},
		{Stream: "b", Expected: domain.NoStream(), RequestID: "r-b", RequestHash: hashOf("b"), Events: pb},
		// appends to the stream the first item created, checked against it
		{Stream: "a", Expected: domain.Exact(1), RequestID: "r-a2", RequestHash: hashOf("a2"), Events: pa2},
	})
	if err != nil {
		t.Fatalf("AppendBatch: %v", err)
	}
	if len(res) != 3 {
		t.Fatalf("AppendBatch: %d results for 3 items", len(res))
	}
	want := []struct {
		stream      domain.StreamID
		first, last uint64
	}{{"a", 0, 1}, {"b", 0, 0}, {"a", 2, 2}}
	for i, w := range want {
		if res[i].Stream != w.stream || res[i].FirstRevision != w.first || res[i].LastRevision != w.last || res[i].Duplicate {
			t.Fatalf("item %d: %+v, want %s %d..%d", i, res[i], w.stream, w.first, w.last)
		}
	}
	if !res[0].Position.Less(res[1].Position) || !res[1].Position.Less(res[2].Position) {
		t.Fatalf("batch positions not in item order: %s %s %s", res[0].Position, res[1].Position, res[2].Position)
	}
	all := ReadAll(t, s)
	if len(all) != 4 {
		t.Fatalf("after the batch: %d events, want 4", len(all))
	}
	matches(t, all[0], "a", 0, "r-a", pa[0])
	matches(t, all[1], "a", 1, "r-a", pa[1])
	matches(t, all[2], "b", 0, "r-b", pb[0])
	matches(t, all[3], "a", 2, "r-a2", pa2[0])
	if res[2].Position != all[3].Position {
		t.Fatalf("item 2 position %s, want %s", res[2].Position, all[3].Position)
	}
	if i := domain.VerifyChain(domain.Hash{}, readStream(t, s, "a")); i != -1 {
		t.Fatalf("stream a written by one batch does not chain at %d", i)
	}

	failing := []struct {
		name  string
		items []domain.AppendRequest
		index int
		is    error
	}{
		{"conflict in the last item", []domain.AppendRequest{
			{Stream: "c", Expected: domain.NoStream(), RequestID: "r-c", RequestHash: hashOf("c"), Events: events("c", 2)},
			{Stream: "a", Expected: domain.Exact(2), RequestID: "r-a3", RequestHash: hashOf("a3"), Events: events("a3", 1)},
			{Stream: "b", Expected: domain.NoStream(), RequestID: "r-b2", RequestHash: hashOf("b2"), Events: events("b2", 1)},
		}, 2, domain.ErrConcurrency},
		{"reused request id", []domain.AppendRequest{
			{Stream: "d", Events: events("d", 1)},
			{Stream: "e", RequestID: "r-a", RequestHash: hashOf("not a"), Events: events("e", 1)},
		}, 1, domain.ErrRequestReused},
		{"conflict with an earlier item of the batch", []domain.AppendRequest{
			{Stream: "f", Expected: domain.NoStream(), Events: events("f", 1)},
			{Stream: "f", Expected: domain.NoStream(), Events: events("f2", 1)},
		}, 1, domain.ErrConcurrency},
		{"reuse of an id used earlier in the batch", []domain.AppendRequest{
			{Stream: "g", RequestID: "r-g", RequestHash: hashOf("g"), Events: events("g", 1)},
			{Stream: "h", RequestID: "r-g", RequestHash: hashOf("h"), Events: events("h", 1)},
		}, 1, domain.ErrRequestReused},
		{"conflict after many items", append(manyItems("many", 150),
			domain.AppendRequest{Stream: "a", Expected: domain.NoStream(), Events: events("a4", 1)},
		), 150, domain.ErrConcurrency},
		{"conflict in the first item", []domain.AppendRequest{
			{Stream: "b", Expected: domain.NoStream(), Events: events("b3", 1)},
			{Stream: "i", Events: events("i", 1)},
		}, 0, domain.ErrConcurrency},
	}
	for _, f := range failing {
		res, err := s.AppendBatch(ctx, f.items)
		var be *domain.BatchError
		if !errors.As(err, &be) {
			t.Fatalf("%s: err = %v (%T), want *domain.BatchError", f.name, err, err)
		}
		if be.Index != f.index || !errors.Is(err, f.is) {
			t.Fatalf("%s: BatchError{Index: %d, Err: %v}, want index %d matching %v", f.name, be.Index, be.Err, f.index, f.is)
		}
		if len(res) != 0 {
			t.Fatalf("%s: failed batch returned results %+v", f.name, res)
		}
		sameEvents(t, f.name+": log after the failed batch", ReadAll(t, s), all)
	}

	// A large batch lands whole, in item order.
	big := manyItems("big", 300)
	res, err = s.AppendBatch(ctx, big)
	if err != nil || len(res) != len(big) {
		t.Fatalf("AppendBatch of %d items: %d results, %v", len(big), len(res), err)
	}
	after := ReadAll(t, s)
	if len(after) != len(all)+len(big) {
		t.Fatalf("after a batch of %d events the log grew by %d", len(big), len(after)-len(all))
	}
	for i, r := range res {
		e := after[len(all)+i]
		matches(t, e, big[i].Stream, uint64(i/(len(big)/3+1)), big[i].RequestID, big[i].Events[0])
		if r.Position != e.Position || r.Duplicate {
			t.Fatalf("big batch item %d: %+v, its event at %s", i, r, e.Position)
		}
	}
	all = after

	// Nothing of the failed batches consumed a request id or a revision.
	res, err = s.AppendBatch(ctx, []domain.AppendRequest{
		{Stream: "c", Expected: domain.NoStream(), RequestID: "r-c", RequestHash: hashOf("c"), Events: events("c", 2)},
		{Stream: "g", RequestID: "r-g", RequestHash: hashOf("g"), Events: events("g", 1)},
	})
	if err != nil || res[0].Duplicate || res[1].Duplicate || res[0].FirstRevision != 0 || res[1].FirstRevision != 0 {
		t.Fatalf("good items of failed batches, appended again = %+v, %v; want fresh appends at revision 0", res, err)
	}
}

// manyItems makes n one-event requests with request ids over n/3 streams,
// each stream's items in order (Any), enough to cross any internal flush.
func manyItems(tag string, n int) []domain.AppendRequest {
	items := make([]domain.AppendRequest, n)
	for i := range items {
		id := fmt.Sprintf("%s-%d", tag, i)
		items[i] = domain.AppendRequest{
			Stream:    domain.StreamID(fmt.Sprintf("%s-%d", tag, i%(n/3+1))),
			RequestID: id, RequestHash: hashOf(id),
			Events: []domain.ProposedEvent{{Type: "test.many", Version: 1, Time: baseTime.Add(time.Duration(i) * time.Millisecond), Data: fmt.Appendf(nil, `{"i":%d}`, i)}},
		}
	}
	return items
}

func testBatchDuplicates(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	pre := mustAppend(t, s, domain.AppendRequest{Stream: "pre", Expected: domain.NoStream(), RequestID: "req-pre", RequestHash: hashOf("pre"), Events: events("pre", 1)})
	items := []domain.AppendRequest{
		{Stream: "s1", Expected: domain.NoStream(), RequestID: "req-1", RequestHash: hashOf("1"), Events: events("s1", 2)},
		// the same request again inside the batch: its expected revision
		// would fail now, but a duplicate is not checked against it
		{Stream: "s1", Expected: domain.NoStream(), RequestID: "req-1", RequestHash: hashOf("1"), Events: events("s1", 2)},
		// a request applied before the batch
		{Stream: "pre", Expected: domain.NoStream(), RequestID: "req-pre", RequestHash: hashOf("pre"), Events: events("pre", 1)},
		{Stream: "s2", Expected: domain.NoStream(), RequestID: "req-2", RequestHash: hashOf("2"), Events: events("s2", 1)},
	}
	res, err := s.AppendBatch(ctx, items)
	if err != nil {
		t.Fatalf("AppendBatch with duplicates: %v", err)
	}
	if len(res) != len(items) {
		t.Fatalf("%d results for %d items", len(res), len(items))
	}
	if res[0].Duplicate || res[3].Duplicate || !res[1].Duplicate || !res[2].Duplicate {
		t.Fatalf("Duplicate flags %v %v %v %v, want false true true false", res[0].Duplicate, res[1].Duplicate, res[2].Duplicate, res[3].Duplicate)
	}
	if d := res[1]; d.Stream != res[0].Stream || d.FirstRevision != res[0].FirstRevision || d.LastRevision != res[0].LastRevision || d.Position != res[0].Position {
		t.Fatalf("in-batch duplicate %+v, want the first item's result %+v", d, res[0])
	}
	if d := res[2]; d.Stream != pre.Stream || d.FirstRevision != pre.FirstRevision || d.LastRevision != pre.LastRevision || d.Position != pre.Position {
		t.Fatalf("duplicate of an earlier append %+v, want %+v", d, pre)
	}
	all := ReadAll(t, s)
	if len(all) != 4 || len(readStream(t, s, "s1")) != 2 || len(readStream(t, s, "pre")) != 1 {
		t.Fatalf("after the batch: %d events, want 4 (1 before, 2 + 1 new)", len(all))
	}

	// The whole batch again: all duplicates, nothing appended.
	again, err := s.AppendBatch(ctx, items)
	if err != nil {
		t.Fatalf("batch retried: %v", err)
	}
	for i := range again {
		if !again[i].Duplicate || again[i].Position != res[i].Position || again[i].FirstRevision != res[i].FirstRevision {
			t.Fatalf("batch retried, item %d: %+v, want duplicate of %+v", i, again[i], res[i])
		}
	}
	sameEvents(t, "log after a retried batch", ReadAll(t, s), all)
}

func testHashChain(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	mustAppend(t, s, domain.AppendRequest{Stream: "chain", RequestID: "c1", RequestHash: hashOf("c1"), Events: events("c1", 3)})
	mustAppend(t, s, domain.AppendRequest{Stream: "side", Events: events("s1", 2)})
	mustAppend(t, s, domain.AppendRequest{Stream: "chain", Expected: domain.Exact(2), Events: events("c2", 1)})
	if _, err := s.AppendBatch(ctx, []domain.AppendRequest{
		{Stream: "chain", Expected: domain.Exact(3), RequestID: "c3", RequestHash: hashOf("c3"), Events: events("c3", 2)},
		{Stream: "side", Events: events("s2", 1)},
		{Stream: "chain", Expected: domain.Exact(5), Events: events("c4", 2)},
	}); err != nil {
		t.Fatalf("AppendBatch: %v", err)
	}
	for stream, n := range map[domain.StreamID]int{"chain": 8, "side": 3} {
		evs := readStream(t, s, stream)
		if len(evs) != n {
			t.Fatalf("stream %s: %d events, want %d", stream, len(evs), n)
		}
		var prev domain.Hash
		seen := map[domain.Hash]bool{}
		for i, e := range evs {
			if e.PrevHash != prev {
				t.Fatalf("%s@%d: PrevHash %s, want the previous event's hash %s", stream, i, e.PrevHash, prev)
			}
			if want := domain.ChainHash(e.PrevHash, e.Stream, e.Revision, e.Type, e.Version, e.Time.UnixNano(), e.RequestID, e.Data); e.Hash != want {
				t.Fatalf("%s@%d: Hash %s, want ChainHash %s", stream, i, e.Hash, want)
			}
			if e.Hash.IsZero() || seen[e.Hash] {
				t.Fatalf("%s@%d: hash %s is zero or repeated", stream, i, e.Hash)
			}
			seen[e.Hash] = true
			prev = e.Hash
		}
		if i := domain.VerifyChain(domain.Hash{}, evs); i != -1 {
			t.Fatalf("stream %s: VerifyChain fails at %d", stream, i)
		}
		// A tail read verifies from the hash before it.
		tail, err := s.ReadStream(ctx, stream, 2, domain.ReadOptions{})
		if err != nil {
			t.Fatalf("ReadStream %s from 2: %v", stream, err)
		}
		if i := domain.VerifyChain(evs[1].Hash, tail); i != -1 {
			t.Fatalf("stream %s from revision 2: VerifyChain fails at %d", stream, i)
		}
		// And the chain covers the content: altering a stored payload breaks
		// it at that event.
		forged := append([]domain.RecordedEvent(nil), evs...)
		forged[1].Data = append(append([]byte(nil), forged[1].Data...), ' ')
		if i := domain.VerifyChain(domain.Hash{}, forged); i != 1 {
			t.Fatalf("stream %s with event 1 altered: VerifyChain = %d, want 1", stream, i)
		}
	}
}
