package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestGenIngestEventsVerify(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "upay.db")
	month := filepath.Join(dir, "m.jsonl")
	if code, _, errs := runIn(t, "", "gen", "--merchants", "2", "--days", "3", "--per-day", "50", "-o", month); code != 0 {
		t.Fatalf("gen: %s", errs)
	}
	code, out, errs := runIn(t, "", "--store", store, "ingest", "-q", "--import", month)
	if code != 0 || !strings.Contains(out, "rejected 0") || strings.Contains(out, "accepted 0 ") {
		t.Fatalf("ingest: %d\n%s\n%s", code, out, errs)
	}
	// Re-running the same file: every line is a duplicate, nothing appended.
	code, out, _ = runIn(t, "", "--store", store, "ingest", "-q", "--import", month)
	if code != 0 || !strings.Contains(out, "accepted 0 ") || !strings.Contains(out, "rejected 0") {
		t.Fatalf("re-ingest: %d %s", code, out)
	}
	// Bad lines: reported with their numbers and codes, the rest recorded, exit 3.
	bad := strings.Join([]string{
		`{"type":"capture","request_id":"x1","payment":"missing","at":"2030-01-01T00:00:00Z"}`,
		`{not json`,
		`{"type":"authorize","request_id":"x2","payment":"new1","merchant":"270000001","brand":"visa","amount":100,"card":"4111111111111111","result":"ok-01","at":"2030-01-01T00:00:01Z"}`,
		`{"type":"authorize","request_id":"x3","payment":"new2","merchant":"270000001","brand":"visa","amount":10000000000,"card":"4111111111111111","result":"ok-01","at":"2030-01-01T00:00:02Z"}`,
	}, "\n")
	code, out, errs = runIn(t, bad, "--store", store, "ingest", "-q", "--import", "-")
	if code != 3 || !strings.Contains(out, "accepted 1 ") || !strings.Contains(errs, "line 1: rejected U2002") ||
		!strings.Contains(errs, "line 2: rejected U1001") || !strings.Contains(errs, "line 4: rejected U1005") {
		t.Fatalf("bad lines: %d\n%s\n%s", code, out, errs)
	}
	if code, out, _ := runIn(t, "", "--store", store, "events", "--stream", "pay-new1", "--json"); code != 0 || !strings.Contains(out, `"type":"card.authorized"`) || strings.Contains(out, "4111111111111111") {
		t.Fatalf("events: %s", out)
	}
	if code, out, _ := runIn(t, "", "--store", store, "events", "--verify"); code != 0 || !strings.Contains(out, "verified") {
		t.Fatalf("verify: %d %s", code, out)
	}
	// Tamper with one recorded amount: verification must fail, naming it.
	db, err := sql.Open("sqlite", store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET data = replace(data, '"amount":100', '"amount":900') WHERE stream = 'pay-new1'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if code, _, errs := runIn(t, "", "--store", store, "events", "--verify"); code != 2 || !strings.Contains(errs, "pay-new1 revision 0") {
		t.Fatalf("tampered log verified: %d %s", code, errs)
	}
	if fi, err := os.Stat(store + ".secrets/fingerprint-key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("fingerprint key: %v", err)
	}
}

func TestIngestLiveRejectsAt(t *testing.T) {
	store := filepath.Join(t.TempDir(), "upay.db")
	line := `{"type":"authorize","request_id":"x2","payment":"p1","merchant":"270000001","brand":"visa","amount":100,"card":"4111111111111111","result":"ok-01","at":"2030-01-01T00:00:01Z"}`
	if code, _, errs := runIn(t, line, "--store", store, "ingest", "-q", "-"); code != 3 || !strings.Contains(errs, "U1009") {
		t.Fatalf("at in live mode: %d %s", code, errs)
	}
	live := strings.Replace(line, `,"at":"2030-01-01T00:00:01Z"`, "", 1)
	if code, out, errs := runIn(t, live, "--store", store, "ingest", "-q", "-"); code != 0 || !strings.Contains(out, "accepted 1 ") {
		t.Fatalf("live: %d %s %s", code, out, errs)
	}
}
