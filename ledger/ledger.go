// Package ledger is the application service between commands and the event
// store: it loads a payment's state, lets the domain decide, stamps the
// processing time and appends with the expected revision, so the decision
// stays in the domain and the transaction in the adapter.
//
// Idempotency has two layers. A request id already applied to the payment's
// stream is answered from that stream with the original result; the store's
// request table catches an id reused on another stream (U3002). A retried
// request therefore never appends twice, even after a crash between append
// and answer.
//
// Payment states are cached in memory by stream. The cache is only a
// shortcut: every append carries the expected revision, so a stale entry
// (another process appended) makes the append fail with U3001, the entry is
// dropped, and the command is decided again on fresh state.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"upay/domain"
)

// Result is the answer to one command.
type Result struct {
	Accepted  bool   // events were recorded (now or, for a duplicate, earlier)
	Duplicate bool   // the request id had been applied before: nothing appended now
	Code      string // ok-01 / ng-xx / ok-40 / ok-90 for recorded results, the rejection code otherwise
	Err       error  // the rejection, with its code (nil when accepted)
	Position  domain.Position
	Time      time.Time // processing time recorded
	Events    []domain.Event
}

// Options configure a Ledger.
type Options struct {
	Clock domain.Clock
	// Import takes each command's At as the processing time and rejects a
	// time earlier than the last recorded event (U1010). Without it the
	// clock stamps and At must be zero.
	Import bool
	// MaxCached bounds the state cache (entries); 0 means 1<<20.
	MaxCached int
}

// Ledger handles commands. It is safe for concurrent use; commands on the
// same payment are serialised by the store's expected-revision check.
type Ledger struct {
	store domain.EventStore
	opt   Options

	mu       sync.Mutex
	cache    map[domain.StreamID]*entry
	lastTime time.Time // import mode: the latest processing time recorded
}

// entry is a payment's folded state plus what idempotency needs.
type entry struct {
	p        domain.Payment
	rev      uint64 // last revision; valid when p.Exists
	requests map[string]appliedRequest
}

type appliedRequest struct {
	hash domain.Hash
	res  Result
}

// New makes a Ledger on a store.
func New(ctx context.Context, store domain.EventStore, opt Options) (*Ledger, error) {
	if opt.Clock == nil {
		opt.Clock = domain.SystemClock{}
	}
	if opt.MaxCached == 0 {
		opt.MaxCached = 1 << 20
	}
	l := &Ledger{store: store, opt: opt, cache: map[domain.StreamID]*entry{}}
	last, ok, err := store.Last(ctx)
	if err != nil {
		return nil, err
	}
	if ok {
		l.lastTime = last.Time
	}
	return l, nil
}

// Handle decides and records one command. A rejection is returned in
// Result.Err (nothing appended); the error return is for store failures.
func (l *Ledger) Handle(ctx context.Context, c domain.Command) (Result, error) {
	for attempt := 0; ; attempt++ {
		l.mu.Lock()
		before := l.lastTime
		plan, err := l.plan(ctx, c, nil, false)
		l.mu.Unlock()
		if err != nil {
			return Result{}, err
		}
		if plan.req == nil {
			return plan.res, nil
		}
		ar, err := l.store.Append(ctx, *plan.req)
		if err != nil {
			l.rewind(before)
		}
		if errors.Is(err, domain.ErrConcurrency) && attempt < 8 {
			l.forget(plan.req.Stream)
			continue
		}
		if err != nil {
			l.forget(plan.req.Stream)
			if errors.Is(err, domain.ErrRequestReused) {
				return Result{Code: domain.CodeOf(err), Err: err}, nil
			}
			return Result{}, err
		}
		l.mu.Lock()
		res := l.commit(plan, ar)
		l.mu.Unlock()
		return res, nil
	}
}

// HandleBatch decides commands in order, each seeing the effects of the ones
// before it, and records every accepted one in a single store transaction.
// On a concurrency conflict (another writer) it falls back to Handle one by
// one, which re-decides on fresh state.
func (l *Ledger) HandleBatch(ctx context.Context, cmds []domain.Command) ([]Result, error) {
	results := make([]Result, len(cmds))
	plans := make([]plan, 0, len(cmds))
	reqs := make([]domain.AppendRequest, 0, len(cmds))
	index := make([]int, 0, len(cmds))
	l.mu.Lock()
	before := l.lastTime
	overlay := map[domain.StreamID]*entry{}
	for i, c := range cmds {
		p, err := l.plan(ctx, c, overlay, true)
		if err != nil {
			l.mu.Unlock()
			return nil, err
		}
		results[i] = p.res
		if p.req != nil {
			plans = append(plans, p)
			reqs = append(reqs, *p.req)
			index = append(index, i)
			overlay[p.req.Stream] = p.next
		}
	}
	l.mu.Unlock()
	if len(reqs) == 0 {
		return results, nil
	}
	ars, err := l.store.AppendBatch(ctx, reqs)
	if err != nil {
		l.rewind(before)
		var be *domain.BatchError
		if errors.As(err, &be) && (errors.Is(be.Err, domain.ErrConcurrency) || errors.Is(be.Err, domain.ErrRequestReused)) {
			for _, r := range reqs {
				l.forget(r.Stream)
			}
			for _, i := range index {
				if results[i], err = l.Handle(ctx, cmds[i]); err != nil {
					return nil, err
				}
			}
			return results, nil
		}
		for _, r := range reqs {
			l.forget(r.Stream)
		}
		return nil, err
	}
	l.mu.Lock()
	for k, p := range plans {
		results[index[k]] = l.commit(p, ars[k])
	}
	l.mu.Unlock()
	return results, nil
}

// plan is a decided command: either a final result (rejection, duplicate)
// or an append to make and the state it leads to.
type plan struct {
	res  Result
	req  *domain.AppendRequest
	next *entry
	hash domain.Hash
	rid  string
}

// plan decides c against the cached (or overlaid, within a batch) state.
// Called with l.mu held.
//
// With optimistic set, a command that creates a payment (authorize, e-money
// debit) on a stream the cache does not hold is planned as the stream's
// first append without reading it: bulk ingest creates far more payments
// than it revisits, and NoStream makes the store refuse the append if the
// stream exists after all; the caller then retries without optimism.
func (l *Ledger) plan(ctx context.Context, c domain.Command, overlay map[domain.StreamID]*entry, optimistic bool) (plan, error) {
	meta := c.Meta()
	if meta.RequestID == "" {
		err := domain.Err(domain.CodeMissingField, "request_id is required")
		return plan{res: Result{Code: domain.CodeOf(err), Err: err}}, nil
	}
	stream := c.PaymentID().Stream()
	e, ok := overlay[stream]
	if !ok {
		e, ok = l.cache[stream]
	}
	if !ok && optimistic && createsPayment(c) {
		// A rejection decided on the unread stream may be a retry of an
		// applied request (a re-run import): then decide on the real stream.
		p, err := l.plan(ctx, c, map[domain.StreamID]*entry{stream: {requests: map[string]appliedRequest{}}}, false)
		if err != nil || p.res.Err == nil {
			return p, err
		}
	}
	if !ok {
		var err error
		if e, err = l.load(ctx, stream); err != nil {
			return plan{}, err
		}
	}
	// Idempotency first: a retry is answered with its original result even
	// when its time would no longer be accepted (a re-run import).
	h := RequestHash(c)
	if prev, ok := e.requests[meta.RequestID]; ok {
		if prev.hash != h {
			err := domain.Err(domain.CodeRequestReused, "request %s was applied with other content", meta.RequestID)
			return plan{res: Result{Code: domain.CodeOf(err), Err: err}}, nil
		}
		r := prev.res
		r.Duplicate = true
		return plan{res: r}, nil
	}
	at, err := l.stamp(meta)
	if err != nil {
		return plan{res: Result{Code: domain.CodeOf(err), Err: err}}, nil
	}
	evs, err := e.p.Decide(c, at)
	if err != nil {
		if domain.CodeOf(err) == "" {
			return plan{}, err
		}
		return plan{res: Result{Code: domain.CodeOf(err), Err: err}}, nil
	}
	req := &domain.AppendRequest{Stream: stream, RequestID: meta.RequestID, RequestHash: h}
	if e.p.Exists {
		req.Expected = domain.Exact(e.rev)
	} else {
		req.Expected = domain.NoStream()
	}
	// The next state knows this request too, so a retry later in the same
	// batch is answered as a duplicate; commit fills in the position.
	next := &entry{p: e.p, rev: e.rev, requests: make(map[string]appliedRequest, len(e.requests)+1)}
	for k, v := range e.requests {
		next.requests[k] = v
	}
	for _, ev := range evs {
		data, err := domain.EncodeEvent(ev)
		if err != nil {
			return plan{}, err
		}
		req.Events = append(req.Events, domain.ProposedEvent{Type: ev.EventType(), Version: ev.EventVersion(), Time: at, Data: data})
		next.p.Evolve(ev, at)
	}
	if e.p.Exists {
		next.rev = e.rev + uint64(len(evs))
	} else {
		next.rev = uint64(len(evs)) - 1
	}
	if l.opt.Import && at.After(l.lastTime) {
		l.lastTime = at
	}
	res := Result{Accepted: true, Code: resultCode(evs), Time: at, Events: evs}
	next.requests[meta.RequestID] = appliedRequest{hash: h, res: res}
	return plan{res: res, req: req, next: next, hash: h, rid: meta.RequestID}, nil
}

// commit caches the state an append led to. Called with l.mu held.
func (l *Ledger) commit(p plan, ar domain.AppendResult) Result {
	res := p.res
	res.Position = ar.Position
	res.Duplicate = ar.Duplicate
	if ar.Duplicate {
		// Applied before by another process: the cache cannot know the
		// original events, so reload next time.
		delete(l.cache, p.req.Stream)
		return res
	}
	p.next.requests[p.rid] = appliedRequest{hash: p.hash, res: res}
	l.put(p.req.Stream, p.next)
	return res
}

// stamp chooses the processing time. Called with l.mu held.
func (l *Ledger) stamp(m domain.CommandMeta) (time.Time, error) {
	if !l.opt.Import {
		if !m.At.IsZero() {
			return time.Time{}, domain.Err(domain.CodeInvalidField, "at is only taken in import mode (--import); the ledger's clock stamps live commands")
		}
		return l.opt.Clock.Now().UTC(), nil
	}
	if m.At.IsZero() {
		return time.Time{}, domain.Err(domain.CodeMissingField, "at is required in import mode")
	}
	at := m.At.UTC()
	if at.Before(l.lastTime) {
		return time.Time{}, domain.Err(domain.CodeTimeBackwards, "at %s is earlier than the last recorded %s", at.Format(time.RFC3339Nano), l.lastTime.Format(time.RFC3339Nano))
	}
	return at, nil
}

// load returns the cached state of a stream or folds it from the store.
// Called with l.mu held.
func (l *Ledger) load(ctx context.Context, stream domain.StreamID) (*entry, error) {
	if e, ok := l.cache[stream]; ok {
		return e, nil
	}
	evs, err := l.store.ReadStream(ctx, stream, 0, domain.ReadOptions{})
	if err != nil {
		return nil, err
	}
	e := &entry{requests: map[string]appliedRequest{}}
	var pending []domain.Event
	for i, r := range evs {
		ev, err := domain.DecodeEvent(r.Type, r.Version, r.Data)
		if err != nil {
			return nil, fmt.Errorf("stream %s revision %d: %w", stream, r.Revision, err)
		}
		e.p.Evolve(ev, r.Time)
		e.rev = r.Revision
		pending = append(pending, ev)
		// Events of one request are contiguous; close the group at its end.
		if i == len(evs)-1 || evs[i+1].RequestID != r.RequestID {
			if r.RequestID != "" {
				h, _, err := l.store.RequestHash(ctx, r.RequestID)
				if err != nil {
					return nil, err
				}
				e.requests[r.RequestID] = appliedRequest{hash: h, res: Result{
					Accepted: true, Code: resultCode(pending), Position: r.Position, Time: r.Time, Events: pending}}
			}
			pending = nil
		}
	}
	l.put(stream, e)
	return e, nil
}

func (l *Ledger) put(s domain.StreamID, e *entry) {
	if len(l.cache) >= l.opt.MaxCached {
		// Crude but bounded: drop everything. Ingest touches payments in
		// roughly time order, so a clean slate costs little.
		clear(l.cache)
	}
	l.cache[s] = e
}

// rewind undoes the import clock's advance by a plan whose append failed.
// Import mode assumes one importer at a time (history is loaded in order);
// live mode never reads lastTime.
func (l *Ledger) rewind(before time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lastTime.After(before) {
		l.lastTime = before
	}
}

func (l *Ledger) forget(s domain.StreamID) {
	l.mu.Lock()
	delete(l.cache, s)
	l.mu.Unlock()
}

func createsPayment(c domain.Command) bool {
	switch c.(type) {
	case domain.Authorize, domain.EmoneyDebitCmd:
		return true
	}
	return false
}

// resultCode is the manual's result code an accepted command shows.
func resultCode(evs []domain.Event) string {
	if len(evs) == 0 {
		return ""
	}
	switch e := evs[len(evs)-1].(type) {
	case domain.CardAuthorized:
		return e.Result
	case domain.CardDeclined:
		return e.Result
	case domain.CardVoided:
		return e.Result
	case domain.CardRefunded:
		return e.Result
	}
	return "ok"
}

// RequestHash identifies a command's content for idempotency: the same
// request id with a different hash is a reused id, not a retry. The card
// enters only as its fingerprint.
func RequestHash(c domain.Command) domain.Hash {
	// encoding/json is deterministic for structs (field order) and follows
	// pointers; At is UTC already, so one instant encodes one way.
	data, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("ledger: command %T does not encode: %v", c, err))
	}
	return sha256.Sum256(append([]byte(c.Name()+"|"), data...))
}
