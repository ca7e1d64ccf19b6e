package pgmodels

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
)

// txCols are the listing's columns, in the order rows are bound and scanned
// (as in sqlitemodels); txTypes are their PostgreSQL types, for the arrays
// of a bulk upsert.
const (
	txCols = "payment, merchant, kind, brand, amount, captured, refunded, status, last_code, card_code, " +
		"sales_date, return_date, masked_card, installments, terminal, balance_before, balance_after, payout, " +
		"created_at, updated_at, pos_commit, pos_prepare"
	txTypes = "text, text, text, text, int8, int8, int8, text, text, text, " +
		"int4, int4, text, int4, text, int8, int8, text, " +
		"int8, int8, int8, int8"
)

// txUpdate sets every column but the key from the proposed row.
var txUpdate = func() string {
	var b strings.Builder
	for i, c := range strings.Split(txCols, ", ")[1:] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}()

// txArrays are a batch's listing rows column by column: the arguments of
// the bulk upsert, one array per column.
type txArrays struct {
	payment, merchant, kind, brand       []string
	amount, captured, refunded           []int64
	status, lastCode, cardCode           []string
	sales, ret                           []*int32
	masked                               []string
	installments                         []int32
	terminal                             []string
	before, after                        []*int64
	payout                               []string
	created, updated, posCommit, posPrep []int64
}

func days(d *date.Date) *int32 {
	if d == nil {
		return nil
	}
	v := int32(d.DaysSinceEpoch())
	return &v
}

func yenPtr(y *domain.Yen) *int64 {
	if y == nil {
		return nil
	}
	v := *y
	return &v
}

// add appends one row.
func (a *txArrays) add(t *projections.Transaction) error {
	pc, pp, err := positionArgs(t.Position)
	if err != nil {
		return err
	}
	a.payment = append(a.payment, string(t.Payment))
	a.merchant = append(a.merchant, string(t.Merchant))
	a.kind = append(a.kind, string(t.Kind))
	a.brand = append(a.brand, t.Brand)
	a.amount = append(a.amount, t.Amount)
	a.captured = append(a.captured, t.Captured)
	a.refunded = append(a.refunded, t.Refunded)
	a.status = append(a.status, t.Status)
	a.lastCode = append(a.lastCode, t.LastCode)
	a.cardCode = append(a.cardCode, t.CardCode)
	a.sales = append(a.sales, days(t.SalesDate))
	a.ret = append(a.ret, days(t.ReturnDate))
	a.masked = append(a.masked, t.MaskedCard)
	a.installments = append(a.installments, int32(t.Installments))
	a.terminal = append(a.terminal, t.Terminal)
	a.before = append(a.before, yenPtr(t.BalanceBefore))
	a.after = append(a.after, yenPtr(t.BalanceAfter))
	a.payout = append(a.payout, t.Payout)
	a.created = append(a.created, t.CreatedAt.UnixNano())
	a.updated = append(a.updated, t.UpdatedAt.UnixNano())
	a.posCommit = append(a.posCommit, pc)
	a.posPrep = append(a.posPrep, pp)
	return nil
}

// args returns the arrays in txCols order.
func (a *txArrays) args() []any {
	return []any{a.payment, a.merchant, a.kind, a.brand, a.amount, a.captured, a.refunded, a.status, a.lastCode,
		a.cardCode, a.sales, a.ret, a.masked, a.installments, a.terminal, a.before, a.after, a.payout,
		a.created, a.updated, a.posCommit, a.posPrep}
}

// scanTx reads one row selected with txCols.
func scanTx(rows pgx.Rows) (projections.Transaction, error) {
	var (
		t                        projections.Transaction
		payment, merchant, kind  string
		sales, ret               *int32
		before, after            *int64
		installments             int32
		created, updated, pc, pp int64
	)
	if err := rows.Scan(&payment, &merchant, &kind, &t.Brand, &t.Amount, &t.Captured, &t.Refunded, &t.Status, &t.LastCode,
		&t.CardCode, &sales, &ret, &t.MaskedCard, &installments, &t.Terminal, &before, &after, &t.Payout,
		&created, &updated, &pc, &pp); err != nil {
		return t, storeErr(err, "read a transaction row")
	}
	t.Payment, t.Merchant, t.Kind = domain.PaymentID(payment), domain.MerchantID(merchant), domain.Kind(kind)
	t.SalesDate, t.ReturnDate = datePtr(sales), datePtr(ret)
	t.BalanceBefore, t.BalanceAfter = before, after
	t.Installments = int(installments)
	t.CreatedAt, t.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	t.Position = domain.Position{Commit: uint64(pc), Prepare: uint64(pp)}
	return t, nil
}

func datePtr(v *int32) *date.Date {
	if v == nil {
		return nil
	}
	d := date.NewOfDays(date.PeriodOfDays(*v))
	return &d
}

// postingJSON is the stored form of a posting of a compound entry.
type postingJSON struct {
	Account string `json:"account"`
	Debit   int64  `json:"debit,omitempty"`
	Credit  int64  `json:"credit,omitempty"`
}

// isPair reports whether ps is a two-line entry in the order
// projections.Postings makes them (debit first), which the journal stores
// as debit/credit/amount columns.
func isPair(ps []projections.Posting) bool {
	return len(ps) == 2 && ps[0].Debit > 0 && ps[0].Credit == 0 && ps[1].Debit == 0 && ps[1].Credit == ps[0].Debit
}

const (
	journalCols  = "pos_commit, pos_prepare, time_ns, type, payment, notice, debit, credit, amount, postings"
	journalTypes = "int8, int8, int8, text, text, text, text, text, int8, text"
)

// journalArrays are a batch's journal entries column by column.
type journalArrays struct {
	posCommit, posPrep, timeNS []int64
	typ, payment, notice       []string
	debit, credit              []*string
	amount                     []*int64
	postings                   []*string
	row                        int // rows read by COPY (Next)
}

// add appends one entry.
func (a *journalArrays) add(e *projections.Entry) error {
	pc, pp, err := positionArgs(e.Position)
	if err != nil {
		return err
	}
	a.posCommit = append(a.posCommit, pc)
	a.posPrep = append(a.posPrep, pp)
	a.timeNS = append(a.timeNS, e.Time.UnixNano())
	a.typ = append(a.typ, e.Type)
	a.payment = append(a.payment, string(e.Payment))
	a.notice = append(a.notice, e.Notice)
	if isPair(e.Postings) {
		d, c, amt := e.Postings[0].Account, e.Postings[1].Account, e.Postings[0].Debit
		a.debit, a.credit, a.amount, a.postings = append(a.debit, &d), append(a.credit, &c), append(a.amount, &amt), append(a.postings, nil)
		return nil
	}
	ps := make([]postingJSON, len(e.Postings))
	for i, p := range e.Postings {
		ps[i] = postingJSON{Account: p.Account, Debit: p.Debit, Credit: p.Credit}
	}
	b, err := json.Marshal(ps)
	if err != nil {
		return storeErr(err, "encode postings at %s", e.Position)
	}
	s := string(b)
	a.debit, a.credit, a.amount, a.postings = append(a.debit, nil), append(a.credit, nil), append(a.amount, nil), append(a.postings, &s)
	return nil
}

func (a *journalArrays) args() []any {
	return []any{a.posCommit, a.posPrep, a.timeNS, a.typ, a.payment, a.notice, a.debit, a.credit, a.amount, a.postings}
}

// scanEntry reads one journal row selected with journalCols.
func scanEntry(rows pgx.Rows) (projections.JournalEntry, error) {
	var (
		e             projections.JournalEntry
		pc, pp, tns   int64
		payment       string
		debit, credit *string
		amount        *int64
		postings      *string
	)
	if err := rows.Scan(&pc, &pp, &tns, &e.Type, &payment, &e.Notice, &debit, &credit, &amount, &postings); err != nil {
		return e, storeErr(err, "read a journal row")
	}
	e.Position = domain.Position{Commit: uint64(pc), Prepare: uint64(pp)}
	e.Time = time.Unix(0, tns).UTC().Format(time.RFC3339Nano)
	e.Payment = domain.PaymentID(payment)
	if postings == nil {
		var d, c string
		var amt int64
		if debit != nil && credit != nil && amount != nil {
			d, c, amt = *debit, *credit, *amount
		}
		e.Postings = []projections.Posting{{Account: d, Debit: amt}, {Account: c, Credit: amt}}
		return e, nil
	}
	var ps []postingJSON
	if err := json.Unmarshal([]byte(*postings), &ps); err != nil {
		return e, storeErr(err, "decode postings at %s", e.Position)
	}
	for _, p := range ps {
		e.Postings = append(e.Postings, projections.Posting{Account: p.Account, Debit: p.Debit, Credit: p.Credit})
	}
	return e, nil
}

// journalArrays is a pgx.CopyFromSource over its rows, for COPY.
func (a *journalArrays) Next() bool { a.row++; return a.row <= len(a.posCommit) }

func (a *journalArrays) Values() ([]any, error) {
	i := a.row - 1
	return []any{a.posCommit[i], a.posPrep[i], a.timeNS[i], a.typ[i], a.payment[i], a.notice[i], a.debit[i], a.credit[i], a.amount[i], a.postings[i]}, nil
}

func (a *journalArrays) Err() error { return nil }

// payoutCols are the payouts table's columns, in the order rows are bound
// and scanned (as in sqlitemodels); payoutTypes are their types, for the
// arrays of a bulk upsert.
const (
	payoutCols = "notice_no, merchant, payday, notice_date, lines, fee_total, fee_tax, prior_period, prior_from, " +
		"transfer_fee, transfer_fee_tax, net, carried_forward, transferred, fee_waived, status, reason, issued_at, outcome_at, " +
		"pos_commit, pos_prepare"
	payoutTypes = "text, text, int4, int4, text, int8, int8, int8, text, " +
		"int8, int8, int8, int8, bool, bool, text, text, int8, int8, " +
		"int8, int8"
)

// payoutUpdate sets every column but the key from the proposed row.
var payoutUpdate = func() string {
	var b strings.Builder
	for i, c := range strings.Split(payoutCols, ", ")[1:] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = excluded." + c)
	}
	return b.String()
}()

// payoutArrays are a batch's payouts column by column.
type payoutArrays struct {
	notice, merchant                          []string
	payday, noticeDate                        []int32
	lines                                     []string
	feeTotal, feeTax, prior                   []int64
	priorFrom                                 []string
	transferFee, transferFeeTax, net, carried []int64
	transferred, waived                       []bool
	status, reason                            []string
	issued                                    []int64
	outcome                                   []*int64
	posCommit, posPrep                        []int64
}

// add appends one payout.
func (a *payoutArrays) add(p *projections.Payout) error {
	pc, pp, err := positionArgs(p.Position)
	if err != nil {
		return err
	}
	lines, err := json.Marshal(p.Lines)
	if err != nil {
		return storeErr(err, "encode the lines of payout %s", p.NoticeNo)
	}
	var outcome *int64
	if !p.OutcomeAt.IsZero() {
		v := p.OutcomeAt.UnixNano()
		outcome = &v
	}
	a.notice, a.merchant = append(a.notice, p.NoticeNo), append(a.merchant, string(p.Merchant))
	a.payday, a.noticeDate = append(a.payday, int32(p.Payday.DaysSinceEpoch())), append(a.noticeDate, int32(p.NoticeDate.DaysSinceEpoch()))
	a.lines = append(a.lines, string(lines))
	a.feeTotal, a.feeTax, a.prior = append(a.feeTotal, p.FeeTotal), append(a.feeTax, p.FeeTax), append(a.prior, p.PriorPeriod)
	a.priorFrom = append(a.priorFrom, p.PriorFrom)
	a.transferFee, a.transferFeeTax = append(a.transferFee, p.TransferFee), append(a.transferFeeTax, p.TransferFeeTax)
	a.net, a.carried = append(a.net, p.Net), append(a.carried, p.CarriedForward)
	a.transferred, a.waived = append(a.transferred, p.Transferred), append(a.waived, p.FeeWaived)
	a.status, a.reason = append(a.status, p.Status), append(a.reason, p.Reason)
	a.issued, a.outcome = append(a.issued, p.IssuedAt.UnixNano()), append(a.outcome, outcome)
	a.posCommit, a.posPrep = append(a.posCommit, pc), append(a.posPrep, pp)
	return nil
}

// args returns the arrays in payoutCols order.
func (a *payoutArrays) args() []any {
	return []any{a.notice, a.merchant, a.payday, a.noticeDate, a.lines, a.feeTotal, a.feeTax, a.prior, a.priorFrom,
		a.transferFee, a.transferFeeTax, a.net, a.carried, a.transferred, a.waived, a.status, a.reason, a.issued, a.outcome,
		a.posCommit, a.posPrep}
}

// scanPayout reads one row selected with payoutCols.
func scanPayout(rows pgx.Rows) (projections.Payout, error) {
	var (
		p               projections.Payout
		merchant, lines string
		payday, notice  int32
		issued, pc, pp  int64
		outcome         *int64
	)
	if err := rows.Scan(&p.NoticeNo, &merchant, &payday, &notice, &lines, &p.FeeTotal, &p.FeeTax, &p.PriorPeriod, &p.PriorFrom,
		&p.TransferFee, &p.TransferFeeTax, &p.Net, &p.CarriedForward, &p.Transferred, &p.FeeWaived, &p.Status, &p.Reason,
		&issued, &outcome, &pc, &pp); err != nil {
		return p, storeErr(err, "read a payout row")
	}
	if err := json.Unmarshal([]byte(lines), &p.Lines); err != nil {
		return p, storeErr(err, "decode the lines of payout %s", p.NoticeNo)
	}
	p.Merchant = domain.MerchantID(merchant)
	p.Payday, p.NoticeDate = date.NewOfDays(date.PeriodOfDays(payday)), date.NewOfDays(date.PeriodOfDays(notice))
	p.IssuedAt = time.Unix(0, issued).UTC()
	if outcome != nil {
		p.OutcomeAt = time.Unix(0, *outcome).UTC()
	}
	p.Position = domain.Position{Commit: uint64(pc), Prepare: uint64(pp)}
	return p, nil
}
