package pgmodels

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"upay/adapters/pgschema"
	"upay/adapters/sqlmodels"
	"upay/domain"
	"upay/projections"
)

// The write statements: one each, whatever the batch's size (see
// unnestInsert). Deltas add to the stored cells.
var (
	sqlUpsertTx = unnestInsert("transactions", sqlmodels.TxCols, txTypes, sqlmodels.TxOnConflict+sqlmodels.TxUpdate)
	sqlSelectTx = rebind(sqlmodels.TxsByPayment(anyOf))
	sqlMerchant = unnestInsert("tx_merchants", "merchant", "text", "ON CONFLICT (merchant) DO NOTHING")
	sqlTotals   = unnestInsert("period_totals", sqlmodels.TotalsCols, "text, int4, text, int8, int8",
		dialect.AddOnConflict("period_totals", "merchant, date, grp", "count", "sales"))
	sqlJournal  = unnestInsert("journal", sqlmodels.JournalCols, journalTypes, "")
	sqlBalances = unnestInsert("trial_balance", sqlmodels.BalanceCols, "text, int8, int8",
		dialect.AddOnConflict("trial_balance", "account", "debit", "credit"))
	sqlCheckpoint = unnestInsert("checkpoints", sqlmodels.CheckpointCols, "text, int8, int8", sqlmodels.CheckpointOnConflict)
	// One statement per payout line, in log order, so that the first
	// payout to cover a row keeps it.
	sqlSettle        = rebind(sqlmodels.Settle(anyOf))
	sqlUpsertPayouts = unnestInsert("payouts", sqlmodels.PayoutCols, payoutTypes, sqlmodels.PayoutOnConflict+sqlmodels.PayoutUpdate)
	sqlOutcome       = rebind(sqlmodels.Outcome)
	sqlSelectNotices = rebind(sqlmodels.NoticesByNo(anyOf))
	sqlUpsertNotices = unnestInsert("notices", sqlmodels.NoticeCols, noticeTypes, sqlmodels.NoticeOnConflict+sqlmodels.NoticeUpdate)
)

// writeTx is a projections.WriteTx: a READ COMMITTED transaction on a
// pooled connection holding the advisory write lock until Commit or
// Rollback.
type writeTx struct {
	m    *Models
	ctx  context.Context
	tx   pgx.Tx
	done bool
}

// Begin starts a write transaction and takes the write lock before
// anything is read, so that the checkpoints and rows the runner reads
// through it cannot change under it, not even from another process, until
// it commits. Errors: U3003.
func (m *Models) Begin(ctx context.Context) (projections.WriteTx, error) {
	select {
	case m.wsem <- struct{}{}:
	case <-ctx.Done():
		return nil, storeErr(ctx.Err(), "begin")
	}
	if m.isClosed() {
		<-m.wsem
		return nil, errClosed
	}
	tx, err := m.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		<-m.wsem
		return nil, storeErr(err, "begin")
	}
	if _, err := tx.Exec(ctx, beginSQL(m.opt.StatementTimeout > 0)); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		<-m.wsem
		return nil, storeErr(err, "take the write lock")
	}
	var level int
	if err := tx.QueryRow(ctx, sqlLevel).Scan(&level); err != nil || level != pgschema.Latest {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		<-m.wsem
		if err != nil {
			return nil, storeErr(err, "read the migration level")
		}
		return nil, domain.Err(domain.CodeStoreFailure, "pgmodels: the database is now at migration level %d and this binary writes level %d: "+
			"restart upay with the binary that migrated it", level, pgschema.Latest)
	}
	return &writeTx{m: m, ctx: ctx, tx: tx}, nil
}

func (tx *writeTx) Checkpoints() (map[string]domain.Position, error) {
	rows, err := tx.tx.Query(tx.ctx, sqlmodels.QueryCheckpoints)
	if err != nil {
		return nil, storeErr(err, "read checkpoints")
	}
	return dialect.ScanCheckpoints(rows)
}

// Transactions loads the stored rows of ids in one statement.
func (tx *writeTx) Transactions(ids []domain.PaymentID) (map[domain.PaymentID]projections.Transaction, error) {
	out := make(map[domain.PaymentID]projections.Transaction, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = string(id)
	}
	rows, err := tx.tx.Query(tx.ctx, sqlSelectTx, keys)
	if err != nil {
		return nil, storeErr(err, "load transaction rows")
	}
	if err := dialect.ScanTxsInto(rows, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Notices loads the stored rows of nos in one statement.
func (tx *writeTx) Notices(nos []string) (map[string]projections.Notice, error) {
	out := make(map[string]projections.Notice, len(nos))
	if len(nos) == 0 {
		return out, nil
	}
	rows, err := tx.tx.Query(tx.ctx, sqlSelectNotices, nos)
	if err != nil {
		return nil, storeErr(err, "load notice rows")
	}
	if err := dialect.ScanNoticesInto(rows, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Write stores a batch: the payout stamps on stored listing rows, listing
// rows (which carry the batch's stamps already), period-total and
// trial-balance deltas, payouts and their bank outcomes, notices (and a small
// batch's journal entries) in one pipelined round trip, a big batch's
// journal entries by COPY, then the checkpoints, all in this transaction.
func (tx *writeTx) Write(b *projections.Batch) error {
	var pb pgx.Batch
	what := []string{}
	queue := func(name, sql string, args ...any) {
		pb.Queue(sql, args...)
		what = append(what, name)
	}
	for _, st := range b.Settled {
		queue("payout stamp "+st.NoticeNo, sqlSettle, st.NoticeNo, string(st.Merchant), int32(st.From.DaysSinceEpoch()),
			int32(st.To.DaysSinceEpoch()), st.Brands())
	}
	if len(b.Transactions) > 0 {
		var a txArrays
		var merchants []string
		for _, t := range b.Transactions {
			if err := a.add(t); err != nil {
				return err
			}
			if m := string(t.Merchant); !slices.Contains(merchants, m) {
				merchants = append(merchants, m)
			}
		}
		queue("transactions", sqlUpsertTx, a.args()...)
		queue("merchants", sqlMerchant, merchants)
	}
	if len(b.Totals) > 0 {
		var ms, grps []string
		var ds []int32
		var counts, sales []int64
		for k, v := range b.Totals {
			ms, grps, ds = append(ms, string(k.Merchant)), append(grps, string(k.Group)), append(ds, int32(k.Date.DaysSinceEpoch()))
			counts, sales = append(counts, v.Count), append(sales, v.Sales)
		}
		queue("period totals", sqlTotals, ms, ds, grps, counts, sales)
	}
	var journal journalArrays
	for i := range b.Journal {
		if err := journal.add(&b.Journal[i]); err != nil {
			return err
		}
	}
	if n := len(b.Journal); n > 0 && n < copyMinRows {
		queue("journal", sqlJournal, journal.args()...)
	}
	if len(b.Balances) > 0 {
		var accounts []string
		var debits, credits []int64
		for acc, v := range b.Balances {
			accounts, debits, credits = append(accounts, acc), append(debits, v.Debit), append(credits, v.Credit)
		}
		queue("trial balance", sqlBalances, accounts, debits, credits)
	}
	if len(b.Payouts) > 0 {
		var a payoutArrays
		for _, p := range b.Payouts {
			if err := a.add(p); err != nil {
				return err
			}
		}
		queue("payouts", sqlUpsertPayouts, a.args()...)
	}
	for _, o := range b.Outcomes {
		c, p, err := dialect.Position(o.Position)
		if err != nil {
			return err
		}
		queue("outcome of payout "+o.NoticeNo, sqlOutcome, o.Status, o.Reason, o.At.UnixNano(), c, p, o.NoticeNo)
	}
	if len(b.Notices) > 0 {
		var a noticeArrays
		for _, n := range b.Notices {
			if err := a.add(n); err != nil {
				return err
			}
		}
		queue("notices", sqlUpsertNotices, a.args()...)
	}
	if pb.Len() > 0 {
		if err := tx.send(&pb, what); err != nil {
			return err
		}
	}
	if len(b.Journal) >= copyMinRows {
		if _, err := tx.tx.CopyFrom(tx.ctx, pgx.Identifier{"journal"}, strings.Split(sqlmodels.JournalCols, ", "), &journal); err != nil {
			return tx.fail(err, "write journal")
		}
	}
	if f := tx.m.failBeforeCheckpoint; f != nil {
		if err := f(); err != nil {
			return err
		}
	}
	if len(b.Checkpoints) == 0 {
		return nil
	}
	var names []string
	var cs, ps []int64
	for name, pos := range b.Checkpoints {
		c, p, err := dialect.Position(pos)
		if err != nil {
			return err
		}
		names, cs, ps = append(names, name), append(cs, c), append(ps, p)
	}
	if _, err := tx.tx.Exec(tx.ctx, sqlCheckpoint, names, cs, ps); err != nil {
		return tx.fail(err, "write checkpoints %v", names)
	}
	return nil
}

// send runs a pipelined batch, naming the statement that failed.
func (tx *writeTx) send(pb *pgx.Batch, what []string) error {
	br := tx.tx.SendBatch(tx.ctx, pb)
	for _, w := range what {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return tx.fail(err, "write %s", w)
		}
	}
	if err := br.Close(); err != nil {
		return tx.fail(err, "write the batch")
	}
	return nil
}

// fail wraps a failed statement's error, saying so when the connection
// itself was lost (the server restarted, or an administrator ended the
// backend): then the transaction is gone with it.
func (tx *writeTx) fail(err error, format string, args ...any) error {
	if tx.tx.Conn().IsClosed() {
		format += ": the connection to PostgreSQL was lost; the transaction was rolled back"
	}
	return storeErr(err, format, args...)
}

func (tx *writeTx) Commit() error {
	if tx.done {
		return domain.Err(domain.CodeStoreFailure, "pgmodels: commit of a finished transaction")
	}
	// A transaction whose context ended is abandoned, not committed, even
	// if every statement ran: the caller has given up on it.
	if err := tx.ctx.Err(); err != nil {
		_ = tx.Rollback()
		return storeErr(err, "commit abandoned")
	}
	err := tx.tx.Commit(tx.ctx)
	if err != nil {
		lost := tx.tx.Conn().IsClosed()
		_ = tx.Rollback()
		if lost {
			// The server may not have seen the COMMIT, or may have applied
			// it and lost the answer: either way the checkpoints say what
			// committed, and the next batch continues from them.
			return storeErr(err, "commit: the connection to PostgreSQL was lost before the commit was confirmed; "+
				"the rows and checkpoints of this batch committed together or not at all, and the runner resumes from the checkpoints")
		}
		if errors.Is(err, pgx.ErrTxCommitRollback) {
			return storeErr(err, "commit: the server rolled the transaction back")
		}
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
	// Under a cancelled context the statement would not run; the rollback
	// must. On a lost connection there is nothing left to roll back: the
	// server ended the transaction with the session.
	if err := tx.tx.Rollback(context.WithoutCancel(tx.ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) && !tx.tx.Conn().IsClosed() {
		return storeErr(err, "rollback")
	}
	return nil
}

// Reset deletes the rows and checkpoints of the named projections in one
// transaction, under the write lock. Unlike the SQLite store it keeps the
// listing's indexes: rebuilding them in Ready would hold one write
// transaction (with a transaction id) for the whole index build, and every
// append on the server waits for older write transactions before its
// events become visible (adapters/postgres), so appends would stall for
// the length of the build. A rebuild is about 20% slower for it. Errors:
// U1009 for an unknown name, U3003.
func (m *Models) Reset(ctx context.Context, names []string) error {
	names, err := projections.CheckNames(names)
	if err != nil {
		return err
	}
	return sqlmodels.Within(ctx, m, func(tx projections.WriteTx) error {
		wt := tx.(*writeTx)
		var tables []string
		for _, n := range names {
			tables = append(tables, sqlmodels.Tables(n)...)
			if n == projections.NameTransactions {
				m.refilled.Store(true)
			}
		}
		var canTruncate bool
		if err := wt.tx.QueryRow(ctx, sqlCanTruncate, tables).Scan(&canTruncate); err != nil {
			return wt.fail(err, "reset: check privileges")
		}
		var pb pgx.Batch
		var what []string
		for _, q := range emptyTables(canTruncate, tables) {
			pb.Queue(q)
			what = append(what, "reset: "+q)
		}
		pb.Queue(rebind("DELETE FROM checkpoints WHERE name "+anyOf), names)
		return wt.send(&pb, append(what, "reset: checkpoints"))
	})
}

// Ready recreates listing indexes recorded in deferred_indexes (a
// database rebuilt by an earlier build that dropped them during a rebuild)
// and refreshes the planner's statistics. When none is deferred (always,
// with this build) it only reads one row and takes no lock.
func (m *Models) Ready(ctx context.Context) error {
	var pending bool
	if err := m.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM deferred_indexes)").Scan(&pending); err != nil {
		return storeErr(err, "read deferred indexes")
	}
	if !pending {
		// The statistics predate the refill (autovacuum would take a while
		// to notice), and the searches' plans depend on them. ANALYZE runs
		// on its own, not in a long write transaction.
		if m.refilled.Swap(false) {
			if _, err := m.pool.Exec(ctx, "ANALYZE transactions, tx_merchants"); err != nil {
				return storeErr(err, "analyze the listing")
			}
		}
		return nil
	}
	return sqlmodels.Within(ctx, m, func(tx projections.WriteTx) error {
		wt := tx.(*writeTx)
		rows, err := wt.tx.Query(ctx, "SELECT name, def FROM deferred_indexes ORDER BY name")
		if err != nil {
			return wt.fail(err, "read deferred indexes")
		}
		defs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
			var nd [2]string
			err := r.Scan(&nd[0], &nd[1])
			return nd, err
		})
		if err != nil {
			return wt.fail(err, "read deferred indexes")
		}
		if len(defs) == 0 { // another process got here first
			return nil
		}
		for _, nd := range defs {
			if _, err := wt.tx.Exec(ctx, ifNotExists(nd[1])); err != nil {
				return wt.fail(err, "create index %s", nd[0])
			}
		}
		if _, err := wt.tx.Exec(ctx, "DELETE FROM deferred_indexes"); err != nil {
			return wt.fail(err, "clear deferred indexes")
		}
		// The statistics predate the refill (autovacuum would take a while
		// to notice): the searches' plans depend on them.
		if _, err := wt.tx.Exec(ctx, "ANALYZE transactions, tx_merchants"); err != nil {
			return wt.fail(err, "analyze the listing")
		}
		return nil
	})
}
