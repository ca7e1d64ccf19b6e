package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveBuffer is a bytes.Buffer safe for the server goroutine and the test.
type serveBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *serveBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *serveBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const (
	serveAdminToken    = "serve-test-admin-token-01"
	serveMerchantToken = "serve-test-merchant-token-01"
)

func serveTokenFile(t *testing.T, dir, merchant string) string {
	t.Helper()
	p := filepath.Join(dir, "tokens")
	body := serveAdminToken + "\tadmin\t-\tops\n" + serveMerchantToken + "\tmerchant\t" + merchant + "\tshop\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServeFlagsAndFiles(t *testing.T) {
	t.Setenv("UPAY_TOKENS", "")
	dir := t.TempDir()
	store := filepath.Join(dir, "upay.db")
	bad := filepath.Join(dir, "bad-tokens")
	if err := os.WriteFile(bad, []byte("short admin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty-tokens")
	if err := os.WriteFile(empty, []byte("# nobody yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no tokens", []string{"serve", "--addr", "127.0.0.1:0"}, "U1003"},
		{"missing file", []string{"serve", "--tokens", filepath.Join(dir, "nope")}, "U1009"},
		{"bad file", []string{"serve", "--tokens", bad}, "line 1"},
		{"empty file", []string{"serve", "--tokens", empty}, "holds no token"},
		{"args", []string{"serve", "extra", "--tokens", bad}, "unknown command"},
		{"unknown read models", []string{"serve", "--read-models", "disk", "--tokens", bad}, `--read-models "disk": want store or memory`},
		{"memory without the runner", []string{"serve", "--read-models", "memory", "--follow=false", "--tokens", bad}, "needs --follow"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"--store", store}, c.args...), strings.NewReader(""), &out, &errb)
		if code == 0 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", c.name, code, errb.String(), c.want)
		}
	}
}

var serveListenLine = regexp.MustCompile(`on (http://127\.0\.0\.1:[0-9]+) `)

// startServe runs `upay serve --addr 127.0.0.1:0` in-process and returns
// its base URL, its streams and a stop function that cancels the context
// (as SIGINT does through main) and returns the exit code.
func startServe(t *testing.T, args ...string) (string, *serveBuffer, *serveBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb serveBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append(args, "serve", "--addr", "127.0.0.1:0"), strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := serveListenLine.FindStringSubmatch(out.String()); m != nil {
			stopped := false
			var code int
			stop := func() int {
				if !stopped {
					cancel()
					code, stopped = <-done, true
				}
				return code
			}
			t.Cleanup(func() { stop() })
			return m[1], &out, &errb, stop
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited %d before listening: %s %s", code, out.String(), errb.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not print its address: %q %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func serveGetJSON(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: %d, body not JSON: %v", url, res.StatusCode, err)
	}
	return res.StatusCode, body
}

// TestServeEndToEnd runs `upay serve` in-process over a real store, with
// the store's SQLite read models and then with read models held in memory
// (--read-models memory): a generated workload is ingested, serve catches
// the read models up and answers over a socket; a command recorded while it
// serves shows up in the search; cancelling (SIGINT) stops it with exit 0.
// The answers are the same either way.
func TestServeEndToEnd(t *testing.T) {
	t.Run("store", func(t *testing.T) { serveEndToEnd(t, "store") })
	t.Run("memory", func(t *testing.T) { serveEndToEnd(t, "memory") })
}

func serveEndToEnd(t *testing.T, models string) {
	dir := t.TempDir()
	store := filepath.Join(dir, "upay.db")
	month := filepath.Join(dir, "m.jsonl")
	if code, _, errs := runIn(t, "", "gen", "--merchants", "2", "--days", "3", "--per-day", "60", "--start", "2019-10-14", "-o", month); code != 0 {
		t.Fatalf("gen: %s", errs)
	}
	if code, out, errs := runIn(t, "", "--store", store, "ingest", "-q", "--import", month); code != 0 {
		t.Fatalf("ingest: %d %s %s", code, out, errs)
	}
	base, out, errb, stop := startServe(t, "--store", store, "--tokens", serveTokenFile(t, dir, "270000001"), "--read-models", models)
	if models == "memory" {
		// Folded before listening: the first answer is complete, and no
		// read-model file is made.
		if !regexp.MustCompile(`read models in memory: \d+ events folded in`).MatchString(out.String()) {
			t.Fatalf("stdout %q", out.String())
		}
		if code, body := serveGetJSON(t, base+"/api/v1/projections", serveAdminToken); code != 200 || body["max_lag"] != 0.0 {
			t.Fatalf("memory models not caught up when serving: %d %v", code, body)
		}
		if _, err := os.Stat(store + ".read.db"); !os.IsNotExist(err) {
			t.Fatalf("a read-model file was made: %v", err)
		}
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := serveGetJSON(t, base+"/api/v1/projections", serveAdminToken)
		if code == 200 && body["max_lag"] == 0.0 && len(body["projections"].([]any)) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read models never caught up: %d %v\n%s", code, body, errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := serveGetJSON(t, base+"/readyz", ""); code != 200 {
		t.Errorf("readyz %d", code)
	}

	// One merchant, one day: 50 rows and the manual's message, then pages.
	search := base + "/api/v1/merchants/270000001/transactions?from=2019-10-15&to=2019-10-15"
	code, page := serveGetJSON(t, search, serveMerchantToken)
	if code != 200 || page["truncated"] != true || page["code"] != "A25" || len(page["rows"].([]any)) != 50 {
		t.Fatalf("search: %d %v", code, page["error"])
	}
	seen := map[string]int{} // payment -> page it came on
	first := page["rows"].([]any)[0].(map[string]any)["payment"].(string)
	for n, after := 1, ""; ; n++ {
		for _, r := range page["rows"].([]any) {
			row := r.(map[string]any)
			p := row["payment"].(string)
			if row["merchant"] != "270000001" {
				t.Fatalf("page %d: row of another merchant: %v", n, row)
			}
			if seen[p] != 0 {
				t.Fatalf("page %d (after=%s): %s already came on page %d: %v", n, after, p, seen[p], row)
			}
			seen[p] = n
		}
		next, _ := page["next"].(string)
		after = next
		if next == "" {
			break
		}
		if code, page = serveGetJSON(t, search+"&after="+next, serveMerchantToken); code != 200 {
			t.Fatalf("next page: %d %v", code, page)
		}
	}
	if len(seen) < 51 {
		t.Errorf("paged through %d rows", len(seen))
	}
	// The other merchant is invisible to this token, visible to admin.
	if code, _ := serveGetJSON(t, base+"/api/v1/merchants/270000002/transactions", serveMerchantToken); code != 404 {
		t.Errorf("other merchant: %d", code)
	}
	if code, body := serveGetJSON(t, base+"/api/v1/transactions?merchant=270000002&limit=5", serveAdminToken); code != 200 || len(body["rows"].([]any)) != 5 {
		t.Errorf("admin, other merchant: %d %v", code, body["error"])
	}
	// Details with the payment's events from the store.
	code, det := serveGetJSON(t, base+"/api/v1/merchants/270000001/transactions/"+first, serveMerchantToken)
	if code != 200 || len(det["events"].([]any)) == 0 || det["transaction"].(map[string]any)["payment"] != first {
		t.Errorf("details: %d %v", code, det)
	}
	// Balance and journal.
	code, bal := serveGetJSON(t, base+"/api/v1/merchants/270000001/balance?as_of=2019-10-16", serveMerchantToken)
	if code != 200 || len(bal["periods"].([]any)) == 0 || bal["unsettled"].(map[string]any)["total"].(float64) <= 0 {
		t.Errorf("balance: %d %v", code, bal)
	}
	code, tb := serveGetJSON(t, base+"/api/v1/journal/trial-balance", serveAdminToken)
	if code != 200 || tb["balanced"] != true || tb["total_debit"].(float64) <= 0 {
		t.Errorf("trial balance: %d %v", code, tb)
	}
	if code, j := serveGetJSON(t, base+"/api/v1/journal?limit=3", serveAdminToken); code != 200 || j["count"] != 3.0 || j["next"] == nil {
		t.Errorf("journal: %d %v", code, j)
	}
	if code, _ := serveGetJSON(t, base+"/api/v1/journal", serveMerchantToken); code != 404 {
		t.Errorf("merchant on journal: %d", code)
	}
	if code, body := serveGetJSON(t, search+"&min=1.5", serveMerchantToken); code != 400 || body["error"].(map[string]any)["code"] != "U1004" {
		t.Errorf("bad amount: %d %v", code, body)
	}

	// Recorded while serving: the runner follows and the API shows it.
	line := `{"type":"authorize","request_id":"live-1","payment":"live-1","merchant":"270000001","brand":"visa","amount":4321,"card":"4111111111111111","result":"ok-01","at":"2019-10-20T01:00:00Z"}`
	if code, out, errs := runIn(t, line, "--store", store, "ingest", "-q", "--import", "-"); code != 0 {
		t.Fatalf("live ingest: %d %s %s", code, out, errs)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		code, body := serveGetJSON(t, base+"/api/v1/merchants/270000001/transactions/live-1", serveMerchantToken)
		if code == 200 && body["transaction"].(map[string]any)["amount"] == 4321.0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live payment never appeared: %d %v", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if code := stop(); code != 0 {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "server stopped") {
		t.Errorf("stdout %q", out.String())
	}
	if strings.Contains(errb.String(), serveAdminToken) || strings.Contains(errb.String(), serveMerchantToken) {
		t.Error("the log holds a token")
	}
	if !strings.Contains(errb.String(), "who=shop") || strings.Contains(errb.String(), "level=ERROR") {
		t.Errorf("log: %s", errb.String())
	}
}

// TestServeWarnsOnReadableTokens: plaintext tokens in a file others can
// read are served, with a warning.
func TestServeWarnsOnReadableTokens(t *testing.T) {
	dir := t.TempDir()
	tokens := serveTokenFile(t, dir, "270000001")
	if err := os.Chmod(tokens, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, errb, stop := startServe(t, "--store", filepath.Join(dir, "upay.db"), "--tokens", tokens, "--follow=false")
	if code := stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(errb.String(), "holds 2 plaintext tokens and is readable by others") {
		t.Errorf("no warning: %s", errb.String())
	}
}
