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
//
// Bulk ingest overlaps deciding one batch with recording the previous one
// (Decide on top of a Pending batch, then Record): a speculative batch is
// recorded as decided only if the one it rests on was recorded exactly as
// decided, and is decided again otherwise.
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
	cache    map[domain.StreamID]*entry // recorded states only
	lastTime time.Time                  // import mode: the latest processing time recorded
}

// entry is a payment's folded state plus what idempotency needs.
type entry struct {
	p        domain.Payment
	rev      uint64 // last revision; valid when p.Exists
	requests map[string]appliedRequest
}

type appliedRequest struct {
	hash domain.Hash
	res  *Result // shared by the entries that follow; commit sets the position
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
	// A store whose log may show a confirmed event late (PostgreSQL: an
	// older transaction still open) settles first, so that the import
	// clock starts from the last event really recorded.
	if s, ok := store.(interface{ Settle(context.Context) error }); ok {
		if err := s.Settle(ctx); err != nil {
			return nil, err
		}
	}
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
		plan, err := l.plan(ctx, c, &view{}, false)
		l.mu.Unlock()
		if err != nil {
			return Result{}, err
		}
		if plan.req == nil {
			return plan.res, nil
		}
		ar, err := l.store.Append(ctx, *plan.req)
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
		l.advance(res.Time)
		l.mu.Unlock()
		return res, nil
	}
}

// HandleBatch decides commands in order, each seeing the effects of the ones
// before it, and records every accepted one in a single store transaction.
// On a concurrency conflict (another writer) it falls back to Handle one by
// one, which re-decides on fresh state. It is Decide then Record.
func (l *Ledger) HandleBatch(ctx context.Context, cmds []domain.Command) ([]Result, error) {
	p, err := l.Decide(ctx, cmds, nil)
	if err != nil {
		return nil, err
	}
	results, _, err := l.Record(ctx, p)
	return results, err
}

// Pending is a batch decided by Decide and not yet recorded.
type Pending struct {
	cmds    []domain.Command
	results []Result // final for rejections; accepted ones get their position in Record
	plans   []plan   // the commands with an append, in order
	reqs    []domain.AppendRequest
	index   []int    // plans[k] decides cmds[index[k]]
	dups    []dupRef // duplicates, whose original may still be in flight
	overlay map[domain.StreamID]*entry
	base    time.Time // import clock the batch was decided from
	last    time.Time // import clock once the batch is recorded as decided

	// Guarded by l.mu.
	after *Pending // the batch decided on, until Record has checked it
	state pendingState
}

type pendingState uint8

const (
	pendingDecided pendingState = iota
	pendingRecording
	pendingClean // recorded exactly as decided
	pendingDirty // recorded otherwise (fallback, re-decided, duplicate in the store) or failed
)

// dupRef is a duplicate answered from an applied request whose result Record
// copies again: the original may have been in flight, without its position.
type dupRef struct {
	i   int
	src *Result
}

// Decide decides a batch of commands in order, each seeing the effects of
// the ones before it, without recording anything; Record records it.
//
// after, when not nil, is the batch decided before this one, which may still
// be being recorded: the commands are then decided speculatively, on top of
// after's decisions, so that deciding one batch overlaps recording the
// previous one. Every batch before after must be recorded already. Record
// checks the speculation and decides again if after was not recorded
// exactly as decided.
func (l *Ledger) Decide(ctx context.Context, cmds []domain.Command, after *Pending) (*Pending, error) {
	p := &Pending{cmds: cmds, results: make([]Result, len(cmds)), overlay: map[domain.StreamID]*entry{}}
	v := view{overlay: p.overlay}
	l.mu.Lock()
	v.last = l.lastTime
	if after != nil && after.state < pendingClean {
		// Lookups stop at after's overlay: what came before it must be in
		// the cache (or the store) already.
		if a := after.after; a != nil && a.state < pendingClean {
			l.mu.Unlock()
			return nil, errors.New("ledger: Decide on a batch whose predecessor is not recorded")
		}
		p.after, v.under = after, after.overlay
		if after.last.After(v.last) {
			v.last = after.last
		}
	}
	p.base = v.last
	l.mu.Unlock()
	for i, c := range cmds {
		// The lock is taken per command so that Record's commit of the
		// batch in flight need not wait for the whole batch.
		l.mu.Lock()
		pl, err := l.plan(ctx, c, &v, true)
		l.mu.Unlock()
		if err != nil {
			return nil, err
		}
		p.results[i] = pl.res
		if pl.dup != nil {
			p.dups = append(p.dups, dupRef{i: i, src: pl.dup})
		}
		if pl.req != nil {
			p.plans = append(p.plans, pl)
			p.reqs = append(p.reqs, *pl.req)
			p.index = append(p.index, i)
			p.overlay[pl.req.Stream] = pl.next
			if l.opt.Import && pl.res.Time.After(v.last) {
				v.last = pl.res.Time
			}
		}
	}
	p.last = v.last
	return p, nil
}

// Record records a batch decided by Decide in one store transaction and
// returns a result per command. clean reports whether the batch was
// recorded exactly as decided, so that a batch decided on top of it holds.
//
// A batch decided on top of another (speculation) is decided again first,
// on the recorded state, unless that other batch was recorded clean and no
// one else recorded a later import time since: so every result is the one
// a batch decided after its predecessor was recorded would give. Record
// batches one at a time, in the order they were decided.
//
// On a concurrency conflict (another writer) or a reused request id every
// command is handled again one by one on fresh state (clean is false).
func (l *Ledger) Record(ctx context.Context, p *Pending) (results []Result, clean bool, err error) {
	l.mu.Lock()
	if p.state != pendingDecided {
		l.mu.Unlock()
		return nil, false, errors.New("ledger: batch recorded twice")
	}
	p.state = pendingRecording
	stale := false
	if a := p.after; a != nil {
		stale = a.state != pendingClean || (l.opt.Import && l.lastTime.After(p.base))
		p.after = nil // the chain of batches must not be kept alive
	}
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		p.state = pendingDirty
		if clean && err == nil {
			p.state = pendingClean
		}
		l.mu.Unlock()
	}()
	if stale {
		q, err := l.Decide(ctx, p.cmds, nil)
		if err != nil {
			return nil, false, err
		}
		results, _, err := l.Record(ctx, q)
		return results, false, err
	}
	return l.record(ctx, p)
}

// record appends a batch decided on the recorded state.
func (l *Ledger) record(ctx context.Context, p *Pending) ([]Result, bool, error) {
	results, clean := p.results, true
	if len(p.reqs) > 0 {
		ars, err := l.store.AppendBatch(ctx, p.reqs)
		if err != nil {
			for _, r := range p.reqs {
				l.forget(r.Stream)
			}
			// A refused item (BatchError) or a batch that kept losing races
			// to other writers (a plain U3001) is decided again, one by one,
			// on fresh state; anything else is a store failure.
			var be *domain.BatchError
			refused := errors.As(err, &be) && (errors.Is(be.Err, domain.ErrConcurrency) || errors.Is(be.Err, domain.ErrRequestReused))
			if !refused && !errors.Is(err, domain.ErrConcurrency) {
				return nil, false, err
			}
			// Any result may rest on the batch's discarded plans (a
			// rejection or a duplicate decided on its overlay), so every
			// command is decided again.
			results = make([]Result, len(p.cmds))
			for i, c := range p.cmds {
				if results[i], err = l.Handle(ctx, c); err != nil {
					return nil, false, err
				}
			}
			return results, false, nil
		}
		l.mu.Lock()
		for k, pl := range p.plans {
			results[p.index[k]] = l.commit(pl, ars[k])
			// Applied before by another process: not the state decided on.
			clean = clean && !ars[k].Duplicate
		}
		l.advance(p.last)
	} else {
		l.mu.Lock()
	}
	for _, d := range p.dups {
		r := *d.src
		r.Duplicate = true
		results[d.i] = r
	}
	l.mu.Unlock()
	return results, clean, nil
}

// plan is a decided command: either a final result (rejection, duplicate)
// or an append to make and the state it leads to.
type plan struct {
	res     Result
	req     *domain.AppendRequest
	next    *entry
	applied *Result // the request's entry in next; commit completes it
	dup     *Result // for a duplicate: the original's result
}

// view is what a command is decided on besides the cache: the batch's own
// effects so far and, when speculating, those of the batch in flight, and
// the import clock they lead to.
type view struct {
	overlay map[domain.StreamID]*entry
	under   map[domain.StreamID]*entry
	last    time.Time
}

// plan decides c against the cached (or overlaid, within a batch) state.
// Called with l.mu held.
//
// With optimistic set, a command that creates a payment (authorize, e-money
// debit) on a stream the cache does not hold is planned as the stream's
// first append without reading it: bulk ingest creates far more payments
// than it revisits, and NoStream makes the store refuse the append if the
// stream exists after all; the caller then retries without optimism.
func (l *Ledger) plan(ctx context.Context, c domain.Command, v *view, optimistic bool) (plan, error) {
	meta := c.Meta()
	if meta.RequestID == "" {
		err := domain.Err(domain.CodeMissingField, "request_id is required")
		return plan{res: Result{Code: domain.CodeOf(err), Err: err}}, nil
	}
	stream := c.PaymentID().Stream()
	e, ok := v.overlay[stream]
	if !ok {
		e, ok = v.under[stream]
	}
	if !ok {
		e, ok = l.cache[stream]
	}
	if !ok && optimistic && createsPayment(c) {
		// A rejection decided on the unread stream may be a retry of an
		// applied request (a re-run import): then decide on the real stream.
		fresh := &view{overlay: map[domain.StreamID]*entry{stream: {requests: map[string]appliedRequest{}}}, last: v.last}
		p, err := l.plan(ctx, c, fresh, false)
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
		r := *prev.res
		r.Duplicate = true
		return plan{res: r, dup: prev.res}, nil
	}
	at, err := l.stamp(meta, v.last)
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
	res := Result{Accepted: true, Code: resultCode(evs), Time: at, Events: evs}
	applied := new(Result)
	*applied = res
	next.requests[meta.RequestID] = appliedRequest{hash: h, res: applied}
	return plan{res: res, req: req, next: next, applied: applied}, nil
}

// commit caches the state an append led to. Called with l.mu held.
func (l *Ledger) commit(p plan, ar domain.AppendResult) Result {
	res := p.res
	res.Position = ar.Position
	res.Duplicate = ar.Duplicate
	// In place: later plans (also of the next batch, decided on this one)
	// copied the pointer, so their retries answer with the position.
	*p.applied = res
	if ar.Duplicate {
		// Applied before by another process: the cache cannot know the
		// original events, so reload next time.
		delete(l.cache, p.req.Stream)
		return res
	}
	l.put(p.req.Stream, p.next)
	return res
}

// stamp chooses the processing time; in import mode it may not be earlier
// than the last recorded time nor than last, the latest of the batch being
// decided. Called with l.mu held.
func (l *Ledger) stamp(m domain.CommandMeta, last time.Time) (time.Time, error) {
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
	if l.lastTime.After(last) {
		last = l.lastTime
	}
	if at.Before(last) {
		return time.Time{}, domain.Err(domain.CodeTimeBackwards, "at %s is earlier than the last recorded %s", at.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))
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
				e.requests[r.RequestID] = appliedRequest{hash: h, res: &Result{
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

// advance moves the import clock to t, the latest time of an append that
// was recorded: lastTime only ever holds recorded times, so a failed or
// discarded decision never needs undoing. Called with l.mu held.
func (l *Ledger) advance(t time.Time) {
	if l.opt.Import && t.After(l.lastTime) {
		l.lastTime = t
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
