package sqlitemodels

import (
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
)

// txCols are the listing's columns, in the order rows are bound and scanned.
const txCols = "payment, merchant, kind, brand, amount, captured, refunded, status, last_code, card_code, " +
	"sales_date, return_date, masked_card, installments, terminal, balance_before, balance_after, payout, " +
	"created_at, updated_at, pos_commit, pos_prepare"

const txColCount = 22

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

func days(d *date.Date) any {
	if d == nil {
		return nil
	}
	return int64(d.DaysSinceEpoch())
}

func yenPtr(y *domain.Yen) any {
	if y == nil {
		return nil
	}
	return *y
}

// appendTx appends the bind values of one row.
func appendTx(args []any, t *projections.Transaction) ([]any, error) {
	pc, err := sqlInt(t.Position.Commit, "position")
	if err != nil {
		return nil, err
	}
	pp, err := sqlInt(t.Position.Prepare, "position")
	if err != nil {
		return nil, err
	}
	return append(args, string(t.Payment), string(t.Merchant), string(t.Kind), t.Brand, t.Amount, t.Captured, t.Refunded,
		t.Status, t.LastCode, t.CardCode, days(t.SalesDate), days(t.ReturnDate), t.MaskedCard, int64(t.Installments),
		t.Terminal, yenPtr(t.BalanceBefore), yenPtr(t.BalanceAfter), t.Payout, t.CreatedAt.UnixNano(), t.UpdatedAt.UnixNano(), pc, pp), nil
}

// scanTx reads one row selected with txCols.
func scanTx(rows *sql.Rows) (projections.Transaction, error) {
	var (
		t                              projections.Transaction
		payment, merchant, kind        string
		sales, ret, before, after      sql.NullInt64
		installments, created, updated int64
		pc, pp                         int64
	)
	if err := rows.Scan(&payment, &merchant, &kind, &t.Brand, &t.Amount, &t.Captured, &t.Refunded, &t.Status, &t.LastCode,
		&t.CardCode, &sales, &ret, &t.MaskedCard, &installments, &t.Terminal, &before, &after, &t.Payout,
		&created, &updated, &pc, &pp); err != nil {
		return t, storeErr(err, "read a transaction row")
	}
	t.Payment, t.Merchant, t.Kind = domain.PaymentID(payment), domain.MerchantID(merchant), domain.Kind(kind)
	t.SalesDate, t.ReturnDate = datePtr(sales), datePtr(ret)
	t.BalanceBefore, t.BalanceAfter = intPtr(before), intPtr(after)
	t.Installments = int(installments)
	t.CreatedAt, t.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	t.Position = domain.Position{Commit: uint64(pc), Prepare: uint64(pp)}
	return t, nil
}

func datePtr(v sql.NullInt64) *date.Date {
	if !v.Valid {
		return nil
	}
	d := date.NewOfDays(date.PeriodOfDays(v.Int64))
	return &d
}

func intPtr(v sql.NullInt64) *domain.Yen {
	if !v.Valid {
		return nil
	}
	y := v.Int64
	return &y
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

// appendEntry appends the bind values of one journal entry.
func appendEntry(args []any, e *projections.Entry) ([]any, error) {
	pc, err := sqlInt(e.Position.Commit, "position")
	if err != nil {
		return nil, err
	}
	pp, err := sqlInt(e.Position.Prepare, "position")
	if err != nil {
		return nil, err
	}
	args = append(args, pc, pp, e.Time.UnixNano(), e.Type, string(e.Payment), e.Notice)
	if isPair(e.Postings) {
		return append(args, e.Postings[0].Account, e.Postings[1].Account, e.Postings[0].Debit, nil), nil
	}
	ps := make([]postingJSON, len(e.Postings))
	for i, p := range e.Postings {
		ps[i] = postingJSON{Account: p.Account, Debit: p.Debit, Credit: p.Credit}
	}
	b, err := json.Marshal(ps)
	if err != nil {
		return nil, storeErr(err, "encode postings at %s", e.Position)
	}
	return append(args, nil, nil, nil, string(b)), nil
}

const journalCols = "pos_commit, pos_prepare, time_ns, type, payment, notice, debit, credit, amount, postings"

const journalColCount = 10

// scanEntry reads one journal row selected with journalCols.
func scanEntry(rows *sql.Rows) (projections.JournalEntry, error) {
	var (
		e             projections.JournalEntry
		pc, pp, tns   int64
		payment       string
		debit, credit sql.NullString
		amount        sql.NullInt64
		postings      sql.NullString
	)
	if err := rows.Scan(&pc, &pp, &tns, &e.Type, &payment, &e.Notice, &debit, &credit, &amount, &postings); err != nil {
		return e, storeErr(err, "read a journal row")
	}
	e.Position = domain.Position{Commit: uint64(pc), Prepare: uint64(pp)}
	e.Time = time.Unix(0, tns).UTC().Format(time.RFC3339Nano)
	e.Payment = domain.PaymentID(payment)
	if !postings.Valid {
		e.Postings = []projections.Posting{{Account: debit.String, Debit: amount.Int64}, {Account: credit.String, Credit: amount.Int64}}
		return e, nil
	}
	var ps []postingJSON
	if err := json.Unmarshal([]byte(postings.String), &ps); err != nil {
		return e, storeErr(err, "decode postings at %s", e.Position)
	}
	for _, p := range ps {
		e.Postings = append(e.Postings, projections.Posting{Account: p.Account, Debit: p.Debit, Credit: p.Credit})
	}
	return e, nil
}

// payoutCols are the payouts table's columns, in the order rows are bound
// and scanned.
const payoutCols = "notice_no, merchant, payday, notice_date, lines, fee_total, fee_tax, prior_period, prior_from, " +
	"transfer_fee, transfer_fee_tax, net, carried_forward, transferred, fee_waived, status, reason, issued_at, outcome_at, " +
	"pos_commit, pos_prepare"

const payoutColCount = 21

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

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// appendPayout appends the bind values of one payout row.
func appendPayout(args []any, p *projections.Payout) ([]any, error) {
	pc, err := sqlInt(p.Position.Commit, "position")
	if err != nil {
		return nil, err
	}
	pp, err := sqlInt(p.Position.Prepare, "position")
	if err != nil {
		return nil, err
	}
	lines, err := json.Marshal(p.Lines)
	if err != nil {
		return nil, storeErr(err, "encode the lines of payout %s", p.NoticeNo)
	}
	var outcome any
	if !p.OutcomeAt.IsZero() {
		outcome = p.OutcomeAt.UnixNano()
	}
	return append(args, p.NoticeNo, string(p.Merchant), int64(p.Payday.DaysSinceEpoch()), int64(p.NoticeDate.DaysSinceEpoch()),
		string(lines), p.FeeTotal, p.FeeTax, p.PriorPeriod, p.PriorFrom, p.TransferFee, p.TransferFeeTax, p.Net, p.CarriedForward,
		boolInt(p.Transferred), boolInt(p.FeeWaived), p.Status, p.Reason, p.IssuedAt.UnixNano(), outcome, pc, pp), nil
}

// scanPayout reads one row selected with payoutCols.
func scanPayout(rows *sql.Rows) (projections.Payout, error) {
	var (
		p                              projections.Payout
		merchant, lines                string
		payday, notice, issued, pc, pp int64
		transferred, waived            int64
		outcome                        sql.NullInt64
	)
	if err := rows.Scan(&p.NoticeNo, &merchant, &payday, &notice, &lines, &p.FeeTotal, &p.FeeTax, &p.PriorPeriod, &p.PriorFrom,
		&p.TransferFee, &p.TransferFeeTax, &p.Net, &p.CarriedForward, &transferred, &waived, &p.Status, &p.Reason,
		&issued, &outcome, &pc, &pp); err != nil {
		return p, storeErr(err, "read a payout row")
	}
	if err := json.Unmarshal([]byte(lines), &p.Lines); err != nil {
		return p, storeErr(err, "decode the lines of payout %s", p.NoticeNo)
	}
	p.Merchant = domain.MerchantID(merchant)
	p.Payday, p.NoticeDate = date.NewOfDays(date.PeriodOfDays(payday)), date.NewOfDays(date.PeriodOfDays(notice))
	p.Transferred, p.FeeWaived = transferred != 0, waived != 0
	p.IssuedAt = time.Unix(0, issued).UTC()
	if outcome.Valid {
		p.OutcomeAt = time.Unix(0, outcome.Int64).UTC()
	}
	p.Position = domain.Position{Commit: uint64(pc), Prepare: uint64(pp)}
	return p, nil
}
