// Package pgschema holds the PostgreSQL schema of upay (the event store and
// the read models share one database) as numbered, forward-only migrations
// embedded in the binary, and applies them.
//
// A migration is migrations/NNNN_name.sql, applied once, in order, each in
// its own transaction together with its row in schema_migrations, under a
// transaction-level advisory lock so that two `upay migrate` (or two
// `upay serve --migrate`) never apply one twice. A released migration is
// never edited: a change is a new file. The level of a database is the
// highest version applied; a database at a level above Latest was migrated
// by a newer binary, and every adapter refuses it rather than guess.
package pgschema

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"upay/domain"
)

//go:embed migrations/*.sql
var files embed.FS

// Migration is one embedded step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// lockKey is the advisory lock migrations hold: "upay" in ASCII.
const lockKey = 0x75706179

// ReadModelLock is the advisory lock every read-model write transaction
// holds (adapters/pgmodels: "upay" "rm"). A migration takes it too, after
// its own, so that it never changes the read models under a runner's
// batch, and a runner that takes it afterwards finds the new level (and,
// if it is an older binary, stops: see pgmodels' Begin).
const ReadModelLock int64 = 0x75706179_726d

var all = load()

// Latest is the level this binary migrates to.
var Latest = all[len(all)-1].Version

func load() []Migration {
	ents, err := fs.ReadDir(files, "migrations")
	if err != nil {
		panic(err)
	}
	var ms []Migration
	for _, e := range ents {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			panic("pgschema: migration file name " + e.Name() + " is not NNNN_name.sql")
		}
		b, err := files.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			panic(err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			panic(fmt.Sprintf("pgschema: migrations must be numbered 1, 2, 3...: found %d at place %d", m.Version, i+1))
		}
	}
	return ms
}

// Migrations returns the embedded steps in order.
func Migrations() []Migration { return append([]Migration(nil), all...) }

// DB is what the functions here need of a connection or a pool.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Level returns the highest migration applied, 0 for an empty database.
func Level(ctx context.Context, db DB) (int, error) {
	var v int
	err := db.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: never migrated
		return 0, nil
	}
	if err != nil {
		return 0, domain.Wrap(domain.CodeStoreFailure, err, "postgres: read the migration level")
	}
	return v, nil
}

// Migrate applies every migration above the database's level up to to
// (Latest when to is 0) and returns the levels before and after. A database
// above Latest is refused (U3003).
func Migrate(ctx context.Context, db DB, to int) (from, now int, err error) {
	if to == 0 {
		to = Latest
	}
	if to < 0 || to > Latest {
		return 0, 0, domain.Err(domain.CodeInvalidField, "migration level %d: this binary knows levels 1..%d", to, Latest)
	}
	from = -1
	for {
		tx, err := db.Begin(ctx)
		if err != nil {
			return from, now, domain.Wrap(domain.CodeStoreFailure, err, "postgres: begin migration")
		}
		done, level, err := step(ctx, tx, to)
		if err != nil {
			_ = tx.Rollback(ctx)
			return from, now, err
		}
		if from < 0 {
			from = level
		}
		if done {
			_ = tx.Rollback(ctx)
			return from, level, nil
		}
		if err := tx.Commit(ctx); err != nil {
			return from, now, domain.Wrap(domain.CodeStoreFailure, err, "postgres: commit migration %d", level+1)
		}
		now = level + 1
	}
}

// step applies the next migration, if any, inside tx.
func step(ctx context.Context, tx pgx.Tx, to int) (done bool, level int, err error) {
	// A migration may rebuild an index of a large table: the session's
	// statement timeout (upay sets one on its pools) must not cut it off.
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
		return false, 0, domain.Wrap(domain.CodeStoreFailure, err, "postgres: lift the statement timeout for the migration")
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockKey)); err != nil {
		return false, 0, domain.Wrap(domain.CodeStoreFailure, err, "postgres: take the migration lock")
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", ReadModelLock); err != nil {
		return false, 0, domain.Wrap(domain.CodeStoreFailure, err, "postgres: take the read models' write lock")
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return false, 0, domain.Wrap(domain.CodeStoreFailure, err, "postgres: create schema_migrations")
	}
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&level); err != nil {
		return false, 0, domain.Wrap(domain.CodeStoreFailure, err, "postgres: read the migration level")
	}
	if level > Latest {
		return false, level, newer(level)
	}
	if level >= to {
		return true, level, nil
	}
	m := all[level]
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, level, domain.Wrap(domain.CodeStoreFailure, err, "postgres: migration %d (%s)", m.Version, m.Name)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
		return false, level, domain.Wrap(domain.CodeStoreFailure, err, "postgres: record migration %d", m.Version)
	}
	return false, level, nil
}

func newer(level int) error {
	return domain.Err(domain.CodeStoreFailure, "postgres: the database is at migration level %d, newer than this binary (level %d): upgrade upay", level, Latest)
}

// Check refuses a database that is not at Latest: U3003 for a newer level
// (upgrade the binary) or an older one (run `upay migrate`).
func Check(ctx context.Context, db DB) error {
	level, err := Level(ctx, db)
	if err != nil {
		return err
	}
	switch {
	case level > Latest:
		return newer(level)
	case level < Latest:
		return domain.Err(domain.CodeStoreFailure, "postgres: the database is at migration level %d, this binary needs %d: run `upay migrate`", level, Latest)
	}
	return nil
}
