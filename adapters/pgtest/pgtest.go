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
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
	t.Cleanup(func() { admin(t, server, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Exec runs one statement on the server as the test role, outside any
// test database: for pg_terminate_backend and the like.
func Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	admin(t, ServerURL(t), sql, args...)
}

func admin(t testing.TB, server, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", Env, err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}
