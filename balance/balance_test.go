package balance_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/sqlite"
	"upay/adapters/sqlitemodels"
	"upay/balance"
	"upay/domain"
	"upay/ledger"
	"upay/projections"
	"upay/settlement"
)

const m domain.MerchantID = "270212122"

// at is h o'clock JST on day d of October 2019.
func at(d, h int) time.Time { return time.Date(2019, 10, d, h, 0, 0, 0, domain.Tokyo) }

func setup(t *testing.T) projections.ReadModels {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(filepath.Join(dir, "upay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	l, err := ledger.New(ctx, s, ledger.Options{Import: true})
	if err != nil {
		t.Fatal(err)
	}
	card := domain.NewCardRef([]byte("k"), "4111111111111111")
	ic := domain.NewCardRef([]byte("k"), "JE01")
	n := 0
	meta := func(t time.Time) domain.CommandMeta {
		n++
		return domain.CommandMeta{RequestID: fmt.Sprint("r", n), At: t}
	}
	sale := func(id string, b domain.Brand, amount domain.Yen, t time.Time) []domain.Command {
		return []domain.Command{
			domain.Authorize{CommandMeta: meta(t), Payment: domain.PaymentID(id), Merchant: m, Brand: b, Amount: amount, Installments: 1, Card: card, Result: domain.ResultApproved},
			domain.Capture{CommandMeta: meta(t), Payment: domain.PaymentID(id)},
		}
	}
	var cmds []domain.Command
	cmds = append(cmds, sale("p1", domain.Visa, 10000, at(1, 10))...) // period A
	cmds = append(cmds, sale("p2", domain.JCB, 3000, at(2, 10))...)   // period A
	cmds = append(cmds, domain.EmoneyDebitCmd{CommandMeta: meta(at(5, 10)), Payment: "e1", Merchant: m, Amount: 400, Card: ic, BalanceBefore: 1000, Outcome: domain.OutcomeSucceeded})
	cmds = append(cmds, domain.EmoneyDebitCmd{CommandMeta: meta(at(6, 10)), Payment: "e2", Merchant: m, Amount: 250, Card: ic, BalanceBefore: 1000, Outcome: domain.OutcomeUnknown})
	cmds = append(cmds, domain.EmoneyDebitCmd{CommandMeta: meta(at(6, 11)), Payment: "e3", Merchant: m, Amount: 900, Card: ic, BalanceBefore: 99999, Outcome: domain.OutcomeSucceeded, Training: true})
	cmds = append(cmds, sale("p3", domain.Mastercard, 5000, at(16, 10))...)                                    // period B
	cmds = append(cmds, domain.Refund{CommandMeta: meta(at(20, 10)), Payment: "p1", Amount: 2000, Card: card}) // counts in B
	other := sale("other", domain.Visa, 777, at(21, 10))
	auth := other[0].(domain.Authorize)
	auth.Merchant = "270000009" // not ours
	cmds = append(cmds, auth, other[1])
	res, err := l.HandleBatch(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.Accepted {
			t.Fatalf("command %d rejected: %v", i, r.Err)
		}
	}
	rm, err := sqlitemodels.Open(filepath.Join(dir, "upay.db.read.db"), sqlitemodels.Options{Events: s})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rm.Close() })
	if _, err := projections.NewRunner(s, rm, projections.RunnerOptions{}).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	return rm
}

func day(d int) date.Date { return date.New(2019, 10, d) }

func TestBalance(t *testing.T) {
	rm := setup(t)
	cal := settlement.DefaultCalendar()
	ctx := context.Background()

	// On Oct 20 both card periods of October are unpaid.
	b, err := balance.Compute(ctx, rm, cal, m, day(20))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Card) != 2 {
		t.Fatalf("card periods on 10/20: %+v", b.Card)
	}
	a, bb := b.Card[0], b.Card[1]
	if a.Start != day(1) || a.End != day(15) || a.Payday != day(31) || a.Sales != 13000 || a.Count != 2 ||
		len(a.Lines) != 2 || a.Lines[0].Group != domain.GroupVisaMaster || a.Lines[0].Sales != 10000 || a.Lines[1].Group != domain.GroupJCBOther || a.Lines[1].Sales != 3000 {
		t.Fatalf("period A: %+v", a)
	}
	// Period B: the capture of the 16th and the refund of the 20th (of a
	// period A sale: it counts where it was processed).
	if bb.Start != day(16) || bb.Payday != date.New(2019, 11, 15) || bb.Sales != 3000 || bb.Count != 2 || len(bb.Lines) != 1 {
		t.Fatalf("period B: %+v", bb)
	}
	// E-money of October is paid at the end of November, moved from
	// Saturday 11/30 to Friday 11/29; the training debit and the unknown
	// one count nowhere.
	if len(b.Emoney) != 1 || b.Emoney[0].Payday != date.New(2019, 11, 29) || b.Emoney[0].Sales != 400 || b.Emoney[0].Count != 1 {
		t.Fatalf("e-money: %+v", b.Emoney)
	}
	if len(b.Unknown) != 1 || b.Unknown[0].Payment != "e2" || b.UnknownAmount != 250 {
		t.Fatalf("unknown debits: %+v", b.Unknown)
	}
	if b.CardTotal != 16000 || b.EmoneyTotal != 400 || b.Total != 16400 {
		t.Fatalf("totals: card %d, e-money %d, total %d", b.CardTotal, b.EmoneyTotal, b.Total)
	}

	// On Oct 31, period A's payday, A is paid; B and the e-money month are not.
	b, err = balance.Compute(ctx, rm, cal, m, day(31))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Card) != 1 || b.Card[0].Start != day(16) || b.Total != 3400 {
		t.Fatalf("on 10/31: %+v total %d", b.Card, b.Total)
	}
	// On Oct 10 the later sales and the refund had not happened.
	b, err = balance.Compute(ctx, rm, cal, m, day(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Card) != 1 || b.Card[0].Sales != 13000 || b.Total != 13400 {
		t.Fatalf("on 10/10: %+v total %d", b.Card, b.Total)
	}
	// After November 29 nothing of October is unpaid.
	b, err = balance.Compute(ctx, rm, cal, m, date.New(2019, 11, 29))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Card) != 0 || len(b.Emoney) != 0 || b.Total != 0 || len(b.Unknown) != 1 {
		t.Fatalf("on 11/29: %+v", b)
	}
	// A merchant without payments has an empty balance.
	b, err = balance.Compute(ctx, rm, cal, "270000001", day(20))
	if err != nil || len(b.Card)+len(b.Emoney)+len(b.Unknown) != 0 || b.Total != 0 {
		t.Fatalf("empty merchant: %+v, %v", b, err)
	}
}
