package domain

import (
	"errors"
	"testing"
	"time"
)

func planEvents(tag string, n int) []ProposedEvent {
	out := make([]ProposedEvent, n)
	for i := range out {
		out[i] = ProposedEvent{Type: "t." + tag, Version: 1, Time: time.Unix(1_700_000_000, int64(i)), Data: []byte(tag)}
	}
	return out
}

// planner records what a store would insert, numbering positions 1, 2, ...
type planner struct {
	AppendPlan
	events   []NewEvent
	requests []string
}

func newPlanner(heads map[StreamID]StreamHead, applied map[string]AppliedRequest) *planner {
	p := &planner{}
	var n uint64
	p.AppendPlan = AppendPlan{
		Heads: heads, Applied: applied,
		Next:    func() Position { n++; return Position{Commit: n, Prepare: n} },
		Event:   func(e NewEvent) error { p.events = append(p.events, e); return nil },
		Request: func(id string, _ Hash, _ AppendResult) error { p.requests = append(p.requests, id); return nil },
	}
	return p
}

func TestAppendPlanChainsAcrossItemsAndHeads(t *testing.T) {
	var h0 Hash
	h0[0] = 7
	p := newPlanner(map[StreamID]StreamHead{"a": {Rev: 4, Hash: h0, Exists: true}}, map[string]AppliedRequest{})
	res, err := p.Plan([]AppendRequest{
		{Stream: "a", Expected: Exact(4), RequestID: "r1", RequestHash: Hash{1}, Events: planEvents("x", 2)},
		{Stream: "b", Expected: NoStream(), RequestID: "r2", RequestHash: Hash{2}, Events: planEvents("y", 1)},
		{Stream: "a", Expected: Exact(6), Events: planEvents("z", 1)},
		{Stream: "a", RequestID: "r1", RequestHash: Hash{1}, Events: planEvents("x", 2)}, // retry inside the batch
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []AppendResult{
		{Stream: "a", FirstRevision: 5, LastRevision: 6, Position: Position{2, 2}},
		{Stream: "b", FirstRevision: 0, LastRevision: 0, Position: Position{3, 3}},
		{Stream: "a", FirstRevision: 7, LastRevision: 7, Position: Position{4, 4}},
		{Stream: "a", FirstRevision: 5, LastRevision: 6, Position: Position{2, 2}, Duplicate: true},
	}
	for i := range want {
		if res[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, res[i], want[i])
		}
	}
	if len(p.events) != 4 || len(p.requests) != 2 {
		t.Fatalf("%d events, requests %v; want 4 events, [r1 r2]", len(p.events), p.requests)
	}
	// Each event chains to the one before it in its stream, the first to the head.
	prev := map[StreamID]Hash{"a": h0}
	for _, e := range p.events {
		if e.PrevHash != prev[e.Stream] {
			t.Errorf("%s@%d: prev hash does not chain", e.Stream, e.Revision)
		}
		if e.Hash != ChainHash(e.PrevHash, e.Stream, e.Revision, e.Type, e.Version, e.TimeNs, e.RequestID, e.Data) {
			t.Errorf("%s@%d: hash is not ChainHash of the event", e.Stream, e.Revision)
		}
		prev[e.Stream] = e.Hash
	}
	if h := p.Heads["a"]; h.Rev != 7 || h.Hash != prev["a"] || !h.Exists {
		t.Errorf("head of a after the batch = %+v", h)
	}
}

func TestAppendPlanRefusals(t *testing.T) {
	applied := func() map[string]AppliedRequest {
		return map[string]AppliedRequest{"old": {Hash: Hash{9}, Result: AppendResult{Stream: "a"}}}
	}
	heads := func() map[StreamID]StreamHead { return map[StreamID]StreamHead{"a": {Rev: 0, Exists: true}} }
	for _, tc := range []struct {
		name  string
		reqs  []AppendRequest
		index int
		code  string
	}{
		{"request id reused", []AppendRequest{{Stream: "b", Events: planEvents("x", 1)}, {Stream: "a", RequestID: "old", RequestHash: Hash{8}, Events: planEvents("x", 1)}}, 1, CodeRequestReused},
		{"no stream expected", []AppendRequest{{Stream: "a", Expected: NoStream(), Events: planEvents("x", 1)}}, 0, CodeConcurrency},
		{"exact behind", []AppendRequest{{Stream: "a", Events: planEvents("x", 1)}, {Stream: "a", Expected: Exact(0), Events: planEvents("y", 1)}}, 1, CodeConcurrency},
		{"stream exists", []AppendRequest{{Stream: "c", Expected: StreamExists(), Events: planEvents("x", 1)}}, 0, CodeConcurrency},
	} {
		p := newPlanner(heads(), applied())
		_, err := p.Plan(tc.reqs)
		var be *BatchError
		if !errors.As(err, &be) || be.Index != tc.index || CodeOf(be.Err) != tc.code {
			t.Errorf("%s: %v, want item %d refused with %s", tc.name, err, tc.index, tc.code)
		}
	}
	// A duplicate with the same hash is not a refusal.
	p := newPlanner(heads(), applied())
	res, err := p.Plan([]AppendRequest{{Stream: "a", RequestID: "old", RequestHash: Hash{9}, Events: planEvents("x", 1)}})
	if err != nil || !res[0].Duplicate || len(p.events) != 0 {
		t.Errorf("duplicate: %+v %v, %d events", res, err, len(p.events))
	}
}

func TestValidateAndBatchKeys(t *testing.T) {
	for _, tc := range []struct {
		req  AppendRequest
		code string
	}{
		{AppendRequest{Events: planEvents("x", 1)}, CodeMissingField},
		{AppendRequest{Stream: "a"}, CodeMissingField},
		{AppendRequest{Stream: "a", Events: []ProposedEvent{{Type: "t"}}}, CodeInvalidField}, // zero time
		{AppendRequest{Stream: "a", Events: planEvents("x", 1)}, ""},
	} {
		if got := CodeOf(tc.req.Validate()); got != tc.code {
			t.Errorf("Validate(%+v) = %q, want %q", tc.req, got, tc.code)
		}
	}
	streams, ids := BatchKeys([]AppendRequest{{Stream: "b", RequestID: "2"}, {Stream: "a"}, {Stream: "b", RequestID: "1"}, {Stream: "a", RequestID: "2"}})
	if len(streams) != 2 || streams[0] != "b" || streams[1] != "a" || len(ids) != 2 || ids[0] != "2" || ids[1] != "1" {
		t.Errorf("BatchKeys = %v %v", streams, ids)
	}
}
