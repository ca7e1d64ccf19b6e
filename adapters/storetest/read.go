package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"upay/domain"
)

func testEmptyStore(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	all, err := s.ReadAll(ctx, domain.Start, domain.ReadOptions{})
	if err != nil || len(all) != 0 {
		t.Fatalf("ReadAll of an empty store = %d events, %v; want none, nil", len(all), err)
	}
	evs, err := s.ReadStream(ctx, "nothing-here", 0, domain.ReadOptions{})
	if err != nil || len(evs) != 0 {
		t.Fatalf("ReadStream of an unknown stream = %d events, %v; want none, nil", len(evs), err)
	}
	if _, ok, err := s.Last(ctx); err != nil || ok {
		t.Fatalf("Last of an empty store: ok=%v err=%v; want false, nil", ok, err)
	}
}

func testAppendAndRead(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	pa := events("a", 3)
	pa[1].Data = nil // an empty payload is legal and reads back empty
	r1 := mustAppend(t, s, domain.AppendRequest{Stream: "a", Expected: domain.NoStream(), RequestID: "req-a1", RequestHash: hashOf("a1"), Events: pa})
	if r1.FirstRevision != 0 || r1.LastRevision != 2 {
		t.Fatalf("first append: revisions %d..%d, want 0..2", r1.FirstRevision, r1.LastRevision)
	}
	pb := events("b", 2)
	r2 := mustAppend(t, s, domain.AppendRequest{Stream: "b", Events: pb})
	pa2 := events("a2", 1)
	r3 := mustAppend(t, s, domain.AppendRequest{Stream: "a", Expected: domain.Exact(2), RequestID: "req-a2", RequestHash: hashOf("a2"), Events: pa2})
	if r3.FirstRevision != 3 || r3.LastRevision != 3 {
		t.Fatalf("third append: revisions %d..%d, want 3..3", r3.FirstRevision, r3.LastRevision)
	}

	all := ReadAll(t, s)
	if len(all) != 6 {
		t.Fatalf("ReadAll: %d events, want 6", len(all))
	}
	matches(t, all[0], "a", 0, "req-a1", pa[0])
	matches(t, all[1], "a", 1, "req-a1", pa[1])
	matches(t, all[2], "a", 2, "req-a1", pa[2])
	matches(t, all[3], "b", 0, "", pb[0])
	matches(t, all[4], "b", 1, "", pb[1])
	matches(t, all[5], "a", 3, "req-a2", pa2[0])
	for i, r := range []domain.AppendResult{r1, r2, r3} {
		if want := all[[]int{2, 4, 5}[i]].Position; r.Position != want {
			t.Fatalf("append %d: result position %s, want %s (its last event's)", i+1, r.Position, want)
		}
	}
	for _, e := range all {
		p, err := domain.ParsePosition(e.Position.String())
		if err != nil || p != e.Position {
			t.Fatalf("position %#v does not round-trip its token %q: %#v, %v", e.Position, e.Position.String(), p, err)
		}
	}

	sameEvents(t, "ReadStream a", readStream(t, s, "a"), []domain.RecordedEvent{all[0], all[1], all[2], all[5]})
	sameEvents(t, "ReadStream b", readStream(t, s, "b"), all[3:5])
	evs, err := s.ReadStream(ctx, "c", 0, domain.ReadOptions{})
	if err != nil || len(evs) != 0 {
		t.Fatalf("ReadStream of an unknown stream = %d events, %v", len(evs), err)
	}
}

func testReadStreamFromAndMax(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	mustAppend(t, s, domain.AppendRequest{Stream: "s", Events: events("s1", 4)})
	mustAppend(t, s, domain.AppendRequest{Stream: "other", Events: events("o", 2)})
	mustAppend(t, s, domain.AppendRequest{Stream: "s", Events: events("s2", 3)})
	mustAppend(t, s, domain.AppendRequest{Stream: "s", Events: events("s3", 3)})
	full := readStream(t, s, "s")
	if len(full) != 10 {
		t.Fatalf("stream s: %d events, want 10", len(full))
	}
	cases := []struct {
		from uint64
		max  int
		want []domain.RecordedEvent
	}{
		{0, 0, full},
		{3, 0, full[3:]},
		{3, 2, full[3:5]},
		{0, 1, full[:1]},
		{9, 0, full[9:]},
		{9, 5, full[9:]},
		{0, 100, full},
		{10, 0, nil},
		{1000, 1, nil},
	}
	for _, c := range cases {
		got, err := s.ReadStream(ctx, "s", c.from, domain.ReadOptions{Max: c.max})
		if err != nil {
			t.Fatalf("ReadStream(s, from %d, max %d): %v", c.from, c.max, err)
		}
		sameEvents(t, fmt.Sprintf("ReadStream(s, from %d, max %d)", c.from, c.max), got, c.want)
	}
}

func testReadAllFromAndMax(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	for i, st := range []domain.StreamID{"x", "y", "z", "x", "y"} {
		mustAppend(t, s, domain.AppendRequest{Stream: st, Events: events(fmt.Sprint(i), 2)})
	}
	full := ReadAll(t, s)
	if len(full) != 10 {
		t.Fatalf("ReadAll: %d events, want 10", len(full))
	}
	cases := []struct {
		name string
		from domain.Position
		max  int
		want []domain.RecordedEvent
	}{
		{"from start, max 4", domain.Start, 4, full[:4]},
		{"after the 4th", full[3].Position, 0, full[4:]},
		{"after the 4th, max 2", full[3].Position, 2, full[4:6]},
		{"after the 1st, max 100", full[0].Position, 100, full[1:]},
		{"after the last", full[9].Position, 0, nil},
		{"after the last, max 1", full[9].Position, 1, nil},
	}
	for _, c := range cases {
		got, err := s.ReadAll(ctx, c.from, domain.ReadOptions{Max: c.max})
		if err != nil {
			t.Fatalf("ReadAll %s: %v", c.name, err)
		}
		sameEvents(t, "ReadAll "+c.name, got, c.want)
		// A lean read is the same events; the store may leave out what
		// Lean lets it (request ids and hashes), and nothing else.
		lean, err := s.ReadAll(ctx, c.from, domain.ReadOptions{Max: c.max, Lean: true})
		if err != nil {
			t.Fatalf("lean ReadAll %s: %v", c.name, err)
		}
		sameEvents(t, "lean ReadAll "+c.name, withoutChain(lean), withoutChain(c.want))
	}
	// Paging with the last position read rebuilds the log exactly.
	var paged []domain.RecordedEvent
	from := domain.Start
	for pages := 0; ; pages++ {
		if pages > len(full) {
			t.Fatalf("paging did not end after %d pages", pages)
		}
		page, err := s.ReadAll(ctx, from, domain.ReadOptions{Max: 3})
		if err != nil {
			t.Fatalf("ReadAll page %d: %v", pages, err)
		}
		if len(page) > 3 {
			t.Fatalf("ReadAll page %d: %d events with Max 3", pages, len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		from = page[len(page)-1].Position
	}
	sameEvents(t, "ReadAll paged by 3", paged, full)
}

func testTimePrecision(t *testing.T, s domain.EventStore) {
	times := []time.Time{
		baseTime, // JST, nanoseconds
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(2030, 1, 1, 0, 0, 0, 1, time.FixedZone("minus", -5*60*60-30*60)),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC), // before the epoch
		time.Now(), // with a monotonic reading and the local zone
	}
	var proposed []domain.ProposedEvent
	for i, tm := range times {
		proposed = append(proposed, domain.ProposedEvent{Type: "test.time", Version: 1, Time: tm, Data: fmt.Appendf(nil, `{"i":%d}`, i)})
	}
	mustAppend(t, s, domain.AppendRequest{Stream: "times", Events: proposed})
	check := func(what string, evs []domain.RecordedEvent) {
		t.Helper()
		if len(evs) != len(times) {
			t.Fatalf("%s: %d events, want %d", what, len(evs), len(times))
		}
		for i, e := range evs {
			want := times[i]
			if !e.Time.Equal(want) || e.Time.UnixNano() != want.UnixNano() {
				t.Fatalf("%s: event %d time %s, want %s", what, i, e.Time.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
			}
			if e.Time.Location() != time.UTC {
				t.Fatalf("%s: event %d time in %s, want UTC", what, i, e.Time.Location())
			}
			if e.Time.Nanosecond() != want.UTC().Nanosecond() {
				t.Fatalf("%s: event %d lost sub-second precision: %d ns, want %d", what, i, e.Time.Nanosecond(), want.UTC().Nanosecond())
			}
		}
		if i := domain.VerifyChain(domain.Hash{}, evs); i != -1 {
			t.Fatalf("%s: chain over the read-back times fails at %d", what, i)
		}
	}
	check("ReadStream", readStream(t, s, "times"))
	check("ReadAll", ReadAll(t, s))
	last, ok, err := s.Last(t.Context())
	if err != nil || !ok || !last.Time.Equal(times[len(times)-1]) || last.Time.Location() != time.UTC {
		t.Fatalf("Last: time %s ok=%v err=%v, want %s in UTC", last.Time, ok, err, times[len(times)-1])
	}
}

func testLast(t *testing.T, s domain.EventStore) {
	ctx := t.Context()
	if _, ok, err := s.Last(ctx); ok || err != nil {
		t.Fatalf("Last on an empty store: ok=%v err=%v", ok, err)
	}
	mustAppend(t, s, domain.AppendRequest{Stream: "a", Events: events("a", 2)})
	r := mustAppend(t, s, domain.AppendRequest{Stream: "b", Events: events("b", 1)})
	last, ok, err := s.Last(ctx)
	if err != nil || !ok {
		t.Fatalf("Last: ok=%v err=%v", ok, err)
	}
	all := ReadAll(t, s)
	sameEvent(t, "Last after two appends", last, all[len(all)-1])
	if last.Position != r.Position {
		t.Fatalf("Last at %s, the last append ended at %s", last.Position, r.Position)
	}
	res, err := s.AppendBatch(ctx, []domain.AppendRequest{
		{Stream: "b", Events: events("b2", 1)},
		{Stream: "a", Events: events("a2", 3)},
	})
	if err != nil {
		t.Fatalf("AppendBatch: %v", err)
	}
	last, ok, err = s.Last(ctx)
	if err != nil || !ok || last.Stream != "a" || last.Revision != 4 || last.Position != res[1].Position {
		t.Fatalf("Last after a batch = %s ok=%v err=%v, want a@4 at %s", describe(last), ok, err, res[1].Position)
	}
	all = ReadAll(t, s)
	sameEvent(t, "Last after a batch", last, all[len(all)-1])
}

// eventCounter is projections.EventCounter, which stores may implement to
// count a lag in one query (named here to keep the suite free of the
// projections package).
type eventCounter interface {
	CountAfter(ctx context.Context, after domain.Position) (int64, error)
}

// testCountAfter: a store that counts events after a position agrees with
// ReadAll at every position, the start and the end included, also after a
// refused append (which must not leave a hole counted as an event).
func testCountAfter(t *testing.T, s domain.EventStore) {
	c, ok := s.(eventCounter)
	if !ok {
		t.Skip("this store does not implement CountAfter; projections.Lag counts by reading")
	}
	ctx := t.Context()
	if n, err := c.CountAfter(ctx, domain.Start); n != 0 || err != nil {
		t.Fatalf("CountAfter(Start) on an empty store = %d, %v", n, err)
	}
	mustAppend(t, s, domain.AppendRequest{Stream: "a", Events: events("a", 3)})
	if _, err := s.Append(ctx, domain.AppendRequest{Stream: "a", Expected: domain.NoStream(), Events: events("x", 2)}); err == nil {
		t.Fatal("a NoStream append to an existing stream succeeded")
	}
	mustAppend(t, s, domain.AppendRequest{Stream: "b", Events: events("b", 2)})
	all := ReadAll(t, s)
	check := func(after domain.Position, want int) {
		t.Helper()
		if n, err := c.CountAfter(ctx, after); err != nil || n != int64(want) {
			t.Errorf("CountAfter(%s) = %d, %v; want %d", after, n, err, want)
		}
	}
	check(domain.Start, len(all))
	for i, e := range all {
		check(e.Position, len(all)-i-1)
	}
}

// withoutChain returns copies of evs without what a ReadOptions.Lean read
// may leave out: request ids and hashes.
func withoutChain(evs []domain.RecordedEvent) []domain.RecordedEvent {
	out := make([]domain.RecordedEvent, len(evs))
	for i, e := range evs {
		e.RequestID, e.PrevHash, e.Hash = "", domain.Hash{}, domain.Hash{}
		out[i] = e
	}
	return out
}
