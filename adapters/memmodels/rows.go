package memmodels

import (
	"bytes"
	"hash/maphash"
	"strings"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
)

// The stored forms hold no pointers: the listing's rows, the journal's
// entries and postings, and the indexes over them are arrays of plain
// values, which the garbage collector never has to scan. Held as
// projections.Transaction values (ten strings, four pointers and two
// times a row), the models of 1M payments were about a gigabyte of
// pointers that every collection marked again, and the admin API's p99
// under load was over 100 ms.

// strs interns the repeated strings (merchants, kinds, brands, statuses,
// codes, masked cards, terminals, notice numbers, event types, accounts):
// rows hold their numbers. Number 0 is "".
type strs struct {
	ids  map[string]int32
	list []string
}

func newStrs() *strs { return &strs{ids: map[string]int32{"": 0}, list: []string{""}} }

func (s *strs) id(v string) int32 {
	if i, ok := s.ids[v]; ok {
		return i
	}
	v = strings.Clone(v) // keep the string, not the buffer it may share
	i := int32(len(s.list))
	s.ids[v] = i
	s.list = append(s.list, v)
	return i
}

// lookup returns v's number without interning it.
func (s *strs) lookup(v string) (int32, bool) {
	i, ok := s.ids[v]
	return i, ok
}

func (s *strs) str(i int32) string { return s.list[i] }

// text is a string in the arena: the unique ones (payment ids).
type text struct {
	off int64
	n   int32
}

type arena []byte

func (a *arena) put(s string) text {
	t := text{off: int64(len(*a)), n: int32(len(s))}
	*a = append(*a, s...)
	return t
}

func (a arena) bytes(t text) []byte { return a[t.off : t.off+int64(t.n)] }
func (a arena) get(t text) string   { return string(a.bytes(t)) }

// row is a listing row: projections.Transaction with its strings as
// numbers (strs) or arena text, its optional values with flags and its
// instants in Unix nanoseconds (the SQL stores keep the same).
type row struct {
	payment                               text
	merchant, kind, brand, status         int32
	lastCode, cardCode, masked, terminal  int32
	payout, installments                  int32
	amount, captured, refunded            int64
	before, after                         int64
	created, updated                      int64
	posC, posP                            uint64
	sales, ret, createdDay                date.Date // createdDay: the first event's business date
	hasSales, hasRet, hasBefore, hasAfter bool
}

// rowOf converts a row to its stored form; the payment's text is given
// (stored once per payment).
func (m *Models) rowOf(t *projections.Transaction, payment text) row {
	s := m.strs
	r := row{payment: payment, merchant: s.id(string(t.Merchant)), kind: s.id(string(t.Kind)), brand: s.id(t.Brand),
		status: s.id(t.Status), lastCode: s.id(t.LastCode), cardCode: s.id(t.CardCode), masked: s.id(t.MaskedCard),
		terminal: s.id(t.Terminal), payout: s.id(t.Payout), installments: int32(t.Installments),
		amount: int64(t.Amount), captured: int64(t.Captured), refunded: int64(t.Refunded),
		created: t.CreatedAt.UnixNano(), updated: t.UpdatedAt.UnixNano(), posC: t.Position.Commit, posP: t.Position.Prepare,
		createdDay: domain.BusinessDate(t.CreatedAt)}
	if t.SalesDate != nil {
		r.sales, r.hasSales = *t.SalesDate, true
	}
	if t.ReturnDate != nil {
		r.ret, r.hasRet = *t.ReturnDate, true
	}
	if t.BalanceBefore != nil {
		r.before, r.hasBefore = int64(*t.BalanceBefore), true
	}
	if t.BalanceAfter != nil {
		r.after, r.hasAfter = int64(*t.BalanceAfter), true
	}
	return r
}

// tx converts a stored row back; every pointer in it is new.
func (m *Models) tx(r *row) projections.Transaction {
	s := m.strs
	t := projections.Transaction{Payment: domain.PaymentID(m.arena.get(r.payment)), Merchant: domain.MerchantID(s.str(r.merchant)),
		Kind: domain.Kind(s.str(r.kind)), Brand: s.str(r.brand), Status: s.str(r.status), LastCode: s.str(r.lastCode),
		CardCode: s.str(r.cardCode), MaskedCard: s.str(r.masked), Terminal: s.str(r.terminal), Payout: s.str(r.payout),
		Installments: int(r.installments), Amount: domain.Yen(r.amount), Captured: domain.Yen(r.captured),
		Refunded: domain.Yen(r.refunded), CreatedAt: time.Unix(0, r.created).UTC(), UpdatedAt: time.Unix(0, r.updated).UTC(),
		Position: domain.Position{Commit: r.posC, Prepare: r.posP}}
	if r.hasSales {
		d := r.sales
		t.SalesDate = &d
	}
	if r.hasRet {
		d := r.ret
		t.ReturnDate = &d
	}
	if r.hasBefore {
		y := domain.Yen(r.before)
		t.BalanceBefore = &y
	}
	if r.hasAfter {
		y := domain.Yen(r.after)
		t.BalanceAfter = &y
	}
	return t
}

// older orders rows by (created, payment), the listing's key.
func (m *Models) older(a, b int32) int {
	ra, rb := &m.rows[a], &m.rows[b]
	if ra.created != rb.created {
		if ra.created < rb.created {
			return -1
		}
		return 1
	}
	return bytes.Compare(m.arena.bytes(ra.payment), m.arena.bytes(rb.payment))
}

// olderThanKey orders row i against a cursor's key.
func (m *Models) olderThanKey(i int32, k key) int {
	r := &m.rows[i]
	if r.created != k.created {
		if r.created < k.created {
			return -1
		}
		return 1
	}
	return bytes.Compare(m.arena.bytes(r.payment), []byte(k.payment))
}

// key is a position in the listing's order: a cursor.
type key struct {
	created int64
	payment string
}

// find returns the row index of a payment.
func (m *Models) find(id string) (int32, bool) {
	if i, ok := m.byHash[maphash.String(m.seed, id)]; ok && string(m.arena.bytes(m.rows[i].payment)) == id {
		return i, true
	}
	i, ok := m.collided[id]
	return i, ok
}

// addRow stores a new payment's row and indexes its id.
func (m *Models) addRow(id string, r row) int32 {
	i := int32(len(m.rows))
	m.rows = append(m.rows, r)
	h := maphash.String(m.seed, id)
	if _, taken := m.byHash[h]; taken {
		m.collided[strings.Clone(id)] = i
	} else {
		m.byHash[h] = i
	}
	return i
}

// query is a search's filters as the stored rows hold them.
type query struct {
	q                 projections.TxQuery
	merchant, status  int32
	brand             int32
	hasStatus, hasBrd bool
}

// compile looks a search's strings up; ok is false when one of them is in
// no row, so that nothing matches.
func (m *Models) compile(q projections.TxQuery) (c query, ok bool) {
	c.q = q
	if q.Merchant != "" {
		if c.merchant, ok = m.strs.lookup(string(q.Merchant)); !ok {
			return c, false
		}
	}
	if q.Status != "" {
		if c.status, ok = m.strs.lookup(q.Status); !ok {
			return c, false
		}
		c.hasStatus = true
	}
	if q.Brand != "" {
		if c.brand, ok = m.strs.lookup(q.Brand); !ok {
			return c, false
		}
		c.hasBrd = true
	}
	return c, true
}

// matches is projections.TxQuery.Matches on a stored row.
func (c *query) matches(r *row) bool {
	q := &c.q
	if q.Merchant != "" && r.merchant != c.merchant || c.hasStatus && r.status != c.status || c.hasBrd && r.brand != c.brand {
		return false
	}
	if q.MinAmount != nil && r.amount < int64(*q.MinAmount) || q.MaxAmount != nil && r.amount > int64(*q.MaxAmount) {
		return false
	}
	if q.From == nil && q.To == nil {
		return true
	}
	in := func(d date.Date) bool {
		return (q.From == nil || !d.Before(*q.From)) && (q.To == nil || !d.After(*q.To))
	}
	if !r.hasSales && !r.hasRet {
		return in(r.createdDay)
	}
	return r.hasSales && in(r.sales) || r.hasRet && in(r.ret)
}

// jentry is a journal entry in stored form; its postings are
// postings[post : post+nPost].
type jentry struct {
	posC, posP  uint64
	time, post  int64
	typ, notice int32
	nPost       int32
	payment     text
}

type jposting struct {
	account       int32
	debit, credit int64
}

func (m *Models) addEntry(e *projections.Entry) {
	je := jentry{posC: e.Position.Commit, posP: e.Position.Prepare, time: e.Time.UnixNano(), typ: m.strs.id(e.Type),
		notice: m.strs.id(e.Notice), payment: m.jarena.put(string(e.Payment)), post: int64(len(m.postings)), nPost: int32(len(e.Postings))}
	for _, p := range e.Postings {
		m.postings = append(m.postings, jposting{account: m.strs.id(p.Account), debit: int64(p.Debit), credit: int64(p.Credit)})
	}
	m.journal = append(m.journal, je)
}

func (m *Models) entry(je *jentry) projections.Entry {
	e := projections.Entry{Position: domain.Position{Commit: je.posC, Prepare: je.posP}, Time: time.Unix(0, je.time),
		Type: m.strs.str(je.typ), Payment: domain.PaymentID(m.jarena.get(je.payment)), Notice: m.strs.str(je.notice)}
	if je.nPost > 0 {
		e.Postings = make([]projections.Posting, je.nPost)
		for k, p := range m.postings[je.post : je.post+int64(je.nPost)] {
			e.Postings[k] = projections.Posting{Account: m.strs.str(p.account), Debit: domain.Yen(p.debit), Credit: domain.Yen(p.credit)}
		}
	}
	return e
}

func (je *jentry) position() domain.Position {
	return domain.Position{Commit: je.posC, Prepare: je.posP}
}
