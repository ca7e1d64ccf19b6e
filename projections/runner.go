package projections

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"upay/domain"
)

// DefaultPageSize is how many events the runner reads and applies per
// write transaction: big enough that per-transaction costs (commit, set
// queries, statement setup) vanish, small enough that a page and its
// folded rows stay a few megabytes.
const DefaultPageSize = 8192

// RunnerOptions tune a Runner; the zero value works.
type RunnerOptions struct {
	// PageSize is the number of events per read and per write
	// transaction; 0 means DefaultPageSize.
	PageSize int
	// Progress, when set, is called after each page a catch-up applies,
	// with the events passed so far and the number there were to pass
	// when it started (see Lag). Rebuild takes its own.
	Progress func(done, total int64)
	// OnError, when set, makes Run report a failure here and retry after
	// RetryDelay instead of returning it: a server keeps following through
	// a transient failure (a busy file, a restarted database).
	OnError    func(error)
	RetryDelay time.Duration // 0 means one second
}

// Runner keeps read models in step with an event store: it reads the log
// from the projections' checkpoints, folds each page with the pure folds of
// this package and hands the result to a Writer, which stores the rows and
// the new checkpoints in one transaction.
//
// Reading runs ahead of writing: one goroutine reads pages and decodes each
// on its own goroutine while the caller's goroutine folds and writes the
// page before, so on two cores reading, decoding and writing overlap. At
// most four pages are in flight, so memory does not grow with the log.
type Runner struct {
	events domain.EventStore
	w      Writer
	opt    RunnerOptions
}

// NewRunner returns a runner from events into w.
func NewRunner(events domain.EventStore, w Writer, opt RunnerOptions) *Runner {
	if opt.PageSize <= 0 {
		opt.PageSize = DefaultPageSize
	}
	if opt.RetryDelay <= 0 {
		opt.RetryDelay = time.Second
	}
	return &Runner{events: events, w: w, opt: opt}
}

// CatchUp applies every event recorded after the checkpoints and returns
// how many events it passed (each advances at least one checkpoint). It
// ends at the end of the log as it reads it; appends that land meanwhile
// may be left for the next call.
func (r *Runner) CatchUp(ctx context.Context) (int, error) {
	return r.catchUp(ctx, r.opt.Progress)
}

// Rebuild deletes the rows and checkpoints of the named projections (all
// when names is empty) and applies the whole log again. progress (or, when
// nil, RunnerOptions.Progress) is called after each page. Errors: U1009
// for an unknown name.
func (r *Runner) Rebuild(ctx context.Context, progress func(done, total int64), names ...string) (int, error) {
	if progress == nil {
		progress = r.opt.Progress
	}
	names, err := CheckNames(names)
	if err != nil {
		return 0, err
	}
	if err := r.w.Reset(ctx, names); err != nil {
		return 0, err
	}
	return r.catchUp(ctx, progress)
}

// Run catches up, then follows live appends until ctx ends; it returns nil
// then. Without OnError it returns the first failure.
func (r *Runner) Run(ctx context.Context) error {
	for {
		_, err := r.catchUp(ctx, r.opt.Progress)
		if err == nil {
			err = r.follow(ctx)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err == nil || errors.Is(err, errGap) {
			continue
		}
		if r.opt.OnError == nil {
			return err
		}
		r.opt.OnError(err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.opt.RetryDelay):
		}
	}
}

// Status returns each projection's checkpoint and lag.
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	cps, err := r.w.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	return StatusOf(ctx, r.events, cps)
}

// StatusOf computes the status of every projection from its checkpoint.
func StatusOf(ctx context.Context, events domain.EventStore, cps map[string]domain.Position) ([]Status, error) {
	out := make([]Status, 0, len(Names))
	for _, n := range Names {
		lag, err := Lag(ctx, events, cps[n])
		if err != nil {
			return nil, err
		}
		out = append(out, Status{Name: n, Position: cps[n], Lag: lag})
	}
	return out, nil
}

// lagCountLimit bounds the events Lag reads to count on a store that
// cannot count them itself.
const lagCountLimit = 100_000

// EventCounter is implemented by stores that count the events after a
// position in one query; Lag uses it when it can.
type EventCounter interface {
	CountAfter(ctx context.Context, after domain.Position) (int64, error)
}

// Lag returns how many events of the store lie after position cp. A store
// that is an EventCounter answers exactly. Otherwise positions are opaque
// (EventStoreDB's byte offsets: a difference means nothing), so Lag counts
// the events, reading at most lagCountLimit of them: beyond that it returns
// the limit, a lower bound.
func Lag(ctx context.Context, events domain.EventStore, cp domain.Position) (int64, error) {
	if c, ok := events.(EventCounter); ok {
		return c.CountAfter(ctx, cp)
	}
	last, ok, err := events.Last(ctx)
	if err != nil {
		return 0, err
	}
	if !ok || !cp.Less(last.Position) {
		return 0, nil
	}
	var n int64
	for n < lagCountLimit {
		evs, err := events.ReadAll(ctx, cp, domain.ReadOptions{Max: 4096, Lean: true})
		if err != nil {
			return 0, err
		}
		if len(evs) == 0 {
			break
		}
		n += int64(len(evs))
		cp = evs[len(evs)-1].Position
	}
	return min(n, lagCountLimit), nil
}

// page is a run of consecutive events of the log, read after position after.
type page struct {
	after   domain.Position
	evs     []domain.RecordedEvent
	decoded []domain.Event // decoded[i] for evs[i]; nil where no projection reads the type
	err     error
	ready   chan struct{} // closed when decoded (or err) is final
}

// decode decodes the events the projections read.
func (p *page) decode() {
	p.decoded = make([]domain.Event, len(p.evs))
	for i := range p.evs {
		e := &p.evs[i]
		if !folds(e.Type) {
			continue
		}
		ev, err := Decode(e.Type, e.Version, e.Data)
		if err != nil {
			code := domain.CodeOf(err)
			if code == "" {
				code = domain.CodeMalformed
			}
			p.err = domain.Wrap(code, err, "projections: event %s@%d at position %s", e.Stream, e.Revision, e.Position)
			return
		}
		p.decoded[i] = ev
	}
}

// maxRestarts bounds how often one catch-up starts over after finding a
// checkpoint moved under it (a concurrent reset): each restart makes
// progress unless another process keeps resetting.
const maxRestarts = 100

// Settler is implemented by event stores whose global log may show a
// committed event only some time after its append returned (PostgreSQL: an
// older transaction still open). Settle waits until every event committed
// before the call is readable, or fails; a catch-up calls it first, so
// that "caught up" covers every append confirmed before it began.
type Settler interface {
	Settle(ctx context.Context) error
}

func (r *Runner) catchUp(ctx context.Context, progress func(done, total int64)) (int, error) {
	if s, ok := r.events.(Settler); ok {
		if err := s.Settle(ctx); err != nil {
			return 0, err
		}
	}
	cps, err := r.w.Checkpoints(ctx)
	if err != nil {
		return 0, err
	}
	if err := r.checkNotAhead(ctx, cps); err != nil {
		return 0, err
	}
	var total int64
	if progress != nil {
		if total, err = Lag(ctx, r.events, minPosition(cps)); err != nil {
			return 0, err
		}
	}
	var done int64
	for restart := 0; ; restart++ {
		end, err := r.pass(ctx, cps, &done, total, progress)
		if err == nil && end {
			return int(done), r.w.Ready(ctx)
		}
		if err != nil && (!errors.Is(err, errGap) || restart >= maxRestarts) {
			return int(done), err
		}
		if cps, err = r.w.Checkpoints(ctx); err != nil {
			return int(done), err
		}
	}
}

// checkNotAhead refuses read models that have applied events the store
// does not hold: the event store was restored from an older backup or
// replaced, and the read models would show money that is not in the log.
// Only a rebuild makes them true again.
func (r *Runner) checkNotAhead(ctx context.Context, cps map[string]domain.Position) error {
	last, ok, err := r.events.Last(ctx)
	if err != nil {
		return err
	}
	for _, n := range Names {
		cp, set := cps[n]
		if set && cp != domain.Start && (!ok || last.Position.Less(cp)) {
			return domain.Err(domain.CodeStoreFailure, "projections: %s has applied events up to position %s, but the event store ends at %s: "+
				"the store was restored or replaced; run upay projections rebuild", n, cp, last.Position)
		}
	}
	return nil
}

// pass reads from the lowest checkpoint in cps to the end of the log,
// applying page after page. end is false when it stopped early to start
// over from the checkpoints (another runner overtook this one).
func (r *Runner) pass(ctx context.Context, cps map[string]domain.Position, done *int64, total int64, progress func(done, total int64)) (end bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	pages := r.read(ctx, &wg, minPosition(cps))
	for p := range pages {
		<-p.ready
		if p.err != nil {
			return false, p.err
		}
		if len(p.evs) == 0 {
			return true, nil
		}
		n, overtaken, err := r.apply(ctx, p)
		if err != nil {
			return false, err
		}
		*done += int64(n)
		if progress != nil {
			progress(*done, max(total, *done))
		}
		if len(p.evs) < r.opt.PageSize {
			return true, nil
		}
		if overtaken {
			return false, nil
		}
	}
	// The reader stopped without a short page: ctx ended.
	return false, ctx.Err()
}

// read pages through the log from position from on its own goroutine,
// decoding each page on another, and delivers them in order. It stops
// after a short page (the end of the log), on a read error (delivered as
// the page's err) or when ctx ends.
func (r *Runner) read(ctx context.Context, wg *sync.WaitGroup, from domain.Position) <-chan *page {
	out := make(chan *page, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(out)
		pos := from
		for {
			evs, err := r.events.ReadAll(ctx, pos, domain.ReadOptions{Max: r.opt.PageSize, Lean: true})
			p := &page{after: pos, evs: evs, err: err, ready: make(chan struct{})}
			if err != nil {
				close(p.ready)
			} else {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p.decode()
					close(p.ready)
				}()
			}
			select {
			case out <- p:
			case <-ctx.Done():
				return
			}
			if err != nil || len(evs) < r.opt.PageSize {
				return
			}
			pos = evs[len(evs)-1].Position
		}
	}()
	return out
}

// follow applies live appends as the subscription delivers them, a batch
// of whatever has arrived at a time, until ctx ends (nil) or the
// subscription or a write fails.
func (r *Runner) follow(ctx context.Context) error {
	cps, err := r.w.Checkpoints(ctx)
	if err != nil {
		return err
	}
	from := minPosition(cps)
	sctx, cancel := context.WithCancel(ctx)
	sub, err := r.events.Subscribe(sctx, from)
	if err != nil {
		cancel()
		return err
	}
	defer func() {
		cancel()
		for range sub.Events() { // let the subscription's goroutine end
		}
	}()
	ch := sub.Events()
	pos := from
	for {
		var evs []domain.RecordedEvent
		select {
		case e, ok := <-ch:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				if err := sub.Err(); err != nil {
					return err
				}
				return domain.Err(domain.CodeStoreFailure, "projections: the subscription ended")
			}
			evs = append(evs, e)
		case <-ctx.Done():
			return nil
		}
	more:
		for len(evs) < r.opt.PageSize {
			select {
			case e, ok := <-ch:
				if !ok {
					break more
				}
				evs = append(evs, e)
			default:
				break more
			}
		}
		p := &page{after: pos, evs: evs}
		if p.decode(); p.err != nil {
			return p.err
		}
		_, overtaken, err := r.apply(ctx, p)
		if err != nil {
			return err
		}
		if overtaken {
			return errGap // start over from the checkpoints
		}
		pos = evs[len(evs)-1].Position
	}
}

// apply folds page p into a batch and writes it with the new checkpoints
// in one transaction. It returns how many of the page's events it passed;
// overtaken is true when every projection had already passed the whole
// page (another runner is ahead).
func (r *Runner) apply(ctx context.Context, p *page) (passed int, overtaken bool, err error) {
	tx, err := r.w.Begin(ctx)
	if err != nil {
		return 0, false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	cps, err := tx.Checkpoints()
	if err != nil {
		return 0, false, err
	}
	for _, n := range Names {
		if cps[n].Less(p.after) {
			// The page starts after this projection's checkpoint: the
			// events between would be skipped.
			return 0, false, errGap
		}
	}
	last := p.evs[len(p.evs)-1].Position
	low := minPosition(cps)
	if !low.Less(last) {
		return 0, true, tx.Commit()
	}
	for _, e := range p.evs {
		if low.Less(e.Position) {
			passed++
		}
	}
	issued, err := r.issuedPayouts(ctx, p, cps[NameJournal])
	if err != nil {
		return 0, false, err
	}
	b, err := fold(p, cps, issued)
	if err != nil {
		return 0, false, err
	}
	rows, err := tx.Transactions(b.need)
	if err != nil {
		return 0, false, err
	}
	var notices map[string]Notice
	if len(b.notices) > 0 {
		if notices, err = tx.Notices(b.notices); err != nil {
			return 0, false, err
		}
	}
	batch, err := b.finish(rows, notices, cps, last)
	if err != nil {
		return 0, false, err
	}
	if err := tx.Write(batch); err != nil {
		return 0, false, err
	}
	if err := tx.Commit(); err != nil {
		return 0, false, err
	}
	return passed, false, nil
}

// issuedPayouts returns a lookup of the payouts whose bank outcomes the
// journal posts from page p (those after its checkpoint jCp): an outcome
// carries no amount, its entry is the payout's net. A payout issued in the
// page is taken from it; one issued before is read from its stream, where
// the payout.issued is the first event.
func (r *Runner) issuedPayouts(ctx context.Context, p *page, jCp domain.Position) (PayoutLookup, error) {
	var found map[string]domain.PayoutIssued
	for i, e := range p.decoded {
		switch e := e.(type) {
		case domain.PayoutIssued:
			if found == nil {
				found = map[string]domain.PayoutIssued{}
			}
			found[e.NoticeNo] = e
		case domain.PayoutPaid, domain.PayoutReturned:
			rec := &p.evs[i]
			notice, _ := NoticeOf(e)
			if _, ok := found[notice]; ok || !jCp.Less(rec.Position) {
				continue
			}
			evs, err := r.events.ReadStream(ctx, rec.Stream, 0, domain.ReadOptions{Max: 1})
			if err != nil {
				return nil, err
			}
			if len(evs) == 1 && evs[0].Type == domain.TypePayoutIssued {
				first, err := domain.DecodeEvent(evs[0].Type, evs[0].Version, evs[0].Data)
				if err != nil {
					return nil, domain.Wrap(domain.CodeOf(err), err, "projections: event %s@0 at position %s", evs[0].Stream, evs[0].Position)
				}
				if pi := first.(domain.PayoutIssued); pi.NoticeNo == notice {
					if found == nil {
						found = map[string]domain.PayoutIssued{}
					}
					found[notice] = pi
				}
			}
			// Not found: Postings says so, with the event.
		}
	}
	return func(notice string) (domain.PayoutIssued, bool) {
		pi, ok := found[notice]
		return pi, ok
	}, nil
}

// folding is a page's batch in the making: the journal, totals and payouts
// are folded at once; the listing needs the stored rows of the payments the
// page continues, listed in need, and the notices those of the notice
// numbers in notices, before finish can fold them.
type folding struct {
	p       *page
	batch   Batch
	need    []domain.PaymentID
	notices []string
}

func fold(p *page, cps map[string]domain.Position, issued PayoutLookup) (*folding, error) {
	f := &folding{p: p, batch: Batch{Checkpoints: map[string]domain.Position{}, Totals: map[TotalKey]Total{}, Balances: TrialBalance{}}}
	txCp, totCp, jCp, payCp, notCp := cps[NameTransactions], cps[NameTotals], cps[NameJournal], cps[NamePayouts], cps[NameNotices]
	started := map[domain.PaymentID]bool{}
	var noticed map[string]bool
	needed := map[domain.PaymentID]bool{}
	var issuedHere map[string]*Payout
	for i, e := range p.decoded {
		if e == nil {
			continue
		}
		rec := &p.evs[i]
		// Notices are rare and a notice's row may gain a field from any of
		// its events, so every notice the page touches is loaded whole.
		if no, ok := NoticeNumberOf(e); ok {
			if notCp.Less(rec.Position) && !noticed[no] {
				if noticed == nil {
					noticed = map[string]bool{}
				}
				noticed[no] = true
				f.notices = append(f.notices, no)
			}
			continue
		}
		id, isPayment := PaymentOf(e)
		if isPayment && txCp.Less(rec.Position) {
			if starts(e) {
				started[id] = true
			} else if !started[id] && !needed[id] {
				needed[id] = true
				f.need = append(f.need, id)
			}
		}
		if totCp.Less(rec.Position) {
			if k, d, ok := TotalDelta(e, rec.Time); ok {
				cur := f.batch.Totals[k]
				f.batch.Totals[k] = Total{Count: cur.Count + d.Count, Sales: cur.Sales + d.Sales}
			}
		}
		if jCp.Less(rec.Position) {
			ps, err := Postings(e, issued)
			if err != nil {
				return nil, domain.Wrap(domain.CodeOf(err), err, "projections: event %s@%d at position %s", rec.Stream, rec.Revision, rec.Position)
			}
			if ps != nil {
				notice, _ := NoticeOf(e)
				f.batch.Journal = append(f.batch.Journal, Entry{Position: rec.Position, Time: rec.Time, Type: rec.Type, Payment: id, Notice: notice, Postings: ps})
				f.batch.Balances.Post(ps)
			}
		}
		if payCp.Less(rec.Position) {
			if pi, ok := e.(domain.PayoutIssued); ok {
				row, err := NewPayout(pi, rec.Time, rec.Position)
				if err != nil {
					return nil, domain.Wrap(domain.CodeOf(err), err, "projections: event %s@%d at position %s", rec.Stream, rec.Revision, rec.Position)
				}
				if issuedHere == nil {
					issuedHere = map[string]*Payout{}
				}
				issuedHere[row.NoticeNo] = &row
				f.batch.Payouts = append(f.batch.Payouts, &row)
			} else if o, ok := OutcomeOf(e, rec.Time, rec.Position); ok {
				if row := issuedHere[o.NoticeNo]; row != nil {
					row.Apply(o)
				} else {
					f.batch.Outcomes = append(f.batch.Outcomes, o)
				}
			}
		}
	}
	return f, nil
}

// finish folds the listing rows over the stored ones and sets the
// checkpoints of every projection the page moves.
//
// A payout's lines stamp their notice number on the listing rows they
// settle. The store stamps its stored rows before it writes the page's
// rows (Batch.Settled), so a row the page rewrites must carry the stamps
// it would have got: a row already folded in this page gets them when the
// payout comes, a stored row first touched after the payout gets the
// page's earlier stamps when it is loaded. Either way a row is stamped
// exactly when it matched at the payout's place in the log.
func (f *folding) finish(stored map[domain.PaymentID]Transaction, notices map[string]Notice, cps map[string]domain.Position, last domain.Position) (*Batch, error) {
	if err := f.foldNotices(notices, cps[NameNotices]); err != nil {
		return nil, err
	}
	txCp := cps[NameTransactions]
	dirty := map[domain.PaymentID]*Transaction{}
	for i, e := range f.p.decoded {
		rec := &f.p.evs[i]
		if e == nil || !txCp.Less(rec.Position) {
			continue
		}
		if pi, ok := e.(domain.PayoutIssued); ok {
			ss, err := Settlements(pi)
			if err != nil {
				return nil, domain.Wrap(domain.CodeOf(err), err, "projections: event %s@%d at position %s", rec.Stream, rec.Revision, rec.Position)
			}
			for _, s := range ss {
				for _, t := range dirty {
					s.Stamp(t)
				}
			}
			f.batch.Settled = append(f.batch.Settled, ss...)
			continue
		}
		id, ok := PaymentOf(e)
		if !ok {
			continue
		}
		t := dirty[id]
		if t == nil {
			t = new(Transaction)
			if row, ok := stored[id]; ok {
				*t = row
				for _, s := range f.batch.Settled {
					s.Stamp(t)
				}
			}
			dirty[id] = t
		}
		t.Apply(e, rec.Time, rec.Position)
	}
	rows := make([]*Transaction, 0, len(dirty))
	for _, t := range dirty {
		rows = append(rows, t)
	}
	// Creation order: new rows land in the table in time order, which is
	// the order the listing reads them in.
	slices.SortFunc(rows, func(a, b *Transaction) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		switch {
		case a.Payment < b.Payment:
			return -1
		case a.Payment > b.Payment:
			return 1
		}
		return 0
	})
	f.batch.Transactions = rows
	for _, n := range Names {
		if cps[n].Less(last) {
			f.batch.Checkpoints[n] = last
		}
	}
	return &f.batch, nil
}

// foldNotices folds the page's notices events after the notices
// checkpoint notCp over the stored rows, into rows to store whole, in the
// order the page first touches them.
func (f *folding) foldNotices(stored map[string]Notice, notCp domain.Position) error {
	if len(f.notices) == 0 {
		return nil
	}
	rows := make(map[string]*Notice, len(f.notices))
	for _, no := range f.notices {
		n := stored[no]
		rows[no] = &n
		f.batch.Notices = append(f.batch.Notices, &n)
	}
	for i, e := range f.p.decoded {
		rec := &f.p.evs[i]
		no, ok := NoticeNumberOf(e)
		if !ok || !notCp.Less(rec.Position) {
			continue
		}
		if err := rows[no].Apply(e, rec.Time, rec.Position); err != nil {
			return domain.Wrap(domain.CodeOf(err), err, "projections: event %s@%d at position %s", rec.Stream, rec.Revision, rec.Position)
		}
	}
	return nil
}

// minPosition returns the lowest checkpoint of all projections (Start for
// one that never ran).
func minPosition(cps map[string]domain.Position) domain.Position {
	low := cps[Names[0]]
	for _, n := range Names[1:] {
		if cps[n].Less(low) {
			low = cps[n]
		}
	}
	return low
}
