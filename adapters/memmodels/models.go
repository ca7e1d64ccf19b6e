package memmodels

import (
	"context"
	"hash/maphash"
	"slices"
	"sync"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
)

// dayKey is one merchant's business date in an index.
type dayKey struct {
	merchant int32 // strs number
	day      date.Date
}

// Models is the read models in memory. It implements projections.ReadModels
// and projections.Writer and is safe for concurrent use.
type Models struct {
	events domain.EventStore // for Status's lag; may be nil
	wsem   chan struct{}     // held by the open write transaction
	seed   maphash.Seed

	mu   sync.RWMutex
	cps  map[string]domain.Position
	strs *strs // never emptied: repeated strings, a few per merchant and payout

	// The listing (rows.go): rows by index, payments' ids in arena.
	rows       []row
	arena      arena
	byHash     map[uint64]int32 // payment id's hash -> row
	collided   map[string]int32 // ids whose hash another id had first
	byMerchant map[int32][]int32
	// The date indexes: each entry's rows in the listing's order reversed
	// (bucket.go).
	sales    map[dayKey][]int32 // by sales date
	returns  map[dayKey][]int32 // by return date
	dateless map[dayKey][]int32 // neither date: by the first event's business date

	totals   map[domain.MerchantID]map[projections.TotalKey]projections.Total // by merchant: a balance reads one merchant's
	journal  []jentry                                                         // in log order
	postings []jposting
	jarena   arena // the journal's payment ids
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
	m := &Models{events: events, wsem: make(chan struct{}, 1), seed: maphash.MakeSeed(),
		cps: map[string]domain.Position{}, strs: newStrs()}
	for _, n := range projections.Names {
		m.clear(n)
	}
	return m
}

// clear empties one projection's rows (not its checkpoint).
func (m *Models) clear(name string) {
	switch name {
	case projections.NameTransactions:
		m.rows, m.arena, m.byHash, m.collided = nil, nil, map[uint64]int32{}, map[string]int32{}
		m.byMerchant = map[int32][]int32{}
		m.sales, m.returns, m.dateless = map[dayKey][]int32{}, map[dayKey][]int32{}, map[dayKey][]int32{}
	case projections.NameTotals:
		m.totals = map[domain.MerchantID]map[projections.TotalKey]projections.Total{}
	case projections.NameJournal:
		m.journal, m.postings, m.jarena, m.balances = nil, nil, nil, projections.TrialBalance{}
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
// applied at Commit, whole, under the write lock. Its reads (Checkpoints,
// Transactions, Notices) see what is committed, not its own pending
// writes; the runner reads before its one Write.
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
		if i, ok := m.find(string(id)); ok {
			out[id] = m.tx(&m.rows[i])
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
	// Refused here rather than met in Commit, which applies under the
	// lock and has no way back.
	for _, t := range b.Transactions {
		if t == nil {
			return domain.Err(domain.CodeStoreFailure, "memmodels: a batch holds a nil listing row")
		}
	}
	for _, p := range b.Payouts {
		if p == nil {
			return domain.Err(domain.CodeStoreFailure, "memmodels: a batch holds a nil payout")
		}
	}
	for _, n := range b.Notices {
		if n == nil {
			return domain.Err(domain.CodeStoreFailure, "memmodels: a batch holds a nil notice")
		}
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
	return m.journal[len(m.journal)-1].position(), true
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
	pending := tx.pending
	tx.done, tx.pending = true, nil
	defer func() { <-m.wsem }()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range pending {
		m.apply(b)
	}
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
		mid, ok := m.strs.lookup(string(st.Merchant))
		if !ok {
			continue
		}
		for day := st.From; !day.After(st.To); day = day.Add(1) {
			for _, i := range m.sales[dayKey{mid, day}] {
				r := &m.rows[i]
				// Settlement.Stamp's rule, on the fields it reads.
				t := projections.Transaction{Merchant: st.Merchant, Brand: m.strs.str(r.brand), SalesDate: &r.sales}
				if r.payout == 0 && st.Stamp(&t) {
					r.payout = m.strs.id(st.NoticeNo) // interned once a row takes it
				}
			}
		}
	}
	for _, t := range b.Transactions {
		m.store(t)
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
	for k := range b.Journal {
		m.addEntry(&b.Journal[k])
	}
	for a, v := range b.Balances {
		c := m.balances[a]
		c.Debit += v.Debit
		c.Credit += v.Credit
		m.balances[a] = c
	}
	for _, p := range b.Payouts {
		c := *p
		c.Lines = slices.Clone(p.Lines) // neither the batch's owner nor a reader shares them
		m.payouts[p.NoticeNo] = c
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
func (m *Models) store(t *projections.Transaction) {
	i, ok := m.find(string(t.Payment))
	if !ok {
		r := m.rowOf(t, m.arena.put(string(t.Payment)))
		i = m.addRow(string(t.Payment), r)
		m.byMerchant[r.merchant] = append(m.byMerchant[r.merchant], i)
		m.index(i, true)
		return
	}
	m.index(i, false)
	old := m.rows[i].merchant
	m.rows[i] = m.rowOf(t, m.rows[i].payment)
	if mid := m.rows[i].merchant; mid != old {
		// The ledger never moves a payment to another merchant; should a
		// row ever, the merchant lists follow it.
		m.byMerchant[old] = slices.DeleteFunc(m.byMerchant[old], func(k int32) bool { return k == i })
		m.byMerchant[mid] = append(m.byMerchant[mid], i)
	}
	m.index(i, true)
}

// index adds row i to (or removes it from) the date indexes of its dates.
func (m *Models) index(i int32, add bool) {
	r := &m.rows[i]
	put := func(idx map[dayKey][]int32, day date.Date) {
		k := dayKey{r.merchant, day}
		if !add {
			if b := m.remove(idx[k], i); len(b) > 0 {
				idx[k] = b
			} else {
				delete(idx, k)
			}
			return
		}
		idx[k] = m.insert(idx[k], i)
	}
	if r.hasSales {
		put(m.sales, r.sales)
	}
	if r.hasRet {
		put(m.returns, r.ret)
	}
	if !r.hasSales && !r.hasRet {
		put(m.dateless, r.createdDay)
	}
}
