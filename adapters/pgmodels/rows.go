package pgmodels

import (
	"github.com/rickb777/date"

	"upay/adapters/sqlmodels"
	"upay/domain"
	"upay/projections"
)

// The bind side of a batch's rows: PostgreSQL takes each column of a
// batch as one array (see unnestInsert) or streams rows by COPY;
// sqlmodels scans them back.

// txTypes are the PostgreSQL types of sqlmodels.TxCols, for the arrays of
// a bulk upsert.
const txTypes = "text, text, text, text, int8, int8, int8, text, text, text, " +
	"int4, int4, text, int4, text, int8, int8, text, " +
	"int8, int8, int8, int8"

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
	pc, pp, err := dialect.Position(t.Position)
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

// args returns the arrays in sqlmodels.TxCols order.
func (a *txArrays) args() []any {
	return []any{a.payment, a.merchant, a.kind, a.brand, a.amount, a.captured, a.refunded, a.status, a.lastCode,
		a.cardCode, a.sales, a.ret, a.masked, a.installments, a.terminal, a.before, a.after, a.payout,
		a.created, a.updated, a.posCommit, a.posPrep}
}

// journalTypes are the PostgreSQL types of sqlmodels.JournalCols.
const journalTypes = "int8, int8, int8, text, text, text, text, text, int8, text"

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
	pc, pp, err := dialect.Position(e.Position)
	if err != nil {
		return err
	}
	ps, err := dialect.EncodePostings(e)
	if err != nil {
		return err
	}
	a.posCommit = append(a.posCommit, pc)
	a.posPrep = append(a.posPrep, pp)
	a.timeNS = append(a.timeNS, e.Time.UnixNano())
	a.typ = append(a.typ, e.Type)
	a.payment = append(a.payment, string(e.Payment))
	a.notice = append(a.notice, e.Notice)
	if ps.Pair {
		d, c, amt := ps.Debit, ps.Credit, ps.Amount
		a.debit, a.credit, a.amount, a.postings = append(a.debit, &d), append(a.credit, &c), append(a.amount, &amt), append(a.postings, nil)
		return nil
	}
	js := ps.JSON
	a.debit, a.credit, a.amount, a.postings = append(a.debit, nil), append(a.credit, nil), append(a.amount, nil), append(a.postings, &js)
	return nil
}

func (a *journalArrays) args() []any {
	return []any{a.posCommit, a.posPrep, a.timeNS, a.typ, a.payment, a.notice, a.debit, a.credit, a.amount, a.postings}
}

// journalArrays is a pgx.CopyFromSource over its rows, for COPY.
func (a *journalArrays) Next() bool { a.row++; return a.row <= len(a.posCommit) }

func (a *journalArrays) Values() ([]any, error) {
	i := a.row - 1
	return []any{a.posCommit[i], a.posPrep[i], a.timeNS[i], a.typ[i], a.payment[i], a.notice[i], a.debit[i], a.credit[i], a.amount[i], a.postings[i]}, nil
}

func (a *journalArrays) Err() error { return nil }

// payoutTypes are the PostgreSQL types of sqlmodels.PayoutCols, for the
// arrays of a bulk upsert.
const payoutTypes = "text, text, int4, int4, text, int8, int8, int8, text, " +
	"int8, int8, int8, int8, bool, bool, text, text, int8, int8, " +
	"int8, int8"

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
	pc, pp, err := dialect.Position(p.Position)
	if err != nil {
		return err
	}
	lines, err := dialect.EncodeLines(p)
	if err != nil {
		return err
	}
	var outcome *int64
	if !p.OutcomeAt.IsZero() {
		v := p.OutcomeAt.UnixNano()
		outcome = &v
	}
	a.notice, a.merchant = append(a.notice, p.NoticeNo), append(a.merchant, string(p.Merchant))
	a.payday, a.noticeDate = append(a.payday, int32(p.Payday.DaysSinceEpoch())), append(a.noticeDate, int32(p.NoticeDate.DaysSinceEpoch()))
	a.lines = append(a.lines, lines)
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

// args returns the arrays in sqlmodels.PayoutCols order.
func (a *payoutArrays) args() []any {
	return []any{a.notice, a.merchant, a.payday, a.noticeDate, a.lines, a.feeTotal, a.feeTax, a.prior, a.priorFrom,
		a.transferFee, a.transferFeeTax, a.net, a.carried, a.transferred, a.waived, a.status, a.reason, a.issued, a.outcome,
		a.posCommit, a.posPrep}
}

// noticeTypes are the PostgreSQL types of sqlmodels.NoticeCols.
const noticeTypes = "text, text, int4, int4, int4, text, text, text, int4, int8, text, " +
	"text, text, int8, int4, text, text, int8, int8"

// noticeArrays are a batch's notices rows column by column.
type noticeArrays struct {
	notice, merchant   []string
	payday, seq, issue []int32
	file, sha, reason  []string
	rewrites           []int32
	issued             []*int64
	status, to, msgID  []string
	delivered          []*int64
	attempts           []int32
	code, errText      []string
	posCommit, posPrep []int64
}

// add appends one row.
func (a *noticeArrays) add(n *projections.Notice) error {
	pc, pp, err := dialect.Position(n.Position)
	if err != nil {
		return err
	}
	a.notice, a.merchant = append(a.notice, n.NoticeNo), append(a.merchant, string(n.Merchant))
	a.payday, a.seq = append(a.payday, int32(n.Payday.DaysSinceEpoch())), append(a.seq, int32(n.Seq))
	a.issue = append(a.issue, int32(n.IssueDate.DaysSinceEpoch()))
	a.file, a.sha, a.reason = append(a.file, n.File), append(a.sha, n.SHA256), append(a.reason, n.Reason)
	a.rewrites, a.issued = append(a.rewrites, int32(n.Rewrites)), append(a.issued, sqlmodels.NullInstant(n.IssuedAt))
	a.status, a.to, a.msgID = append(a.status, n.Status), append(a.to, n.DeliveredTo), append(a.msgID, n.MessageID)
	a.delivered, a.attempts = append(a.delivered, sqlmodels.NullInstant(n.DeliveredAt)), append(a.attempts, int32(n.Attempts))
	a.code, a.errText = append(a.code, n.LastCode), append(a.errText, n.LastError)
	a.posCommit, a.posPrep = append(a.posCommit, pc), append(a.posPrep, pp)
	return nil
}

// args returns the arrays in sqlmodels.NoticeCols order.
func (a *noticeArrays) args() []any {
	return []any{a.notice, a.merchant, a.payday, a.seq, a.issue, a.file, a.sha, a.reason, a.rewrites, a.issued,
		a.status, a.to, a.msgID, a.delivered, a.attempts, a.code, a.errText, a.posCommit, a.posPrep}
}
