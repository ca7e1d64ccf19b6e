package pgmodels

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rickb777/date"

	"upay/adapters/pgschema"
	"upay/adapters/pgtest"
	"upay/adapters/readmodeltest"
	"upay/adapters/sqlmodels"
	"upay/domain"
	"upay/projections"
)

func TestMain(m *testing.M) {
	code := m.Run()
	readmodeltest.RemoveBenchStore()
	os.Exit(code)
}

// openFresh opens the read models in a new throwaway database (dropped
// when the test ends), migrating it, and closes them when the test ends.
func openFresh(t testing.TB, opt Options) *Models {
	t.Helper()
	opt.Migrate = true
	m, err := Open(context.Background(), pgtest.DB(t), opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestConformance(t *testing.T) {
	readmodeltest.Run(t, func(t *testing.T) readmodeltest.Store {
		m, err := Open(t.Context(), pgtest.DB(t), Options{Migrate: true})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return m // the suite closes it
	})
}

// openFollowing opens the read models in a new throwaway database,
// following events.
func openFollowing(t *testing.T, events domain.EventStore) readmodeltest.Store {
	return openFresh(t, Options{Events: events})
}

// A failure after a batch's rows and before its checkpoints (an error, or
// the context cancelled there) rolls the whole batch back.
func TestFailureBetweenRowsAndCheckpoint(t *testing.T) {
	readmodeltest.FailureBetweenRowsAndCheckpoint(t, openFollowing, func(m readmodeltest.Store, hook func() error) {
		m.(*Models).failBeforeCheckpoint = hook
	})
}

// killingWriter ends the server backend of a write transaction after the
// batch's rows and checkpoints were written and before the commit, once,
// on batch kill (1-based).
type killingWriter struct {
	*Models
	t       *testing.T
	url     string // of the test database, to look into pg_stat_activity
	appName string
	kill    int
	writes  int
	killed  int32 // the backend's pid
}

func (w *killingWriter) Begin(ctx context.Context) (projections.WriteTx, error) {
	tx, err := w.Models.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &killingTx{WriteTx: tx, w: w}, nil
}

type killingTx struct {
	projections.WriteTx
	w *killingWriter
}

func (tx *killingTx) Write(b *projections.Batch) error {
	if err := tx.WriteTx.Write(b); err != nil {
		return err
	}
	w := tx.w
	if w.writes++; w.writes != w.kill {
		return nil
	}
	// The writer is the one backend of the application that is inside a
	// transaction; readers are idle between statements.
	c, err := pgx.Connect(context.Background(), w.url)
	if err != nil {
		w.t.Fatal(err)
	}
	defer c.Close(context.Background())
	rows, _ := c.Query(context.Background(), "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'", w.appName)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(pids) != 1 {
		w.t.Fatalf("backends of %s in a transaction: %v, %v; want the writer's alone", w.appName, pids, err)
	}
	w.killed = pids[0]
	// Wait (up to a minute) until the backend has exited, so the commit
	// that follows meets a dead connection, not a dying one.
	pgtest.Exec(w.t, "SELECT pg_terminate_backend($1, 60000)", pids[0])
	return nil
}

// A connection killed in the middle of a projection batch, after its rows
// and checkpoints were written and before the commit: the commit fails
// with U3003 saying the connection was lost, nothing of the batch is
// visible, and a runner started afresh catches up to exactly the state of
// an untouched store.
func TestKilledConnectionMidBatch(t *testing.T) {
	ctx := context.Background()
	s := readmodeltest.Sales(t, filepath.Join(t.TempDir(), "upay.db"), 1500) // 3,000 events
	var b [4]byte
	rand.Read(b[:])
	app := "upay-pgmodels-test-" + hex.EncodeToString(b[:])
	dbURL := pgtest.DB(t)
	m, err := Open(ctx, dbURL, Options{Events: s, Migrate: true, ApplicationName: app, StatementTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// Pages of 1,000 events post journal entries by COPY; the untouched
	// store below, in pages of 100, by the pipelined insert.
	w := &killingWriter{Models: m, t: t, url: dbURL, appName: app, kill: 2}
	var afterFirst readmodeltest.State
	r := projections.NewRunner(s, w, projections.RunnerOptions{PageSize: 1000, Progress: func(done, _ int64) {
		if done == 1000 {
			afterFirst = readmodeltest.ReadState(t, m)
		}
	}})
	_, err = r.CatchUp(ctx)
	if w.killed == 0 {
		t.Fatalf("the writer's backend was not killed: %v", err)
	}
	if domain.CodeOf(err) != domain.CodeStoreFailure || !strings.Contains(err.Error(), "connection to PostgreSQL was lost") {
		t.Fatalf("catch-up through a killed connection: %v; want U3003 saying the connection was lost", err)
	}
	t.Logf("the error: %v", err)
	if afterFirst.Checkpoints == nil || afterFirst.Checkpoints[projections.NameTransactions].Commit != 1000 {
		t.Fatalf("the first batch did not commit: %v", afterFirst.Checkpoints)
	}
	readmodeltest.SameState(t, "after the killed batch", readmodeltest.ReadState(t, m), afterFirst)

	// A fresh runner on the same models: the pool has replaced the dead
	// connection.
	n, err := projections.NewRunner(s, m, projections.RunnerOptions{}).CatchUp(ctx)
	if err != nil || n != 2000 {
		t.Fatalf("catch-up after the kill: %d events, %v; want 2000", n, err)
	}
	untouched := openFresh(t, Options{})
	if _, err := projections.NewRunner(s, untouched, projections.RunnerOptions{PageSize: 100}).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	got := readmodeltest.ReadState(t, m)
	if len(got.Rows) != 1500 || len(got.Journal) != 1500 {
		t.Fatalf("%d rows and %d journal entries, want 1,500 each", len(got.Rows), len(got.Journal))
	}
	readmodeltest.SameState(t, "recovered vs untouched", got, readmodeltest.ReadState(t, untouched))
	st, err := m.Status(ctx)
	if err != nil || st[0].Lag != 0 || st[2].Lag != 0 {
		t.Fatalf("status after recovery: %+v, %v", st, err)
	}
}

// indexCount counts the listing's secondary indexes.
func indexCount(t *testing.T, m *Models) (have, deferred int) {
	t.Helper()
	err := m.pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM pg_indexes WHERE tablename = 'transactions' AND indexname LIKE 'tx\_%' AND indexname <> 'tx_unsettled'),
		(SELECT count(*) FROM deferred_indexes)`).Scan(&have, &deferred)
	if err != nil {
		t.Fatal(err)
	}
	return have, deferred
}

// explain returns the plan of a search statement; generic forces the plan
// a prepared statement settles on after five runs (plan_cache_mode).
func explain(t *testing.T, m *Models, sql string, args []any, generic bool) string {
	t.Helper()
	ctx := context.Background()
	tx, err := m.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	q := "EXPLAIN " + sql
	if generic {
		if _, err := tx.Exec(ctx, "PREPARE search AS "+sql); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
			t.Fatal(err)
		}
		lits := make([]string, len(args))
		for i, a := range args {
			switch a := a.(type) {
			case string:
				lits[i] = "'" + strings.ReplaceAll(a, "'", "''") + "'"
			default:
				lits[i] = fmt.Sprint(a)
			}
		}
		q, args = "EXPLAIN EXECUTE search("+strings.Join(lits, ", ")+")", nil
		defer tx.Exec(ctx, "DEALLOCATE search")
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

var sortNode = regexp.MustCompile(`(?m)^\s*(->\s+)?Sort\s+\(`)

// The searches run on the indexes meant for them: a regression to a full
// scan would pass every functional test and fail in production.
func TestSearchPlansUseIndexes(t *testing.T) {
	ctx := context.Background()
	m := openFresh(t, Options{})
	// A reset of the listing keeps its indexes (rebuilding them would hold
	// a long write transaction that stalls every append's visibility).
	if have, _ := indexCount(t, m); have != 6 {
		t.Fatalf("%d secondary indexes after the migration, want 6", have)
	}
	if err := m.Reset(ctx, []string{projections.NameTransactions}); err != nil {
		t.Fatal(err)
	}
	if have, deferred := indexCount(t, m); have != 6 || deferred != 0 {
		t.Fatalf("after Reset: %d indexes, %d deferred", have, deferred)
	}
	// 10 merchants x 40 days x 100 payments, every 50th refunded three
	// days later, every 20th never captured: enough rows that a scan
	// costs more than the indexes.
	if _, err := m.pool.Exec(ctx, `INSERT INTO transactions (`+sqlmodels.TxCols+`)
		SELECT 'p' || lpad(i::text, 7, '0'), (270000001 + i % 10)::text, 'card', 'visa', 100 + i % 5000, 100, 0,
			'captured', 'ok-01', '', CASE WHEN i % 20 <> 0 THEN 18170 + i / 1000 END,
			CASE WHEN i % 50 = 0 THEN 18173 + i / 1000 END, '************1111', 1, 'T', NULL, NULL, '',
			1569855600000000000 + i::bigint * 86400000000, 0, i, i
		FROM generate_series(0, 39999) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := m.pool.Exec(ctx, "INSERT INTO tx_merchants SELECT DISTINCT merchant FROM transactions"); err != nil {
		t.Fatal(err)
	}
	// The payout stamps of a rebuild read tx_unsettled, which Reset keeps.
	if plan := explain(t, m, sqlSettle, []any{"n", "270000001", int32(18180), int32(18194), []string{"visa", "mastercard"}}, false); !strings.Contains(plan, "tx_unsettled") ||
		strings.Contains(plan, "Seq Scan") {
		t.Errorf("payout stamp during a rebuild:\n%s", plan)
	}
	if err := m.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if have, deferred := indexCount(t, m); have != 6 || deferred != 0 {
		t.Fatalf("after Ready: %d indexes, %d deferred", have, deferred)
	}
	d1 := date.NewOfDays(18180)
	d2, d30 := d1.Add(2), d1.Add(29)
	amt := domain.Yen(5000)
	cur := &projections.Cursor{CreatedAt: projections.DayStart(d1).Add(12 * time.Hour), Payment: "p0010000"}
	for _, tc := range []struct {
		name   string
		q      projections.TxQuery
		cur    *projections.Cursor
		want   []string
		merged bool // Merge Append, no sort; checked on the generic plan too
	}{
		{"one merchant, one day", projections.TxQuery{Merchant: "270000001", From: &d1, To: &d1}, nil,
			[]string{"tx_merchant_sales", "tx_merchant_return", "tx_merchant_dateless"}, true},
		{"one merchant, three days, next page", projections.TxQuery{Merchant: "270000001", From: &d1, To: &d2}, cur,
			[]string{"tx_merchant_sales", "tx_merchant_return", "tx_merchant_dateless"}, true},
		{"one merchant, a month", projections.TxQuery{Merchant: "270000001", From: &d1, To: &d30}, nil,
			[]string{"tx_merchant_sales", "tx_merchant_return", "tx_merchant_dateless"}, false},
		{"every merchant, three days", projections.TxQuery{From: &d1, To: &d2}, nil,
			[]string{"tx_merchants", "tx_merchant_sales", "tx_merchant_return", "tx_merchant_dateless"}, false},
		// tx_merchant_created, or tx_created filtered by merchant: either
		// reads the listing in order from the cursor.
		{"one merchant, next page", projections.TxQuery{Merchant: "270000001"}, cur, []string{"Index Scan Backward using tx_"}, false},
		{"everything", projections.TxQuery{}, nil, []string{"Index Scan Backward using tx_created"}, false},
		{"everything, next page", projections.TxQuery{}, cur, []string{"tx_created"}, false},
		{"amount", projections.TxQuery{MinAmount: &amt, MaxAmount: &amt}, nil, []string{"tx_amount"}, false},
	} {
		s, args := dialect.Search(tc.q, tc.cur, 51)
		for _, generic := range []bool{false, true} {
			plan := explain(t, m, s, args, generic)
			t.Logf("%s (generic %v):\n%s", tc.name, generic, plan)
			if generic && !tc.merged {
				continue
			}
			if strings.Contains(plan, "Seq Scan on transactions") {
				t.Errorf("%s (generic %v): full scan:\n%s", tc.name, generic, plan)
			}
			for _, w := range tc.want {
				if !strings.Contains(plan, w) {
					t.Errorf("%s (generic %v): plan lacks %q:\n%s", tc.name, generic, w, plan)
				}
			}
			if tc.merged && !strings.Contains(plan, "Merge Append") {
				t.Errorf("%s (generic %v): the branches are not merged:\n%s", tc.name, generic, plan)
			}
			// With the values known, each branch reads its index in the
			// listing's order and nothing is sorted. (A generic plan may
			// sort a branch it expects a row or two of; each branch is
			// cut to the page either way.)
			if tc.merged && !generic && (sortNode.MatchString(plan) || !strings.Contains(plan, "Index Scan Backward using tx_merchant_sales")) {
				t.Errorf("%s: the branches are not read in order:\n%s", tc.name, plan)
			}
		}
	}
	if plan := explain(t, m, rebind(sqlmodels.QueryUnknownEmoney), []any{"270000001"}, false); !strings.Contains(plan, "tx_merchant_dateless") {
		t.Errorf("unknown e-money plan:\n%s", plan)
	}
	// 100 merchants x 72 paydays (three years) of payouts.
	if _, err := m.pool.Exec(ctx, `INSERT INTO payouts (`+sqlmodels.PayoutCols+`)
		SELECT (270000001 + i % 100)::text || '-001-' || i, (270000001 + i % 100)::text, 18000 + (i / 100) * 15, 18000 + (i / 100) * 15 - 2,
			'[]', 0, 0, 0, '', 0, 0, 0, 0, true, false, 'paid', '', 0, 0, i, i
		FROM generate_series(0, 7199) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := m.pool.Exec(ctx, "ANALYZE payouts"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql   string
		args  []any
		index string
	}{
		{rebind(sqlmodels.QueryPayouts), []any{"270000001", int32(18000), int32(18400)}, "payouts_merchant"},
		{rebind(sqlmodels.QueryPayoutsOn), []any{int32(18300)}, "payouts_payday"},
	} {
		if plan := explain(t, m, q.sql, q.args, false); !strings.Contains(plan, q.index) || strings.Contains(plan, "Seq Scan") {
			t.Errorf("payouts plan:\n%s", plan)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	const secret = "s3cr3t-Pa55"
	for i, tc := range []struct {
		url  string
		code string
	}{
		{"postgres://upay:" + secret + "@127.0.0.1:notaport/upay", domain.CodeInvalidField},
		{"postgres://upay:" + secret + "@127.0.0.1/upay?sslmode=sometimes", domain.CodeInvalidField},
		{"postgres://upay@127.0.0.1/upay?password=" + secret + "&sslmode=sometimes", domain.CodeInvalidField},
		{"mysql://upay:" + secret + "@127.0.0.1/upay", domain.CodeInvalidField},
		{"", domain.CodeInvalidField},
		// Nothing listens on port 1: the connection is refused.
		{"postgres://upay:" + secret + "@127.0.0.1:1/upay?sslmode=disable&connect_timeout=10", domain.CodeStoreFailure},
	} {
		_, err := Open(ctx, tc.url, Options{})
		if domain.CodeOf(err) != tc.code {
			t.Errorf("Open(case %d): %v; want %s", i, err, tc.code)
		}
		if err != nil && strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), secret) {
			t.Errorf("Open(case %d): the error shows the password: %v", i, err)
		}
	}

	// A wrong password: the server refuses the login.
	db := pgtest.DB(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), secret)
	if _, err := Open(ctx, u.String(), Options{}); domain.CodeOf(err) != domain.CodeStoreFailure || strings.Contains(err.Error(), secret) {
		t.Errorf("wrong password: %v", err)
	}

	// A database never migrated is refused unless Migrate.
	if _, err := Open(ctx, db, Options{}); domain.CodeOf(err) != domain.CodeStoreFailure || !strings.Contains(err.Error(), "upay migrate") {
		t.Errorf("unmigrated database: %v", err)
	}
	m, err := Open(ctx, db, Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := m.Status(ctx); err != nil || len(st) != len(projections.Names) || st[0].Lag != -1 {
		t.Fatalf("status without an event store: %+v, %v", st, err)
	}
	// A database migrated by a newer binary is refused, with or without
	// Migrate.
	if _, err := m.pool.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from_the_future')", pgschema.Latest+1); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := m.SearchTransactions(ctx, projections.TxQuery{}); domain.CodeOf(err) != domain.CodeStoreFailure {
		t.Errorf("search after Close: %v", err)
	}
	if _, err := m.Begin(ctx); domain.CodeOf(err) != domain.CodeStoreFailure {
		t.Errorf("Begin after Close: %v", err)
	}
	for _, migrate := range []bool{false, true} {
		_, err := Open(ctx, db, Options{Migrate: migrate})
		if domain.CodeOf(err) != domain.CodeStoreFailure || !strings.Contains(err.Error(), "newer than this binary") {
			t.Errorf("newer database (migrate %v): %v", migrate, err)
		}
	}
}

// Readers keep reading while a rebuild truncates, refills and re-indexes
// the listing: they see committed pages only and never fail; the indexes
// are back after it.
func TestReadsDuringRebuild(t *testing.T) {
	m := readmodeltest.ReadsDuringRebuild(t, openFollowing).(*Models)
	if have, deferred := indexCount(t, m); have != 6 || deferred != 0 {
		t.Fatalf("after the rebuilds: %d indexes, %d deferred", have, deferred)
	}
}

// A role without the TRUNCATE privilege (tables owned by the role that
// migrated) rebuilds by deleting.
func TestResetWithoutTruncatePrivilege(t *testing.T) {
	ctx := context.Background()
	s := readmodeltest.Sales(t, filepath.Join(t.TempDir(), "upay.db"), 50)
	m := openFresh(t, Options{Events: s})
	r := projections.NewRunner(s, m, projections.RunnerOptions{PageSize: 30})
	if _, err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	want := readmodeltest.ReadState(t, m)
	if _, err := m.pool.Exec(ctx, "REVOKE TRUNCATE ON transactions, tx_merchants, period_totals, journal, trial_balance, payouts FROM CURRENT_USER"); err != nil {
		t.Fatal(err)
	}
	var can bool
	if err := m.pool.QueryRow(ctx, sqlCanTruncate, []string{"journal"}).Scan(&can); err != nil || can {
		t.Fatalf("TRUNCATE on journal after the revoke: %v, %v", can, err)
	}
	if n, err := r.Rebuild(ctx, nil); err != nil || n != 100 {
		t.Fatalf("rebuild without TRUNCATE: %d, %v", n, err)
	}
	readmodeltest.SameState(t, "rebuilt by deleting", readmodeltest.ReadState(t, m), want)
}

// atLevel makes a database migrated to level, beside a database of this
// build that folded events, and returns the fold, the older database's URL,
// a connection to it, and copy, which copies the named columns of a table's
// rows (where filters them) from the fold into the older database.
func atLevel(t *testing.T, events domain.EventStore, level int) (url string, db *pgx.Conn, copy func(table, cols, where string)) {
	t.Helper()
	ctx := context.Background()
	cur := openFresh(t, Options{})
	if _, err := projections.NewRunner(events, cur, projections.RunnerOptions{}).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	url = pgtest.DB(t)
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, to, err := pgschema.Migrate(ctx, db, level); err != nil || to != level {
		t.Fatalf("migrate to %d: %d, %v", level, to, err)
	}
	copy = func(table, cols, where string) {
		t.Helper()
		rows, err := cur.pool.Query(ctx, "SELECT "+cols+" FROM "+table+" "+where)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CopyFrom(ctx, pgx.Identifier{table}, strings.Split(cols, ", "), pgx.CopyFromRows(vals)); err != nil {
			t.Fatalf("copy %s: %v", table, err)
		}
	}
	return url, db, copy
}

// A database at level 2 whose read models a build of that level folded
// (its listing unstamped, its journal without payout entries, its
// checkpoints past the payout events it passed over) migrates to the
// latest level: the payouts table and tx_unsettled appear, the listing and
// the journal are emptied with their checkpoints, and the next catch-up
// makes them what a new database holds.
func TestUpgradeFromLevel2(t *testing.T) {
	ctx := context.Background()
	events, merchants := readmodeltest.Fixture(t, t.TempDir())
	// Level 2's rows are what this build made of the log, less payouts.
	url, db, copyRows := atLevel(t, events, 2)
	copyRows("transactions", sqlmodels.TxCols, "")
	copyRows("tx_merchants", "merchant", "")
	copyRows("period_totals", "merchant, date, grp, count, sales", "")
	copyRows("journal", "pos_commit, pos_prepare, time_ns, type, payment, debit, credit, amount, postings", "WHERE type NOT LIKE 'payout.%'")
	copyRows("checkpoints", "name, pos_commit, pos_prepare", "WHERE name NOT IN ('payouts', 'notices')")
	for _, q := range []string{"UPDATE transactions SET payout = ''",
		`INSERT INTO trial_balance SELECT account, sum(d), sum(c) FROM
			(SELECT debit AS account, amount AS d, 0 AS c FROM journal UNION ALL SELECT credit, 0, amount FROM journal) AS p GROUP BY account`} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	if from, to, err := pgschema.Migrate(ctx, db, 0); err != nil || from != 2 || to != pgschema.Latest {
		t.Fatalf("migrate from 2: %d→%d, %v", from, to, err)
	}
	var rows, journal, totals int
	var unsettled bool
	var cps []string
	if err := db.QueryRow(ctx, `SELECT (SELECT count(*) FROM transactions), (SELECT count(*) FROM journal), (SELECT count(*) FROM period_totals),
		EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'tx_unsettled'), ARRAY(SELECT name FROM checkpoints ORDER BY name)`).
		Scan(&rows, &journal, &totals, &unsettled, &cps); err != nil || rows != 0 || journal != 0 || totals == 0 || !unsettled ||
		!slices.Equal(cps, []string{projections.NameTotals}) {
		t.Fatalf("after the migration: %d rows, %d journal entries, %d totals, tx_unsettled %v, checkpoints %v, %v", rows, journal, totals, unsettled, cps, err)
	}
	m, err := Open(ctx, url, Options{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if n, err := projections.NewRunner(events, m, projections.RunnerOptions{PageSize: 7}).CatchUp(ctx); err != nil || n == 0 {
		t.Fatalf("catch-up after the migration: %d, %v", n, err)
	}
	readmodeltest.Check(t, events, m, merchants)
}

// A database at level 3, whose read models a build that did not read
// notices kept (every checkpoint at the log's end, no notices table),
// migrates to the latest level: the notices table appears empty and its
// checkpoint absent, so the next catch-up folds the notices from the start
// of the log while the other projections pass over what they applied.
func TestUpgradeFromLevel3(t *testing.T) {
	ctx := context.Background()
	events, merchants := readmodeltest.Fixture(t, t.TempDir())
	url, db, copyRows := atLevel(t, events, 3)
	copyRows("transactions", sqlmodels.TxCols, "")
	copyRows("tx_merchants", "merchant", "")
	copyRows("period_totals", sqlmodels.TotalsCols, "")
	copyRows("journal", sqlmodels.JournalCols, "")
	copyRows("trial_balance", sqlmodels.BalanceCols, "")
	copyRows("payouts", sqlmodels.PayoutCols, "")
	copyRows("checkpoints", sqlmodels.CheckpointCols, "WHERE name <> 'notices'")

	if from, to, err := pgschema.Migrate(ctx, db, 0); err != nil || from != 3 || to != pgschema.Latest {
		t.Fatalf("migrate from 3: %d→%d, %v", from, to, err)
	}
	var notices int
	var cps []string
	if err := db.QueryRow(ctx, "SELECT (SELECT count(*) FROM notices), ARRAY(SELECT name FROM checkpoints ORDER BY name)").
		Scan(&notices, &cps); err != nil || notices != 0 || slices.Contains(cps, projections.NameNotices) || len(cps) != len(projections.Names)-1 {
		t.Fatalf("after the migration: %d notices, checkpoints %v, %v", notices, cps, err)
	}
	m, err := Open(ctx, url, Options{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	all, err := events.ReadAll(ctx, domain.Start, domain.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := projections.NewRunner(events, m, projections.RunnerOptions{PageSize: 7}).CatchUp(ctx); err != nil || n != len(all) {
		t.Fatalf("catch-up after the migration: %d, %v; want the whole log of %d", n, err, len(all))
	}
	readmodeltest.Check(t, events, m, merchants)
}

// TestRunnerStopsAfterANewerMigration: a runner of this binary that is
// still going when a newer binary migrates the database stops at its next
// batch rather than write read models the new schema may mean otherwise;
// and a migration waits for a batch in flight (it takes the write lock).
func TestRunnerStopsAfterANewerMigration(t *testing.T) {
	ctx := t.Context()
	m := openFresh(t, Options{})
	tx, err := m.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	migrated := make(chan error, 1)
	go func() {
		// What a newer binary's migration does, under the migration and
		// read-model locks.
		_, err := m.pool.Exec(context.Background(), `DO $$ BEGIN
			PERFORM pg_advisory_xact_lock(`+strconv.FormatInt(pgschema.ReadModelLock, 10)+`);
			INSERT INTO schema_migrations (version, name) VALUES (`+strconv.Itoa(pgschema.Latest+1)+`, 'newer');
			END $$`)
		migrated <- err
	}()
	select {
	case err := <-migrated:
		t.Fatalf("the migration ran while a batch held the write lock (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-migrated; err != nil {
		t.Fatal(err)
	}
	_, err = m.Begin(ctx)
	if domain.CodeOf(err) != domain.CodeStoreFailure || !strings.Contains(err.Error(), "migration level "+strconv.Itoa(pgschema.Latest+1)) {
		t.Fatalf("Begin after a newer migration = %v, want U3003 naming the level", err)
	}
}
