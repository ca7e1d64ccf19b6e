// Package pgtest gives each PostgreSQL test a throwaway database on a real
// server. The server comes from UPAY_TEST_PG, the URL of a role that may
// create databases; `make test` starts the machine's PostgreSQL and sets it
// (scripts/pg-up). Without it a test skips and says why, except under
// CI=true, where a missing server is a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Env names the variable holding the server URL.
const Env = "UPAY_TEST_PG"

// ServerURL returns UPAY_TEST_PG, or skips the test (fails it under
// CI=true) when it is not set.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		msg := Env + " is not set: no PostgreSQL server for this test. `make test` starts the machine's PostgreSQL (scripts/pg-up) and sets it; or set it to the URL of a role with CREATEDB"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("skipped: " + msg)
	}
	if lines := strings.Count(strings.TrimSpace(u), "\n") + 1; lines > 1 {
		// What scripts/pg-up printed besides the URL would otherwise end
		// up in a parse error of every test; say so once, plainly.
		t.Fatalf("%s holds %d lines, not one URL: whatever set it printed more than the URL (scripts/pg-up prints only the URL on stdout)", Env, lines)
	}
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		t.Fatalf("%s is not a postgres:// URL", Env)
	}
	return u
}

// DB creates an empty database for this test and returns its URL; the
// database is dropped (its connections terminated) when the test ends.
func DB(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "upay_test_" + hex.EncodeToString(b[:])
	admin(t, server, "CREATE DATABASE "+name)
	t.Cleanup(func() { drop(t, server, name) })
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	u.Path = "/" + name
	return u.String()
}

// drop drops a test's database. WITH (FORCE) ends the test's own sessions,
// but it may not end a session of a superuser, such as an autovacuum
// worker that visits the new database (SQLSTATE 42501), and another
// session may be on its way out (55006): both pass in a moment, so the
// drop is retried for a while before the test fails.
func drop(t testing.TB, server, name string) {
	t.Helper()
	var err error
	for range 100 {
		if err = tryAdmin(server, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err == nil {
			return
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "42501" && pe.Code != "55006") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pgtest: drop database %s: %v", name, err)
}

// Exec runs one statement on the server as the test role, outside any
// test database: for pg_terminate_backend and the like.
func Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	admin(t, ServerURL(t), sql, args...)
}

func admin(t testing.TB, server, sql string, args ...any) {
	t.Helper()
	if err := tryAdmin(server, sql, args...); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

func tryAdmin(server, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", Env, err)
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql, args...)
	return err
}
