package domain

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"
)

// StreamHead is a stream's last revision and the hash of its last event,
// as a store read it; Exists is false for an empty stream.
type StreamHead struct {
	Rev    uint64
	Hash   Hash
	Exists bool
}

// AppliedRequest is a request id already applied (before the batch or
// earlier in it): its content hash and its result.
type AppliedRequest struct {
	Hash   Hash
	Result AppendResult
}

// NewEvent is one event an append batch inserts, with everything the
// store computes: its revision, time in Unix nanoseconds, position and
// place in the stream's hash chain.
type NewEvent struct {
	Stream    StreamID
	Revision  uint64
	Position  Position
	Type      string
	Version   int
	TimeNs    int64
	RequestID string
	Data      []byte // never nil
	PrevHash  Hash
	Hash      Hash
}

// AppendPlan decides an append batch the way every store must: the rules
// of the EventStore port in one place, so that the stores differ only in
// how they read heads and write rows. A store fills Heads and Applied for
// the batch's streams and request ids (inside its write transaction),
// then calls Plan; Plan updates both as the batch proceeds, so an item
// sees the items before it.
type AppendPlan struct {
	Heads   map[StreamID]StreamHead
	Applied map[string]AppliedRequest
	// Next returns the position of the next new event.
	Next func() Position
	// Event receives each new event, in order.
	Event func(NewEvent) error
	// Request receives each newly applied request id and its result.
	Request func(id string, hash Hash, res AppendResult) error
}

// Plan decides reqs in order. Per item: a request id applied with the same
// hash is a duplicate (its original result, Duplicate set, nothing new);
// with another hash it is U3002; otherwise the expected revision must hold
// against the head (U3001 naming expected and actual), and the events get
// consecutive revisions, positions and chained hashes. A refused item is a
// *BatchError naming its index; the caller appends nothing then.
func (p *AppendPlan) Plan(reqs []AppendRequest) ([]AppendResult, error) {
	results := make([]AppendResult, len(reqs))
	for i := range reqs {
		req := &reqs[i]
		if req.RequestID != "" {
			if a, ok := p.Applied[req.RequestID]; ok {
				if a.Hash != req.RequestHash {
					return nil, &BatchError{Index: i, Err: Err(CodeRequestReused,
						"request id %q was applied to %q with other content (hash %s, now %s)", req.RequestID, a.Result.Stream, a.Hash, req.RequestHash)}
				}
				r := a.Result
				r.Duplicate = true
				results[i] = r
				continue
			}
		}
		h := p.Heads[req.Stream]
		if !req.Expected.Check(h.Rev, h.Exists) {
			actual := "no stream"
			if h.Exists {
				actual = "revision " + strconv.FormatUint(h.Rev, 10)
			}
			return nil, &BatchError{Index: i, Err: Err(CodeConcurrency,
				"stream %q: expected %s, actual %s", req.Stream, req.Expected, actual)}
		}
		var rev uint64
		if h.Exists {
			rev = h.Rev + 1
		}
		first, prev := rev, h.Hash
		var pos Position
		for j := range req.Events {
			e := &req.Events[j]
			pos = p.Next()
			tns := e.Time.UnixNano()
			hash := ChainHash(prev, req.Stream, rev, e.Type, e.Version, tns, req.RequestID, e.Data)
			data := e.Data
			if data == nil {
				data = []byte{}
			}
			if err := p.Event(NewEvent{Stream: req.Stream, Revision: rev, Position: pos, Type: e.Type, Version: e.Version,
				TimeNs: tns, RequestID: req.RequestID, Data: data, PrevHash: prev, Hash: hash}); err != nil {
				return nil, err
			}
			prev = hash
			rev++
		}
		last := rev - 1
		p.Heads[req.Stream] = StreamHead{Rev: last, Hash: prev, Exists: true}
		res := AppendResult{Stream: req.Stream, FirstRevision: first, LastRevision: last, Position: pos}
		results[i] = res
		if req.RequestID != "" {
			p.Applied[req.RequestID] = AppliedRequest{Hash: req.RequestHash, Result: res}
			if err := p.Request(req.RequestID, req.RequestHash, res); err != nil {
				return nil, err
			}
		}
	}
	return results, nil
}

// The times a store can keep: Unix nanoseconds in an int64.
var (
	minEventTime = time.Unix(0, math.MinInt64)
	maxEventTime = time.Unix(0, math.MaxInt64)
)

// Validate refuses a request no store may append: no stream (U1003), no
// events (U1003), or an event time a store cannot keep in Unix
// nanoseconds (U1009).
func (r *AppendRequest) Validate() error {
	if r.Stream == "" {
		return Err(CodeMissingField, "append: stream is empty")
	}
	if len(r.Events) == 0 {
		return Err(CodeMissingField, "append to %q: no events", r.Stream)
	}
	for i, e := range r.Events {
		if e.Time.Before(minEventTime) || e.Time.After(maxEventTime) {
			return Err(CodeInvalidField, "append to %q: event %d time %s is zero or out of range", r.Stream, i, e.Time)
		}
	}
	return nil
}

// ValidateBatch validates every request of a batch (Validate); the first
// failure is a *BatchError naming its index.
func ValidateBatch(reqs []AppendRequest) error {
	for i := range reqs {
		if err := reqs[i].Validate(); err != nil {
			return &BatchError{Index: i, Err: err}
		}
	}
	return nil
}

// BatchKeys lists the distinct streams and request ids of a batch, in
// first-seen order: what a store reads heads and applied requests for.
func BatchKeys(reqs []AppendRequest) (streams []string, ids []string) {
	streams = make([]string, 0, len(reqs))
	ids = make([]string, 0, len(reqs))
	seenStream := make(map[StreamID]struct{}, len(reqs))
	seenID := make(map[string]struct{}, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		if _, ok := seenStream[r.Stream]; !ok {
			seenStream[r.Stream] = struct{}{}
			streams = append(streams, string(r.Stream))
		}
		if r.RequestID != "" {
			if _, ok := seenID[r.RequestID]; !ok {
				seenID[r.RequestID] = struct{}{}
				ids = append(ids, r.RequestID)
			}
		}
	}
	return streams, ids
}

// AppendOne is Append through AppendBatch, as the SQL stores implement it:
// one item, and its *BatchError unwrapped to the item's own error.
func AppendOne(ctx context.Context, batch func(context.Context, []AppendRequest) ([]AppendResult, error), req AppendRequest) (AppendResult, error) {
	res, err := batch(ctx, []AppendRequest{req})
	if err != nil {
		var be *BatchError
		if errors.As(err, &be) {
			return AppendResult{}, be.Err
		}
		return AppendResult{}, err
	}
	return res[0], nil
}
