package sqlitemodels

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/readmodeltest"
	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ledger"
	"upay/projections"
)

// crashChildEnv makes the test binary a crash-test child: it rebuilds the
// read models named by the variable from the store beside them, printing
// each page's progress, until it is killed.
const crashChildEnv = "UPAY_SQLITEMODELS_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

func openTemp(t *testing.T) *Models {
	t.Helper()
	m, err := Open(filepath.Join(t.TempDir(), "upay.db.read.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return m
}

func TestConformance(t *testing.T) {
	readmodeltest.Run(t, func(t *testing.T) readmodeltest.Store { return openTemp(t) })
}

// fixture records n card sales (authorize and capture) for three merchants
// over n minutes and returns the store.
func fixture(t testing.TB, path string, n int) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(ctx, s, ledger.Options{Import: true})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2019, 10, 1, 0, 0, 0, 0, domain.Tokyo)
	var cmds []domain.Command
	for i := range n {
		id := domain.PaymentID(fmt.Sprintf("p%05d", i))
		at = at.Add(time.Minute)
		cmds = append(cmds,
			domain.Authorize{CommandMeta: domain.CommandMeta{RequestID: fmt.Sprintf("a%d", i), At: at}, Payment: id,
				Merchant: domain.MerchantID(fmt.Sprintf("27000000%d", 1+i%3)), Brand: domain.Brands[i%len(domain.Brands)],
				Amount: domain.Yen(100 + i), Installments: 1, Card: domain.NewCardRef([]byte("k"), "4111111111111111"), Result: domain.ResultApproved},
			domain.Capture{CommandMeta: domain.CommandMeta{RequestID: fmt.Sprintf("c%d", i), At: at}, Payment: id})
	}
	res, err := l.HandleBatch(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Accepted {
			t.Fatalf("fixture command rejected: %v", r.Err)
		}
	}
	return s
}

// state is everything the models hold, for comparing two of them.
type state struct {
	rows []projections.Transaction
	tb   projections.TrialBalance
	tot  []projections.TotalRow
	cps  map[string]domain.Position
}

func readState(t *testing.T, m *Models) state {
	t.Helper()
	ctx := context.Background()
	var st state
	q := projections.TxQuery{Limit: projections.MaxSearchLimit}
	for {
		p, err := m.SearchTransactions(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		st.rows = append(st.rows, p.Rows...)
		if !p.More {
			break
		}
		q.After = p.Next
	}
	var err error
	if st.tb, err = m.TrialBalance(ctx); err != nil {
		t.Fatal(err)
	}
	for _, mid := range []domain.MerchantID{"270000001", "270000002", "270000003"} {
		rows, err := m.PeriodTotals(ctx, mid, date.New(2019, 1, 1), date.New(2020, 1, 1))
		if err != nil {
			t.Fatal(err)
		}
		st.tot = append(st.tot, rows...)
	}
	if st.cps, err = m.Checkpoints(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

func sameState(t *testing.T, what string, got, want state) {
	t.Helper()
	if len(got.rows) != len(want.rows) {
		t.Fatalf("%s: %d rows, want %d", what, len(got.rows), len(want.rows))
	}
	for i := range got.rows {
		g, w := got.rows[i], want.rows[i]
		if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
			t.Fatalf("%s: row %d times differ", what, i)
		}
		g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: row %d\n got %+v\nwant %+v", what, i, g, w)
		}
	}
	if !reflect.DeepEqual(got.tb, want.tb) || !reflect.DeepEqual(got.tot, want.tot) || !reflect.DeepEqual(got.cps, want.cps) {
		t.Fatalf("%s:\n got %v %v %v\nwant %v %v %v", what, got.tb, got.tot, got.cps, want.tb, want.tot, want.cps)
	}
}

// A failure after a batch's rows and before its checkpoints (an error, or
// the context cancelled there) rolls the whole batch back.
func TestFailureBetweenRowsAndCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := fixture(t, filepath.Join(dir, "upay.db"), 50)
	defer s.Close()
	m, err := Open(filepath.Join(dir, "upay.db.read.db"), Options{Events: s})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := projections.NewRunner(s, m, projections.RunnerOptions{PageSize: 30})
	if _, err := r.CatchUp(ctx); err != nil { // first: 100 events in pages of 30
		t.Fatal(err)
	}
	committed := readState(t, m)
	if len(committed.rows) != 50 {
		t.Fatalf("fixture: %d rows", len(committed.rows))
	}
	fixtureMore(t, s, 50, 20)

	calls := 0
	m.failBeforeCheckpoint = func() error { calls++; return errors.New("disk on fire") }
	if _, err := r.CatchUp(ctx); err == nil || calls != 1 {
		t.Fatalf("CatchUp with a failing batch: %v after %d calls", err, calls)
	}
	sameState(t, "after a failure before the checkpoint", readState(t, m), committed)

	cctx, cancel := context.WithCancel(ctx)
	m.failBeforeCheckpoint = func() error { cancel(); return nil }
	if _, err := r.CatchUp(cctx); err == nil {
		t.Fatal("CatchUp whose context ends before the checkpoint succeeded")
	}
	sameState(t, "after a cancellation before the checkpoint", readState(t, m), committed)

	m.failBeforeCheckpoint = nil
	if n, err := r.CatchUp(ctx); err != nil || n != 40 {
		t.Fatalf("catch-up after the failures: %d, %v; want the 40 new events", n, err)
	}
	if st := readState(t, m); len(st.rows) != 70 {
		t.Fatalf("%d rows after recovery, want 70", len(st.rows))
	}
	status, err := m.Status(ctx)
	if err != nil || len(status) != len(projections.Names) || status[0].Lag != 0 || status[0].Position.Commit != 140 {
		t.Fatalf("status %+v, %v", status, err)
	}
}

// fixtureMore records n more sales, numbered from first.
func fixtureMore(t *testing.T, s *sqlite.Store, first, n int) {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.New(ctx, s, ledger.Options{Import: true})
	if err != nil {
		t.Fatal(err)
	}
	last, _, _ := s.Last(ctx)
	at := last.Time
	for i := first; i < first+n; i++ {
		at = at.Add(time.Minute)
		id := domain.PaymentID(fmt.Sprintf("p%05d", i))
		for _, c := range []domain.Command{
			domain.Authorize{CommandMeta: domain.CommandMeta{RequestID: fmt.Sprintf("a%d", i), At: at}, Payment: id, Merchant: "270000001",
				Brand: domain.Visa, Amount: 500, Installments: 1, Card: domain.NewCardRef([]byte("k"), "4111111111111111"), Result: domain.ResultApproved},
			domain.Capture{CommandMeta: domain.CommandMeta{RequestID: fmt.Sprintf("c%d", i), At: at}, Payment: id},
		} {
			if r, err := l.Handle(ctx, c); err != nil || !r.Accepted {
				t.Fatalf("%v %v", err, r.Err)
			}
		}
	}
}

// The searches run on the indexes meant for them: a regression to a full
// scan would pass every functional test and fail in production.
func TestSearchPlansUseIndexes(t *testing.T) {
	m := openTemp(t)
	defer m.Close()
	// A reset of the listing drops its indexes and Ready brings them back:
	// the plans below are checked on the recreated ones.
	ctx := context.Background()
	count := func() int {
		var n int
		if err := m.r.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'tx_%' AND name <> 'tx_unsettled'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := m.Reset(ctx, []string{projections.NameTransactions}); err != nil || count() != 0 {
		t.Fatalf("after Reset: %d indexes, %v", count(), err)
	}
	// The payout stamps of a rebuild read tx_unsettled, which Reset keeps.
	var detail string
	if err := m.r.QueryRow("EXPLAIN QUERY PLAN UPDATE transactions SET payout = ? WHERE merchant = ? AND sales_date BETWEEN ? AND ? AND payout = '' AND brand IN (?, ?, ?, ?)",
		"n", "270000001", 1, 2, "visa", "mastercard", "visa", "visa").Scan(new(int), new(int), new(int), &detail); err != nil ||
		!strings.Contains(detail, "tx_unsettled") {
		t.Errorf("payout stamp during a rebuild: %s, %v", detail, err)
	}
	if err := m.Ready(ctx); err != nil || count() != len(indexes) {
		t.Fatalf("after Ready: %d indexes, %v", count(), err)
	}
	d1, d2, d30 := date.New(2019, 10, 10), date.New(2019, 10, 12), date.New(2019, 11, 9)
	amt := domain.Yen(5000)
	cur := &projections.Cursor{CreatedAt: time.Now(), Payment: "x"}
	for _, tc := range []struct {
		q    projections.TxQuery
		cur  *projections.Cursor
		want []string
	}{
		{projections.TxQuery{Merchant: "270000001", From: &d1, To: &d1}, nil,
			[]string{"MERGE (UNION ALL)", "INDEX tx_merchant_sales (merchant=? AND sales_date=?)", "INDEX tx_merchant_return (merchant=? AND return_date=?)", "INDEX tx_merchant_dateless"}},
		{projections.TxQuery{Merchant: "270000001", From: &d1, To: &d2}, cur,
			[]string{"MERGE (UNION ALL)", "INDEX tx_merchant_sales (merchant=? AND sales_date=? AND (created_at,payment)<(?,?))", "INDEX tx_merchant_dateless"}},
		{projections.TxQuery{Merchant: "270000001", From: &d1, To: &d30}, nil,
			[]string{"COVERING INDEX tx_merchant_sales", "COVERING INDEX tx_merchant_return", "INDEX tx_merchant_dateless"}},
		{projections.TxQuery{From: &d1, To: &d2}, nil, []string{"tx_merchants", "tx_merchant_sales", "tx_merchant_return", "tx_merchant_dateless"}},
		{projections.TxQuery{Merchant: "270000001"}, cur, []string{"INDEX tx_merchant_created"}},
		{projections.TxQuery{}, nil, []string{"INDEX tx_created"}},
		{projections.TxQuery{}, cur, []string{"INDEX tx_created"}},
		{projections.TxQuery{MinAmount: &amt, MaxAmount: &amt}, nil, []string{"INDEX tx_amount"}},
	} {
		s, args := searchSQL(tc.q, tc.cur, 51)
		rows, err := m.r.Query("EXPLAIN QUERY PLAN "+s, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "\n")
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("%+v: plan lacks %q:\n%s", tc.q, w, all)
			}
		}
		for _, p := range plan {
			if strings.HasPrefix(p, "SCAN transactions") && !strings.Contains(p, "INDEX") {
				t.Errorf("%+v: full scan:\n%s", tc.q, all)
			}
			// The merged form must not sort: each branch is in order.
			if strings.Contains(all, "UNION ALL") && strings.Contains(p, "TEMP B-TREE") {
				t.Errorf("%+v: the merged search sorts:\n%s", tc.q, all)
			}
		}
	}
	plan := func(q string) string {
		var id, parent, unused int
		var detail string
		if err := m.r.QueryRow("EXPLAIN QUERY PLAN "+q, "270000001").Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		return detail
	}
	if p := plan("SELECT " + txCols + " FROM transactions WHERE merchant = ? AND sales_date IS NULL AND return_date IS NULL AND status = 'unknown' ORDER BY created_at, payment"); !strings.Contains(p, "tx_merchant_dateless") {
		t.Errorf("unknown e-money plan: %s", p)
	}
	if p := plan("SELECT " + payoutCols + " FROM payouts WHERE merchant = ? AND payday BETWEEN 0 AND 99999 ORDER BY payday, notice_no"); !strings.Contains(p, "payouts_merchant") {
		t.Errorf("a merchant's payouts plan: %s", p)
	}
	if p := plan("SELECT " + payoutCols + " FROM payouts WHERE payday = ? ORDER BY merchant, notice_no"); !strings.Contains(p, "payouts_payday") {
		t.Errorf("payouts of a payday plan: %s", p)
	}
}

func TestOpenRefusesBadPathsAndNewerSchema(t *testing.T) {
	if _, err := Open("", Options{}); domain.CodeOf(err) != domain.CodeMissingField {
		t.Errorf("empty path: %v", err)
	}
	if _, err := Open(":memory:", Options{}); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Errorf(":memory:: %v", err)
	}
	path := filepath.Join(t.TempDir(), "r.db")
	m, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := m.Status(context.Background()); err != nil || len(st) != len(projections.Names) || st[0].Lag != -1 {
		t.Fatalf("status without an event store: %+v, %v", st, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := m.SearchTransactions(context.Background(), projections.TxQuery{}); domain.CodeOf(err) != domain.CodeStoreFailure {
		t.Errorf("search after Close: %v", err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, Options{}); domain.CodeOf(err) != domain.CodeStoreFailure || !strings.Contains(err.Error(), fmt.Sprintf("schema version %d", schemaVersion+1)) {
		t.Errorf("newer schema: %v", err)
	}
	if got := PathFor("/x/upay.db"); got != "/x/upay.db.read.db" {
		t.Errorf("PathFor = %s", got)
	}
}

// crashChild rebuilds the read models at path from the event store beside
// them, page by page, printing the events done after each commit, until it
// is killed.
func crashChild(path string) int {
	ctx := context.Background()
	s, err := sqlite.Open(strings.TrimSuffix(path, ".read.db"))
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	m, err := Open(path, Options{})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	r := projections.NewRunner(s, m, projections.RunnerOptions{PageSize: 50, Progress: func(done, _ int64) {
		fmt.Println("done", done)
		time.Sleep(2 * time.Millisecond) // let the parent kill us mid-way
	}})
	if _, err := r.Rebuild(ctx, nil); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("finished")
	return 0
}

// A rebuild killed with SIGKILL mid-way resumes where its last commit left
// it: the result equals an uninterrupted rebuild, nothing applied twice or
// skipped.
func TestKilledRebuildResumes(t *testing.T) {
	dir := t.TempDir()
	storePath := filepath.Join(dir, "upay.db")
	s := fixture(t, storePath, 1500) // 3,000 events
	defer s.Close()
	path := PathFor(storePath)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	guard := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer guard.Stop()
	sc := bufio.NewScanner(out)
	killedAt := ""
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") || line == "finished" {
			t.Fatalf("child: %s before it was killed", line)
		}
		if line == "done 1000" {
			killedAt = line
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	werr := cmd.Wait()
	var ee *exec.ExitError
	if killedAt == "" || !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child not killed mid-rebuild: %v", werr)
	}
	m, err := Open(path, Options{Events: s})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cps, err := m.Checkpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	at := cps[projections.NameTransactions].Commit
	if at < 1000 || at >= 3000 || at%50 != 0 {
		t.Fatalf("killed after 1,000 events, checkpoint at %d: want a page boundary in 1000..2950", at)
	}
	n, err := projections.NewRunner(s, m, projections.RunnerOptions{}).CatchUp(context.Background())
	if err != nil || n != 3000-int(at) {
		t.Fatalf("resume: %d events, %v; want %d", n, err, 3000-at)
	}
	clean, err := Open(filepath.Join(dir, "clean.read.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer clean.Close()
	if _, err := projections.NewRunner(s, clean, projections.RunnerOptions{}).Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	sameState(t, "resumed vs uninterrupted", readState(t, m), readState(t, clean))
}

// Readers keep reading while a rebuild drops, refills and re-indexes the
// listing: they see committed pages only and never fail.
func TestReadsDuringRebuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := fixture(t, filepath.Join(dir, "upay.db"), 400)
	defer s.Close()
	m, err := Open(filepath.Join(dir, "upay.db.read.db"), Options{Events: s})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := projections.NewRunner(s, m, projections.RunnerOptions{PageSize: 50})
	if _, err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan error, 8)
	for g := range 4 {
		go func() {
			day := date.New(2019, 10, 1)
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				var err error
				switch (g + i) % 3 {
				case 0:
					var p projections.TxPage
					p, err = m.SearchTransactions(ctx, projections.TxQuery{Merchant: "270000001", From: &day, To: &day})
					if err == nil && len(p.Rows) > projections.SearchLimit {
						err = fmt.Errorf("%d rows", len(p.Rows))
					}
				case 1:
					var tb projections.TrialBalance
					if tb, err = m.TrialBalance(ctx); err == nil {
						if d, c := tb.Totals(); d != c {
							err = fmt.Errorf("trial balance %d != %d mid-rebuild", d, c)
						}
					}
				default:
					_, err = m.Status(ctx)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 2 {
		if _, err := r.Rebuild(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("reader: %v", err)
		}
	}
	if st := readState(t, m); len(st.rows) != 400 {
		t.Fatalf("%d rows after the rebuilds", len(st.rows))
	}
}

// A read-model file of schema version 1, written by a build that did not
// read payouts (its listing unstamped, its journal without payout entries,
// its checkpoints past the payout events it passed over), upgrades on
// Open: the new tables and index appear, the listing and the journal are
// emptied with their checkpoints, and the next catch-up makes it what a
// new file holds.
func TestUpgradeFromVersion1(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	events, merchants := readmodeltest.Fixture(t, dir)

	// What this build makes of the log, to take version 1's rows from.
	cur, err := Open(filepath.Join(dir, "current.read.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := projections.NewRunner(events, cur, projections.RunnerOptions{}).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cur.Close(); err != nil {
		t.Fatal(err)
	}
	// Version 1 as released: schema.sql and the search indexes, filled
	// with what a build of that version folded from the same log.
	old := filepath.Join(dir, "old.read.db")
	db, err := sql.Open("sqlite", old)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stmts := []string{schemaSQL}
	for _, ix := range indexes {
		stmts = append(stmts, "CREATE INDEX "+ix.name+" ON "+ix.def)
	}
	stmts = append(stmts, "PRAGMA user_version = 1",
		"ATTACH DATABASE '"+filepath.Join(dir, "current.read.db")+"' AS cur",
		"INSERT INTO transactions SELECT * FROM cur.transactions",
		"UPDATE transactions SET payout = ''",
		"INSERT INTO tx_merchants SELECT * FROM cur.tx_merchants",
		"INSERT INTO period_totals SELECT * FROM cur.period_totals",
		"INSERT INTO journal SELECT pos_commit, pos_prepare, time_ns, type, payment, debit, credit, amount, postings FROM cur.journal WHERE type NOT LIKE 'payout.%'",
		`INSERT INTO trial_balance SELECT account, sum(d), sum(c) FROM
			(SELECT debit AS account, amount AS d, 0 AS c FROM journal UNION ALL SELECT credit, 0, amount FROM journal) GROUP BY account`,
		"INSERT INTO checkpoints SELECT * FROM cur.checkpoints WHERE name <> 'payouts'",
		"DETACH DATABASE cur")
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var v1rows, v1cps int
	if err := db.QueryRow("SELECT (SELECT count(*) FROM transactions), (SELECT count(*) FROM checkpoints)").Scan(&v1rows, &v1cps); err != nil || v1rows < 10 || v1cps != 3 {
		t.Fatalf("version-1 file: %d rows, %d checkpoints, %v", v1rows, v1cps, err)
	}
	db.Close()

	m, err := Open(old, Options{Events: events})
	if err != nil {
		t.Fatalf("Open of a version-1 file: %v", err)
	}
	defer func() { m.Close() }()
	var v, rows, payoutsTable, unsettled int
	if err := m.r.QueryRow(`SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM transactions),
		(SELECT count(*) FROM sqlite_master WHERE name = 'payouts'), (SELECT count(*) FROM sqlite_master WHERE name = 'tx_unsettled')`).
		Scan(&v, &rows, &payoutsTable, &unsettled); err != nil || v != schemaVersion || rows != 0 || payoutsTable != 1 || unsettled != 1 {
		t.Fatalf("after the upgrade: version %d, %d rows, payouts table %d, tx_unsettled %d, %v", v, rows, payoutsTable, unsettled, err)
	}
	cps, err := m.Checkpoints(ctx)
	if _, ok := cps[projections.NameTotals]; err != nil || len(cps) != 1 || !ok {
		t.Fatalf("checkpoints after the upgrade: %v, %v; want period_totals alone", cps, err)
	}
	n, err := projections.NewRunner(events, m, projections.RunnerOptions{PageSize: 7}).CatchUp(ctx)
	if err != nil || n == 0 {
		t.Fatalf("catch-up after the upgrade: %d, %v", n, err)
	}
	readmodeltest.Check(t, events, m, merchants)
	var ixs int
	if err := m.r.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'tx_%' AND name <> 'tx_unsettled'").Scan(&ixs); err != nil || ixs != len(indexes) {
		t.Fatalf("search indexes after the catch-up: %d, %v", ixs, err)
	}
	// Opening it again changes nothing.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if m, err = Open(old, Options{Events: events}); err != nil {
		t.Fatal(err)
	}
	readmodeltest.Check(t, events, m, merchants)
}
