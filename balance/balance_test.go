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
	"upay/merchants"
	"upay/payouts"
	"upay/projections"
	"upay/settlement"
)

const m domain.MerchantID = "270212122"

// at is h o'clock JST on day d of October 2019.
func at(d, h int) time.Time { return time.Date(2019, 10, d, h, 0, 0, 0, domain.Tokyo) }

// fixture is the merchant's October in an event store, with its read
// models caught up.
type fixture struct {
	store *sqlite.Store
	led   *ledger.Ledger
	rm    *sqlitemodels.Models
	run   *projections.Runner
}

func setup(t *testing.T) projections.ReadModels { return setupFixture(t).rm }

func setupFixture(t *testing.T) fixture {
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
	run := projections.NewRunner(s, rm, projections.RunnerOptions{})
	if _, err := run.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	return fixture{store: s, led: l, rm: rm, run: run}
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

type clock struct{ t *time.Time }

func (c clock) Now() time.Time { return *c.t }

// With payouts: a payout issued stops its periods counting as unsettled and
// shows as scheduled until the bank reports on it; a returned transfer is
// owed again; a negative payout is carried forward. What the balance says
// is owed is the merchant's payable in the journal.
func TestBalanceWithPayouts(t *testing.T) {
	f := setupFixture(t)
	ctx := context.Background()
	cal := settlement.DefaultCalendar()
	now := at(22, 9)
	ms := &merchants.Service{Store: f.store}
	if _, err := ms.Handle(ctx, domain.RegisterMerchant{CommandMeta: domain.CommandMeta{At: now}, MerchantRegistered: domain.MerchantRegistered{
		Merchant: m, Name: "テスト商店", Contact: "平 次郎", Email: "owner@example.jp",
		Bank:  domain.BankAccount{BankCode: "0005", BankName: "三菱UFJ銀行", BranchCode: "101", BranchName: "本店", Type: domain.AccountOrdinary, Number: "1234567", Holder: "ﾃｽﾄｼﾖｳﾃﾝ"},
		Rates: domain.Rates{VisaMaster: "3.24", JCBOther: "3.24", Emoney: "3.24"}}}); err != nil {
		t.Fatal(err)
	}
	// Period B goes negative: p3 refunded in full.
	if res, err := f.led.Handle(ctx, domain.Refund{CommandMeta: domain.CommandMeta{RequestID: "r-p3", At: at(25, 10)}, Payment: "p3", Amount: 5000,
		Card: domain.NewCardRef([]byte("k"), "4111111111111111")}); err != nil || !res.Accepted {
		t.Fatalf("refund: %+v, %v", res, err)
	}
	batch := &payouts.Batch{Store: f.store, Merchants: ms, Totals: f.rm, Calendar: cal, Clock: clock{&now}}
	run := func(payday date.Date, when time.Time) domain.PayoutIssued {
		t.Helper()
		now = when
		if _, err := f.run.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		out, _, err := batch.Run(ctx, payouts.Options{Payday: payday, At: when})
		if err != nil || len(out) != 1 || out[0].Status != payouts.Issued {
			t.Fatalf("payout %s: %+v, %v", payday, out, err)
		}
		return out[0].Payout
	}
	balanceOn := func(d date.Date) balance.Balance {
		t.Helper()
		if _, err := f.run.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		b, err := balance.Compute(ctx, f.rm, cal, m, d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	p1 := run(day(31), at(29, 9)) // period A: 10,000 VISA, 3,000 JCB
	if !p1.Transferred || p1.Net != 13000-421-42-198 {
		t.Fatalf("payout of 10/31: %+v", p1)
	}
	// The day before, period A is unsettled; from the notice date on it is
	// a scheduled payout.
	if b := balanceOn(day(28)); len(b.Card) != 2 || len(b.List) != 0 || b.Scheduled != 0 {
		t.Fatalf("on 10/28: %+v", b)
	}
	b := balanceOn(day(29))
	if len(b.Card) != 1 || b.Card[0].Start != day(16) || b.CardTotal != -2000 || len(b.List) != 1 ||
		b.List[0].NoticeNo != p1.NoticeNo || b.List[0].Status != projections.PayoutStatusIssued || b.Scheduled != p1.Net || b.Owed != -2000+400 {
		t.Fatalf("on 10/29: %+v", b)
	}
	now = at(31, 15)
	if err := batch.Mark(ctx, m, day(31), false, "口座解約"); err != nil {
		t.Fatal(err)
	}
	// Returned on 10/31: on 10/30 the bank had not reported yet.
	if b := balanceOn(day(30)); b.Scheduled != p1.Net || b.Returned != 0 || b.List[0].Status != projections.PayoutStatusIssued {
		t.Fatalf("on 10/30: %+v", b)
	}
	b = balanceOn(day(31))
	if b.Scheduled != 0 || b.Returned != p1.Net || b.List[0].Status != projections.PayoutStatusReturned || b.List[0].Reason != "口座解約" ||
		b.Owed != -2000+400+p1.Net {
		t.Fatalf("on 10/31: %+v", b)
	}

	// Period B: 5,000 - 2,000 - 5,000 = -2,000, fee -64, tax -6: carried.
	p2 := run(date.New(2019, 11, 15), time.Date(2019, 11, 13, 9, 0, 0, 0, domain.Tokyo))
	if p2.Transferred || p2.CarriedForward != -2000+64+6 {
		t.Fatalf("payout of 11/15: %+v", p2)
	}
	b = balanceOn(date.New(2019, 11, 13))
	if len(b.Card) != 0 || len(b.Emoney) != 1 || b.Total != 400 || b.CarriedForward != p2.CarriedForward || b.CarriedFrom != p2.NoticeNo ||
		b.Returned != p1.Net || len(b.List) != 2 || b.Owed != 400+p2.CarriedForward+p1.Net {
		t.Fatalf("on 11/13: %+v", b)
	}
	tb, err := f.rm.TrialBalance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if payable := tb.Balance(projections.MerchantPayable(m), true); payable != b.Owed {
		t.Fatalf("payable %d, balance owed %d", payable, b.Owed)
	}
}
