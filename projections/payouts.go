package projections

import (
	"time"

	"github.com/rickb777/date"

	"upay/domain"
)

// Payout statuses: issued until the bank reports the transfer, then paid or
// returned (組戻し). A payout that was carried forward instead of
// transferred stays issued: it has no bank outcome.
const (
	PayoutStatusIssued   = "issued"
	PayoutStatusPaid     = "paid"
	PayoutStatusReturned = "returned"
)

// Payout is one row of the payouts read model: one merchant's payout for
// one payday with every figure of its notice and the bank's outcome.
type Payout struct {
	NoticeNo       string
	Merchant       domain.MerchantID
	Payday         date.Date
	NoticeDate     date.Date
	Lines          []domain.PayoutLine
	FeeTotal       domain.Yen
	FeeTax         domain.Yen
	PriorPeriod    domain.Yen
	PriorFrom      string // notice number the prior-period amount came from
	TransferFee    domain.Yen
	TransferFeeTax domain.Yen
	Net            domain.Yen
	CarriedForward domain.Yen
	Transferred    bool
	FeeWaived      bool
	Status         string // PayoutStatusIssued, ...Paid or ...Returned
	Reason         string // of a return
	IssuedAt       time.Time
	OutcomeAt      time.Time       // processing time of the bank outcome; zero while issued
	Position       domain.Position // of the last event applied
}

// PayoutOutcome is a bank outcome to apply to a payout stored before: a
// page of events holds the payout.paid or payout.returned but not the
// payout.issued before it.
type PayoutOutcome struct {
	NoticeNo string
	Status   string
	Reason   string
	At       time.Time
	Position domain.Position
}

// NewPayout is the row a payout.issued starts. Errors: U1001 for a payday
// or notice date that is not a date.
func NewPayout(e domain.PayoutIssued, at time.Time, pos domain.Position) (Payout, error) {
	payday, err1 := date.ParseISO(e.Payday)
	notice, err2 := date.ParseISO(e.NoticeDate)
	if err1 != nil || err2 != nil {
		return Payout{}, domain.Err(domain.CodeMalformed, "payout %s: payday %q, notice date %q: want YYYY-MM-DD", e.NoticeNo, e.Payday, e.NoticeDate)
	}
	return Payout{NoticeNo: e.NoticeNo, Merchant: e.Merchant, Payday: payday, NoticeDate: notice, Lines: e.Lines,
		FeeTotal: e.FeeTotal, FeeTax: e.FeeTax, PriorPeriod: e.PriorPeriod, PriorFrom: e.PriorFrom,
		TransferFee: e.TransferFee, TransferFeeTax: e.TransferFeeTax, Net: e.Net, CarriedForward: e.CarriedForward,
		Transferred: e.Transferred, FeeWaived: e.FeeWaived, Status: PayoutStatusIssued, IssuedAt: at.UTC(), Position: pos}, nil
}

// OutcomeOf returns the outcome a payout.paid or payout.returned records;
// ok is false for any other event.
func OutcomeOf(e domain.Event, at time.Time, pos domain.Position) (PayoutOutcome, bool) {
	switch e := e.(type) {
	case domain.PayoutPaid:
		return PayoutOutcome{NoticeNo: e.NoticeNo, Status: PayoutStatusPaid, At: at.UTC(), Position: pos}, true
	case domain.PayoutReturned:
		return PayoutOutcome{NoticeNo: e.NoticeNo, Status: PayoutStatusReturned, Reason: e.Reason, At: at.UTC(), Position: pos}, true
	}
	return PayoutOutcome{}, false
}

// Apply records a bank outcome on the row.
func (p *Payout) Apply(o PayoutOutcome) {
	p.Status, p.Reason, p.OutcomeAt, p.Position = o.Status, o.Reason, o.At, o.Position
}

// StatusOn returns the payout's status as of the end of business date d:
// issued when it was issued on or before d and its outcome came later; ""
// when it was issued after d.
func (p Payout) StatusOn(d date.Date) string {
	switch {
	case domain.BusinessDate(p.IssuedAt).After(d):
		return ""
	case p.Status != PayoutStatusIssued && domain.BusinessDate(p.OutcomeAt).After(d):
		return PayoutStatusIssued
	}
	return p.Status
}

// Settlement is one line of an issued payout as the listing sees it: the
// sales of one merchant's brand group in one period are paid out by the
// notice NoticeNo.
type Settlement struct {
	Merchant domain.MerchantID
	Group    domain.Group
	From, To date.Date // the period, inclusive
	NoticeNo string
}

// Settlements returns the lines of a payout as settlements, in line order.
// Errors: U1001 for a period bound that is not a date.
func Settlements(e domain.PayoutIssued) ([]Settlement, error) {
	out := make([]Settlement, 0, len(e.Lines))
	for _, l := range e.Lines {
		from, err1 := date.ParseISO(l.PeriodStart)
		to, err2 := date.ParseISO(l.PeriodEnd)
		if err1 != nil || err2 != nil {
			return nil, domain.Err(domain.CodeMalformed, "payout %s: period %q..%q: want YYYY-MM-DD", e.NoticeNo, l.PeriodStart, l.PeriodEnd)
		}
		out = append(out, Settlement{Merchant: e.Merchant, Group: l.Group, From: from, To: to, NoticeNo: e.NoticeNo})
	}
	return out, nil
}

// Brands lists the listing's brands (Transaction.Brand) of the group.
func (s Settlement) Brands() []string {
	var out []string
	for _, b := range domain.Brands {
		if b.Group() == s.Group {
			out = append(out, string(b))
		}
	}
	if s.Group == domain.GroupEmoney {
		out = append(out, "emoney")
	}
	return out
}

// Stamp sets the row's payout to the settlement's notice number when the
// row is the merchant's, in the group, with a sales date in the period and
// no payout yet; it reports whether it did. The first payout to cover a
// sale keeps it: a refund processed in a later period is paid out (as a
// negative amount) by that period's payout, and the row still names the
// payout that settled its sale. Stamping leaves the row's position and
// update time alone: those are its payment's events'.
func (s Settlement) Stamp(t *Transaction) bool {
	if t.Payout != "" || t.Merchant != s.Merchant || t.SalesDate == nil ||
		t.SalesDate.Before(s.From) || t.SalesDate.After(s.To) || groupOf(t.Brand) != s.Group {
		return false
	}
	t.Payout = s.NoticeNo
	return true
}

// groupOf returns the brand group of a listing row's brand.
func groupOf(brand string) domain.Group {
	if brand == "emoney" {
		return domain.GroupEmoney
	}
	return domain.Brand(brand).Group()
}
