package projections

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"upay/domain"
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
	tx     map[domain.PaymentID]*Transaction
	tb     TrialBalance
	totals map[TotalKey]Total
}

func newModel() *model {
	return &model{tx: map[domain.PaymentID]*Transaction{}, tb: TrialBalance{}, totals: map[TotalKey]Total{}}
}

func (m *model) apply(r rec, i int) {
	id, ok := PaymentOf(r.e)
	if !ok {
		panic(fmt.Sprintf("event %T names no payment", r.e))
	}
	t := m.tx[id]
	if t == nil {
		t = &Transaction{}
		m.tx[id] = t
	}
	t.Apply(r.e, r.at, domain.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)})
	m.tb.Post(Postings(r.e))
	if k, d, ok := TotalDelta(r.e, r.at); ok {
		cur := m.totals[k]
		m.totals[k] = Total{cur.Count + d.Count, cur.Sales + d.Sales}
	}
}

// The journal balances after every prefix of any log, and each merchant's
// payable equals what the period totals and the listing say they are owed.
func TestJournalBalancesAndMatchesTotals(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		log := randomLog(seed, 400)
		m := newModel()
		for i, r := range log {
			m.apply(r, i)
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
		for _, mid := range []domain.MerchantID{"270000001", "270000002", "270000003"} {
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
	if tr.Status != StatusTraining || tr.Captured != 0 || Postings(domain.EmoneyDebit{Training: true, Outcome: "succeeded", Amount: 500}) != nil {
		t.Fatalf("training debit counts as money: %+v", tr)
	}
}
