package sqlmodels

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
)

// Rows is a query's result as both drivers give it: pgx.Rows as it is, a
// database/sql *sql.Rows behind a Close without a result.
//
// The scan targets below suit both: database/sql and pgx both fill int64
// from the engines' integer columns (PostgreSQL's int4 included), bool
// from SQLite's 0/1, sql.NullString from a text column that may be NULL,
// and nullInt from an integer column that may be.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// nullInt is an integer column that may be NULL, as both drivers fill it:
// database/sql through sql.Scanner, pgx through pgtype.Int64Scanner, which
// it plans before sql.Scanner and which takes the value without boxing it
// (sql.NullInt64 would cost pgx an allocation per value).
type nullInt struct {
	v  int64
	ok bool
}

// Scan implements sql.Scanner.
func (n *nullInt) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n = nullInt{}
	case int64:
		*n = nullInt{v, true}
	default:
		return fmt.Errorf("cannot scan %T into a nullable integer", src)
	}
	return nil
}

// ScanInt64 implements pgtype.Int64Scanner.
func (n *nullInt) ScanInt64(v pgtype.Int8) error {
	*n = nullInt{v.Int64, v.Valid}
	return nil
}

// A query's scan targets are one set per query, reused for each of its
// rows: a Scan through the Rows interface takes its argument list on the
// heap, so the list is built once per query rather than once per row.

// txScan reads rows selected with TxCols.
type txScan struct {
	d                                      *Dialect
	t                                      projections.Transaction
	payment, merchant, kind                string
	sales, ret, before, after              nullInt
	installments, created, updated, pc, pp int64
	dest                                   []any
}

func (d *Dialect) newTxScan() *txScan {
	s := &txScan{d: d}
	t := &s.t
	s.dest = []any{&s.payment, &s.merchant, &s.kind, &t.Brand, &t.Amount, &t.Captured, &t.Refunded, &t.Status, &t.LastCode,
		&t.CardCode, &s.sales, &s.ret, &t.MaskedCard, &s.installments, &t.Terminal, &s.before, &s.after, &t.Payout,
		&s.created, &s.updated, &s.pc, &s.pp}
	return s
}

// row reads the current row.
func (s *txScan) row(rows Rows) (projections.Transaction, error) {
	if err := rows.Scan(s.dest...); err != nil {
		return projections.Transaction{}, s.d.Err(err, "read a transaction row")
	}
	t := s.t
	t.Payment, t.Merchant, t.Kind = domain.PaymentID(s.payment), domain.MerchantID(s.merchant), domain.Kind(s.kind)
	t.SalesDate, t.ReturnDate = datePtr(s.sales), datePtr(s.ret)
	t.BalanceBefore, t.BalanceAfter = intPtr(s.before), intPtr(s.after)
	t.Installments = int(s.installments)
	t.CreatedAt, t.UpdatedAt = time.Unix(0, s.created).UTC(), time.Unix(0, s.updated).UTC()
	t.Position = domain.Position{Commit: uint64(s.pc), Prepare: uint64(s.pp)}
	return t, nil
}

// ScanTxs reads every row of rows, selected with TxCols, and closes them;
// hint is how many rows to expect at most.
func (d *Dialect) ScanTxs(rows Rows, hint int) ([]projections.Transaction, error) {
	defer rows.Close()
	out := make([]projections.Transaction, 0, min(hint, 64))
	s := d.newTxScan()
	for rows.Next() {
		t, err := s.row(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, d.Err(err, "read transactions")
	}
	return out, nil
}

// ScanTxsInto adds every row of rows, selected with TxCols, to out by
// payment, and closes them: the stored rows a batch continues.
func (d *Dialect) ScanTxsInto(rows Rows, out map[domain.PaymentID]projections.Transaction) error {
	defer rows.Close()
	s := d.newTxScan()
	for rows.Next() {
		t, err := s.row(rows)
		if err != nil {
			return err
		}
		out[t.Payment] = t
	}
	if err := rows.Err(); err != nil {
		return d.Err(err, "load transaction rows")
	}
	return nil
}

func datePtr(v nullInt) *date.Date {
	if !v.ok {
		return nil
	}
	d := date.NewOfDays(date.PeriodOfDays(v.v))
	return &d
}

func intPtr(v nullInt) *domain.Yen {
	if !v.ok {
		return nil
	}
	y := v.v
	return &y
}

// postingJSON is the stored form of a posting of a compound entry.
type postingJSON struct {
	Account string `json:"account"`
	Debit   int64  `json:"debit,omitempty"`
	Credit  int64  `json:"credit,omitempty"`
}

// Postings is how the journal stores an entry's postings: a two-line
// entry in the order projections.Postings makes them (debit first) as its
// debit and credit accounts and amount (Pair), any other as JSON.
type Postings struct {
	Pair          bool
	Debit, Credit string
	Amount        int64
	JSON          string
}

// EncodePostings returns e's postings as the journal stores them.
func (d *Dialect) EncodePostings(e *projections.Entry) (Postings, error) {
	ps := e.Postings
	if len(ps) == 2 && ps[0].Debit > 0 && ps[0].Credit == 0 && ps[1].Debit == 0 && ps[1].Credit == ps[0].Debit {
		return Postings{Pair: true, Debit: ps[0].Account, Credit: ps[1].Account, Amount: ps[0].Debit}, nil
	}
	js := make([]postingJSON, len(ps))
	for i, p := range ps {
		js[i] = postingJSON{Account: p.Account, Debit: p.Debit, Credit: p.Credit}
	}
	b, err := json.Marshal(js)
	if err != nil {
		return Postings{}, d.Err(err, "encode postings at %s", e.Position)
	}
	return Postings{JSON: string(b)}, nil
}

// entryScan reads journal rows selected with JournalCols.
type entryScan struct {
	d                       *Dialect
	e                       projections.JournalEntry
	pc, pp, tns             int64
	payment                 string
	debit, credit, postings sql.NullString
	amount                  nullInt
	dest                    []any
}

func (d *Dialect) newEntryScan() *entryScan {
	s := &entryScan{d: d}
	s.dest = []any{&s.pc, &s.pp, &s.tns, &s.e.Type, &s.payment, &s.e.Notice, &s.debit, &s.credit, &s.amount, &s.postings}
	return s
}

// row reads the current row.
func (s *entryScan) row(rows Rows) (projections.JournalEntry, error) {
	if err := rows.Scan(s.dest...); err != nil {
		return projections.JournalEntry{}, s.d.Err(err, "read a journal row")
	}
	e := s.e
	e.Position = domain.Position{Commit: uint64(s.pc), Prepare: uint64(s.pp)}
	e.Time = time.Unix(0, s.tns).UTC().Format(time.RFC3339Nano)
	e.Payment = domain.PaymentID(s.payment)
	if !s.postings.Valid {
		e.Postings = []projections.Posting{{Account: s.debit.String, Debit: s.amount.v}, {Account: s.credit.String, Credit: s.amount.v}}
		return e, nil
	}
	var ps []postingJSON
	if err := json.Unmarshal([]byte(s.postings.String), &ps); err != nil {
		return e, s.d.Err(err, "decode postings at %s", e.Position)
	}
	for _, p := range ps {
		e.Postings = append(e.Postings, projections.Posting{Account: p.Account, Debit: p.Debit, Credit: p.Credit})
	}
	return e, nil
}

// EncodeLines returns a payout's lines as the payouts table stores them.
func (d *Dialect) EncodeLines(p *projections.Payout) (string, error) {
	b, err := json.Marshal(p.Lines)
	if err != nil {
		return "", d.Err(err, "encode the lines of payout %s", p.NoticeNo)
	}
	return string(b), nil
}

// payoutScan reads rows selected with PayoutCols.
type payoutScan struct {
	d                              *Dialect
	p                              projections.Payout
	merchant, lines                string
	payday, notice, issued, pc, pp int64
	outcome                        nullInt
	dest                           []any
}

func (d *Dialect) newPayoutScan() *payoutScan {
	s := &payoutScan{d: d}
	p := &s.p
	s.dest = []any{&p.NoticeNo, &s.merchant, &s.payday, &s.notice, &s.lines, &p.FeeTotal, &p.FeeTax, &p.PriorPeriod, &p.PriorFrom,
		&p.TransferFee, &p.TransferFeeTax, &p.Net, &p.CarriedForward, &p.Transferred, &p.FeeWaived, &p.Status, &p.Reason,
		&s.issued, &s.outcome, &s.pc, &s.pp}
	return s
}

// row reads the current row.
func (s *payoutScan) row(rows Rows) (projections.Payout, error) {
	if err := rows.Scan(s.dest...); err != nil {
		return projections.Payout{}, s.d.Err(err, "read a payout row")
	}
	p := s.p // Lines stays nil in s.p: each row decodes into a slice of its own
	if err := json.Unmarshal([]byte(s.lines), &p.Lines); err != nil {
		return p, s.d.Err(err, "decode the lines of payout %s", p.NoticeNo)
	}
	p.Merchant = domain.MerchantID(s.merchant)
	p.Payday, p.NoticeDate = date.NewOfDays(date.PeriodOfDays(s.payday)), date.NewOfDays(date.PeriodOfDays(s.notice))
	p.IssuedAt = time.Unix(0, s.issued).UTC()
	if s.outcome.ok {
		p.OutcomeAt = time.Unix(0, s.outcome.v).UTC()
	}
	p.Position = domain.Position{Commit: uint64(s.pc), Prepare: uint64(s.pp)}
	return p, nil
}

// noticeScan reads rows selected with NoticeCols.
type noticeScan struct {
	d                                 *Dialect
	n                                 projections.Notice
	merchant                          string
	payday, seq, issue, rewrites, att int64
	pc, pp                            int64
	issued, delivered                 nullInt
	dest                              []any
}

func (d *Dialect) newNoticeScan() *noticeScan {
	s := &noticeScan{d: d}
	n := &s.n
	s.dest = []any{&n.NoticeNo, &s.merchant, &s.payday, &s.seq, &s.issue, &n.File, &n.SHA256, &n.Reason, &s.rewrites, &s.issued,
		&n.Status, &n.DeliveredTo, &n.MessageID, &s.delivered, &s.att, &n.LastCode, &n.LastError, &s.pc, &s.pp}
	return s
}

// row reads the current row.
func (s *noticeScan) row(rows Rows) (projections.Notice, error) {
	if err := rows.Scan(s.dest...); err != nil {
		return projections.Notice{}, s.d.Err(err, "read a notice row")
	}
	n := s.n
	n.Merchant = domain.MerchantID(s.merchant)
	n.Payday, n.IssueDate = date.NewOfDays(date.PeriodOfDays(s.payday)), date.NewOfDays(date.PeriodOfDays(s.issue))
	n.Seq, n.Rewrites, n.Attempts = int(s.seq), int(s.rewrites), int(s.att)
	n.IssuedAt, n.DeliveredAt = instant(s.issued), instant(s.delivered)
	n.Position = domain.Position{Commit: uint64(s.pc), Prepare: uint64(s.pp)}
	return n, nil
}

// instant is a nullable Unix-nanosecond column: NULL is the zero time.
func instant(v nullInt) time.Time {
	if !v.ok {
		return time.Time{}
	}
	return time.Unix(0, v.v).UTC()
}

// NullInstant is an instant's bind value for a nullable column: nil for
// the zero time, whose UnixNano is undefined.
func NullInstant(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixNano()
	return &v
}

// ScanNoticesInto adds every row of rows, selected with NoticeCols, to out
// by notice number, and closes them: the stored rows a batch continues.
func (d *Dialect) ScanNoticesInto(rows Rows, out map[string]projections.Notice) error {
	defer rows.Close()
	s := d.newNoticeScan()
	for rows.Next() {
		n, err := s.row(rows)
		if err != nil {
			return err
		}
		out[n.NoticeNo] = n
	}
	if err := rows.Err(); err != nil {
		return d.Err(err, "load notice rows")
	}
	return nil
}

// ScanCheckpoints reads rows selected by QueryCheckpoints, and closes them.
func (d *Dialect) ScanCheckpoints(rows Rows) (map[string]domain.Position, error) {
	defer rows.Close()
	out := map[string]domain.Position{}
	var name string
	var c, p int64
	dest := []any{&name, &c, &p}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, d.Err(err, "read checkpoints")
		}
		out[name] = domain.Position{Commit: uint64(c), Prepare: uint64(p)}
	}
	if err := rows.Err(); err != nil {
		return nil, d.Err(err, "read checkpoints")
	}
	return out, nil
}
