package sqlitemodels

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"upay/adapters/sqlmodels"
	"upay/domain"
	"upay/projections"
)

// chunkSizes are the row counts of the multi-row statements prepared once
// on the write connection, largest first: a batch is written in as few
// statement executions as these sizes allow, without building SQL per call.
var chunkSizes = [...]int{64, 8, 1}

// chunk returns the largest prepared size that fits n rows (n > 0).
func chunk(n int) int {
	for _, k := range chunkSizes {
		if n >= k {
			return k
		}
	}
	return 1
}

// rowsSQL renders n parenthesised groups of k placeholders: "(?,?),(?,?)".
func rowsSQL(n, k int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", k), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(one+",", n), ",")
}

// writeStmts are the statements of the write connection, by row count.
type writeStmts struct {
	upsertTx, selectTx, merchants, totals, journal, balances map[int]*sql.Stmt
	checkpoints, checkpoint                                  *sql.Stmt
	settle, upsertPayout, outcome                            *sql.Stmt
	selectNotice, upsertNotice                               *sql.Stmt
}

func (ws *writeStmts) close() []error {
	var errs []error
	for _, m := range []map[int]*sql.Stmt{ws.upsertTx, ws.selectTx, ws.merchants, ws.totals, ws.journal, ws.balances} {
		for _, st := range m {
			errs = append(errs, st.Close())
		}
	}
	for _, st := range []*sql.Stmt{ws.checkpoints, ws.checkpoint, ws.settle, ws.upsertPayout, ws.outcome, ws.selectNotice, ws.upsertNotice} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errs
}

func (m *Models) prepareWrites(ctx context.Context) error {
	prep := func(q string) (*sql.Stmt, error) {
		st, err := m.wc.PrepareContext(ctx, q)
		if err != nil {
			return nil, storeErr(err, "prepare %q", q)
		}
		return st, nil
	}
	ws := &m.ws
	*ws = writeStmts{upsertTx: map[int]*sql.Stmt{}, selectTx: map[int]*sql.Stmt{}, merchants: map[int]*sql.Stmt{},
		totals: map[int]*sql.Stmt{}, journal: map[int]*sql.Stmt{}, balances: map[int]*sql.Stmt{}}
	var err error
	for _, k := range chunkSizes {
		if ws.upsertTx[k], err = prep("INSERT INTO transactions (" + sqlmodels.TxCols + ") VALUES " + rowsSQL(k, txColCount) +
			" " + sqlmodels.TxOnConflict + sqlmodels.TxUpdate); err != nil {
			return err
		}
		if ws.selectTx[k], err = prep(sqlmodels.TxsByPayment(inList(k))); err != nil {
			return err
		}
		if ws.merchants[k], err = prep("INSERT OR IGNORE INTO tx_merchants (merchant) VALUES " + rowsSQL(k, 1)); err != nil {
			return err
		}
		if ws.totals[k], err = prep("INSERT INTO period_totals (" + sqlmodels.TotalsCols + ") VALUES " + rowsSQL(k, 5) +
			" " + dialect.AddOnConflict("period_totals", "merchant, date, grp", "count", "sales")); err != nil {
			return err
		}
		if ws.journal[k], err = prep("INSERT INTO journal (" + sqlmodels.JournalCols + ") VALUES " + rowsSQL(k, journalColCount)); err != nil {
			return err
		}
		if ws.balances[k], err = prep("INSERT INTO trial_balance (" + sqlmodels.BalanceCols + ") VALUES " + rowsSQL(k, 3) +
			" " + dialect.AddOnConflict("trial_balance", "account", "debit", "credit")); err != nil {
			return err
		}
	}
	if ws.checkpoints, err = prep(sqlmodels.QueryCheckpoints); err != nil {
		return err
	}
	if ws.settle, err = prep(sqlSettle); err != nil {
		return err
	}
	if ws.upsertPayout, err = prep("INSERT INTO payouts (" + sqlmodels.PayoutCols + ") VALUES " + rowsSQL(1, payoutColCount) +
		" " + sqlmodels.PayoutOnConflict + sqlmodels.PayoutUpdate); err != nil {
		return err
	}
	if ws.outcome, err = prep(sqlmodels.Outcome); err != nil {
		return err
	}
	// Notices: a page touches a few at most, one row per statement.
	if ws.selectNotice, err = prep(sqlmodels.NoticesByNo("= ?")); err != nil {
		return err
	}
	if ws.upsertNotice, err = prep("INSERT INTO notices (" + sqlmodels.NoticeCols + ") VALUES " + rowsSQL(1, noticeColCount) +
		" " + sqlmodels.NoticeOnConflict + sqlmodels.NoticeUpdate); err != nil {
		return err
	}
	ws.checkpoint, err = prep("INSERT INTO checkpoints (" + sqlmodels.CheckpointCols + ") VALUES (?, ?, ?) " + sqlmodels.CheckpointOnConflict)
	return err
}

// sqlSettle stamps a payout line's notice on the rows it settles; the
// brand list is padded to the largest group's four brands by repeating
// one, so that one prepared statement serves every line.
var sqlSettle = sqlmodels.Settle("IN (?, ?, ?, ?)")

// writeTx is a projections.WriteTx: a BEGIN IMMEDIATE transaction on the
// write connection, which it holds until Commit or Rollback.
type writeTx struct {
	m    *Models
	ctx  context.Context
	done bool
	args []any // reused bind buffer
}

// Begin starts a write transaction. The immediate lock is taken before
// anything is read, so the checkpoints and rows the runner reads through
// it cannot change under it, not even from another process, until it
// commits. Errors: U3003.
func (m *Models) Begin(ctx context.Context) (projections.WriteTx, error) {
	select {
	case m.wsem <- struct{}{}:
	case <-ctx.Done():
		return nil, storeErr(ctx.Err(), "begin")
	}
	if m.wc == nil {
		<-m.wsem
		return nil, errClosed
	}
	if _, err := m.wc.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		<-m.wsem
		return nil, storeErr(err, "begin")
	}
	return &writeTx{m: m, ctx: ctx}, nil
}

func (tx *writeTx) Checkpoints() (map[string]domain.Position, error) {
	rows, err := tx.m.ws.checkpoints.QueryContext(tx.ctx)
	if err != nil {
		return nil, storeErr(err, "read checkpoints")
	}
	return dialect.ScanCheckpoints(sqlRows{rows})
}

// Transactions loads the stored rows of ids, a prepared IN query per chunk.
func (tx *writeTx) Transactions(ids []domain.PaymentID) (map[domain.PaymentID]projections.Transaction, error) {
	out := make(map[domain.PaymentID]projections.Transaction, len(ids))
	for len(ids) > 0 {
		k := chunk(len(ids))
		args := tx.args[:0]
		for _, id := range ids[:k] {
			args = append(args, string(id))
		}
		ids = ids[k:]
		rows, err := tx.m.ws.selectTx[k].QueryContext(tx.ctx, args...)
		if err != nil {
			return nil, storeErr(err, "load transaction rows")
		}
		if err := dialect.ScanTxsInto(sqlRows{rows}, out); err != nil {
			return nil, err
		}
		tx.args = args[:0]
	}
	return out, nil
}

// Notices loads the stored rows of nos, one prepared query each.
func (tx *writeTx) Notices(nos []string) (map[string]projections.Notice, error) {
	out := make(map[string]projections.Notice, len(nos))
	for _, no := range nos {
		rows, err := tx.m.ws.selectNotice.QueryContext(tx.ctx, no)
		if err != nil {
			return nil, storeErr(err, "load notice rows")
		}
		if err := dialect.ScanNoticesInto(sqlRows{rows}, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// exec runs a multi-row statement over n items, k at a time, with bind
// values appended by add.
func (tx *writeTx) exec(stmts map[int]*sql.Stmt, n int, what string, add func(args []any, i int) ([]any, error)) error {
	for i := 0; i < n; {
		k := chunk(n - i)
		args := tx.args[:0]
		for j := i; j < i+k; j++ {
			var err error
			if args, err = add(args, j); err != nil {
				return err
			}
		}
		if _, err := stmts[k].ExecContext(tx.ctx, args...); err != nil {
			return storeErr(err, "write %s", what)
		}
		clear(args) // drop references to the batch's strings
		tx.args = args[:0]
		i += k
	}
	return nil
}

// Write stores a batch: the payout stamps on stored listing rows, then the
// listing rows (which carry the batch's stamps already), period-total and
// trial-balance deltas, journal entries, payouts and their bank outcomes,
// notices, then the checkpoints, all in this transaction.
func (tx *writeTx) Write(b *projections.Batch) error {
	for _, st := range b.Settled {
		brands := st.Brands()
		args := []any{st.NoticeNo, string(st.Merchant), int64(st.From.DaysSinceEpoch()), int64(st.To.DaysSinceEpoch())}
		for i := range 4 {
			args = append(args, brands[min(i, len(brands)-1)])
		}
		if _, err := tx.m.ws.settle.ExecContext(tx.ctx, args...); err != nil {
			return storeErr(err, "stamp payout %s on the listing", st.NoticeNo)
		}
	}
	if err := tx.exec(tx.m.ws.upsertTx, len(b.Transactions), "transactions", func(args []any, i int) ([]any, error) {
		return appendTx(args, b.Transactions[i])
	}); err != nil {
		return err
	}
	var merchants []string
	for i := range b.Transactions {
		if m := string(b.Transactions[i].Merchant); !slices.Contains(merchants, m) {
			merchants = append(merchants, m)
		}
	}
	if err := tx.exec(tx.m.ws.merchants, len(merchants), "merchants", func(args []any, i int) ([]any, error) {
		return append(args, merchants[i]), nil
	}); err != nil {
		return err
	}
	keys := make([]projections.TotalKey, 0, len(b.Totals))
	for k := range b.Totals {
		keys = append(keys, k)
	}
	if err := tx.exec(tx.m.ws.totals, len(keys), "period totals", func(args []any, i int) ([]any, error) {
		k := keys[i]
		v := b.Totals[k]
		return append(args, string(k.Merchant), int64(k.Date.DaysSinceEpoch()), string(k.Group), v.Count, v.Sales), nil
	}); err != nil {
		return err
	}
	if err := tx.exec(tx.m.ws.journal, len(b.Journal), "journal", func(args []any, i int) ([]any, error) {
		return appendEntry(args, &b.Journal[i])
	}); err != nil {
		return err
	}
	accounts := make([]string, 0, len(b.Balances))
	for a := range b.Balances {
		accounts = append(accounts, a)
	}
	if err := tx.exec(tx.m.ws.balances, len(accounts), "trial balance", func(args []any, i int) ([]any, error) {
		v := b.Balances[accounts[i]]
		return append(args, accounts[i], v.Debit, v.Credit), nil
	}); err != nil {
		return err
	}
	for _, p := range b.Payouts {
		args, err := appendPayout(tx.args[:0], p)
		if err != nil {
			return err
		}
		if _, err := tx.m.ws.upsertPayout.ExecContext(tx.ctx, args...); err != nil {
			return storeErr(err, "write payout %s", p.NoticeNo)
		}
		clear(args)
		tx.args = args[:0]
	}
	for _, o := range b.Outcomes {
		c, p, err := dialect.Position(o.Position)
		if err != nil {
			return err
		}
		if _, err := tx.m.ws.outcome.ExecContext(tx.ctx, o.Status, o.Reason, o.At.UnixNano(), c, p, o.NoticeNo); err != nil {
			return storeErr(err, "write the outcome of payout %s", o.NoticeNo)
		}
	}
	for _, n := range b.Notices {
		args, err := appendNotice(tx.args[:0], n)
		if err != nil {
			return err
		}
		if _, err := tx.m.ws.upsertNotice.ExecContext(tx.ctx, args...); err != nil {
			return storeErr(err, "write notice %s", n.NoticeNo)
		}
		clear(args)
		tx.args = args[:0]
	}
	if f := tx.m.failBeforeCheckpoint; f != nil {
		if err := f(); err != nil {
			return err
		}
	}
	for name, pos := range b.Checkpoints {
		c, p, err := dialect.Position(pos)
		if err != nil {
			return err
		}
		if _, err := tx.m.ws.checkpoint.ExecContext(tx.ctx, name, c, p); err != nil {
			return storeErr(err, "write checkpoint %s", name)
		}
	}
	return nil
}

func (tx *writeTx) Commit() error {
	if tx.done {
		return domain.Err(domain.CodeStoreFailure, "sqlitemodels: commit of a finished transaction")
	}
	// A transaction whose context ended is abandoned, not committed, even
	// if every statement ran: the caller has given up on it.
	if err := tx.ctx.Err(); err != nil {
		_ = tx.Rollback()
		return storeErr(err, "commit abandoned")
	}
	if _, err := tx.m.wc.ExecContext(tx.ctx, "COMMIT"); err != nil {
		_ = tx.Rollback()
		return storeErr(err, "commit")
	}
	tx.done = true
	<-tx.m.wsem
	return nil
}

func (tx *writeTx) Rollback() error {
	if tx.done {
		return nil
	}
	tx.done = true
	defer func() { <-tx.m.wsem }()
	// Under a cancelled context the statement would not run; the
	// rollback must.
	if _, err := tx.m.wc.ExecContext(context.WithoutCancel(tx.ctx), "ROLLBACK"); err != nil &&
		// SQLite may already have rolled back (an interrupted write does).
		!strings.Contains(err.Error(), "no transaction is active") {
		return storeErr(err, "rollback")
	}
	return nil
}

// Reset deletes the rows and checkpoints of the named projections in one
// transaction. Emptying the listing also drops its secondary indexes,
// which Ready recreates once the rebuild has caught up. Errors: U1009 for
// an unknown name, U3003.
func (m *Models) Reset(ctx context.Context, names []string) error {
	names, err := projections.CheckNames(names)
	if err != nil {
		return err
	}
	var stmts []string
	for _, n := range names {
		if n == projections.NameTransactions {
			for _, ix := range indexes {
				stmts = append(stmts, "DROP INDEX IF EXISTS "+ix.name)
			}
		}
		// SQLite has no TRUNCATE; a DELETE without WHERE is its
		// equivalent (the truncate optimization).
		for _, t := range sqlmodels.Tables(n) {
			stmts = append(stmts, "DELETE FROM "+t)
		}
		stmts = append(stmts, "DELETE FROM checkpoints WHERE name = '"+n+"'")
	}
	return sqlmodels.Within(ctx, m, func(projections.WriteTx) error {
		for _, s := range stmts {
			if _, err := m.wc.ExecContext(ctx, s); err != nil {
				return storeErr(err, "reset: %s", s)
			}
		}
		return nil
	})
}

// Ready recreates the listing's indexes if a Reset dropped them. When
// they all exist (the usual case: every reader's catch-up ends here) it
// only reads the schema and takes no write lock.
func (m *Models) Ready(ctx context.Context) error {
	var have int
	if err := m.r.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name "+inList(len(indexes)),
		indexNames()...).Scan(&have); err != nil {
		return storeErr(err, "read the schema")
	}
	if have == len(indexes) {
		return nil
	}
	return sqlmodels.Within(ctx, m, func(projections.WriteTx) error {
		if err := createIndexes(ctx, m.wc); err != nil {
			return storeErr(err, "create indexes")
		}
		return nil
	})
}

func indexNames() []any {
	out := make([]any, len(indexes))
	for i, ix := range indexes {
		out[i] = ix.name
	}
	return out
}
