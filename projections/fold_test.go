package projections

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/rickb777/date"
	"github.com/shopspring/decimal"

	"upay/domain"
	"upay/settlement"
)

type rec struct {
	e  domain.Event
	at time.Time
}

// randomLog drives the domain with random commands (many rejected) and
// returns the accepted events in order, as the ledger would record them.
func randomLog(seed uint64, n int) []rec {
	rng := rand.New(rand.NewPCG(seed, 1))
	key := []byte("k")
	cards := []string{"4111111111111111", "5500000000000004", "3530111333300000"}
	states := map[domain.PaymentID]*domain.Payment{}
	var ids []domain.PaymentID
	at := time.Date(2019, 10, 1, 0, 0, 0, 0, time.UTC)
	var out []rec
	for i := 0; i < n; i++ {
		at = at.Add(time.Duration(rng.IntN(7200)) * time.Second)
		var c domain.Command
		pick := func() domain.PaymentID {
			if len(ids) == 0 {
				return "none"
			}
			return ids[rng.IntN(len(ids))]
		}
		card := domain.NewCardRef(key, cards[rng.IntN(len(cards))])
		merchant := domain.MerchantID(fmt.Sprintf("27000000%d", 1+rng.IntN(3)))
		switch rng.IntN(8) {
		case 0, 1:
			res := "ok-01"
			if rng.IntN(10) == 0 {
				res = "ng-02"
			}
			id := domain.PaymentID(fmt.Sprintf("p%d", i))
			c = domain.Authorize{Payment: id, Merchant: merchant, Brand: domain.Brands[rng.IntN(6)], Amount: 1 + rng.Int64N(20000), Installments: 1, Card: card, Result: res}
		case 2, 3:
			c = domain.Capture{Payment: pick(), Amount: rng.Int64N(3) * 1000}
		case 4:
			c = domain.Void{Payment: pick()}
		case 5:
			c = domain.Refund{Payment: pick(), Amount: 1 + rng.Int64N(15000), Card: card}
		case 6:
			id := domain.PaymentID(fmt.Sprintf("e%d", i))
			outcome := []string{"succeeded", "failed", "unknown"}[rng.IntN(3)]
			c = domain.EmoneyDebitCmd{Payment: id, Merchant: merchant, Amount: 1 + rng.Int64N(5000), Card: card, BalanceBefore: 5000 + rng.Int64N(15000), Outcome: outcome, Training: rng.IntN(8) == 0}
		case 7:
			c = domain.EmoneyResolve{Payment: pick(), Outcome: []string{"succeeded", "failed"}[rng.IntN(2)]}
		}
		p := states[c.PaymentID()]
		if p == nil {
			p = &domain.Payment{}
		}
		evs, err := p.Decide(c, at)
		if err != nil {
			continue
		}
		if !p.Exists {
			ids = append(ids, c.PaymentID())
			states[c.PaymentID()] = p
		}
		for _, e := range evs {
			p.Evolve(e, at)
			out = append(out, rec{e, at})
		}
	}
	return out
}

// model is every read model folded live, event by event.
type model struct {
	tx      map[domain.PaymentID]*Transaction
	tb      TrialBalance
	totals  map[TotalKey]Total
	payouts map[string]*Payout
	issued  map[string]domain.PayoutIssued
}

func newModel() *model {
	return &model{tx: map[domain.PaymentID]*Transaction{}, tb: TrialBalance{}, totals: map[TotalKey]Total{},
		payouts: map[string]*Payout{}, issued: map[string]domain.PayoutIssued{}}
}

func (m *model) lookup(notice string) (domain.PayoutIssued, bool) {
	p, ok := m.issued[notice]
	return p, ok
}

func (m *model) apply(r rec, i int) error {
	pos := domain.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}
	switch e := r.e.(type) {
	case domain.PayoutIssued:
		m.issued[e.NoticeNo] = e
		p, err := NewPayout(e, r.at, pos)
		if err != nil {
			return err
		}
		m.payouts[e.NoticeNo] = &p
		ss, err := Settlements(e)
		if err != nil {
			return err
		}
		for _, s := range ss {
			for _, t := range m.tx {
				s.Stamp(t)
			}
		}
	case domain.PayoutPaid, domain.PayoutReturned:
		o, _ := OutcomeOf(e, r.at, pos)
		m.payouts[o.NoticeNo].Apply(o)
	default:
		id, ok := PaymentOf(r.e)
		if !ok {
			return fmt.Errorf("event %T names no payment", r.e)
		}
		t := m.tx[id]
		if t == nil {
			t = &Transaction{}
			m.tx[id] = t
		}
		t.Apply(r.e, r.at, pos)
	}
	ps, err := Postings(r.e, m.lookup)
	if err != nil {
		return err
	}
	m.tb.Post(ps)
	if k, d, ok := TotalDelta(r.e, r.at); ok {
		cur := m.totals[k]
		m.totals[k] = Total{cur.Count + d.Count, cur.Sales + d.Sales}
	}
	return nil
}

var testMerchants = []domain.MerchantID{"270000001", "270000002", "270000003", smallMerchant}

// smallMerchant sells little: withPayouts gives it a few small sales and
// refunds, so that its payouts are carried forward, positive and negative.
const smallMerchant domain.MerchantID = "270000004"

// The journal balances after every prefix of any log, and each merchant's
// payable equals what the period totals and the listing say they are owed.
func TestJournalBalancesAndMatchesTotals(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		log := randomLog(seed, 400)
		m := newModel()
		for i, r := range log {
			if err := m.apply(r, i); err != nil {
				t.Fatalf("seed %d event %d: %v", seed, i, err)
			}
			if d, c := m.tb.Totals(); d != c {
				t.Fatalf("seed %d after event %d: debits %d != credits %d", seed, i, d, c)
			}
		}
		owedByTotals := map[domain.MerchantID]domain.Yen{}
		for k, v := range m.totals {
			owedByTotals[k.Merchant] += v.Sales
		}
		owedByListing := map[domain.MerchantID]domain.Yen{}
		for _, tx := range m.tx {
			owedByListing[tx.Merchant] += tx.Captured - tx.Refunded
		}
		for _, mid := range testMerchants {
			b := m.tb[MerchantPayable(mid)]
			payable := b.Credit - b.Debit
			if payable != owedByTotals[mid] || payable != owedByListing[mid] {
				t.Fatalf("seed %d merchant %s: payable %d, totals %d, listing %d", seed, mid, payable, owedByTotals[mid], owedByListing[mid])
			}
		}
		if len(log) < 50 {
			t.Fatalf("seed %d: only %d events, the generator is too weak", seed, len(log))
		}
	}
}

// withPayouts returns log with payouts recorded as the payout batch would:
// once every period of a payday has closed (the first event on a later
// business date), each merchant with a capture or refund in those periods
// gets a payout.issued computed by settlement.Compute from the period
// totals so far and the previous payout's carry-forward; a transferred
// payout later gets a bank outcome (paid or returned) or none.
func withPayouts(t *testing.T, seed uint64, log []rec) []rec {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	cal := settlement.DefaultCalendar()
	first, last := domain.BusinessDate(log[0].at), domain.BusinessDate(log[len(log)-1].at)
	periods, err := cal.PeriodsStarting(settlement.MonthOf(first), settlement.MonthOf(last))
	if err != nil {
		t.Fatal(err)
	}
	var paydays []date.Date // in order
	for _, p := range periods {
		if !slices.Contains(paydays, p.Payday) {
			paydays = append(paydays, p.Payday)
		}
	}
	totals := map[TotalKey]Total{}
	carried := map[domain.MerchantID]domain.PayoutIssued{}
	type pending struct {
		p   domain.PayoutIssued
		due int // index of the payment event after which the outcome comes
	}
	var outcomes []pending
	bank := map[domain.MerchantID]string{}
	tax := map[domain.MerchantID]string{}
	for i, mid := range testMerchants {
		bank[mid] = []string{"0005", settlement.MizuhoBankCode, "0009"}[(int(seed)+i)%3]
		tax[mid] = []string{"10", "0"}[(int(seed)+i)%2]
	}
	rate := map[domain.Group]decimal.Decimal{domain.GroupVisaMaster: decimal.RequireFromString("3.24"),
		domain.GroupJCBOther: decimal.RequireFromString("3.74"), domain.GroupEmoney: decimal.RequireFromString("1.5")}
	count := func(e domain.Event, at time.Time) {
		if k, d, ok := TotalDelta(e, at); ok {
			cur := totals[k]
			totals[k] = Total{cur.Count + d.Count, cur.Sales + d.Sales}
		}
	}
	var out []rec
	var small []domain.CardCaptured
	for i, r := range log {
		if rng.IntN(40) == 0 {
			id := domain.PaymentID(fmt.Sprintf("s%d", i))
			amount := 50 + rng.Int64N(250)
			out = append(out, rec{domain.CardAuthorized{Payment: id, Merchant: smallMerchant, Brand: domain.JCB, Amount: amount, Installments: 1,
				CardLast4: "0000", Result: domain.ResultApproved}, r.at})
			c := domain.CardCaptured{Payment: id, Merchant: smallMerchant, Brand: domain.JCB, Amount: amount}
			out = append(out, rec{c, r.at})
			small = append(small, c)
			count(c, r.at)
		} else if len(small) > 0 && rng.IntN(60) == 0 {
			c := small[0]
			small = small[1:]
			ref := domain.CardRefunded{Payment: c.Payment, Merchant: smallMerchant, Brand: domain.JCB, Amount: c.Amount, Result: "ok-40"}
			out = append(out, rec{ref, r.at})
			count(ref, r.at)
		}
		today := domain.BusinessDate(r.at)
		for len(paydays) > 0 {
			ps, err := cal.PeriodsPaidOn(paydays[0])
			if err != nil {
				t.Fatal(err)
			}
			closed := true
			for _, p := range ps {
				closed = closed && today.After(p.Close)
			}
			if !closed {
				break
			}
			for _, mid := range testMerchants {
				var lines []settlement.LineInput
				for _, p := range ps {
					for _, g := range domain.Groups {
						if (g == domain.GroupEmoney) != (p.Kind == settlement.KindEmoney) {
							continue
						}
						li := settlement.LineInput{Group: g, PeriodStart: p.Start, PeriodEnd: p.End, Rate: rate[g]}
						for d := p.Start; !d.After(p.End); d = d.Add(1) {
							c := totals[TotalKey{mid, g, d}]
							li.Count += c.Count
							li.Sales += c.Sales
						}
						if li.Count > 0 {
							lines = append(lines, li)
						}
					}
				}
				if len(lines) == 0 {
					continue
				}
				prev := carried[mid]
				c, err := settlement.Compute(settlement.Input{Lines: lines, FeeTaxRate: decimal.RequireFromString(tax[mid]),
					PriorPeriod: prev.CarriedForward, BankCode: bank[mid]})
				if err != nil {
					t.Fatal(err)
				}
				payday := paydays[0].String()
				e := domain.PayoutIssued{Merchant: mid, Payday: payday, NoticeDate: ps[0].NoticeDate.String(),
					NoticeNo: domain.NoticeNo(mid, 1, payday), FeeTotal: c.FeeTotal, FeeTaxRate: tax[mid], FeeTax: c.FeeTax,
					PriorPeriod: c.PriorPeriod, PriorFrom: prev.NoticeNo, TransferFee: c.TransferFee, TransferFeeTax: c.TransferFeeTax,
					Net: c.Net, CarriedForward: c.CarriedForward, Transferred: c.Transferred, FeeWaived: c.FeeWaived}
				for _, l := range c.Lines {
					e.Lines = append(e.Lines, domain.PayoutLine{Group: l.Group, PeriodStart: l.PeriodStart.String(), PeriodEnd: l.PeriodEnd.String(),
						Count: l.Count, Sales: l.Sales, Rate: l.Rate.String(), Fee: l.Fee, Amount: l.Amount})
				}
				out = append(out, rec{e, r.at})
				carried[mid] = e
				if e.Transferred && rng.IntN(6) > 0 {
					outcomes = append(outcomes, pending{e, i + 1 + rng.IntN(60)})
				}
			}
			paydays = paydays[1:]
		}
		kept := outcomes[:0]
		for _, o := range outcomes {
			if o.due > i {
				kept = append(kept, o)
				continue
			}
			var e domain.Event = domain.PayoutPaid{Merchant: o.p.Merchant, Payday: o.p.Payday, NoticeNo: o.p.NoticeNo}
			if rng.IntN(3) == 0 {
				e = domain.PayoutReturned{Merchant: o.p.Merchant, Payday: o.p.Payday, NoticeNo: o.p.NoticeNo, Reason: "口座解約"}
			}
			out = append(out, rec{e, r.at})
		}
		outcomes = kept
		out = append(out, r)
		count(r.e, r.at)
	}
	return out
}

// owed is what the read models other than the journal say a merchant is
// owed after payouts (docs/journal.md, invariant 2): the sales of its
// period-totals cells no payout line has settled, plus its latest payout's
// carry-forward, plus the nets of its returned transfers.
func (m *model) owed(mid domain.MerchantID) (unsettled, carried, returned domain.Yen) {
	var latest *Payout
	for _, p := range m.payouts {
		if p.Merchant != mid {
			continue
		}
		if latest == nil || p.Payday.After(latest.Payday) {
			latest = p
		}
		if p.Status == PayoutStatusReturned {
			returned += p.Net
		}
	}
	if latest != nil {
		carried = latest.CarriedForward
	}
	for k, v := range m.totals {
		if k.Merchant == mid && !m.settled(k) {
			unsettled += v.Sales
		}
	}
	return
}

// settled reports whether a payout line covers a period-totals cell.
func (m *model) settled(k TotalKey) bool {
	for _, p := range m.payouts {
		if p.Merchant != k.Merchant {
			continue
		}
		for _, l := range p.Lines {
			if l.Group == k.Group && l.PeriodStart <= k.Date.String() && k.Date.String() <= l.PeriodEnd {
				return true
			}
		}
	}
	return false
}

// With payouts in the log the journal still balances after every prefix,
// each merchant's payable is its unsettled sales plus its carry-forward
// plus its returned transfers, the other accounts hold exactly the
// payouts' figures, and each listing row names the payout that settled its
// sale.
func TestJournalWithPayouts(t *testing.T) {
	var issued, paid, returned, carriedOver, negative int
	for seed := uint64(1); seed <= 30; seed++ {
		log := withPayouts(t, seed, randomLog(seed, 1500))
		m := newModel()
		for i, r := range log {
			if err := m.apply(r, i); err != nil {
				t.Fatalf("seed %d event %d: %v", seed, i, err)
			}
			if d, c := m.tb.Totals(); d != c {
				t.Fatalf("seed %d after event %d (%s): debits %d != credits %d", seed, i, r.e.EventType(), d, c)
			}
			if _, ok := r.e.(domain.PayoutIssued); !ok && i%25 != 0 && i != len(log)-1 {
				continue
			}
			for _, mid := range testMerchants {
				u, c, ret := m.owed(mid)
				if payable := m.tb.Balance(MerchantPayable(mid), true); payable != u+c+ret {
					t.Fatalf("seed %d after event %d (%s): merchant %s payable %d, want unsettled %d + carried %d + returned %d",
						seed, i, r.e.EventType(), mid, payable, u, c, ret)
				}
			}
		}
		var fees, taxes, transferFees, inTransit, out domain.Yen
		for _, p := range m.payouts {
			issued++
			fees += p.FeeTotal
			taxes += p.FeeTax + p.TransferFeeTax
			transferFees += p.TransferFee
			switch {
			case p.Status == PayoutStatusPaid:
				paid++
				out += p.Net
			case p.Status == PayoutStatusReturned:
				returned++
			case p.Transferred:
				inTransit += p.Net
			}
			if !p.Transferred {
				carriedOver++
			}
			if p.CarriedForward < 0 {
				negative++
			}
		}
		for acc, want := range map[string]domain.Yen{AccFeeRevenue: fees, AccTaxPayable: taxes, AccTransferRevenue: transferFees,
			AccTransferInTransit: inTransit} {
			if got := m.tb.Balance(acc, true); got != want {
				t.Fatalf("seed %d: %s holds %d, want %d", seed, acc, got, want)
			}
		}
		if got := m.tb.Balance(AccBank, false); got != -out {
			t.Fatalf("seed %d: bank holds %d, want %d (the paid transfers left it)", seed, got, -out)
		}
		for _, tx := range m.tx {
			want := ""
			if tx.SalesDate != nil {
				for _, p := range m.payouts {
					for _, l := range p.Lines {
						if p.Merchant == tx.Merchant && l.Group == groupOf(tx.Brand) && l.PeriodStart <= tx.SalesDate.String() && tx.SalesDate.String() <= l.PeriodEnd {
							want = p.NoticeNo
						}
					}
				}
			}
			if tx.Payout != want {
				t.Fatalf("seed %d: row %s (%s %s sales %v) payout %q, want %q", seed, tx.Payment, tx.Merchant, tx.Brand, tx.SalesDate, tx.Payout, want)
			}
		}
	}
	// The logs must exercise every case the postings distinguish.
	if issued < 100 || paid < 20 || returned < 10 || carriedOver < 5 || negative < 1 {
		t.Fatalf("payouts %d, paid %d, returned %d, carried over %d, negative carry %d: the generator is too weak",
			issued, paid, returned, carriedOver, negative)
	}
}

// The postings of one payout, figure by figure.
func TestPayoutPostings(t *testing.T) {
	p := domain.PayoutIssued{Merchant: "270212122", NoticeNo: "270212122-001-20191031", Payday: "2019-10-31", NoticeDate: "2019-10-29",
		Lines: []domain.PayoutLine{
			{Group: domain.GroupVisaMaster, PeriodStart: "2019-10-01", PeriodEnd: "2019-10-15", Count: 2, Sales: 4000, Rate: "3.24", Fee: 129, Amount: 3871},
			{Group: domain.GroupEmoney, PeriodStart: "2019-09-01", PeriodEnd: "2019-09-30", Count: 1, Sales: -500, Rate: "3.24", Fee: -16, Amount: -484},
		},
		FeeTotal: 113, FeeTaxRate: "10", FeeTax: 11, PriorPeriod: -100, TransferFee: 180, TransferFeeTax: 18,
		Net: 3871 - 484 - 11 - 100 - 198, Transferred: true}
	ps, err := Postings(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Posting{
		{Account: "merchant-payable:270212122", Debit: 4000},
		{Account: "merchant-payable:270212122", Credit: 500},
		{Account: "merchant-payable:270212122", Credit: 100},
		{Account: AccFeeRevenue, Credit: 113},
		{Account: AccTaxPayable, Credit: 11},
		{Account: AccTransferRevenue, Credit: 180},
		{Account: AccTaxPayable, Credit: 18},
		{Account: AccTransferInTransit, Credit: 3078},
	}
	if !slices.Equal(ps, want) {
		t.Fatalf("issued:\n got %+v\nwant %+v", ps, want)
	}
	lookup := func(n string) (domain.PayoutIssued, bool) { return p, n == p.NoticeNo }
	paid, err := Postings(domain.PayoutPaid{Merchant: p.Merchant, Payday: p.Payday, NoticeNo: p.NoticeNo}, lookup)
	if err != nil || !slices.Equal(paid, []Posting{{Account: AccTransferInTransit, Debit: 3078}, {Account: AccBank, Credit: 3078}}) {
		t.Fatalf("paid: %+v, %v", paid, err)
	}
	ret, err := Postings(domain.PayoutReturned{Merchant: p.Merchant, Payday: p.Payday, NoticeNo: p.NoticeNo, Reason: "x"}, lookup)
	if err != nil || !slices.Equal(ret, []Posting{{Account: AccTransferInTransit, Debit: 3078}, {Account: "merchant-payable:270212122", Credit: 3078}}) {
		t.Fatalf("returned: %+v, %v", ret, err)
	}
	if _, err := Postings(domain.PayoutPaid{NoticeNo: "270212122-001-20191115"}, lookup); domain.CodeOf(err) != domain.CodeMalformed {
		t.Fatalf("an outcome without its payout: %v", err)
	}
	// A carry-forward: nothing transferred, the whole amount stays owed.
	c := domain.PayoutIssued{Merchant: "270212122", NoticeNo: "n", Lines: []domain.PayoutLine{{Group: domain.GroupJCBOther, Sales: 200, Fee: 6, Amount: 194}},
		FeeTotal: 6, PriorPeriod: 0, CarriedForward: 194}
	ps, err = Postings(c, nil)
	if err != nil || !slices.Equal(ps, []Posting{{Account: "merchant-payable:270212122", Debit: 200}, {Account: AccFeeRevenue, Credit: 6},
		{Account: "merchant-payable:270212122", Credit: 194}}) {
		t.Fatalf("carried forward: %+v, %v", ps, err)
	}
	// Figures that break the payout's identities do not post.
	c.CarriedForward = 193
	if _, err := Postings(c, nil); domain.CodeOf(err) != domain.CodeMalformed {
		t.Fatalf("an unbalanced payout: %v", err)
	}
}

func TestTransactionStatuses(t *testing.T) {
	at := time.Date(2019, 10, 15, 15, 30, 0, 0, time.UTC) // 2019-10-16 JST
	var tx Transaction
	tx.Apply(domain.CardAuthorized{Payment: "p1", Merchant: "270212122", Brand: domain.Visa, Amount: 5000, Installments: 1, CardLast4: "1111", Result: "ok-01"}, at, domain.Position{})
	if tx.Status != StatusAuthorized || tx.MaskedCard != "************1111" || tx.SalesDate != nil {
		t.Fatalf("%+v", tx)
	}
	tx.Apply(domain.CardCaptured{Payment: "p1", Merchant: "270212122", Brand: domain.Visa, Amount: 5000}, at, domain.Position{})
	if tx.Status != StatusCaptured || tx.SalesDate == nil || tx.SalesDate.String() != "2019-10-16" {
		t.Fatalf("capture: %+v", tx)
	}
	tx.Apply(domain.CardRefunded{Payment: "p1", Merchant: "270212122", Brand: domain.Visa, Amount: 1000, Result: "ok-40"}, at.Add(48*time.Hour), domain.Position{})
	if tx.Status != StatusPartiallyRefunded || tx.ReturnDate.String() != "2019-10-18" || tx.LastCode != "ok-40" {
		t.Fatalf("refund: %+v", tx)
	}
	tx.Apply(domain.CardRefunded{Payment: "p1", Merchant: "270212122", Brand: domain.Visa, Amount: 4000, Result: "ok-40"}, at.Add(48*time.Hour), domain.Position{})
	if tx.Status != StatusRefunded {
		t.Fatalf("full refund: %+v", tx)
	}
	var e Transaction
	e.Apply(domain.EmoneyDebit{Payment: "e1", Merchant: "270212122", Amount: 300, BalanceBefore: 1000, Outcome: "unknown"}, at, domain.Position{})
	if e.Status != StatusUnknown || e.Captured != 0 || e.BalanceAfter != nil {
		t.Fatalf("unknown debit: %+v", e)
	}
	e.Apply(domain.EmoneyResolved{Payment: "e1", Merchant: "270212122", Amount: 300, Outcome: "succeeded", BalanceAfter: 700}, at.Add(24*time.Hour), domain.Position{})
	if e.Status != StatusCaptured || e.Captured != 300 || *e.BalanceAfter != 700 || e.SalesDate.String() != "2019-10-17" {
		t.Fatalf("resolved debit: %+v", e)
	}
	var tr Transaction
	after := domain.Yen(99499)
	tr.Apply(domain.EmoneyDebit{Payment: "e2", Merchant: "270212122", Amount: 500, BalanceBefore: 99999, BalanceAfter: &after, Outcome: "succeeded", Training: true}, at, domain.Position{})
	if ps, _ := Postings(domain.EmoneyDebit{Training: true, Outcome: "succeeded", Amount: 500}, nil); tr.Status != StatusTraining || tr.Captured != 0 || ps != nil {
		t.Fatalf("training debit counts as money: %+v", tr)
	}
}
