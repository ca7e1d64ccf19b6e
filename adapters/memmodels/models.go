package memmodels

import (
	"context"
	"runtime"
	"sync"

	"github.com/rickb777/date"

	"upay/adapters/readgate"
	"upay/domain"
	"upay/projections"
)

// slot holds one payment's current listing row; the indexes point at
// slots, so replacing a row does not touch the rows of other payments.
// created is t.CreatedAt in Unix nanoseconds, the first half of the
// listing's key, which never changes for a payment.
type slot struct {
	t       projections.Transaction
	created int64
}

// dayKey is one merchant's business date in an index.
type dayKey struct {
	merchant domain.MerchantID
	day      date.Date
}

// Models is the read models in memory. It implements projections.ReadModels
// and projections.Writer and is safe for concurrent use.
type Models struct {
	events domain.EventStore // for Status's lag; may be nil
	wsem   chan struct{}     // held by the open write transaction
	// gate runs as many searches at once as there are cores and queues
	// the rest in order of arrival: a search is CPU work without a pause,
	// and 32 at once on two cores otherwise share them in 10 ms slices
	// (the in-process benchmark's p99 was 156 ms with the GC off).
	gate readgate.Gate

	mu  sync.RWMutex
	cps map[string]domain.Position

	rows       map[domain.PaymentID]*slot
	all        []*slot // every row, in the order first stored
	byMerchant map[domain.MerchantID][]*slot
	merchants  []domain.MerchantID // those with a row, in the order first seen
	sales      map[dayKey]bucket   // by sales date
	returns    map[dayKey]bucket   // by return date
	dateless   map[dayKey]bucket   // neither date: by the first event's business date

	totals   map[domain.MerchantID]map[projections.TotalKey]projections.Total // by merchant: a balance reads one merchant's
	journal  []projections.Entry                                              // in log order
	balances projections.TrialBalance
	payouts  map[string]projections.Payout
	notices  map[string]projections.Notice
}

var (
	_ projections.ReadModels = (*Models)(nil)
	_ projections.Writer     = (*Models)(nil)
)

// New returns empty read models. events, when not nil, is the event store
// they follow: Status needs it for each projection's lag (without it the
// lag is -1, unknown).
func New(events domain.EventStore) *Models {
	m := &Models{events: events, wsem: make(chan struct{}, 1), gate: readgate.New(runtime.GOMAXPROCS(0)), cps: map[string]domain.Position{}}
	for _, n := range projections.Names {
		m.clear(n)
	}
	return m
}

// clear empties one projection's rows (not its checkpoint).
func (m *Models) clear(name string) {
	switch name {
	case projections.NameTransactions:
		m.rows, m.all = map[domain.PaymentID]*slot{}, nil
		m.byMerchant, m.merchants = map[domain.MerchantID][]*slot{}, nil
		m.sales, m.returns, m.dateless = map[dayKey]bucket{}, map[dayKey]bucket{}, map[dayKey]bucket{}
	case projections.NameTotals:
		m.totals = map[domain.MerchantID]map[projections.TotalKey]projections.Total{}
	case projections.NameJournal:
		m.journal, m.balances = nil, projections.TrialBalance{}
	case projections.NamePayouts:
		m.payouts = map[string]projections.Payout{}
	case projections.NameNotices:
		m.notices = map[string]projections.Notice{}
	}
}

// Checkpoints returns each projection's committed position.
func (m *Models) Checkpoints(context.Context) (map[string]domain.Position, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.checkpoints(), nil
}

func (m *Models) checkpoints() map[string]domain.Position {
	out := make(map[string]domain.Position, len(m.cps))
	for n, p := range m.cps {
		out[n] = p
	}
	return out
}

// Begin starts a write transaction; it waits for the one before to end.
// Errors: U3003 when ctx ends first.
func (m *Models) Begin(ctx context.Context) (projections.WriteTx, error) {
	select {
	case m.wsem <- struct{}{}:
	case <-ctx.Done():
		return nil, domain.Wrap(domain.CodeStoreFailure, ctx.Err(), "memmodels: begin")
	}
	return &writeTx{m: m, ctx: ctx}, nil
}

// Reset empties the named projections and forgets their checkpoints, at
// once for readers. Errors: U1009 for an unknown name, U3003 when ctx ends
// while it waits for a write transaction.
func (m *Models) Reset(ctx context.Context, names []string) error {
	names, err := projections.CheckNames(names)
	if err != nil {
		return err
	}
	tx, err := m.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range names {
		m.clear(n)
		delete(m.cps, n)
	}
	return nil
}

// Close does nothing: the models live and go with the process. It lets a
// server treat every read-model store alike.
func (m *Models) Close() error { return nil }

// Ready does nothing: nothing is deferred until a catch-up ends.
func (m *Models) Ready(context.Context) error { return nil }

// writeTx is one write transaction: its batches wait in pending and are
// applied at Commit, whole, under the write lock.
type writeTx struct {
	m       *Models
	ctx     context.Context
	pending []*projections.Batch
	done    bool
}

func (tx *writeTx) Checkpoints() (map[string]domain.Position, error) { return tx.m.Checkpoints(tx.ctx) }

// Transactions returns copies of the stored rows of ids: the fold changes
// what it is given, and must not change what readers see.
func (tx *writeTx) Transactions(ids []domain.PaymentID) (map[domain.PaymentID]projections.Transaction, error) {
	m := tx.m
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[domain.PaymentID]projections.Transaction, len(ids))
	for _, id := range ids {
		if s, ok := m.rows[id]; ok {
			out[id] = clone(s.t)
		}
	}
	return out, nil
}

func (tx *writeTx) Notices(nos []string) (map[string]projections.Notice, error) {
	m := tx.m
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]projections.Notice, len(nos))
	for _, no := range nos {
		if n, ok := m.notices[no]; ok {
			out[no] = n
		}
	}
	return out, nil
}

// Write keeps the batch for Commit. Errors: U3003 for journal entries
// that do not follow the journal's last one (two runners would have
// posted one event twice), or after Commit or Rollback.
func (tx *writeTx) Write(b *projections.Batch) error {
	if tx.done {
		return domain.Err(domain.CodeStoreFailure, "memmodels: write in a finished transaction")
	}
	last, ok := tx.lastEntry()
	for _, e := range b.Journal {
		if ok && !last.Less(e.Position) {
			return domain.Err(domain.CodeStoreFailure, "memmodels: journal entry at %s does not follow the entry at %s", e.Position, last)
		}
		last, ok = e.Position, true
	}
	tx.pending = append(tx.pending, b)
	return nil
}

// lastEntry is the position of the last journal entry, pending included.
func (tx *writeTx) lastEntry() (domain.Position, bool) {
	for i := len(tx.pending) - 1; i >= 0; i-- {
		if j := tx.pending[i].Journal; len(j) > 0 {
			return j[len(j)-1].Position, true
		}
	}
	m := tx.m
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.journal) == 0 {
		return domain.Position{}, false
	}
	return m.journal[len(m.journal)-1].Position, true
}

// Commit applies the pending batches and their checkpoints at once. A
// transaction whose context has ended is abandoned instead (U3003).
func (tx *writeTx) Commit() error {
	if tx.done {
		return domain.Err(domain.CodeStoreFailure, "memmodels: commit of a finished transaction")
	}
	if err := tx.ctx.Err(); err != nil {
		_ = tx.Rollback()
		return domain.Wrap(domain.CodeStoreFailure, err, "memmodels: commit abandoned")
	}
	m := tx.m
	m.mu.Lock()
	for _, b := range tx.pending {
		m.apply(b)
	}
	m.mu.Unlock()
	tx.done, tx.pending = true, nil
	<-m.wsem
	return nil
}

func (tx *writeTx) Rollback() error {
	if tx.done {
		return nil
	}
	tx.done, tx.pending = true, nil
	<-tx.m.wsem
	return nil
}

// apply stores one batch, in the order the SQL stores do: payout stamps on
// stored rows, rows, totals, journal and trial balance, payouts and their
// outcomes, notices, checkpoints. m.mu is held.
func (m *Models) apply(b *projections.Batch) {
	for _, st := range b.Settled {
		for day := st.From; !day.After(st.To); day = day.Add(1) {
			for _, s := range m.sales[dayKey{st.Merchant, day}] {
				t := s.t
				if st.Stamp(&t) {
					s.t = t
				}
			}
		}
	}
	for _, t := range b.Transactions {
		m.store(clone(*t))
	}
	for k, v := range b.Totals {
		cells := m.totals[k.Merchant]
		if cells == nil {
			cells = map[projections.TotalKey]projections.Total{}
			m.totals[k.Merchant] = cells
		}
		c := cells[k]
		c.Count += v.Count
		c.Sales += v.Sales
		cells[k] = c
	}
	m.journal = append(m.journal, b.Journal...)
	for a, v := range b.Balances {
		c := m.balances[a]
		c.Debit += v.Debit
		c.Credit += v.Credit
		m.balances[a] = c
	}
	for _, p := range b.Payouts {
		m.payouts[p.NoticeNo] = *p
	}
	for _, o := range b.Outcomes {
		if p, ok := m.payouts[o.NoticeNo]; ok {
			p.Status, p.Reason, p.OutcomeAt, p.Position = o.Status, o.Reason, o.At, o.Position
			m.payouts[o.NoticeNo] = p
		}
	}
	for _, n := range b.Notices {
		m.notices[n.NoticeNo] = *n
	}
	for n, p := range b.Checkpoints {
		m.cps[n] = p
	}
}

// store inserts or replaces a payment's row and moves it between the
// indexes its dates put it in.
func (m *Models) store(t projections.Transaction) {
	s, ok := m.rows[t.Payment]
	if !ok {
		s = &slot{t: t, created: t.CreatedAt.UnixNano()}
		m.rows[t.Payment] = s
		m.all = append(m.all, s)
		if _, seen := m.byMerchant[t.Merchant]; !seen {
			m.merchants = append(m.merchants, t.Merchant)
		}
		m.byMerchant[t.Merchant] = append(m.byMerchant[t.Merchant], s)
		m.index(s, true)
		return
	}
	m.index(s, false)
	s.t = t
	m.index(s, true)
}

// index adds the slot to (or removes it from) the date indexes of its row.
func (m *Models) index(s *slot, add bool) {
	t := &s.t
	put := func(idx map[dayKey]bucket, day date.Date) {
		k := dayKey{t.Merchant, day}
		if !add {
			if b := idx[k].remove(s); len(b) > 0 {
				idx[k] = b
			} else {
				delete(idx, k)
			}
			return
		}
		idx[k] = idx[k].insert(s)
	}
	if t.SalesDate != nil {
		put(m.sales, *t.SalesDate)
	}
	if t.ReturnDate != nil {
		put(m.returns, *t.ReturnDate)
	}
	if t.SalesDate == nil && t.ReturnDate == nil {
		put(m.dateless, domain.BusinessDate(t.CreatedAt))
	}
}

// clone copies a row with its own pointed-to values, so that neither the
// fold nor a reader can change a stored row through a pointer.
func clone(t projections.Transaction) projections.Transaction {
	if t.SalesDate != nil {
		d := *t.SalesDate
		t.SalesDate = &d
	}
	if t.ReturnDate != nil {
		d := *t.ReturnDate
		t.ReturnDate = &d
	}
	if t.BalanceBefore != nil {
		y := *t.BalanceBefore
		t.BalanceBefore = &y
	}
	if t.BalanceAfter != nil {
		y := *t.BalanceAfter
		t.BalanceAfter = &y
	}
	return t
}
