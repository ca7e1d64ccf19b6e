// Package readmodeltest is the conformance suite of the read models: every
// read-model store (the SQLite file of adapters/sqlitemodels, PostgreSQL in
// adapters/pgmodels) runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		readmodeltest.Run(t, func(t *testing.T) readmodeltest.Store { return openFresh(t) })
//	}
//
// The events are real: commands go through ledger.Ledger into the embedded
// event store (adapters/sqlite) in a temporary directory, and a
// projections.Runner applies them to the store under test. Every answer is
// checked against an oracle that folds the same recorded events with the
// pure folds of package projections, in memory, and applies TxQuery.Matches
// and projections.Newer: the store must return exactly those rows in
// exactly that order. Beyond search, the suite covers details, period
// totals, the journal and its trial balance, payouts (their read model,
// the listing's payout field, their journal entries; payouts run through
// payouts.Batch), the notices (their events recorded directly), checkpoint atomicity under a failure between a batch's
// rows and its commit, resuming after a restart, two runners at once,
// rebuilding one projection, and replay-equals-live on random event
// sequences. Fixture and Check serve a store's own upgrade tests.
//
// The stores' own tests also share what needs a store's hooks or its name:
// FailureBetweenRowsAndCheckpoint and ReadsDuringRebuild (with Sales,
// MoreSales and State to compare), and the benchmarks' bodies, BenchRebuild
// and BenchSearch, over a workload ingested once (BenchStore).
package readmodeltest

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ledger"
	"upay/projections"
)

// Store is what a read-model store implements: the read side the CLI and
// the admin API use, and the write side a Runner keeps up to date.
type Store interface {
	projections.ReadModels
	projections.Writer
}

// Run runs the suite. open must return a fresh, empty store for each call
// (a subtest may open two to compare them); Run closes each store that is
// an io.Closer when its subtest ends.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"SearchEachFilter", testSearchEachFilter},
		{"SearchDateSemantics", testSearchDateSemantics},
		{"SearchTokyoMidnight", testSearchTokyoMidnight},
		{"SearchLimitAndMore", testSearchLimitAndMore},
		{"KeysetPagingVisitsEveryRowOnce", testKeysetPaging},
		{"InvalidQueries", testInvalidQueries},
		{"Details", testDetails},
		{"PeriodTotals", testPeriodTotals},
		{"JournalAndTrialBalance", testJournalAndTrialBalance},
		{"Payouts", testPayouts},
		{"RebuildPayouts", testRebuildPayouts},
		{"Notices", testNotices},
		{"UnknownEmoney", testUnknownEmoney},
		{"CheckpointAtomicity", testCheckpointAtomicity},
		{"ResumeAfterRestart", testResumeAfterRestart},
		{"RebuildOneProjection", testRebuildOne},
		{"ConcurrentRunners", testConcurrentRunners},
		{"ResetDuringCatchUp", testResetDuringCatchUp},
		{"AheadOfTheLog", testAheadOfTheLog},
		{"ReplayEqualsLive", testReplayEqualsLive},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newEnv(t, open))
		})
	}
}

// env is one subtest's world: an event store, a ledger in import mode (the
// tests choose every processing time) and a store under test.
type env struct {
	t      *testing.T
	ctx    context.Context
	open   func(t *testing.T) Store
	events *sqlite.Store
	led    *ledger.Ledger
	rm     Store
	seq    int
	now    time.Time
	ran    map[date.Date]bool // paydays randomPayouts has run
}

// t0 is 2019-10-01 00:00 JST.
var t0 = time.Date(2019, 9, 30, 15, 0, 0, 0, time.UTC)

var key = []byte("readmodeltest")

func newEnv(t *testing.T, open func(t *testing.T) Store) *env {
	e := newEnvIn(t, t.TempDir())
	e.open = open
	e.rm = e.fresh()
	return e
}

// newEnvIn is an env whose event store is events.db in dir, without a
// store under test.
func newEnvIn(t *testing.T, dir string) *env {
	ctx := t.Context()
	events, err := sqlite.Open(filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatalf("open event store: %v", err)
	}
	t.Cleanup(func() { events.Close() })
	led, err := ledger.New(ctx, events, ledger.Options{Import: true})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, events: events, led: led, now: t0}
}

// Fixture records the suite's fixture into a new embedded event store,
// events.db in dir, and returns the store and the fixture's merchants: the
// payments of October 2019 with every status and the payout of 2019-10-31
// (one transfer paid, one returned) with its notices, then a refund of a
// paid-out sale.
// Stores test their schema upgrades on it.
func Fixture(t *testing.T, dir string) (*sqlite.Store, []domain.MerchantID) {
	e := newEnvIn(t, dir)
	e.mixed()
	return e.events, slices.Clone(fixtureMerchants)
}

// Check fails unless rm holds exactly what the pure folds make of every
// event of events (every projection at its last event) and its books keep
// the journal's invariants for the merchants.
func Check(t *testing.T, events domain.EventStore, rm Store, merchants []domain.MerchantID) {
	t.Helper()
	evs, err := events.ReadAll(t.Context(), domain.Start, domain.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dm := readDump(t, t.Context(), rm, merchants)
	sameDump(t, "read models", dm, foldOracle(t, evs).dump(merchants))
	checkBooks(t, "read models", dm, merchants)
}

// fresh opens another empty store under test, closed with the subtest.
func (e *env) fresh() Store {
	s := e.open(e.t)
	if c, ok := s.(io.Closer); ok {
		e.t.Cleanup(func() {
			if err := c.Close(); err != nil {
				e.t.Errorf("Close: %v", err)
			}
		})
	}
	return s
}

func (e *env) runner(w projections.Writer, opt projections.RunnerOptions) *projections.Runner {
	return projections.NewRunner(e.events, w, opt)
}

// catchUp applies everything recorded so far to the store under test.
func (e *env) catchUp() {
	e.t.Helper()
	if _, err := e.runner(e.rm, projections.RunnerOptions{}).CatchUp(e.ctx); err != nil {
		e.t.Fatalf("CatchUp: %v", err)
	}
}

func (e *env) meta(at time.Time) domain.CommandMeta {
	e.seq++
	if at.Before(e.now) {
		e.t.Fatalf("command at %s before the last one at %s", at, e.now)
	}
	e.now = at
	return domain.CommandMeta{RequestID: fmt.Sprintf("r%d", e.seq), At: at}
}

// do records a command, failing the test unless it is accepted.
func (e *env) do(c domain.Command) {
	e.t.Helper()
	res, err := e.led.Handle(e.ctx, c)
	if err != nil {
		e.t.Fatalf("%s %s: %v", c.Name(), c.PaymentID(), err)
	}
	if !res.Accepted {
		e.t.Fatalf("%s %s rejected: %v", c.Name(), c.PaymentID(), res.Err)
	}
}

func card(number string) domain.CardRef { return domain.NewCardRef(key, number) }

const visaCard, jcbCard, emoneyCard = "4111111111111111", "3530111333300000", "JE0000000001234"

// sale authorizes and captures a card payment at at.
func (e *env) sale(id string, m domain.MerchantID, b domain.Brand, amount domain.Yen, at time.Time) {
	e.t.Helper()
	e.do(domain.Authorize{CommandMeta: e.meta(at), Payment: domain.PaymentID(id), Merchant: m, Brand: b, Amount: amount,
		Installments: 1, Card: card(visaCard), Terminal: "T1", Result: domain.ResultApproved})
	e.do(domain.Capture{CommandMeta: e.meta(at), Payment: domain.PaymentID(id)})
}

func (e *env) authorize(id string, m domain.MerchantID, b domain.Brand, amount domain.Yen, result string, at time.Time) {
	e.t.Helper()
	e.do(domain.Authorize{CommandMeta: e.meta(at), Payment: domain.PaymentID(id), Merchant: m, Brand: b, Amount: amount,
		Installments: 1, Card: card(visaCard), Terminal: "T1", Result: result})
}

func (e *env) refund(id string, amount domain.Yen, at time.Time) {
	e.t.Helper()
	e.do(domain.Refund{CommandMeta: e.meta(at), Payment: domain.PaymentID(id), Amount: amount, Card: card(visaCard)})
}

func (e *env) void(id string, at time.Time) {
	e.t.Helper()
	e.do(domain.Void{CommandMeta: e.meta(at), Payment: domain.PaymentID(id)})
}

func (e *env) debit(id string, m domain.MerchantID, amount domain.Yen, outcome string, training bool, at time.Time) {
	e.t.Helper()
	before := domain.Yen(10000)
	if training {
		before = domain.TrainingBalance
	}
	e.do(domain.EmoneyDebitCmd{CommandMeta: e.meta(at), Payment: domain.PaymentID(id), Merchant: m, Amount: amount,
		Card: card(emoneyCard), BalanceBefore: before, Outcome: outcome, Training: training, Terminal: "T2"})
}

func (e *env) resolve(id, outcome string, at time.Time) {
	e.t.Helper()
	e.do(domain.EmoneyResolve{CommandMeta: e.meta(at), Payment: domain.PaymentID(id), Outcome: outcome})
}

// Merchants of the fixtures.
const (
	mA domain.MerchantID = "270000001"
	mB domain.MerchantID = "270000002"
	mC domain.MerchantID = "270000003"
)

// day returns the instant h hours (JST) into the n-th day of October 2019.
func day(n int, h float64) time.Time {
	return t0.AddDate(0, 0, n-1).Add(time.Duration(h * float64(time.Hour)))
}

func d(n int) *date.Date {
	v := date.New(2019, time.October, n)
	return &v
}

func yen(v domain.Yen) *domain.Yen { return &v }

// mixed records a fixture with every status, several brands, merchants,
// amounts and days, including refunds in a later settlement period, and
// the payout of period A (one transfer paid, one returned).
func (e *env) mixed() {
	e.sale("a1", mA, domain.Visa, 1000, day(1, 10))
	e.sale("a2", mA, domain.Mastercard, 2500, day(1, 11))
	e.sale("a3", mA, domain.JCB, 4000, day(2, 9))
	e.authorize("a4", mA, domain.Amex, 7000, domain.ResultApproved, day(2, 12)) // authorized
	e.authorize("a5", mA, domain.Visa, 3000, "ng-02", day(3, 8))                // declined
	e.authorize("a6", mA, domain.Visa, 3500, domain.ResultApproved, day(3, 9))
	e.void("a6", day(3, 10)) // voided
	e.sale("b1", mB, domain.Visa, 12000, day(5, 10))
	e.sale("b2", mB, domain.Diners, 800, day(10, 10))
	e.sale("b3", mB, domain.Discover, 15000, day(14, 20))
	e.debit("e1", mB, 300, domain.OutcomeSucceeded, false, day(15, 9))
	e.debit("e2", mB, 500, domain.OutcomeUnknown, false, day(15, 10))
	e.debit("e3", mB, 700, domain.OutcomeUnknown, false, day(15, 11))
	e.debit("e4", mB, 200, domain.OutcomeFailed, false, day(15, 12))
	e.debit("e5", mB, 900, domain.OutcomeSucceeded, true, day(15, 13)) // training
	e.sale("c1", mC, domain.Visa, 5000, day(16, 10))
	e.refund("a1", 1000, day(17, 10)) // refunded, period B
	e.refund("a3", 1500, day(18, 10)) // partially refunded, period B
	e.resolve("e2", domain.OutcomeSucceeded, day(20, 9))
	e.sale("c2", mC, domain.Amex, 6000, day(20, 10))
	e.mixedPayouts()                   // the payout of 10/31: a1..a3 and b1..b3 paid out
	e.refund("b1", 12000, day(31, 10)) // refunded a month later, after its payout
	e.sale("c3", mC, domain.JCB, 9999, day(31, 23.5))
}

// oracle is every read model folded in memory from the recorded events.
type oracle struct {
	tx      map[domain.PaymentID]projections.Transaction
	totals  map[projections.TotalKey]projections.Total
	tb      projections.TrialBalance
	journal []projections.JournalEntry
	payouts map[string]projections.Payout
	notices map[string]projections.Notice
	issued  map[string]domain.PayoutIssued
	last    domain.Position
}

func (e *env) oracle() *oracle {
	e.t.Helper()
	evs, err := e.events.ReadAll(e.ctx, domain.Start, domain.ReadOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return foldOracle(e.t, evs)
}

// foldOracle folds events into the expected read models with the pure folds
// alone, the answer every store must give.
func foldOracle(t testing.TB, evs []domain.RecordedEvent) *oracle {
	t.Helper()
	o := &oracle{tx: map[domain.PaymentID]projections.Transaction{}, totals: map[projections.TotalKey]projections.Total{},
		tb: projections.TrialBalance{}, payouts: map[string]projections.Payout{}, notices: map[string]projections.Notice{}, issued: map[string]domain.PayoutIssued{}}
	lookup := func(n string) (domain.PayoutIssued, bool) {
		p, ok := o.issued[n]
		return p, ok
	}
	for _, r := range evs {
		o.last = r.Position
		ev, err := domain.DecodeEvent(r.Type, r.Version, r.Data)
		if err != nil {
			continue // an event no projection reads
		}
		if _, ok := projections.NoticeNumberOf(ev); ok {
			o.foldNotice(t, ev, r)
			continue
		}
		id, isPayment := projections.PaymentOf(ev)
		notice, isPayout := projections.NoticeOf(ev)
		if !isPayment && !isPayout {
			continue // merchants, the payout history index
		}
		switch ev := ev.(type) {
		case domain.PayoutIssued:
			o.issued[ev.NoticeNo] = ev
			p, err := projections.NewPayout(ev, r.Time, r.Position)
			if err != nil {
				t.Fatal(err)
			}
			o.payouts[notice] = p
			ss, err := projections.Settlements(ev)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range ss {
				for k, row := range o.tx {
					if s.Stamp(&row) {
						o.tx[k] = row
					}
				}
			}
		case domain.PayoutPaid, domain.PayoutReturned:
			out, _ := projections.OutcomeOf(ev, r.Time, r.Position)
			p := o.payouts[notice]
			p.Apply(out)
			o.payouts[notice] = p
		default:
			row := o.tx[id]
			row.Apply(ev, r.Time, r.Position)
			o.tx[id] = row
		}
		if k, v, ok := projections.TotalDelta(ev, r.Time); ok {
			cur := o.totals[k]
			o.totals[k] = projections.Total{Count: cur.Count + v.Count, Sales: cur.Sales + v.Sales}
		}
		ps, err := projections.Postings(ev, lookup)
		if err != nil {
			t.Fatalf("postings of the event at %s: %v", r.Position, err)
		}
		if ps != nil {
			o.tb.Post(ps)
			o.journal = append(o.journal, projections.Entry{Position: r.Position, Time: r.Time, Type: r.Type, Payment: id, Notice: notice, Postings: ps}.Read())
		}
	}
	return o
}

// rows returns the oracle's rows matching q, newest first.
func (o *oracle) rows(q projections.TxQuery) []projections.Transaction {
	var out []projections.Transaction
	for _, r := range o.tx {
		if q.Matches(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b projections.Transaction) int {
		if projections.Newer(a, b) {
			return -1
		}
		return 1
	})
	return out
}

// sameRow compares every field of two rows (times by instant, pointers by
// value).
func sameRow(a, b projections.Transaction) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) || !a.UpdatedAt.Equal(b.UpdatedAt) {
		return false
	}
	a.CreatedAt, a.UpdatedAt, b.CreatedAt, b.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func describe(r projections.Transaction) string {
	ds := func(p *date.Date) string {
		if p == nil {
			return "-"
		}
		return p.String()
	}
	return fmt.Sprintf("%s(%s %s %s %d sales=%s return=%s created=%s)", r.Payment, r.Merchant, r.Brand, r.Status, r.Amount,
		ds(r.SalesDate), ds(r.ReturnDate), r.CreatedAt.In(domain.Tokyo).Format(time.RFC3339))
}

func ids(rows []projections.Transaction) string {
	var s []string
	for _, r := range rows {
		s = append(s, string(r.Payment))
	}
	return strings.Join(s, ",")
}

// sameRows fails unless got and want hold the same rows in the same order.
func sameRows(t *testing.T, what string, got, want []projections.Transaction) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows [%s], want %d [%s]", what, len(got), ids(got), len(want), ids(want))
	}
	for i := range got {
		if !sameRow(got[i], want[i]) {
			t.Fatalf("%s: row %d\n got %s %+v\nwant %s %+v", what, i, describe(got[i]), got[i], describe(want[i]), want[i])
		}
	}
}

// searchAll pages through every row of q with the cursor.
func searchAll(t *testing.T, ctx context.Context, rm projections.ReadModels, q projections.TxQuery) []projections.Transaction {
	t.Helper()
	var out []projections.Transaction
	for pages := 0; ; pages++ {
		p, err := rm.SearchTransactions(ctx, q)
		if err != nil {
			t.Fatalf("search %+v: %v", q, err)
		}
		if len(p.Rows) > q.PageSize() {
			t.Fatalf("search %+v: %d rows on a page of %d", q, len(p.Rows), q.PageSize())
		}
		out = append(out, p.Rows...)
		if !p.More {
			if p.Next != "" {
				t.Fatalf("search %+v: Next %q without More", q, p.Next)
			}
			return out
		}
		if len(p.Rows) != q.PageSize() || p.Next == "" {
			t.Fatalf("search %+v: More with %d rows and Next %q", q, len(p.Rows), p.Next)
		}
		if pages > 100000 {
			t.Fatal("paging does not end")
		}
		q.After = p.Next
	}
}

// dump is everything a store holds, read through the port.
type dump struct {
	rows     []projections.Transaction
	totals   []projections.TotalRow
	tb       projections.TrialBalance
	journal  []projections.JournalEntry
	payouts  []projections.Payout // the merchants' in turn, each by payday
	notices  []projections.Notice // of the payouts' paydays in turn, each by merchant
	statuses []projections.Status
}

var allTime = [2]date.Date{date.New(2000, 1, 1), date.New(2100, 1, 1)}

func readDump(t *testing.T, ctx context.Context, rm Store, merchants []domain.MerchantID) dump {
	t.Helper()
	var d dump
	d.rows = searchAll(t, ctx, rm, projections.TxQuery{Limit: projections.MaxSearchLimit})
	for _, m := range merchants {
		rows, err := rm.PeriodTotals(ctx, m, allTime[0], allTime[1])
		if err != nil {
			t.Fatal(err)
		}
		d.totals = append(d.totals, rows...)
		ps, err := rm.Payouts(ctx, m, allTime[0], allTime[1])
		if err != nil {
			t.Fatal(err)
		}
		d.payouts = append(d.payouts, ps...)
	}
	for _, pd := range paydays(d.payouts) {
		ns, err := rm.Notices(ctx, pd)
		if err != nil {
			t.Fatal(err)
		}
		d.notices = append(d.notices, ns...)
	}
	var err error
	if d.tb, err = rm.TrialBalance(ctx); err != nil {
		t.Fatal(err)
	}
	after := domain.Start
	for {
		page, err := rm.Journal(ctx, after, 97)
		if err != nil {
			t.Fatal(err)
		}
		d.journal = append(d.journal, page...)
		if len(page) < 97 {
			break
		}
		after = page[len(page)-1].Position
	}
	cps, err := rm.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range projections.Names {
		d.statuses = append(d.statuses, projections.Status{Name: n, Position: cps[n]})
	}
	return d
}

// sameDump fails unless two dumps are equal.
func sameDump(t *testing.T, what string, got, want dump) {
	t.Helper()
	sameRows(t, what+": transactions", got.rows, want.rows)
	if !reflect.DeepEqual(got.totals, want.totals) {
		t.Fatalf("%s: period totals\n got %v\nwant %v", what, got.totals, want.totals)
	}
	if !reflect.DeepEqual(got.tb, want.tb) {
		t.Fatalf("%s: trial balance\n got %v\nwant %v", what, got.tb, want.tb)
	}
	if !reflect.DeepEqual(got.journal, want.journal) {
		for i := range min(len(got.journal), len(want.journal)) {
			if !reflect.DeepEqual(got.journal[i], want.journal[i]) {
				t.Fatalf("%s: journal entry %d\n got %+v\nwant %+v", what, i, got.journal[i], want.journal[i])
			}
		}
		t.Fatalf("%s: journal of %d entries, want %d", what, len(got.journal), len(want.journal))
	}
	samePayouts(t, what+": payouts", got.payouts, want.payouts)
	sameNotices(t, what+": notices", got.notices, want.notices)
	if !reflect.DeepEqual(got.statuses, want.statuses) {
		t.Fatalf("%s: checkpoints %v, want %v", what, got.statuses, want.statuses)
	}
}

// oracleDump is what a store that applied every event must hold.
func (o *oracle) dump(merchants []domain.MerchantID) dump {
	var d dump
	d.rows = o.rows(projections.TxQuery{})
	for _, m := range merchants {
		var cells []projections.TotalRow
		for k, v := range o.totals {
			if k.Merchant == m {
				cells = append(cells, projections.TotalRow{TotalKey: k, Total: v})
			}
		}
		slices.SortFunc(cells, func(a, b projections.TotalRow) int {
			if c := a.Date.Sub(b.Date); c != 0 {
				return int(c)
			}
			return slices.Index(domain.Groups, a.Group) - slices.Index(domain.Groups, b.Group)
		})
		d.totals = append(d.totals, cells...)
		d.payouts = append(d.payouts, o.payoutsOf(m)...)
	}
	for _, pd := range paydays(d.payouts) {
		d.notices = append(d.notices, o.noticesOn(pd)...)
	}
	d.tb = o.tb
	d.journal = o.journal
	for _, n := range projections.Names {
		d.statuses = append(d.statuses, projections.Status{Name: n, Position: o.last})
	}
	return d
}

var fixtureMerchants = []domain.MerchantID{mA, mB, mC}

// payoutsOf returns a merchant's payouts by payday, as Payouts does.
func (o *oracle) payoutsOf(m domain.MerchantID) []projections.Payout {
	var out []projections.Payout
	for _, p := range o.payouts {
		if p.Merchant == m {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b projections.Payout) int {
		if c := a.Payday.Sub(b.Payday); c != 0 {
			return int(c)
		}
		return strings.Compare(a.NoticeNo, b.NoticeNo)
	})
	return out
}

// samePayouts fails unless got and want hold the same payouts in the same
// order (times compared as instants).
func samePayouts(t *testing.T, what string, got, want []projections.Payout) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d payouts, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.IssuedAt.Equal(w.IssuedAt) || !g.OutcomeAt.Equal(w.OutcomeAt) {
			t.Fatalf("%s: payout %s times %s/%s, want %s/%s", what, g.NoticeNo, g.IssuedAt, g.OutcomeAt, w.IssuedAt, w.OutcomeAt)
		}
		g.IssuedAt, g.OutcomeAt, w.IssuedAt, w.OutcomeAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: payout %d\n got %+v\nwant %+v", what, i, g, w)
		}
	}
}
