package readmodeltest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/merchants"
	"upay/payouts"
	"upay/projections"
	"upay/settlement"
)

// logTotals is the period totals folded from the event store's log: what
// the payout batch reads in the suite, so that running a batch never
// touches the store under test (the tests decide when it catches up).
type logTotals struct{ e *env }

func (l logTotals) PeriodTotals(_ context.Context, m domain.MerchantID, from, to date.Date) ([]projections.TotalRow, error) {
	o := l.e.oracle()
	var out []projections.TotalRow
	for k, v := range o.totals {
		if k.Merchant == m && !k.Date.Before(from) && !k.Date.After(to) {
			out = append(out, projections.TotalRow{TotalKey: k, Total: v})
		}
	}
	return out, nil
}

// envClock is the processing time of payout outcomes: the env's clock.
type envClock struct{ e *env }

func (c envClock) Now() time.Time { return c.e.now }

// batch is a payout batch on the env's event store.
func (e *env) batch() *payouts.Batch {
	return &payouts.Batch{Store: e.events, Merchants: &merchants.Service{Store: e.events}, Totals: logTotals{e},
		Calendar: settlement.DefaultCalendar(), Clock: envClock{e}}
}

// register registers m with its bank and fee tax rate, at the env's time.
func (e *env) register(m domain.MerchantID, bankCode, feeTax string) {
	e.t.Helper()
	reg := domain.RegisterMerchant{CommandMeta: domain.CommandMeta{At: e.now},
		MerchantRegistered: domain.MerchantRegistered{Merchant: m, Name: "テスト商店 " + string(m), Contact: "平 次郎", Email: "owner@example.jp",
			Bank:  domain.BankAccount{BankCode: bankCode, BankName: "りそな銀行", BranchCode: "101", BranchName: "本店", Type: domain.AccountOrdinary, Number: "1234567", Holder: "ﾃｽﾄｼﾖｳﾃﾝ"},
			Rates: domain.Rates{VisaMaster: "3.24", JCBOther: "3.74", Emoney: "1.5"}, FeeTaxRate: feeTax}}
	if _, err := (&merchants.Service{Store: e.events}).Handle(e.ctx, reg); err != nil {
		e.t.Fatalf("register %s: %v", m, err)
	}
}

// advance moves the env's clock to at (never back).
func (e *env) advance(at time.Time) {
	e.t.Helper()
	if at.Before(e.now) {
		e.t.Fatalf("time %s before the last event at %s", at, e.now)
	}
	e.now = at
}

// payout runs the payout batch for payday at at and returns the payouts
// it issued.
func (e *env) payout(payday date.Date, at time.Time) []domain.PayoutIssued {
	e.t.Helper()
	e.advance(at)
	out, _, err := e.batch().Run(e.ctx, payouts.Options{Payday: payday, At: at})
	if err != nil {
		e.t.Fatalf("payout run %s: %v", payday, err)
	}
	var issued []domain.PayoutIssued
	for _, o := range out {
		switch o.Status {
		case payouts.Issued:
			issued = append(issued, o.Payout)
		case payouts.Failed:
			e.t.Fatalf("payout of %s on %s: %v", o.Merchant, payday, o.Err)
		}
	}
	return issued
}

// mark records the bank's outcome of a payout at at: paid, or returned
// with a reason.
func (e *env) mark(m domain.MerchantID, payday date.Date, paid bool, at time.Time) {
	e.t.Helper()
	e.advance(at)
	if err := e.batch().Mark(e.ctx, m, payday, paid, "口座解約"); err != nil {
		e.t.Fatalf("mark %s %s: %v", m, payday, err)
	}
}

// randomPayouts runs, in payday order, the payout batch of every payday
// whose periods have all closed by the env's time and that has not run
// yet, one hour later, registering the merchants first if need be; each
// transferred payout is then paid, returned or left waiting for the bank,
// at random, and its notice issued, delivered, failed, rewritten or
// reissued at random (randomNotices). It returns how many payouts it issued.
func (e *env) randomPayouts(rng *rand.Rand, ms []domain.MerchantID) int {
	e.t.Helper()
	if e.ran == nil {
		e.ran = map[date.Date]bool{}
		for i, m := range ms {
			// Every kind of payee: a transfer fee, none (Mizuho), a
			// non-taxable contract.
			e.register(m, []string{"0005", settlement.MizuhoBankCode, "0009"}[i%3], []string{"10", "10", "0"}[i%3])
		}
	}
	cal := settlement.DefaultCalendar()
	at := e.now.Add(time.Hour)
	today := domain.BusinessDate(at)
	periods, err := cal.PeriodsStarting(settlement.MonthOf(date.New(2019, 9, 1)), settlement.MonthOf(today))
	if err != nil {
		e.t.Fatal(err)
	}
	var paydays []date.Date
	for _, p := range periods {
		if !slices.Contains(paydays, p.Payday) {
			paydays = append(paydays, p.Payday)
		}
	}
	slices.SortFunc(paydays, func(a, b date.Date) int { return int(a.Sub(b)) })
	n := 0
	var all []domain.PayoutIssued
	for _, pd := range paydays {
		if e.ran[pd] {
			continue
		}
		ps, err := cal.PeriodsPaidOn(pd)
		if err != nil {
			e.t.Fatal(err)
		}
		if slices.ContainsFunc(ps, func(p settlement.Period) bool { return !today.After(p.Close) }) {
			break // later paydays wait too: payouts are issued in payday order
		}
		e.ran[pd] = true
		issued := e.payout(pd, at)
		n += len(issued)
		for _, p := range issued {
			if !p.Transferred {
				continue
			}
			switch rng.IntN(4) {
			case 0, 1:
				e.mark(p.Merchant, pd, true, e.now.Add(time.Minute))
			case 2:
				e.mark(p.Merchant, pd, false, e.now.Add(time.Minute))
			}
		}
		all = append(all, issued...)
	}
	// After every run: the notices' times come after the payouts' own.
	e.randomNotices(rng, all)
	return n
}

// mixedPayouts registers the fixture's merchants and runs the payout of
// 2019-10-31 on its notice date: period A of October for mA (VISA/MASTER
// and JCB/その他) and mB, whose e-money of October waits for November. The
// bank pays mA's transfer and returns mB's; their notices are issued,
// delivered, failed, rewritten and reissued. mixed calls it between the
// sales of the 20th and the refund of the 31st.
func (e *env) mixedPayouts() {
	e.t.Helper()
	for i, m := range fixtureMerchants {
		e.register(m, []string{"0005", "0009", settlement.MizuhoBankCode}[i], "10")
	}
	payday := date.New(2019, 10, 31)
	issued := e.payout(payday, day(29, 9))
	if len(issued) != 2 || issued[0].Merchant != mA || issued[1].Merchant != mB {
		e.t.Fatalf("payouts of %s: %+v", payday, issued)
	}
	// The notices: mA's delivered at once; mB's failing, its file
	// rewritten and failing again, then reissued after the return.
	e.issueNotice(issued[0], 1, "", false, day(29, 9.25))
	e.issueNotice(issued[1], 1, "", false, day(29, 9.3))
	e.deliverNotice(issued[0], 1, day(29, 9.5))
	e.failNotice(issued[1], 1, day(29, 9.6))
	e.issueNotice(issued[1], 1, "file lost", true, day(30, 9))
	e.failNotice(issued[1], 1, day(30, 9.5))
	e.mark(mA, payday, true, day(31, 9))
	e.mark(mB, payday, false, day(31, 9.5))
	e.issueNotice(issued[1], 2, "宛先訂正", false, day(31, 9.75))
}

// The payouts read model, the listing's payout field and the journal's
// payout entries of the fixture, figure by figure, and the books after
// every committed batch of three events.
func testPayouts(t *testing.T, e *env) {
	e.mixed()
	r := e.runner(e.rm, projections.RunnerOptions{PageSize: 3, Progress: func(done, total int64) {
		checkBooks(t, fmt.Sprintf("after %d events", done), readDump(t, e.ctx, e.rm, fixtureMerchants), fixtureMerchants)
	}})
	if _, err := r.CatchUp(e.ctx); err != nil {
		t.Fatal(err)
	}
	dm := readDump(t, e.ctx, e.rm, fixtureMerchants)
	sameDump(t, "after catch-up", dm, e.oracle().dump(fixtureMerchants))
	checkBooks(t, "at the end", dm, fixtureMerchants)

	const noticeA, noticeB = "270000001-001-20191031", "270000002-001-20191031"
	// mA: VISA/MASTER 1,000 + 2,500 (fee 3.24%: 113), JCB/その他 4,000
	// (3.74%: 149); fee tax 26; transfer fee 180 + 18.
	wantA := projections.Payout{NoticeNo: noticeA, Merchant: mA, Payday: date.New(2019, 10, 31), NoticeDate: date.New(2019, 10, 29),
		Lines: []domain.PayoutLine{
			{Group: domain.GroupVisaMaster, PeriodStart: "2019-10-01", PeriodEnd: "2019-10-15", Count: 2, Sales: 3500, Rate: "3.24", Fee: 113, Amount: 3387},
			{Group: domain.GroupJCBOther, PeriodStart: "2019-10-01", PeriodEnd: "2019-10-15", Count: 1, Sales: 4000, Rate: "3.74", Fee: 149, Amount: 3851},
		},
		FeeTotal: 262, FeeTax: 26, TransferFee: 180, TransferFeeTax: 18, Net: 3387 + 3851 - 26 - 198, Transferred: true,
		Status: projections.PayoutStatusPaid, IssuedAt: day(29, 9), OutcomeAt: day(31, 9)}
	got, err := e.rm.Payouts(e.ctx, mA, date.New(2019, 10, 31), date.New(2019, 10, 31))
	if err != nil || len(got) != 1 {
		t.Fatalf("payouts of %s on 10/31: %v, %v", mA, got, err)
	}
	wantA.Position = got[0].Position
	samePayouts(t, "mA's payout", got, []projections.Payout{wantA})
	on, err := e.rm.PayoutsOn(e.ctx, date.New(2019, 10, 31))
	if err != nil || len(on) != 2 || on[0].NoticeNo != noticeA || on[1].NoticeNo != noticeB ||
		on[1].Status != projections.PayoutStatusReturned || on[1].Reason != "口座解約" || on[1].Net != 12000+15800-388-590-97-198 {
		t.Fatalf("payouts on 10/31: %+v, %v", on, err)
	}
	if got, err := e.rm.PayoutsOn(e.ctx, date.New(2019, 11, 15)); err != nil || len(got) != 0 {
		t.Fatalf("payouts on 11/15: %v, %v", got, err)
	}
	if got, err := e.rm.Payouts(e.ctx, mC, allTime[0], allTime[1]); err != nil || len(got) != 0 {
		t.Fatalf("payouts of %s, who sold only in period B: %v, %v", mC, got, err)
	}
	if _, err := e.rm.Payouts(e.ctx, mA, date.New(2019, 11, 1), date.New(2019, 10, 1)); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Fatalf("payouts from after to: %v", err)
	}

	// The listing: a1 (refunded in period B) still names the payout that
	// settled its sale; c1 (period B) and e1 (October's e-money, paid in
	// November) name none; b1, refunded on the 31st, keeps mB's notice.
	for id, want := range map[domain.PaymentID]string{"a1": noticeA, "a2": noticeA, "a3": noticeA, "a4": "", "b1": noticeB,
		"b3": noticeB, "c1": "", "e1": "", "e2": ""} {
		row, ok, err := e.rm.Transaction(e.ctx, id)
		if err != nil || !ok || row.Payout != want {
			t.Fatalf("row %s: payout %q (%v, %v), want %q", id, row.Payout, ok, err, want)
		}
	}

	// The journal: the payout, its transfer paid, the other returned.
	var entries []projections.JournalEntry
	for _, je := range dm.journal {
		if je.Notice != "" {
			entries = append(entries, je)
		}
	}
	pa, pb := projections.MerchantPayable(mA), projections.MerchantPayable(mB)
	want := []struct {
		typ, notice string
		postings    []projections.Posting
	}{
		{domain.TypePayoutIssued, noticeA, []projections.Posting{{Account: pa, Debit: 3500}, {Account: pa, Debit: 4000},
			{Account: projections.AccFeeRevenue, Credit: 262}, {Account: projections.AccTaxPayable, Credit: 26},
			{Account: projections.AccTransferRevenue, Credit: 180}, {Account: projections.AccTaxPayable, Credit: 18},
			{Account: projections.AccTransferInTransit, Credit: wantA.Net}}},
		{domain.TypePayoutIssued, noticeB, []projections.Posting{{Account: pb, Debit: 12000}, {Account: pb, Debit: 15800},
			{Account: projections.AccFeeRevenue, Credit: 388 + 590}, {Account: projections.AccTaxPayable, Credit: 97},
			{Account: projections.AccTransferRevenue, Credit: 180}, {Account: projections.AccTaxPayable, Credit: 18},
			{Account: projections.AccTransferInTransit, Credit: on[1].Net}}},
		{domain.TypePayoutPaid, noticeA, []projections.Posting{{Account: projections.AccTransferInTransit, Debit: wantA.Net}, {Account: projections.AccBank, Credit: wantA.Net}}},
		{domain.TypePayoutReturned, noticeB, []projections.Posting{{Account: projections.AccTransferInTransit, Debit: on[1].Net}, {Account: pb, Credit: on[1].Net}}},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d payout entries, want %d: %+v", len(entries), len(want), entries)
	}
	for i, w := range want {
		if g := entries[i]; g.Type != w.typ || g.Notice != w.notice || g.Payment != "" || !slices.Equal(g.Postings, w.postings) {
			t.Fatalf("payout entry %d:\n got %s %s %+v\nwant %s %s %+v", i, g.Type, g.Notice, g.Postings, w.typ, w.notice, w.postings)
		}
	}
	if b := dm.tb.Balance(projections.AccTransferInTransit, true); b != 0 {
		t.Fatalf("transfer-in-transit %d after both outcomes", b)
	}
	// mB is owed its returned transfer, its unsettled e-money (300 + 500)
	// and period B (the refund of b1, −12,000).
	if b := dm.tb.Balance(pb, true); b != on[1].Net+300+500-12000 {
		t.Fatalf("payable of %s: %d", mB, b)
	}
}

// Rebuilding the payouts projection alone, or the listing alone, gives the
// same payouts and stamps, and leaves the others where they are.
func testRebuildPayouts(t *testing.T, e *env) {
	e.mixed()
	e.catchUp()
	want := e.oracle().dump(fixtureMerchants)
	for _, names := range [][]string{{projections.NamePayouts}, {projections.NameTransactions}, {projections.NameJournal, projections.NamePayouts},
		{projections.NameNotices}, {projections.NamePayouts, projections.NameNotices}} {
		if _, err := e.runner(e.rm, projections.RunnerOptions{PageSize: 4}).Rebuild(e.ctx, nil, names...); err != nil {
			t.Fatal(err)
		}
		sameDump(t, "after rebuilding "+strings.Join(names, ", "), readDump(t, e.ctx, e.rm, fixtureMerchants), want)
	}
}
