package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"upay/adapters/pgschema"
	"upay/adapters/pgtest"
)

// TestScenariosSameOnPostgres: every shipped scenario gives, on PostgreSQL,
// exactly the outcome (rejections, payouts, every figure) it gives on the
// embedded store, byte for byte in --json, and leaves no schema behind.
func TestScenariosSameOnPostgres(t *testing.T) {
	db := pgtest.DB(t)
	code, embedded, errs := runScenario(t, "--json", "../../scenarios")
	if code != 0 {
		t.Fatalf("embedded: exit %d\n%s", code, errs)
	}
	var out, errb bytes.Buffer
	code = run(context.Background(), []string{"--store", db, "scenario", "run", "--json", "../../scenarios"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("postgres: exit %d\n%s", code, errb.String())
	}
	if out.String() != embedded {
		t.Fatalf("outcomes differ between the stores:\nembedded:\n%s\npostgres:\n%s", embedded, out.String())
	}
	if !strings.Contains(embedded, `"pass": true`) || strings.Contains(embedded, `"pass": false`) {
		t.Fatalf("unexpected outcome:\n%s", embedded)
	}
	c, err := connectPostgres(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var left int
	if err := c.QueryRow(t.Context(), "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'upay\\_%'").Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d scenario schemas left behind (%v)", left, err)
	}
}

// TestMigrateAndDoctorOnPostgres walks an operator through a new database:
// doctor refuses it until upay migrate has run, other commands too, and
// after migrating doctor reports every check.
func TestMigrateAndDoctorOnPostgres(t *testing.T) {
	db := pgtest.DB(t)
	secrets := filepath.Join(t.TempDir(), "secrets")
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, append([]string{"--store", db, "--secrets", secrets}, args...)...)
	}
	code, out, _ := cli("doctor")
	if code != 1 || !strings.Contains(out, "FAIL  migrations") || !strings.Contains(out, "run `upay migrate`") {
		t.Fatalf("doctor on an empty database: exit %d\n%s", code, out)
	}
	if code, _, errs := cli("events"); code != 1 || !strings.Contains(errs, "U3003") || !strings.Contains(errs, "upay migrate") {
		t.Fatalf("events on an unmigrated database: exit %d\n%s", code, errs)
	}
	code, out, _ = cli("migrate", "--status")
	if code != 0 || !strings.Contains(out, "migration level 0") {
		t.Fatalf("migrate --status: exit %d\n%s", code, out)
	}
	code, out, errs := cli("migrate")
	if code != 0 || !strings.Contains(out, "applied 0001_event_store") || !strings.Contains(out, "to "+strconv.Itoa(pgschema.Latest)) {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ = cli("migrate"); code != 0 || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second migrate: exit %d\n%s", code, out)
	}
	// A month's sample through ingest, then the doctor is satisfied.
	month := filepath.Join(t.TempDir(), "month.jsonl")
	if code, _, errs := runCLI(t, "gen", "--merchants", "2", "--days", "2", "--per-day", "20", "--seed", "3", "--start", "2019-10-01", "-o", month); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := cli("ingest", "-q", "--import", month); code != 0 {
		t.Fatalf("ingest: %s", errs)
	}
	if code, out, errs := cli("events", "--verify"); code != 0 {
		t.Fatalf("events --verify: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = cli("doctor")
	for _, want := range []string{"ok    server", "PostgreSQL 15", "ok    migrations", "ok    events", "projections", "ok    secrets", "ok    transactions"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if code != 0 || strings.Contains(out, "FAIL") || strings.Contains(out, "upay_test:") {
		t.Fatalf("doctor: exit %d\n%s%s", code, out, errs)
	}
	// The read models catch up on first use; then the doctor shows lag 0.
	if code, out, errs := cli("tx", "search", "--merchant", "270000001", "--from", "2019-10-01", "--to", "2019-10-01"); code != 0 || !strings.Contains(out, "270000001") {
		t.Fatalf("tx search: exit %d\n%s%s", code, out, errs)
	}
	if _, out, _ = cli("doctor"); !strings.Contains(out, "ok    projections") || strings.Contains(out, "lag 1") {
		t.Fatalf("doctor after a catch-up:\n%s", out)
	}
	// A database at a newer level is refused by every command.
	c, err := connectPostgres(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES ($1, 'future')", pgschema.Latest+1); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"doctor"}, {"migrate"}, {"events"}} {
		code, out, errs := cli(args...)
		if code != 1 || !strings.Contains(out+errs, "newer than this binary") {
			t.Errorf("%v on a newer database: exit %d\n%s%s", args, code, out, errs)
		}
	}
}

// TestPostgresStoreErrors: a URL that does not parse, a server that does
// not answer, and a PostgreSQL store without a secret directory.
func TestPostgresStoreErrors(t *testing.T) {
	if code, _, errs := runCLI(t, "--store", "postgres://u:secret@127.0.0.1:1/x?sslmode=disable", "events"); code != 1 ||
		!strings.Contains(errs, "U3003") || !strings.Contains(errs, "127.0.0.1") || strings.Contains(errs, "secret") {
		t.Errorf("refused connection: exit %d\n%s", code, errs)
	}
	if code, out, errs := runCLI(t, "--store", "postgres://u:secret@127.0.0.1:1/x?sslmode=disable", "doctor"); code != 1 ||
		!strings.Contains(out, "FAIL  server") || strings.Contains(out+errs, "secret") {
		t.Errorf("doctor, refused connection: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "--store", "postgres://u:secret@[bad/x", "events"); code != 1 || !strings.Contains(errs, "U1009") || strings.Contains(errs, "secret") {
		t.Errorf("bad URL: exit %d\n%s", code, errs)
	}
	db := pgtest.DB(t)
	if code, _, errs := runCLI(t, "--store", db, "migrate"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runCLI(t, "--store", db, "--secrets", "", "ingest", "-"); code != 1 || !strings.Contains(errs, "U1003") || !strings.Contains(errs, "--secrets") {
		t.Errorf("no secret directory: exit %d\n%s", code, errs)
	}
}
