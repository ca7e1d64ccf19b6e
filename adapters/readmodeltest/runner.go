package readmodeltest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/sqlite"
	"upay/domain"
	"upay/projections"
)

// prefix returns the oracle of the first n events of the log.
func (e *env) prefix(n int) *oracle {
	e.t.Helper()
	if n < 0 {
		return e.oracle()
	}
	evs, err := e.events.ReadAll(e.ctx, domain.Start, domain.ReadOptions{Max: n})
	if err != nil || len(evs) != n {
		e.t.Fatalf("read %d events: %d, %v", n, len(evs), err)
	}
	return foldOracle(e.t, evs)
}

func (e *env) eventCount() int {
	e.t.Helper()
	evs, err := e.events.ReadAll(e.ctx, domain.Start, domain.ReadOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(evs)
}

func testPeriodTotals(t *testing.T, e *env) {
	e.mixed()
	e.catchUp()
	o := e.oracle()
	sameDump(t, "after catch-up", readDump(t, e.ctx, e.rm, fixtureMerchants), o.dump(fixtureMerchants))
	// A narrower range holds only its dates.
	got, err := e.rm.PeriodTotals(e.ctx, mA, *d(16), *d(31))
	if err != nil {
		t.Fatal(err)
	}
	want := []projections.TotalRow{
		{TotalKey: projections.TotalKey{Merchant: mA, Group: domain.GroupVisaMaster, Date: *d(17)}, Total: projections.Total{Count: 1, Sales: -1000}},
		{TotalKey: projections.TotalKey{Merchant: mA, Group: domain.GroupJCBOther, Date: *d(18)}, Total: projections.Total{Count: 1, Sales: -1500}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("period B of %s:\n got %v\nwant %v", mA, got, want)
	}
	// E-money on the 15th: e1 only (unknown, failed and training debits
	// count nowhere); e2 counts on the 20th, when it was resolved.
	got, err = e.rm.PeriodTotals(e.ctx, mB, *d(15), *d(20))
	if err != nil {
		t.Fatal(err)
	}
	want = []projections.TotalRow{
		{TotalKey: projections.TotalKey{Merchant: mB, Group: domain.GroupEmoney, Date: *d(15)}, Total: projections.Total{Count: 1, Sales: 300}},
		{TotalKey: projections.TotalKey{Merchant: mB, Group: domain.GroupEmoney, Date: *d(20)}, Total: projections.Total{Count: 1, Sales: 500}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("e-money of %s:\n got %v\nwant %v", mB, got, want)
	}
	if got, err := e.rm.PeriodTotals(e.ctx, "279999999", *d(1), *d(31)); err != nil || len(got) != 0 {
		t.Fatalf("unknown merchant: %v, %v", got, err)
	}
}

// checkBooks checks the journal's invariants (docs/journal.md) on what a
// store holds: total debits equal total credits and every entry balances;
// for each merchant, its period totals equal its listing (captures minus
// refunds: what it has earned), and its payable is what the other read
// models say it is owed: the sales of the period-totals cells no payout
// line has settled, plus its latest payout's carry-forward, plus the nets
// of its returned transfers; every listing row names the payout whose line
// covers its sale. When the merchants are every merchant of the books,
// transfer-in-transit holds the nets of the transfers the bank has not
// reported on and bank the nets it paid.
func checkBooks(t *testing.T, what string, dm dump, merchants []domain.MerchantID) {
	t.Helper()
	if dr, cr := dm.tb.Totals(); dr != cr {
		t.Fatalf("%s: debits %d != credits %d", what, dr, cr)
	}
	for _, je := range dm.journal {
		var dr, cr domain.Yen
		for _, p := range je.Postings {
			dr += p.Debit
			cr += p.Credit
		}
		if dr != cr || dr <= 0 {
			t.Fatalf("%s: entry at %s is not balanced: %v", what, je.Position, je.Postings)
		}
	}
	covers := func(m domain.MerchantID, g domain.Group, d date.Date) string {
		for _, p := range dm.payouts {
			for _, l := range p.Lines {
				if p.Merchant == m && l.Group == g && l.PeriodStart <= d.String() && d.String() <= l.PeriodEnd {
					return p.NoticeNo
				}
			}
		}
		return ""
	}
	all := true
	for acc := range dm.tb {
		if m, ok := strings.CutPrefix(acc, projections.AccMerchantPayable+":"); ok && !slices.Contains(merchants, domain.MerchantID(m)) {
			all = false
		}
	}
	var inTransit, paid domain.Yen
	for _, m := range merchants {
		var earned, unsettled, carried, returned, byListing domain.Yen
		for _, c := range dm.totals {
			if c.Merchant == m {
				earned += c.Sales
				if covers(m, c.Group, c.Date) == "" {
					unsettled += c.Sales
				}
			}
		}
		for _, p := range dm.payouts { // by payday: the last one's carry-forward waits
			if p.Merchant != m {
				continue
			}
			carried = p.CarriedForward
			switch {
			case p.Status == projections.PayoutStatusReturned:
				returned += p.Net
			case p.Status == projections.PayoutStatusPaid:
				paid += p.Net
			case p.Transferred:
				inTransit += p.Net
			}
		}
		for _, r := range dm.rows {
			if r.Merchant != m {
				continue
			}
			byListing += r.Captured - r.Refunded
			want := ""
			if r.SalesDate != nil {
				g := domain.GroupEmoney
				if r.Kind == domain.KindCard {
					g = domain.Brand(r.Brand).Group()
				}
				want = covers(m, g, *r.SalesDate)
			}
			if r.Payout != want {
				t.Fatalf("%s: row %s names payout %q, want %q", what, describe(r), r.Payout, want)
			}
		}
		if earned != byListing {
			t.Fatalf("%s: merchant %s period totals %d, listing %d", what, m, earned, byListing)
		}
		if payable := dm.tb.Balance(projections.MerchantPayable(m), true); payable != unsettled+carried+returned {
			t.Fatalf("%s: merchant %s payable %d, want unsettled %d + carried forward %d + returned %d", what, m, payable, unsettled, carried, returned)
		}
	}
	if all {
		if got := dm.tb.Balance(projections.AccTransferInTransit, true); got != inTransit {
			t.Fatalf("%s: transfer-in-transit %d, want %d", what, got, inTransit)
		}
		if got := dm.tb.Balance(projections.AccBank, false); got != -paid {
			t.Fatalf("%s: bank %d, want %d", what, got, -paid)
		}
	}
}

func testJournalAndTrialBalance(t *testing.T, e *env) {
	e.mixed()
	// Apply three events at a time and check the books after every batch:
	// the invariants hold after any prefix of the log.
	batches := 0
	r := e.runner(e.rm, projections.RunnerOptions{PageSize: 3, Progress: func(done, total int64) {
		batches++
		checkBooks(t, fmt.Sprintf("after %d events", done), readDump(t, e.ctx, e.rm, fixtureMerchants), fixtureMerchants)
	}})
	if _, err := r.CatchUp(e.ctx); err != nil {
		t.Fatal(err)
	}
	if batches < e.eventCount()/3 {
		t.Fatalf("%d batches for %d events of 3", batches, e.eventCount())
	}
	o := e.oracle()
	dm := readDump(t, e.ctx, e.rm, fixtureMerchants)
	sameDump(t, "after catch-up", dm, o.dump(fixtureMerchants))
	checkBooks(t, "at the end", dm, fixtureMerchants)
	if dr, _ := dm.tb.Totals(); dr == 0 || len(dm.journal) < 10 {
		t.Fatalf("the fixture posted %d entries of %d yen: too little to check", len(dm.journal), dr)
	}
	for i := 1; i < len(dm.journal); i++ {
		if !dm.journal[i-1].Position.Less(dm.journal[i].Position) {
			t.Fatalf("journal out of order at %d", i)
		}
	}
	last := dm.journal[len(dm.journal)-1].Position
	if rest, err := e.rm.Journal(e.ctx, last, 0); err != nil || len(rest) != 0 {
		t.Fatalf("journal after the last entry: %v, %v", rest, err)
	}
	mid := dm.journal[4].Position
	rest, err := e.rm.Journal(e.ctx, mid, 3)
	if err != nil || len(rest) != 3 || rest[0].Position != dm.journal[5].Position {
		t.Fatalf("journal after entry 4, limit 3: %v, %v", rest, err)
	}
}

func testUnknownEmoney(t *testing.T, e *env) {
	e.mixed()
	e.catchUp()
	got, err := e.rm.UnknownEmoney(e.ctx, mB)
	if err != nil || ids(got) != "e3" {
		t.Fatalf("unknown e-money of %s: [%s], %v; want e3 (e2 resolved, e4 failed, e5 training)", mB, ids(got), err)
	}
	e.debit("e6", mB, 100, domain.OutcomeUnknown, false, day(31, 23.6))
	e.resolve("e3", domain.OutcomeFailed, day(31, 23.7))
	e.catchUp()
	got, err = e.rm.UnknownEmoney(e.ctx, mB)
	if err != nil || ids(got) != "e6" {
		t.Fatalf("after resolving e3 and a new unknown e6: [%s], %v", ids(got), err)
	}
	if got, err := e.rm.UnknownEmoney(e.ctx, mA); err != nil || len(got) != 0 {
		t.Fatalf("merchant without e-money: %v, %v", got, err)
	}
}

// failingWriter lets a number of batches commit, then fails the next one
// after its rows and checkpoints were written, before its commit: by an
// error, or by cancelling the runner's context.
type failingWriter struct {
	projections.Writer
	okBatches int
	cancel    context.CancelFunc // nil: fail with errInjected
	writes    int
}

var errInjected = errors.New("injected failure between the rows and the commit")

func (f *failingWriter) Begin(ctx context.Context) (projections.WriteTx, error) {
	tx, err := f.Writer.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &failingTx{WriteTx: tx, f: f}, nil
}

type failingTx struct {
	projections.WriteTx
	f *failingWriter
}

func (tx *failingTx) Write(b *projections.Batch) error {
	if err := tx.WriteTx.Write(b); err != nil {
		return err
	}
	tx.f.writes++
	if tx.f.writes <= tx.f.okBatches {
		return nil
	}
	if tx.f.cancel != nil {
		tx.f.cancel() // the commit that follows must not happen
		return nil
	}
	return errInjected
}

// A failure between a batch's rows and its commit leaves nothing of the
// batch visible and the checkpoints where they were; the next catch-up
// applies the batch once.
func testCheckpointAtomicity(t *testing.T, e *env) {
	e.mixed()
	const page = 7
	for _, byCancel := range []bool{false, true} {
		ctx, cancel := context.WithCancel(e.ctx)
		f := &failingWriter{Writer: e.rm, okBatches: 2}
		if byCancel {
			f.cancel = cancel
		}
		_, err := e.runner(f, projections.RunnerOptions{PageSize: page}).CatchUp(ctx)
		cancel()
		if err == nil || f.writes != 3 {
			t.Fatalf("cancel %v: CatchUp returned %v after %d writes; want a failure at the third", byCancel, err, f.writes)
		}
		if !byCancel && !errors.Is(err, errInjected) {
			t.Fatalf("CatchUp returned %v, want the injected failure", err)
		}
		// Two batches of 7 events committed; the third left no trace.
		sameDump(t, fmt.Sprintf("cancel %v: after the failed batch", byCancel), readDump(t, e.ctx, e.rm, fixtureMerchants), e.prefix(2*page).dump(fixtureMerchants))
		if err := e.rm.Reset(e.ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.runner(e.rm, projections.RunnerOptions{PageSize: page}).CatchUp(e.ctx)
	if err != nil || n != e.eventCount() {
		t.Fatalf("catch-up after the failures: %d events, %v; want %d", n, err, e.eventCount())
	}
	sameDump(t, "after recovery", readDump(t, e.ctx, e.rm, fixtureMerchants), e.oracle().dump(fixtureMerchants))
}

// A runner stopped mid-way and started again applies each event once.
func testResumeAfterRestart(t *testing.T, e *env) {
	e.mixed()
	total := e.eventCount()
	const page, pages = 4, 3
	ctx, cancel := context.WithCancel(e.ctx)
	seen := 0
	_, err := e.runner(e.rm, projections.RunnerOptions{PageSize: page, Progress: func(done, _ int64) {
		if seen++; seen == pages {
			cancel() // the process dies after its third commit
		}
	}}).CatchUp(ctx)
	cancel()
	if err == nil {
		t.Fatal("CatchUp ran to the end through a cancellation")
	}
	sameDump(t, "after the stop", readDump(t, e.ctx, e.rm, fixtureMerchants), e.prefix(page*pages).dump(fixtureMerchants))
	// A new runner (a restarted process) resumes from the checkpoints.
	n, err := e.runner(e.rm, projections.RunnerOptions{PageSize: page}).CatchUp(e.ctx)
	if err != nil || n != total-page*pages {
		t.Fatalf("resume applied %d events, %v; want the %d left", n, err, total-page*pages)
	}
	sameDump(t, "after resuming", readDump(t, e.ctx, e.rm, fixtureMerchants), e.oracle().dump(fixtureMerchants))
	if n, err := e.runner(e.rm, projections.RunnerOptions{}).CatchUp(e.ctx); err != nil || n != 0 {
		t.Fatalf("a second catch-up applied %d events, %v", n, err)
	}
	st, err := e.runner(e.rm, projections.RunnerOptions{}).Status(e.ctx)
	if err != nil || len(st) != len(projections.Names) {
		t.Fatalf("status: %v, %v", st, err)
	}
	for _, s := range st {
		if s.Lag != 0 || s.Position != e.oracle().last {
			t.Fatalf("status %+v: want lag 0 at %s", s, e.oracle().last)
		}
	}
	e.sale("late", mA, domain.Visa, 100, day(31, 23.9))
	st, _ = e.runner(e.rm, projections.RunnerOptions{}).Status(e.ctx)
	if st[0].Lag != 2 {
		t.Fatalf("lag after a sale of two events: %+v", st)
	}
}

func testRebuildOne(t *testing.T, e *env) {
	e.mixed()
	e.catchUp()
	total := e.eventCount()
	before, err := e.rm.Checkpoints(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var progress [][2]int64
	r := e.runner(e.rm, projections.RunnerOptions{PageSize: 5})
	n, err := r.Rebuild(e.ctx, func(done, total int64) { progress = append(progress, [2]int64{done, total}) }, projections.NameJournal)
	if err != nil || n != total {
		t.Fatalf("rebuild journal: %d events, %v; want %d", n, err, total)
	}
	after, _ := e.rm.Checkpoints(e.ctx)
	if !maps(before, after) {
		t.Fatalf("checkpoints moved: %v -> %v", before, after)
	}
	sameDump(t, "after rebuilding the journal", readDump(t, e.ctx, e.rm, fixtureMerchants), e.oracle().dump(fixtureMerchants))
	if len(progress) != (total+4)/5 || progress[len(progress)-1] != [2]int64{int64(total), int64(total)} {
		t.Fatalf("progress %v for %d events in pages of 5", progress, total)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i][0] <= progress[i-1][0] {
			t.Fatalf("progress went back: %v", progress)
		}
	}
	if _, err := r.Rebuild(e.ctx, nil, "nope"); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Fatalf("rebuild of an unknown projection: %v", err)
	}
	if n, err := r.Rebuild(e.ctx, nil); err != nil || n != total {
		t.Fatalf("rebuild all: %d, %v", n, err)
	}
	sameDump(t, "after rebuilding all", readDump(t, e.ctx, e.rm, fixtureMerchants), e.oracle().dump(fixtureMerchants))
}

func maps(a, b map[string]domain.Position) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Two runners on one store (two processes catching up at once) never
// apply an event twice.
func testConcurrentRunners(t *testing.T, e *env) {
	e.mixed()
	rng := rand.New(rand.NewPCG(7, 7))
	merchants := e.random(rng, 300)
	e.randomPayouts(rng, merchants)
	e.random(rng, 100)
	all := append(slices.Clone(fixtureMerchants), merchants...)
	// The test means something only if runners really overlapped. How many
	// got a share depends on the scheduler (on PostgreSQL a runner that
	// waited for the lock often finds its page overtaken and starts over),
	// so two is what is required, and a round where one runner did it all
	// is run again from empty read models. Every round must end with every
	// event applied once.
	for round := 1; ; round++ {
		applied := catchUpTogether(t, e, 4)
		sameDump(t, fmt.Sprintf("after concurrent catch-ups, round %d", round), readDump(t, e.ctx, e.rm, all), e.oracle().dump(all))
		busy := 0
		for _, n := range applied {
			if n > 0 {
				busy++
			}
		}
		if busy >= 2 {
			return
		}
		if round == 5 {
			t.Fatalf("in %d rounds only one runner applied events: the runners did not overlap (last %v)", round, applied)
		}
		t.Logf("round %d: only one runner applied events (%v); again from empty read models", round, applied)
		if err := e.rm.Reset(e.ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// catchUpTogether starts n runners on the store under test at once, each
// pausing after every commit, and returns how many events each applied.
func catchUpTogether(t *testing.T, e *env, n int) []int {
	var wg sync.WaitGroup
	errs := make([]error, n)
	applied := make([]int, n)
	start := make(chan struct{}) // all runners start together
	for i := range errs {
		wg.Go(func() {
			// A pause after each commit lets the others in, so their pages
			// overlap pages already applied.
			// 20 ms: longer than SQLite's busy-handler sleeps, so a runner
			// waiting for the write lock (it sleeps up to 25 ms at first) gets a window.
			pause := func(int64, int64) { time.Sleep(20 * time.Millisecond) }
			r := e.runner(e.rm, projections.RunnerOptions{PageSize: 5 + i, Progress: pause})
			<-start
			applied[i], errs[i] = r.CatchUp(e.ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("runner %d: %v", i, err)
		}
	}
	return applied
}

// A reset by another process while a runner catches up (a rebuild
// starting) makes the runner start over from the checkpoints instead of
// continuing past events the reset took away.
func testResetDuringCatchUp(t *testing.T, e *env) {
	e.mixed()
	resets := 0
	r := e.runner(e.rm, projections.RunnerOptions{PageSize: 6, Progress: func(done, _ int64) {
		if resets < 2 && done >= 12 {
			resets++
			if err := e.rm.Reset(e.ctx, []string{projections.NameTransactions, projections.NameJournal}); err != nil {
				t.Error(err)
			}
		}
	}})
	if _, err := r.CatchUp(e.ctx); err != nil {
		t.Fatal(err)
	}
	if resets != 2 {
		t.Fatalf("%d resets happened, want 2", resets)
	}
	sameDump(t, "after catching up through two resets", readDump(t, e.ctx, e.rm, fixtureMerchants), e.oracle().dump(fixtureMerchants))
}

// Read models that applied more of the log than the event store holds (the
// store restored from an older backup) are refused, not silently kept.
func testAheadOfTheLog(t *testing.T, e *env) {
	e.mixed()
	e.catchUp()
	older, err := sqlite.Open(filepath.Join(t.TempDir(), "older.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer older.Close()
	_, err = projections.NewRunner(older, e.rm, projections.RunnerOptions{}).CatchUp(e.ctx)
	if domain.CodeOf(err) != domain.CodeStoreFailure || !strings.Contains(err.Error(), "rebuild") {
		t.Fatalf("catch-up from a store behind the read models: %v", err)
	}
	if n, err := projections.NewRunner(older, e.rm, projections.RunnerOptions{}).Rebuild(e.ctx, nil); err != nil || n != 0 {
		t.Fatalf("rebuild from the empty store: %d, %v", n, err)
	}
	if p, err := e.rm.SearchTransactions(e.ctx, projections.TxQuery{}); err != nil || len(p.Rows) != 0 {
		t.Fatalf("after rebuilding from an empty store: %d rows, %v", len(p.Rows), err)
	}
}

// random drives the ledger with n random commands (many rejected, as in
// life) on a few merchants of their own and returns those merchants.
func (e *env) random(rng *rand.Rand, n int) []domain.MerchantID {
	e.t.Helper()
	merchants := []domain.MerchantID{"271000001", "271000002", "271000003"}
	cards := []string{visaCard, jcbCard, "5500000000000004"}
	var ids []domain.PaymentID
	at := e.now.Add(time.Hour)
	base := e.seq
	for i := range n {
		at = at.Add(time.Duration(rng.IntN(4*3600)) * time.Second)
		pick := func() domain.PaymentID {
			if len(ids) == 0 {
				return "none"
			}
			return ids[rng.IntN(len(ids))]
		}
		m := merchants[rng.IntN(len(merchants))]
		c := card(cards[rng.IntN(len(cards))])
		meta := e.meta(at)
		var cmd domain.Command
		switch rng.IntN(9) {
		case 0, 1:
			id := domain.PaymentID(fmt.Sprintf("r%d-%d", base, i))
			res := domain.ResultApproved
			if rng.IntN(8) == 0 {
				res = "ng-0" + fmt.Sprint(1+rng.IntN(8))
			}
			ids = append(ids, id)
			cmd = domain.Authorize{CommandMeta: meta, Payment: id, Merchant: m, Brand: domain.Brands[rng.IntN(len(domain.Brands))],
				Amount: 1 + rng.Int64N(30000), Installments: 1 + rng.IntN(3), Card: c, Terminal: "T9", Result: res}
		case 2, 3:
			cmd = domain.Capture{CommandMeta: meta, Payment: pick(), Amount: rng.Int64N(3) * 1000}
		case 4:
			cmd = domain.Void{CommandMeta: meta, Payment: pick()}
		case 5:
			cmd = domain.Refund{CommandMeta: meta, Payment: pick(), Amount: 1 + rng.Int64N(15000), Card: c}
		case 6, 7:
			id := domain.PaymentID(fmt.Sprintf("r%d-%d", base, i))
			ids = append(ids, id)
			training := rng.IntN(8) == 0
			before := 5000 + rng.Int64N(15000)
			if training {
				before = domain.TrainingBalance
			}
			cmd = domain.EmoneyDebitCmd{CommandMeta: meta, Payment: id, Merchant: m, Amount: 1 + rng.Int64N(5000), Card: c,
				BalanceBefore: before, Outcome: []string{"succeeded", "failed", "unknown"}[rng.IntN(3)], Training: training}
		case 8:
			cmd = domain.EmoneyResolve{CommandMeta: meta, Payment: pick(), Outcome: []string{"succeeded", "failed"}[rng.IntN(2)]}
		}
		if _, err := e.led.Handle(e.ctx, cmd); err != nil {
			e.t.Fatalf("%s: %v", cmd.Name(), err)
		}
	}
	return merchants
}

// waitCaughtUp waits until every checkpoint of rm is at the log's last
// event.
func (e *env) waitCaughtUp(rm Store) {
	e.t.Helper()
	last, ok, err := e.events.Last(e.ctx)
	if err != nil || !ok {
		e.t.Fatalf("last event: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		cps, err := rm.Checkpoints(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		done := true
		for _, n := range projections.Names {
			done = done && cps[n] == last.Position
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("live runner at %v, log at %s after 20s", cps, last.Position)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A runner following live appends produces exactly what a rebuild from
// zero produces, and what the oracle folds, on random event sequences.
func testReplayEqualsLive(t *testing.T, e *env) {
	issued := 0
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		live := e.fresh()
		ctx, cancel := context.WithCancel(e.ctx)
		runErr := make(chan error, 1)
		go func() {
			runErr <- e.runner(live, projections.RunnerOptions{PageSize: 1 + int(seed)*3}).Run(ctx)
		}()
		var merchants []domain.MerchantID
		for burst := range 4 {
			merchants = e.random(rng, 60+burst*30)
			issued += e.randomPayouts(rng, merchants)
			if burst%2 == 1 {
				e.waitCaughtUp(live) // sometimes idle between bursts, sometimes not
			}
		}
		e.waitCaughtUp(live)
		cancel()
		if err := <-runErr; err != nil {
			t.Fatalf("seed %d: Run: %v", seed, err)
		}
		liveDump := readDump(t, e.ctx, live, merchants)

		rebuilt := e.fresh()
		if _, err := e.runner(rebuilt, projections.RunnerOptions{}).Rebuild(e.ctx, nil); err != nil {
			t.Fatal(err)
		}
		o := e.oracle()
		sameDump(t, fmt.Sprintf("seed %d: live vs rebuilt", seed), liveDump, readDump(t, e.ctx, rebuilt, merchants))
		sameDump(t, fmt.Sprintf("seed %d: live vs oracle", seed), liveDump, o.dump(merchants))
		checkBooks(t, fmt.Sprintf("seed %d", seed), liveDump, merchants)
		if len(liveDump.rows) < 50 || len(liveDump.journal) < 30 || len(liveDump.notices) < 5 {
			t.Fatalf("seed %d: only %d rows, %d journal entries and %d notices: the generator is too weak", seed, len(liveDump.rows), len(liveDump.journal), len(liveDump.notices))
		}
	}
	if issued < 15 {
		t.Fatalf("only %d payouts issued: the generator is too weak", issued)
	}
}
