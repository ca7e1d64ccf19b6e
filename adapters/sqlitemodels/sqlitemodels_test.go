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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/readmodeltest"
	"upay/adapters/sqlite"
	"upay/adapters/sqlmodels"
	"upay/domain"
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
	readmodeltest.RemoveBenchStore()
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

// openFollowing opens the read models in a new file, following events,
// and closes them when the test ends.
func openFollowing(t *testing.T, events domain.EventStore) readmodeltest.Store {
	m, err := Open(filepath.Join(t.TempDir(), "upay.db.read.db"), Options{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// A failure after a batch's rows and before its checkpoints (an error, or
// the context cancelled there) rolls the whole batch back.
func TestFailureBetweenRowsAndCheckpoint(t *testing.T) {
	readmodeltest.FailureBetweenRowsAndCheckpoint(t, openFollowing, func(m readmodeltest.Store, hook func() error) {
		m.(*Models).failBeforeCheckpoint = hook
	})
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
	if err := m.r.QueryRow("EXPLAIN QUERY PLAN "+sqlSettle,
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
		s, args := dialect.Search(tc.q, tc.cur, 51)
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
	if p := plan(sqlmodels.QueryUnknownEmoney); !strings.Contains(p, "tx_merchant_dateless") {
		t.Errorf("unknown e-money plan: %s", p)
	}
	if p := plan("SELECT " + sqlmodels.PayoutCols + " FROM payouts WHERE merchant = ? AND payday BETWEEN 0 AND 99999 ORDER BY payday, notice_no"); !strings.Contains(p, "payouts_merchant") {
		t.Errorf("a merchant's payouts plan: %s", p)
	}
	if p := plan(sqlmodels.QueryPayoutsOn); !strings.Contains(p, "payouts_payday") {
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
	s := readmodeltest.Sales(t, storePath, 1500) // 3,000 events
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
	readmodeltest.SameState(t, "resumed vs uninterrupted", readmodeltest.ReadState(t, m), readmodeltest.ReadState(t, clean))
}

// Readers keep reading while a rebuild drops, refills and re-indexes the
// listing: they see committed pages only and never fail.
func TestReadsDuringRebuild(t *testing.T) {
	readmodeltest.ReadsDuringRebuild(t, openFollowing)
}

// oldFile writes, beside the fixture in dir, a read-model file as an older
// build left it: schema statements (the released schema files and user
// version), then fill statements run with this build's fold of the same
// log attached as cur, from which the older build's rows are taken.
func oldFile(t *testing.T, dir string, events domain.EventStore, schema, fill []string) string {
	t.Helper()
	cur, err := Open(filepath.Join(dir, "current.read.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := projections.NewRunner(events, cur, projections.RunnerOptions{}).CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := cur.Close(); err != nil {
		t.Fatal(err)
	}
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
	stmts = append(append(append(stmts, schema...), "ATTACH DATABASE '"+filepath.Join(dir, "current.read.db")+"' AS cur"), fill...)
	for _, q := range append(stmts, "DETACH DATABASE cur") {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return old
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

	// Version 1 as released: schema.sql and the search indexes, filled
	// with what a build of that version folded from the same log.
	old := oldFile(t, dir, events, []string{"PRAGMA user_version = 1"}, []string{
		"INSERT INTO transactions SELECT * FROM cur.transactions",
		"UPDATE transactions SET payout = ''",
		"INSERT INTO tx_merchants SELECT * FROM cur.tx_merchants",
		"INSERT INTO period_totals SELECT * FROM cur.period_totals",
		"INSERT INTO journal SELECT pos_commit, pos_prepare, time_ns, type, payment, debit, credit, amount, postings FROM cur.journal WHERE type NOT LIKE 'payout.%'",
		`INSERT INTO trial_balance SELECT account, sum(d), sum(c) FROM
			(SELECT debit AS account, amount AS d, 0 AS c FROM journal UNION ALL SELECT credit, 0, amount FROM journal) GROUP BY account`,
		"INSERT INTO checkpoints SELECT * FROM cur.checkpoints WHERE name NOT IN ('payouts', 'notices')",
	})
	db, err := sql.Open("sqlite", old)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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

// A read-model file of schema version 2, written by a build that did not
// read notices (every checkpoint at the log's end, no notices table),
// upgrades on Open: the notices table appears empty and its checkpoint
// absent, so the next catch-up folds the notices from the start of the log
// while the other projections pass over what they have applied.
func TestUpgradeFromVersion2(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	events, merchants := readmodeltest.Fixture(t, dir)

	// Version 2 as released: schema.sql, the search indexes and
	// schema_v2.sql, filled with what this build folded, notices aside.
	var fill []string
	for _, table := range []string{"transactions", "tx_merchants", "period_totals", "journal", "trial_balance", "payouts"} {
		fill = append(fill, "INSERT INTO "+table+" SELECT * FROM cur."+table)
	}
	old := oldFile(t, dir, events, []string{schemaV2, "PRAGMA user_version = 2"},
		append(fill, "INSERT INTO checkpoints SELECT * FROM cur.checkpoints WHERE name <> 'notices'"))

	m, err := Open(old, Options{Events: events})
	if err != nil {
		t.Fatalf("Open of a version-2 file: %v", err)
	}
	defer func() { m.Close() }()
	var v, rows, notices, noticesTable int
	if err := m.r.QueryRow(`SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM transactions),
		(SELECT count(*) FROM notices), (SELECT count(*) FROM sqlite_master WHERE name IN ('notices', 'notices_payday'))`).
		Scan(&v, &rows, &notices, &noticesTable); err != nil || v != 3 || v != schemaVersion || rows == 0 || notices != 0 || noticesTable != 2 {
		t.Fatalf("after the upgrade: version %d, %d rows, %d notices, notices table and index %d, %v", v, rows, notices, noticesTable, err)
	}
	cps, err := m.Checkpoints(ctx)
	if _, ok := cps[projections.NameNotices]; err != nil || ok || len(cps) != len(projections.Names)-1 {
		t.Fatalf("checkpoints after the upgrade: %v, %v; want every one but notices", cps, err)
	}
	all, err := events.ReadAll(ctx, domain.Start, domain.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := projections.NewRunner(events, m, projections.RunnerOptions{PageSize: 7}).CatchUp(ctx)
	if err != nil || n != len(all) {
		t.Fatalf("catch-up after the upgrade: %d, %v; want the whole log of %d", n, err, len(all))
	}
	readmodeltest.Check(t, events, m, merchants)
}

// TestReadsGiveTheirGatePlaceBack runs every read more often than the gate
// admits at once: a read path that kept its place would block the later
// calls (the deadline fails them). A full gate makes a read wait, and its
// deadline ends the wait with U3003.
func TestReadsGiveTheirGatePlaceBack(t *testing.T) {
	m := openTemp(t)
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	day := date.New(2019, 10, 1)
	reads := map[string]func() error{
		"search": func() error {
			_, err := m.SearchTransactions(ctx, projections.TxQuery{Merchant: "270000001", From: &day, To: &day})
			return err
		},
		"transaction": func() error { _, _, err := m.Transaction(ctx, "p-1"); return err },
		"totals":      func() error { _, err := m.PeriodTotals(ctx, "270000001", day, day); return err },
		"unknown":     func() error { _, err := m.UnknownEmoney(ctx, "270000001"); return err },
		"trial":       func() error { _, err := m.TrialBalance(ctx); return err },
		"journal":     func() error { _, err := m.Journal(ctx, domain.Start, 10); return err },
		"payouts":     func() error { _, err := m.Payouts(ctx, "270000001", day, day); return err },
		"payouts on":  func() error { _, err := m.PayoutsOn(ctx, day); return err },
		"notices":     func() error { _, err := m.Notices(ctx, day); return err },
		"checkpoints": func() error { _, err := m.Checkpoints(ctx); return err },
	}
	for name, read := range reads {
		for i := range 3 * cap(m.gate) {
			if err := read(); err != nil {
				t.Fatalf("%s, call %d: %v", name, i+1, err)
			}
		}
	}
	if n := len(m.gate); n != 0 {
		t.Fatalf("%d places of the gate still held after every read returned", n)
	}
	for range cap(m.gate) {
		m.gate <- struct{}{}
	}
	defer func() {
		for range cap(m.gate) {
			m.gate.Leave()
		}
	}()
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	defer stop()
	if _, err := m.SearchTransactions(short, projections.TxQuery{}); domain.CodeOf(err) != domain.CodeStoreFailure {
		t.Fatalf("search behind a full gate: got %v, want U3003 when its deadline passes", err)
	}
}
