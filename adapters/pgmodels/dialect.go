package pgmodels

import (
	"strconv"
	"strings"
	"upay/adapters/pgschema"

	"github.com/rickb777/date"

	"upay/adapters/sqlmodels"
)

// This file holds what PostgreSQL spells or does differently from SQLite
// (adapters/sqlitemodels), one named item per difference: first dialect,
// this store's side of each difference in the SQL the two stores share
// (package sqlmodels), then the statements and mechanisms of this store
// alone.

// dialect is how PostgreSQL takes the read models' shared SQL;
// adapters/sqlitemodels' dialect.go has SQLite's side of each difference.
var dialect = &sqlmodels.Dialect{
	Name:    "pgmodels",
	Integer: "a bigint",
	// PostgreSQL numbers its placeholders.
	Rebind: rebind,
	// Date columns are int4: an int32 parameter is the column's type.
	Day: func(d date.Date) any { return int32(d.DaysSinceEpoch()) },
	// An array computed once (an InitPlan) becomes an index condition of
	// every bitmap scan of the OR in indexOr; `merchant IN (SELECT ...)`
	// would be planned as a join instead.
	EveryMerchant: "merchant = ANY(ARRAY(SELECT merchant FROM tx_merchants))",
	// PostgreSQL merges the sorted outputs of UNION ALL branches (Merge
	// Append) only when each branch is a subquery planned with that
	// order; a branch with a WHERE clause and no ORDER BY is planned for
	// its whole result, unordered.
	OrderedBranches: true,
	// A NULL sales date is outside the range too: a refund without a
	// capture does not happen, but the query must not depend on it.
	OutsideSales: "(sales_date IS NULL OR sales_date < ? OR sales_date > ?)",
	DateRange:    indexOr,
	// In DO UPDATE a bare column name is ambiguous between the stored row
	// and excluded.
	QualifyExisting: true,
}

// indexOr renders a search over a date range as one statement whose three
// date conditions are OR-ed: the sales date, the return date, and the
// first event's instant for rows with neither date. PostgreSQL reads each
// through its partial (merchant, date) index, the merchant (or every
// merchant of tx_merchants, dialect.EveryMerchant) as the index's first
// key, ORs the bitmaps and sorts the matches for the page: work in
// proportion to the rows in the range, as sqlitemodels' three sorted
// branches (SQLite cannot OR indexes).
//
// A range with an end is fenced (sortFence) so that the planner cannot
// choose instead to walk tx_created newest first, filtering: it does not
// know that dates follow creation times, and for a range in the past that
// walk reads every newer row. A range with only a start is not: there the
// newest rows are the ones that match, and the walk stops at the page.
func indexOr(r sqlmodels.DateRange) (string, []any) {
	args := r.WhoArgs
	var arms []string
	for _, arm := range r.Arms {
		arms = append(arms, "("+strings.Join(arm.Conds, " AND ")+")")
		args = append(args, arm.Args...)
	}
	where := append([]string{r.Who, "(" + strings.Join(arms, " OR ") + ")"}, r.Common.Conds...)
	s := "SELECT " + sqlmodels.TxCols + " FROM transactions WHERE " + strings.Join(where, " AND ")
	if r.HasEnd {
		s = sortFence(s)
	}
	return s + sqlmodels.NewestFirst + " LIMIT ?", append(append(args, r.Common.Args...), r.Limit)
}

// sortFence makes sel an optimization fence: a subquery with OFFSET 0 is
// planned by itself, for all its rows, so the ORDER BY ... LIMIT around it
// sorts what its indexes find instead of steering it to an index in the
// listing's order (see indexOr). SQLite plans the explicit branches as
// written.
func sortFence(sel string) string { return "SELECT * FROM (" + sel + " OFFSET 0) AS t" }

// rebind turns the ? placeholders of the shared SQL into PostgreSQL's $1,
// $2, ...: the search builders append conditions and arguments in step and
// number them last. No statement here has a ? in a literal.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// writeLockKey is the transaction-level advisory lock a WriteTx holds
// ("upay" "rm" in ASCII); SQLite's BEGIN IMMEDIATE takes the file's write
// lock instead. Migrations take it too (pgschema.ReadModelLock).
const writeLockKey = pgschema.ReadModelLock

// sqlLevel reads the migration level under the write lock: a runner of an
// older binary must not write read models that a newer one migrated.
const sqlLevel = "SELECT coalesce(max(version), 0) FROM schema_migrations"

// sqlLock takes the write lock for the rest of the transaction. It is
// taken before anything is read, and the transaction is READ COMMITTED, so
// every later statement sees what the previous holder committed (each
// statement takes a fresh snapshot; the lock is released only after the
// commit is visible). Under REPEATABLE READ the snapshot would predate the
// wait.
var sqlLock = "SELECT pg_advisory_xact_lock(" + strconv.FormatInt(writeLockKey, 10) + ")"

// sqlNoTimeout lifts Options.StatementTimeout for the rest of a write
// transaction (see Options.StatementTimeout).
const sqlNoTimeout = "SET LOCAL statement_timeout = 0"

// sqlAsyncCommit lets a write transaction's COMMIT return before its WAL
// reaches the disk: the counterpart of sqlitemodels' synchronous=NORMAL. A
// crash can lose the last commits whole, never part of one; a lost batch
// loses its checkpoint with it, so the runner applies it again. Durability
// proper belongs to the event store; everything here can be rebuilt.
const sqlAsyncCommit = "SET LOCAL synchronous_commit = off"

// beginSQL is what Begin sends after BEGIN, in one round trip (the simple
// protocol runs the statements in order, each under its own timeout).
func beginSQL(liftTimeout bool) string {
	s := sqlAsyncCommit + "; "
	if liftTimeout {
		s += sqlNoTimeout + "; "
	}
	return s + sqlLock
}

// unnestInsert renders a bulk insert of table's cols from one array
// parameter per column, cast to types: a batch of any size is one
// statement with a fixed text (prepared once per connection), where SQLite
// binds rows of ? groups in prepared chunks. onConflict ("" for none)
// follows it.
func unnestInsert(table, cols, types, onConflict string) string {
	ts := strings.Split(types, ",")
	casts := make([]string, len(ts))
	for i, t := range ts {
		casts[i] = "?::" + strings.TrimSpace(t) + "[]"
	}
	q := "INSERT INTO " + table + " (" + cols + ") SELECT * FROM unnest(" + strings.Join(casts, ", ") + ")"
	if onConflict != "" {
		q += " " + onConflict
	}
	return rebind(q)
}

// copyMinRows is the journal batch from which Write streams entries with
// COPY, PostgreSQL's bulk-load protocol (no conflict to handle: each
// position is written once), instead of queueing one more unnest insert in
// the pipeline: COPY costs a round trip of its own, which a live batch of
// a few events would notice, but loads a rebuild's pages in about 60% of
// the time.
const copyMinRows = 256

// anyOf is a key set as one array parameter, where SQLite expands
// `IN (?, ?, ...)` in prepared chunks.
const anyOf = "= ANY(?)"

// emptyTables empties a projection's own tables. TRUNCATE swaps in empty
// files instead of deleting row by row (no dead rows for VACUUM after a
// rebuild); it is transactional, and its exclusive lock holds readers of
// the tables for the moment until Reset commits. A role granted DELETE but
// not TRUNCATE (migrations run by another role) deletes instead. SQLite has
// no TRUNCATE: sqlitemodels deletes.
func emptyTables(canTruncate bool, tables []string) []string {
	if canTruncate {
		return []string{"TRUNCATE " + strings.Join(tables, ", ")}
	}
	out := make([]string, len(tables))
	for i, t := range tables {
		out[i] = "DELETE FROM " + t
	}
	return out
}

// sqlCanTruncate reports whether the role may truncate every table of ?.
var sqlCanTruncate = rebind("SELECT coalesce(bool_and(has_table_privilege(t, 'TRUNCATE')), true) FROM unnest(?::text[]) AS t")

// ifNotExists makes a definition from pg_get_indexdef (which always starts
// "CREATE INDEX name ON ...") harmless when the index exists.
func ifNotExists(def string) string {
	return strings.Replace(def, "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
}

// sessionParams are set on every connection unless the URL sets them.
// jit=off: the searches are short, index-driven statements whose cost
// estimates can still pass jit_above_cost on a big table, and compiling
// them costs tens of milliseconds, more than running them.
var sessionParams = map[string]string{"jit": "off"}
