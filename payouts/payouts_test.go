package payouts_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/secretfile"
	"upay/adapters/sqlite"
	"upay/adapters/sqlitemodels"
	"upay/domain"
	"upay/ledger"
	"upay/merchants"
	"upay/payouts"
	"upay/projections"
	"upay/settlement"
)

type env struct {
	store  *sqlite.Store
	led    *ledger.Ledger
	batch  *payouts.Batch
	runner *projections.Runner
	key    []byte
	n      int
}

func setup(t *testing.T, bank string) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(filepath.Join(dir, "upay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sec, _ := secretfile.Open(filepath.Join(dir, "secrets"))
	ms := &merchants.Service{Store: st, Secrets: sec}
	for _, id := range []string{"270212122", "270000003"} {
		reg := domain.RegisterMerchant{CommandMeta: domain.CommandMeta{At: time.Date(2019, 9, 1, 0, 0, 0, 0, time.UTC)},
			MerchantRegistered: domain.MerchantRegistered{Merchant: domain.MerchantID(id), Name: "テスト商店", Contact: "平 次郎", Email: "owner@example.jp",
				Bank:  domain.BankAccount{BankCode: bank, BankName: "りそな銀行", BranchCode: "101", BranchName: "本店", Type: domain.AccountOrdinary, Number: "1234567", Holder: "ﾃｽﾄｼﾖｳﾃﾝ"},
				Rates: domain.Rates{VisaMaster: "3.24", JCBOther: "3.24", Emoney: "3.24"}}}
		if _, err := ms.Handle(ctx, reg); err != nil {
			t.Fatal(err)
		}
	}
	// The real read models, caught up before each batch as upay payout run does.
	rm, err := sqlitemodels.Open(filepath.Join(dir, "read.db"), sqlitemodels.Options{Events: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rm.Close() })
	led, err := ledger.New(ctx, st, ledger.Options{Import: true})
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: st, led: led, key: []byte("k"),
		batch:  &payouts.Batch{Store: st, Merchants: ms, Totals: rm, Calendar: settlement.DefaultCalendar()},
		runner: projections.NewRunner(st, rm, projections.RunnerOptions{})}
}

func (e *env) do(t *testing.T, at string, c domain.Command) {
	t.Helper()
	e.n++
	ts, _ := time.Parse(time.RFC3339, at)
	meta := domain.CommandMeta{RequestID: "r" + string(rune('A'+e.n)), At: ts.UTC()}
	switch x := c.(type) {
	case domain.Authorize:
		x.CommandMeta = meta
		c = x
	case domain.Capture:
		x.CommandMeta = meta
		c = x
	case domain.Refund:
		x.CommandMeta = meta
		c = x
	}
	res, err := e.led.Handle(context.Background(), c)
	if err != nil || !res.Accepted {
		t.Fatalf("%s: %+v %v", c.Name(), res, err)
	}
}

func (e *env) sale(t *testing.T, at, id string, amount domain.Yen) {
	e.do(t, at, domain.Authorize{Payment: domain.PaymentID(id), Merchant: "270212122", Brand: domain.Visa, Amount: amount, Installments: 1, Card: domain.NewCardRef(e.key, "4111111111111111"), Result: "ok-01"})
	e.do(t, at, domain.Capture{Payment: domain.PaymentID(id)})
}

func run(t *testing.T, e *env, payday, at string, dry bool) ([]payouts.Outcome, payouts.Summary, error) {
	ts, _ := time.Parse(time.RFC3339, at)
	if _, err := e.runner.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e.batch.Run(context.Background(), payouts.Options{Payday: date.MustParseISO(payday), At: ts, DryRun: dry})
}

// The issue's example: 5,000 captured and 1,000 refunded in period A.
func TestIssueExampleAndIdempotentRuns(t *testing.T) {
	e := setup(t, "0010")
	e.sale(t, "2019-10-01T10:00:00+09:00", "p1", 5000)
	e.do(t, "2019-10-01T10:00:05+09:00", domain.Refund{Payment: "p1", Amount: 1000, Card: domain.NewCardRef(e.key, "4111111111111111")})
	if _, _, err := run(t, e, "2019-10-31", "2019-10-15T12:00:00+09:00", false); domain.CodeOf(err) != domain.CodeBatchTooEarly {
		t.Fatalf("run on the close date: %v", err)
	}
	if _, _, err := run(t, e, "2019-10-30", "2019-10-29T09:00:00+09:00", false); domain.CodeOf(err) != domain.CodeNotPayday {
		t.Fatalf("not a payday: %v", err)
	}
	dry, _, err := run(t, e, "2019-10-31", "2019-10-29T09:00:00+09:00", true)
	if err != nil || dry[1].Merchant != "270212122" || dry[1].Status != payouts.DryRun {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if evs, _ := e.store.ReadStream(context.Background(), domain.PayoutStream("270212122", "2019-10-31"), 0, domain.ReadOptions{}); len(evs) != 0 {
		t.Fatal("a dry run recorded a payout")
	}
	out, sum, err := run(t, e, "2019-10-31", "2019-10-29T09:00:00+09:00", false)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Issued != 1 || sum.NoLines != 1 {
		t.Fatalf("summary %+v", sum)
	}
	var p domain.PayoutIssued
	for _, o := range out {
		if o.Merchant == "270212122" {
			p = o.Payout
		}
	}
	want := domain.PayoutLine{Group: domain.GroupVisaMaster, PeriodStart: "2019-10-01", PeriodEnd: "2019-10-15", Count: 2, Sales: 4000, Rate: "3.24", Fee: 129, Amount: 3871}
	if len(p.Lines) != 1 || p.Lines[0] != want || p.FeeTax != 12 || p.TransferFee != 180 || p.TransferFeeTax != 18 || p.Net != 3661 ||
		p.NoticeNo != "270212122-001-20191031" || p.NoticeDate != "2019-10-29" || p.Bank.Holder != "ﾃｽﾄｼﾖｳﾃﾝ" {
		t.Fatalf("payout %+v", p)
	}
	if dry[1].Payout.Net != p.Net {
		t.Fatal("a dry run must show the same figures")
	}
	again, sum2, err := run(t, e, "2019-10-31", "2019-10-29T10:00:00+09:00", false)
	if err != nil || sum2.Issued != 0 || sum2.AlreadyIssued != 1 {
		t.Fatalf("second run: %+v %v", sum2, err)
	}
	for _, o := range again {
		if o.Status == payouts.AlreadyIssued && o.Payout.Net != 3661 {
			t.Fatal("already issued must report the recorded figures")
		}
	}
	// Bank outcome.
	if err := e.batch.Mark(context.Background(), "270212122", date.MustParseISO("2019-10-31"), true, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.batch.Mark(context.Background(), "270212122", date.MustParseISO("2019-10-31"), false, "x"); domain.CodeOf(err) != domain.CodePayoutMarked {
		t.Fatalf("second mark: %v", err)
	}
}

// Two runs at once issue each payout exactly once.
func TestConcurrentRunsIssueOnce(t *testing.T) {
	e := setup(t, "0010")
	e.sale(t, "2019-10-02T10:00:00+09:00", "p1", 5000)
	var wg sync.WaitGroup
	sums := make([]payouts.Summary, 4)
	for i := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, s, err := run(t, e, "2019-10-31", "2019-10-29T09:00:00+09:00", false)
			if err != nil {
				t.Error(err)
			}
			sums[i] = s
		}()
	}
	wg.Wait()
	issued := 0
	for _, s := range sums {
		issued += s.Issued
	}
	evs, _ := e.store.ReadStream(context.Background(), domain.PayoutStream("270212122", "2019-10-31"), 0, domain.ReadOptions{})
	idx, _ := e.store.ReadStream(context.Background(), domain.PayoutIndexStream("270212122"), 0, domain.ReadOptions{})
	if issued != 1 || len(evs) != 1 || len(idx) != 1 {
		t.Fatalf("issued %d times, stream has %d events, history %d", issued, len(evs), len(idx))
	}
}

// A net below the transfer fee is carried to the next payday with a line,
// and a refund in a later period makes a negative payout that is carried
// and absorbed.
func TestCarryForward(t *testing.T) {
	e := setup(t, "0010")
	e.sale(t, "2019-10-02T10:00:00+09:00", "p1", 200) // 200 - 6 - 0 = 194 <= 198: carried
	_, _, err := run(t, e, "2019-10-31", "2019-10-29T09:00:00+09:00", false)
	if err != nil {
		t.Fatal(err)
	}
	p, _, _ := e.batch.Show(context.Background(), "270212122", date.MustParseISO("2019-10-31"))
	if p.Transferred || p.CarriedForward != 194 || p.Net != 0 || p.TransferFee != 0 {
		t.Fatalf("first payout %+v", p)
	}
	e.do(t, "2019-10-20T10:00:00+09:00", domain.Refund{Payment: "p1", Amount: 200, Card: domain.NewCardRef(e.key, "4111111111111111")})
	e.sale(t, "2019-10-21T10:00:00+09:00", "p2", 10000)
	if _, _, err := run(t, e, "2019-11-15", "2019-11-13T09:00:00+09:00", false); err != nil {
		t.Fatal(err)
	}
	q, _, _ := e.batch.Show(context.Background(), "270212122", date.MustParseISO("2019-11-15"))
	// Period B: count 2 (capture, refund), sales 9,800, fee 317 (317.52), tax 31, prior +194.
	if len(q.Lines) != 1 || q.Lines[0].Count != 2 || q.Lines[0].Sales != 9800 || q.Lines[0].Fee != 317 || q.FeeTax != 31 ||
		q.PriorPeriod != 194 || q.PriorFrom != "270212122-001-20191031" || q.Net != 9800-317-31+194-198 {
		t.Fatalf("second payout %+v", q)
	}
	if _, _, err := run(t, e, "2019-10-31", "2019-11-14T09:00:00+09:00", false); err != nil {
		t.Fatal(err) // already issued: no error, nothing new
	}
}

func TestMizuhoWaiver(t *testing.T) {
	e := setup(t, settlement.MizuhoBankCode)
	e.sale(t, "2019-10-02T10:00:00+09:00", "p1", 10000)
	out, sum, err := run(t, e, "2019-10-31", "2019-10-29T09:00:00+09:00", false)
	if err != nil || sum.WaivedFees != 1 {
		t.Fatalf("%+v %v", sum, err)
	}
	for _, o := range out {
		if o.Status == payouts.Issued && (o.Payout.TransferFee != 0 || o.Payout.Net != 10000-324-32) {
			t.Fatalf("%+v", o.Payout)
		}
	}
}
