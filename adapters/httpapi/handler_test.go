package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
)

// fakeRM is an in-memory projections.ReadModels over a fixed set of rows,
// good enough to drive every endpoint: it filters like the port says and
// pages by an index cursor ("i<n>").
type fakeRM struct {
	mu        sync.Mutex
	txs       []projections.Transaction // newest first
	totals    []projections.TotalRow
	journal   []projections.JournalEntry
	payouts   []projections.Payout // by payday
	statusErr error
	fail      error  // every method but Status returns it
	panicMsg  string // every method but Status panics with it
	block     bool   // every method blocks until ctx is done
	queries   []projections.TxQuery
	calls     int
	delay     time.Duration // each search sleeps this long (benchmarks)
	lastLimit int
}

var _ projections.ReadModels = (*fakeRM)(nil)

func (f *fakeRM) enter(ctx context.Context) error {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if f.panicMsg != "" {
		panic(f.panicMsg)
	}
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.fail
}

func matches(t projections.Transaction, q projections.TxQuery) bool {
	if q.Merchant != "" && t.Merchant != q.Merchant {
		return false
	}
	if q.Status != "" && t.Status != q.Status || q.Brand != "" && t.Brand != q.Brand {
		return false
	}
	if q.MinAmount != nil && t.Amount < *q.MinAmount || q.MaxAmount != nil && t.Amount > *q.MaxAmount {
		return false
	}
	if q.From == nil && q.To == nil {
		return true
	}
	in := func(d date.Date) bool {
		return (q.From == nil || !d.Before(*q.From)) && (q.To == nil || !d.After(*q.To))
	}
	if t.SalesDate == nil && t.ReturnDate == nil {
		return in(domain.BusinessDate(t.CreatedAt))
	}
	return t.SalesDate != nil && in(*t.SalesDate) || t.ReturnDate != nil && in(*t.ReturnDate)
}

func (f *fakeRM) SearchTransactions(ctx context.Context, q projections.TxQuery) (projections.TxPage, error) {
	if err := f.enter(ctx); err != nil {
		return projections.TxPage{}, err
	}
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if q.Status != "" && !slices.Contains(projections.Statuses, q.Status) {
		return projections.TxPage{}, domain.Err(domain.CodeInvalidField, "status %q", q.Status)
	}
	start := 0
	if q.After != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(q.After, "i"))
		if err != nil || !strings.HasPrefix(q.After, "i") || n < 0 {
			return projections.TxPage{}, domain.Err(domain.CodeInvalidField, "cursor %q is not one this store made", q.After)
		}
		start = n
	}
	limit := q.Limit
	if limit == 0 {
		limit = projections.SearchLimit
	}
	var page projections.TxPage
	seen := 0
	for _, t := range f.txs {
		if !matches(t, q) {
			continue
		}
		if seen >= start {
			if len(page.Rows) == limit {
				page.More, page.Next = true, "i"+strconv.Itoa(seen)
				break
			}
			page.Rows = append(page.Rows, t)
		}
		seen++
	}
	return page, nil
}

func (f *fakeRM) Transaction(ctx context.Context, id domain.PaymentID) (projections.Transaction, bool, error) {
	if err := f.enter(ctx); err != nil {
		return projections.Transaction{}, false, err
	}
	for _, t := range f.txs {
		if t.Payment == id {
			return t, true, nil
		}
	}
	return projections.Transaction{}, false, nil
}

func (f *fakeRM) PeriodTotals(ctx context.Context, m domain.MerchantID, from, to date.Date) ([]projections.TotalRow, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	var out []projections.TotalRow
	for _, r := range f.totals {
		if r.Merchant == m && !r.Date.Before(from) && !r.Date.After(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeRM) UnknownEmoney(ctx context.Context, m domain.MerchantID) ([]projections.Transaction, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	var out []projections.Transaction
	for _, t := range f.txs {
		if t.Merchant == m && t.Status == projections.StatusUnknown {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fakeRM) TrialBalance(ctx context.Context) (projections.TrialBalance, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	tb := projections.TrialBalance{}
	for _, e := range f.journal {
		tb.Post(e.Postings)
	}
	return tb, nil
}

func (f *fakeRM) Journal(ctx context.Context, after domain.Position, limit int) ([]projections.JournalEntry, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.lastLimit = limit
	f.mu.Unlock()
	var out []projections.JournalEntry
	for _, e := range f.journal {
		if after.Less(e.Position) && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeRM) Payouts(ctx context.Context, m domain.MerchantID, from, to date.Date) ([]projections.Payout, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	var out []projections.Payout
	for _, p := range f.payouts {
		if p.Merchant == m && !p.Payday.Before(from) && !p.Payday.After(to) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeRM) PayoutsOn(ctx context.Context, payday date.Date) ([]projections.Payout, error) {
	if err := f.enter(ctx); err != nil {
		return nil, err
	}
	var out []projections.Payout
	for _, p := range f.payouts {
		if p.Payday == payday {
			out = append(out, p)
		}
	}
	return out, nil
}

// Notices: no endpoint reads them yet.
func (f *fakeRM) Notices(ctx context.Context, payday date.Date) ([]projections.Notice, error) {
	return nil, f.enter(ctx)
}

func (f *fakeRM) Status(ctx context.Context) ([]projections.Status, error) {
	if f.statusErr != nil {
		return nil, f.statusErr
	}
	return []projections.Status{{Name: "transactions", Position: pos(70), Lag: 0}, {Name: "journal", Position: pos(65), Lag: 5}}, nil
}

// fakeEvents is a StreamReader over fixed streams.
type fakeEvents map[domain.StreamID][]domain.RecordedEvent

func (f fakeEvents) ReadStream(_ context.Context, s domain.StreamID, from uint64, _ domain.ReadOptions) ([]domain.RecordedEvent, error) {
	return f[s], nil
}

func pos(n uint64) domain.Position { return domain.Position{Commit: n, Prepare: n} }

const (
	merchantA = "270212122"
	merchantB = "123456789"

	tokAdmin     = "admin-token-0123456789"
	tokFinance   = "finance-token-0123456789"
	tokAuditor   = "auditor-token-0123456789"
	tokMerchantA = "merchant-a-token-0123456789"
	tokMerchantB = "merchant-b-token-0123456789"
)

func testTokens(t testing.TB) *Tokens {
	file := fmt.Sprintf("%s admin\n%s finance\n%s auditor\n%s merchant %s shop-a\n%s merchant %s shop-b\n",
		tokAdmin, tokFinance, HashToken(tokAuditor), tokMerchantA, merchantA, HashToken(tokMerchantB), merchantB)
	tk, err := ParseTokens(strings.NewReader(file), "test")
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

var day = date.New(2019, 10, 16)

// testRM holds 60 captured card payments of merchant A on 2019-10-16
// (amounts 1000..6900), an unknown e-money debit of A, 3 payments of B, and
// a journal of the captures.
func testRM() *fakeRM {
	f := &fakeRM{}
	base := time.Date(2019, 10, 16, 1, 0, 0, 0, time.UTC)
	brands := []string{"visa", "mastercard", "jcb"}
	for i := 0; i < 60; i++ {
		d := day
		f.txs = append(f.txs, projections.Transaction{
			Payment: domain.PaymentID(fmt.Sprintf("a-%02d", i)), Merchant: merchantA, Kind: domain.KindCard,
			Brand: brands[i%3], Amount: domain.Yen(1000 + 100*i), Captured: domain.Yen(1000 + 100*i),
			Status: projections.StatusCaptured, LastCode: "ok-01", SalesDate: &d, MaskedCard: "************1111",
			Installments: 1, Terminal: "t1", CreatedAt: base.Add(time.Duration(i) * time.Minute),
			UpdatedAt: base.Add(time.Duration(i) * time.Minute), Position: pos(uint64(2*i + 2)),
		})
	}
	before := domain.Yen(5000)
	f.txs = append(f.txs, projections.Transaction{Payment: "a-emoney-unknown", Merchant: merchantA, Kind: domain.KindEmoney,
		Brand: "emoney", Amount: 700, Status: projections.StatusUnknown, MaskedCard: "************9999",
		BalanceBefore: &before, Installments: 1, CreatedAt: base.Add(-time.Hour), UpdatedAt: base.Add(-time.Hour), Position: pos(1)})
	for i := 0; i < 3; i++ {
		f.txs = append(f.txs, projections.Transaction{Payment: domain.PaymentID(fmt.Sprintf("b-%d", i)), Merchant: merchantB,
			Kind: domain.KindCard, Brand: "amex", Amount: 9000, Status: projections.StatusDeclined, LastCode: "ng-02", CardCode: "G12",
			MaskedCard: "************0005", Installments: 1, CreatedAt: base.Add(-2 * time.Hour), Position: pos(uint64(200 + i))})
	}
	slices.SortFunc(f.txs, func(a, b projections.Transaction) int { return b.CreatedAt.Compare(a.CreatedAt) })
	for i := 0; i < 60; i++ {
		t := f.txs[0]
		for _, x := range f.txs {
			if x.Payment == domain.PaymentID(fmt.Sprintf("a-%02d", i)) {
				t = x
			}
		}
		f.journal = append(f.journal, projections.JournalEntry{Position: t.Position, Time: t.CreatedAt.Format(time.RFC3339),
			Type: domain.TypeCardCaptured, Payment: t.Payment,
			Postings: []projections.Posting{{Account: projections.AccCardReceivable, Debit: t.Amount},
				{Account: projections.MerchantPayable(merchantA), Credit: t.Amount}}})
	}
	f.totals = []projections.TotalRow{
		{TotalKey: projections.TotalKey{Merchant: merchantA, Group: domain.GroupVisaMaster, Date: date.New(2019, 9, 20)}, Total: projections.Total{Count: 2, Sales: 3000}},
		{TotalKey: projections.TotalKey{Merchant: merchantA, Group: domain.GroupVisaMaster, Date: date.New(2019, 9, 5)}, Total: projections.Total{Count: 1, Sales: 111}}, // paid 2019-09-30
		{TotalKey: projections.TotalKey{Merchant: merchantA, Group: domain.GroupVisaMaster, Date: day}, Total: projections.Total{Count: 40, Sales: 100000}},
		{TotalKey: projections.TotalKey{Merchant: merchantA, Group: domain.GroupJCBOther, Date: day}, Total: projections.Total{Count: 20, Sales: 50000}},
		{TotalKey: projections.TotalKey{Merchant: merchantA, Group: domain.GroupEmoney, Date: date.New(2019, 9, 30)}, Total: projections.Total{Count: 3, Sales: 1500}},
		{TotalKey: projections.TotalKey{Merchant: merchantA, Group: domain.GroupEmoney, Date: date.New(2019, 10, 2)}, Total: projections.Total{Count: 1, Sales: 500}},
		{TotalKey: projections.TotalKey{Merchant: merchantB, Group: domain.GroupJCBOther, Date: day}, Total: projections.Total{Count: 9, Sales: 9}},
	}
	return f
}

func testEvents() fakeEvents {
	at := time.Date(2019, 10, 15, 15, 30, 0, 0, time.UTC) // 2019-10-16 in Tokyo
	auth, _ := json.Marshal(domain.CardAuthorized{Payment: "a-00", Merchant: merchantA, Brand: "visa", Amount: 1000, Installments: 1,
		CardLast4: "1111", CardFingerprint: "deadbeef", Result: "ok-01"})
	capt, _ := json.Marshal(domain.CardCaptured{Payment: "a-00", Merchant: merchantA, Brand: "visa", Amount: 1000})
	return fakeEvents{"pay-a-00": {
		{Stream: "pay-a-00", Revision: 0, Position: pos(1), Type: domain.TypeCardAuthorized, Version: 1, Time: at, Data: auth},
		{Stream: "pay-a-00", Revision: 1, Position: pos(2), Type: domain.TypeCardCaptured, Version: 1, Time: at, Data: capt},
	}}
}

type harness struct {
	t   testing.TB
	rm  *fakeRM
	h   *Handler
	log *bytes.Buffer
	mu  *sync.Mutex
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func newHarness(t testing.TB, mod func(*Config)) *harness {
	rm := testRM()
	var buf bytes.Buffer
	mu := &sync.Mutex{}
	cfg := Config{ReadModels: rm, Tokens: testTokens(t),
		Log: slog.New(slog.NewTextHandler(lockedWriter{mu, &buf}, nil)),
		Now: func() time.Time { return time.Date(2019, 10, 20, 3, 0, 0, 0, time.UTC) }}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, rm: rm, h: h, log: &buf, mu: mu}
}

type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r response) errCode() string {
	e, _ := r.json["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// do serves one request and checks what every response must hold: the
// headers, a JSON body, an error shape with a code for every non-2xx, and
// a catalogue entry behind every code.
func (h *harness) do(method, target, token string) response {
	h.t.Helper()
	req := httptest.NewRequest(method, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, req)
	res := response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	for k, want := range map[string]string{"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := w.Header().Get(k); got != want {
			h.t.Errorf("%s %s: %s = %q, want %q", method, target, k, got, want)
		}
	}
	if method == http.MethodHead {
		return res
	}
	if err := json.Unmarshal(res.body, &res.json); err != nil {
		h.t.Fatalf("%s %s: body is not JSON: %v: %s", method, target, err, res.body)
	}
	if res.status >= 300 {
		code := res.errCode()
		if code == "" {
			h.t.Errorf("%s %s: %d without an error code: %s", method, target, res.status, res.body)
		} else if c, ok := lookup(code); !ok || c.Message == "" {
			h.t.Errorf("%s %s: code %s has no catalogue message", method, target, code)
		}
		if e := res.json["error"].(map[string]any); e["message"] == "" || e["message"] == nil {
			h.t.Errorf("%s %s: error without message: %s", method, target, res.body)
		}
	}
	if strings.Contains(string(res.body), "goroutine ") || strings.Contains(string(res.body), ".go:") {
		h.t.Errorf("%s %s: body leaks a stack trace: %s", method, target, res.body)
	}
	return res
}

func (h *harness) get(target, token string) response { return h.do(http.MethodGet, target, token) }

func expect(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status || r.errCode() != code {
		t.Errorf("status %d code %q, want %d %q: %s", r.status, r.errCode(), status, code, r.body)
	}
}

func rows(t *testing.T, r response) []map[string]any {
	t.Helper()
	rs, ok := r.json["rows"].([]any)
	if !ok {
		t.Fatalf("no rows: %s", r.body)
	}
	out := make([]map[string]any, len(rs))
	for i, x := range rs {
		out[i] = x.(map[string]any)
	}
	return out
}

func TestHealthAndReadiness(t *testing.T) {
	h := newHarness(t, nil)
	r := h.get("/healthz", "")
	expect(t, r, 200, "")
	if r.json["status"] != "ok" {
		t.Errorf("healthz: %s", r.body)
	}
	expect(t, h.get("/readyz", ""), 200, "")
	expect(t, h.get("/healthz", "not-a-token"), 200, "") // probes ignore the header
	h.rm.statusErr = errors.New("database is locked")
	r = h.get("/readyz", "")
	expect(t, r, 503, CodeUnavailable)
	if strings.Contains(string(r.body), "locked") {
		t.Errorf("readyz leaks the cause: %s", r.body)
	}
	expect(t, h.get("/healthz?verbose=1", ""), 400, domain.CodeInvalidField)
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t, nil)
	target := "/api/v1/merchants/" + merchantA + "/transactions"
	for name, header := range map[string]string{
		"no token":  "",
		"bad token": "Bearer wrong-token-0123456789",
		"basic":     "Basic YWRtaW46YWRtaW4=",
		"empty":     "Bearer ",
		"hash":      "Bearer " + HashToken(tokAuditor),
	} {
		req := httptest.NewRequest("GET", target, nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		w := httptest.NewRecorder()
		h.h.ServeHTTP(w, req)
		if w.Code != 401 || !strings.Contains(w.Body.String(), `"code":"H401"`) {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
		if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", name, got)
		}
	}
	// Unknown routes and wrong methods need a token too.
	expect(t, h.get("/api/v1/nothing", ""), 401, CodeUnauthorized)
	expect(t, h.do("POST", "/api/v1/journal", ""), 401, CodeUnauthorized)
	if h.rm.calls != 0 {
		t.Errorf("unauthenticated requests reached the read models %d times", h.rm.calls)
	}
	if strings.Contains(h.log.String(), tokAdmin) || strings.Contains(h.log.String(), "wrong-token") {
		t.Error("the log holds a token")
	}
}

func TestMerchantScope(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Events = testEvents() })
	notFound := h.get("/api/v1/no-such-route", tokMerchantA)
	expect(t, notFound, 404, CodeNotFound)
	// Every way a merchant token could reach another merchant's data or
	// the platform-wide endpoints answers exactly as an unknown route.
	for _, c := range []struct{ method, target string }{
		{"GET", "/api/v1/merchants/" + merchantB + "/transactions"},
		{"GET", "/api/v1/merchants/" + merchantB + "/transactions?from=bogus"},
		{"GET", "/api/v1/merchants/" + merchantB + "/transactions/b-0"},
		{"GET", "/api/v1/merchants/" + merchantB + "/balance"},
		{"GET", "/api/v1/merchants/" + merchantB + "/payouts"},
		{"GET", "/api/v1/payouts?payday=2019-10-31"},
		{"GET", "/api/v1/merchants/not-a-merchant/transactions"},
		{"GET", "/api/v1/transactions"},
		{"GET", "/api/v1/transactions?merchant=" + merchantA},
		{"GET", "/api/v1/journal"},
		{"GET", "/api/v1/journal/trial-balance"},
		{"GET", "/api/v1/projections"},
		{"POST", "/api/v1/journal"},
		{"DELETE", "/api/v1/merchants/" + merchantB + "/transactions"},
	} {
		r := h.do(c.method, c.target, tokMerchantA)
		if r.status != 404 || !bytes.Equal(r.body, notFound.body) {
			t.Errorf("merchant A %s %s: %d %s, want the unknown route's 404", c.method, c.target, r.status, r.body)
		}
		if r.header.Get("Allow") != "" {
			t.Errorf("merchant A %s %s: Allow header reveals the route", c.method, c.target)
		}
	}
	// Its own merchant works; another merchant's payment under its own
	// path is no such payment.
	expect(t, h.get("/api/v1/merchants/"+merchantA+"/transactions", tokMerchantA), 200, "")
	expect(t, h.get("/api/v1/merchants/"+merchantA+"/transactions/a-00", tokMerchantA), 200, "")
	expect(t, h.get("/api/v1/merchants/"+merchantA+"/balance", tokMerchantA), 200, "")
	expect(t, h.get("/api/v1/merchants/"+merchantA+"/transactions/b-0", tokMerchantA), 404, domain.CodePaymentNotFound)
	expect(t, h.get("/api/v1/merchants/"+merchantB+"/transactions/b-0", tokMerchantB), 200, "")
	// Staff see every merchant.
	for _, tok := range []string{tokAdmin, tokFinance, tokAuditor} {
		expect(t, h.get("/api/v1/merchants/"+merchantB+"/transactions/b-0", tok), 200, "")
		expect(t, h.get("/api/v1/transactions", tok), 200, "")
		expect(t, h.get("/api/v1/journal/trial-balance", tok), 200, "")
		expect(t, h.get("/api/v1/journal", tok), 200, "")
		expect(t, h.get("/api/v1/projections", tok), 200, "")
	}
}

func TestSearchMerchant(t *testing.T) {
	h := newHarness(t, nil)
	base := "/api/v1/merchants/" + merchantA + "/transactions"
	overflow, _ := domain.LookupCode(domain.CodeSearchOverflow)

	r := h.get(base, tokMerchantA)
	expect(t, r, 200, "")
	rs := rows(t, r)
	if len(rs) != 50 || r.json["truncated"] != true || r.json["code"] != "A25" || r.json["message"] != overflow.Message {
		t.Fatalf("default page: %d rows, truncated %v, code %v, message %v", len(rs), r.json["truncated"], r.json["code"], r.json["message"])
	}
	if rs[0]["payment"] != "a-59" || rs[0]["merchant"] != merchantA || rs[0]["sales_date"] != "2019-10-16" || rs[0]["result_code"] != "ok-01" {
		t.Errorf("first row: %v", rs[0])
	}
	next, _ := r.json["next"].(string)
	if next == "" {
		t.Fatal("no next cursor")
	}
	r2 := h.get(base+"?after="+next, tokMerchantA)
	expect(t, r2, 200, "")
	if rs2 := rows(t, r2); len(rs2) != 11 || r2.json["truncated"] != false || r2.json["next"] != nil || r2.json["code"] != nil {
		t.Errorf("second page: %d rows, %s", len(rs2), r2.body)
	}

	// A tool's limit: truncation and cursor, without the UI's message.
	r = h.get(base+"?limit=10", tokMerchantA)
	if len(rows(t, r)) != 10 || r.json["truncated"] != true || r.json["code"] != nil || r.json["next"] == nil {
		t.Errorf("limit=10: %s", r.body)
	}
	r = h.get(base+"?limit=500", tokMerchantA)
	if len(rows(t, r)) != 61 || r.json["truncated"] != false {
		t.Errorf("limit=500: %d rows", len(rows(t, r)))
	}

	// Conditions reach the read models as parsed.
	h.rm.queries = nil
	r = h.get(base+"?from=2019-10-16&to=2019-10-16&min=1000&max=2000&status=captured&brand=VISA", tokMerchantA)
	expect(t, r, 200, "")
	q := h.rm.queries[0]
	if q.Merchant != merchantA || q.From.String() != "2019-10-16" || q.To.String() != "2019-10-16" ||
		*q.MinAmount != 1000 || *q.MaxAmount != 2000 || q.Status != "captured" || q.Brand != "visa" || q.Limit != 50 {
		t.Errorf("query %+v", q)
	}
	for _, row := range rows(t, r) {
		if row["brand"] != "visa" || row["amount"].(float64) > 2000 {
			t.Errorf("row outside the query: %v", row)
		}
	}
	if e := r.json["query"].(map[string]any); e["brand"] != "visa" || e["from"] != "2019-10-16" {
		t.Errorf("query echo %v", e)
	}
	// partially refunded may be written three ways; empty values are absent.
	for _, s := range []string{"partially+refunded", "partially%20refunded", "partially_refunded", "Partially-Refunded"} {
		h.rm.queries = nil
		expect(t, h.get(base+"?status="+s+"&from=&brand=", tokMerchantA), 200, "")
		if q := h.rm.queries[0]; q.Status != projections.StatusPartiallyRefunded || q.From != nil || q.Brand != "" {
			t.Errorf("status=%s: %+v", s, q)
		}
	}
	// E-money row: balances; card row: null balances.
	r = h.get(base+"?brand=emoney", tokMerchantA)
	rs = rows(t, r)
	if len(rs) != 1 || rs[0]["balance_before"] != 5000.0 || rs[0]["balance_after"] != nil || rs[0]["status"] != "unknown" {
		t.Errorf("emoney: %s", r.body)
	}
	// HEAD works like GET, without a body.
	if r := h.do("HEAD", base, tokMerchantA); r.status != 200 || len(r.body) != 0 {
		t.Errorf("HEAD: %d %q", r.status, r.body)
	}
}

func TestSearchAll(t *testing.T) {
	h := newHarness(t, nil)
	r := h.get("/api/v1/transactions?limit=500", tokFinance)
	expect(t, r, 200, "")
	if len(rows(t, r)) != 64 {
		t.Errorf("all: %d rows", len(rows(t, r)))
	}
	r = h.get("/api/v1/transactions?merchant="+merchantB+"&status=declined", tokAuditor)
	rs := rows(t, r)
	if len(rs) != 3 || rs[0]["card_company_code"] != "G12" {
		t.Errorf("merchant filter: %s", r.body)
	}
	expect(t, h.get("/api/v1/transactions?merchant=12", tokAdmin), 400, domain.CodeInvalidField)
}

func TestSearchFiltersOtherMerchantsRows(t *testing.T) {
	h := newHarness(t, nil)
	// A broken store that ignores the merchant must not leak a row.
	h.rm.txs[0].Merchant = merchantB
	h.h.cfg.ReadModels = brokenScope{h.rm}
	r := h.get("/api/v1/merchants/"+merchantA+"/transactions?limit=500", tokMerchantA)
	for _, row := range rows(t, r) {
		if row["merchant"] != merchantA {
			t.Errorf("leaked row %v", row)
		}
	}
	if !strings.Contains(h.log.String(), "another merchant's row") {
		t.Error("the leak was not logged")
	}
}

type brokenScope struct{ *fakeRM }

func (b brokenScope) SearchTransactions(ctx context.Context, q projections.TxQuery) (projections.TxPage, error) {
	q.Merchant = ""
	return b.fakeRM.SearchTransactions(ctx, q)
}

func TestDetails(t *testing.T) {
	h := newHarness(t, nil)
	target := "/api/v1/merchants/" + merchantA + "/transactions/a-00"
	r := h.get(target, tokAdmin)
	expect(t, r, 200, "")
	tx := r.json["transaction"].(map[string]any)
	ok01, _ := domain.LookupCode("ok-01")
	res := r.json["result"].(map[string]any)
	if tx["payment"] != "a-00" || res["code"] != "ok-01" || res["message"] != ok01.Message || r.json["events"] != nil {
		t.Errorf("details without events: %s", r.body)
	}
	r = h.get("/api/v1/merchants/"+merchantB+"/transactions/b-1", tokAdmin)
	g12, _ := domain.LookupCode("G12")
	if cc := r.json["card_company"].(map[string]any); cc["code"] != "G12" || cc["message"] != g12.Message {
		t.Errorf("card company code: %s", r.body)
	}

	h = newHarness(t, func(c *Config) { c.Events = testEvents() })
	r = h.get(target, tokMerchantA)
	expect(t, r, 200, "")
	evs, _ := r.json["events"].([]any)
	if len(evs) != 2 {
		t.Fatalf("events: %s", r.body)
	}
	e0, e1 := evs[0].(map[string]any), evs[1].(map[string]any)
	if e0["type"] != domain.TypeCardAuthorized || e0["business_date"] != "2019-10-16" || e0["revision"] != 0.0 ||
		e0["result"].(map[string]any)["remedy"] != ok01.Remedy || e1["type"] != domain.TypeCardCaptured || e1["result"] != nil {
		t.Errorf("events: %s", r.body)
	}
	if strings.Contains(string(r.body), "fingerprint") || strings.Contains(string(r.body), "deadbeef") {
		t.Errorf("details show the card fingerprint: %s", r.body)
	}
	if d := e0["data"].(map[string]any); d["card_last4"] != "1111" || d["amount"] != 1000.0 {
		t.Errorf("event data: %v", d)
	}
	expect(t, h.get("/api/v1/merchants/"+merchantA+"/transactions/nope", tokAdmin), 404, domain.CodePaymentNotFound)
	expect(t, h.get("/api/v1/merchants/"+merchantA+"/transactions/b-0", tokAdmin), 404, domain.CodePaymentNotFound)
}

func TestBalance(t *testing.T) {
	h := newHarness(t, nil)
	r := h.get("/api/v1/merchants/"+merchantA+"/balance", tokMerchantA)
	expect(t, r, 200, "")
	// As of 2019-10-20 (Now): from 2019-09-01. Card 09-01..15 was paid on
	// 09-30; card 09-16..30 pays 10-15 (paid); e-money September pays 10-31.
	var b balanceJSON
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	if b.AsOf != "2019-10-20" || b.From != "2019-09-01" || b.To != "2019-10-20" {
		t.Errorf("window: %+v", b)
	}
	var got []string
	for _, p := range b.Periods {
		got = append(got, fmt.Sprintf("%s %s..%s closed=%v payday=%s %d/%d", p.Group, p.Start, p.End, p.Closed, deref(p.Payday), p.Count, p.Sales))
	}
	want := []string{
		"VISA/MASTER 2019-10-16..2019-10-31 closed=false payday=2019-11-15 40/100000",
		"JCB/その他 2019-10-16..2019-10-31 closed=false payday=2019-11-15 20/50000",
		"電子マネー 2019-09-01..2019-09-30 closed=true payday=2019-10-31 3/1500",
		"電子マネー 2019-10-01..2019-10-31 closed=false payday=2019-11-29 1/500",
	}
	if !slices.Equal(got, want) {
		t.Errorf("periods:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if b.Unsettled != (unsettledJSON{Card: 150000, Emoney: 2000, Total: 152000}) {
		t.Errorf("unsettled %+v", b.Unsettled)
	}
	if b.UnknownEmoney.Count != 1 || b.UnknownEmoney.Amount != 700 || b.UnknownEmoney.Transactions[0].Payment != "a-emoney-unknown" {
		t.Errorf("unknown e-money %+v", b.UnknownEmoney)
	}
	// as_of moves the window: on 2019-10-01 card 09-16..30 is still unpaid.
	r = h.get("/api/v1/merchants/"+merchantA+"/balance?as_of=2019-10-01", tokAdmin)
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Periods) != 2 || b.Periods[0].Start != "2019-09-16" || b.Periods[0].Sales != 3000 || b.Periods[1].Sales != 1500 {
		t.Errorf("as_of 2019-10-01: %s", r.body)
	}
	// A year the holiday data does not cover: periods without payday.
	h.rm.totals = append(h.rm.totals, projections.TotalRow{TotalKey: projections.TotalKey{Merchant: merchantA, Group: domain.GroupVisaMaster, Date: date.New(2099, 3, 20)}, Total: projections.Total{Count: 1, Sales: 10}})
	r = h.get("/api/v1/merchants/"+merchantA+"/balance?as_of=2099-03-31", tokAdmin)
	expect(t, r, 200, "")
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Periods) != 1 || b.Periods[0].Payday != nil || b.Periods[0].Start != "2099-03-16" || b.Periods[0].End != "2099-03-31" {
		t.Errorf("uncovered year: %s", r.body)
	}
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}

func TestJournalAndTrialBalance(t *testing.T) {
	h := newHarness(t, nil)
	r := h.get("/api/v1/journal/trial-balance", tokAuditor)
	expect(t, r, 200, "")
	var tb trialBalanceJSON
	if err := json.Unmarshal(r.body, &tb); err != nil {
		t.Fatal(err)
	}
	if !tb.Balanced || tb.TotalDebit != tb.TotalCredit || tb.TotalDebit == 0 || len(tb.Accounts) != 2 ||
		tb.Accounts[0].Account != projections.AccCardReceivable || tb.Accounts[1].Balance != -tb.TotalCredit {
		t.Errorf("trial balance %+v", tb)
	}
	r = h.get("/api/v1/journal?limit=25", tokFinance)
	var j journalJSON
	if err := json.Unmarshal(r.body, &j); err != nil {
		t.Fatal(err)
	}
	if j.Count != 25 || j.Next != j.Entries[24].Position || len(j.Entries[0].Postings) != 2 {
		t.Fatalf("journal page 1: count %d next %q", j.Count, j.Next)
	}
	seen := j.Count
	for j.Next != "" {
		r = h.get("/api/v1/journal?limit=25&after="+j.Next, tokFinance)
		j = journalJSON{}
		if err := json.Unmarshal(r.body, &j); err != nil {
			t.Fatal(err)
		}
		seen += j.Count
	}
	if seen != 60 {
		t.Errorf("paged through %d entries, want 60", seen)
	}
	h.get("/api/v1/journal", tokAdmin)
	if h.rm.lastLimit != DefaultJournal {
		t.Errorf("default journal limit %d", h.rm.lastLimit)
	}
	r = h.get("/api/v1/projections", tokAdmin)
	var ps projectionsJSON
	if err := json.Unmarshal(r.body, &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps.Projections) != 2 || ps.MaxLag != 5 || ps.Projections[1].Position != "65" {
		t.Errorf("projections %+v", ps)
	}
}

// TestBadInput: every bad request is a 4xx JSON error with its code; none
// reaches a 500.
func TestBadInput(t *testing.T) {
	h := newHarness(t, nil)
	m := "/api/v1/merchants/" + merchantA
	s := m + "/transactions?"
	long := s + "brand=visa&" + strings.Repeat("x", MaxQueryBytes)
	cases := []struct {
		name, method, target string
		status               int
		code                 string
	}{
		{"invalid date", "GET", s + "from=2019-13-01", 400, domain.CodeInvalidField},
		{"impossible date", "GET", s + "to=2019-02-30", 400, domain.CodeInvalidField},
		{"slashed date", "GET", s + "from=2019/10/16", 400, domain.CodeInvalidField},
		{"compact date", "GET", s + "from=20191016", 400, domain.CodeInvalidField},
		{"date with time", "GET", s + "from=2019-10-16T00:00:00Z", 400, domain.CodeInvalidField},
		{"ancient date", "GET", s + "from=0001-01-01", 400, domain.CodeInvalidField},
		{"from after to", "GET", s + "from=2019-10-17&to=2019-10-16", 400, domain.CodeInvalidField},
		{"decimal amount", "GET", s + "min=1000.5", 400, domain.CodeInvalidAmount},
		{"negative amount", "GET", s + "max=-1", 400, domain.CodeInvalidAmount},
		{"exponent amount", "GET", s + "min=1e3", 400, domain.CodeInvalidAmount},
		{"separator amount", "GET", s + "min=1,000", 400, domain.CodeInvalidAmount},
		{"full-width amount", "GET", s + "min=%EF%BC%91", 400, domain.CodeInvalidAmount},
		{"word amount", "GET", s + "max=lots", 400, domain.CodeInvalidAmount},
		{"huge amount", "GET", s + "max=10000000000", 400, domain.CodeAmountTooBig},
		{"overflowing amount", "GET", s + "max=99999999999999999999999", 400, domain.CodeAmountTooBig},
		{"min above max", "GET", s + "min=2000&max=1000", 400, domain.CodeInvalidField},
		{"unknown status", "GET", s + "status=settled", 400, domain.CodeInvalidField},
		{"unknown brand", "GET", s + "brand=unionpay", 400, domain.CodeInvalidField},
		{"limit zero", "GET", s + "limit=0", 400, domain.CodeInvalidField},
		{"limit too big", "GET", s + "limit=501", 400, domain.CodeInvalidField},
		{"limit word", "GET", s + "limit=all", 400, domain.CodeInvalidField},
		{"bad cursor", "GET", s + "after=zzz", 400, domain.CodeInvalidField},
		{"cursor with space", "GET", s + "after=i1%20x", 400, domain.CodeInvalidField},
		{"unknown key", "GET", s + "sort=amount", 400, domain.CodeInvalidField},
		{"merchant key on merchant path", "GET", s + "merchant=" + merchantB, 400, domain.CodeInvalidField},
		{"repeated key", "GET", s + "from=2019-10-01&from=2019-10-02", 400, domain.CodeInvalidField},
		{"bad escape", "GET", s + "from=%zz", 400, domain.CodeInvalidField},
		{"semicolon", "GET", s + "from=2019-10-01;to=2019-10-02", 400, domain.CodeInvalidField},
		{"invalid UTF-8", "GET", s + "status=%ff", 400, domain.CodeInvalidUTF8},
		{"invalid UTF-8 key", "GET", s + "%ff=1", 400, domain.CodeInvalidUTF8},
		{"oversized query", "GET", long, 414, CodeQueryTooLong},
		{"bad merchant in path", "GET", "/api/v1/merchants/abc/transactions", 400, domain.CodeInvalidField},
		{"bad payment in path", "GET", m + "/transactions/bad%20id", 400, domain.CodeInvalidField},
		{"long payment in path", "GET", m + "/transactions/" + strings.Repeat("p", 65), 400, domain.CodeInvalidField},
		{"query on details", "GET", m + "/transactions/a-00?verbose=1", 400, domain.CodeInvalidField},
		{"bad as_of", "GET", m + "/balance?as_of=yesterday", 400, domain.CodeInvalidField},
		{"journal after", "GET", "/api/v1/journal?after=abc", 400, domain.CodeInvalidField},
		{"journal after spaces", "GET", "/api/v1/journal?after=+1", 400, domain.CodeInvalidField},
		{"journal limit", "GET", "/api/v1/journal?limit=1001", 400, domain.CodeInvalidField},
		{"query on trial balance", "GET", "/api/v1/journal/trial-balance?x", 400, domain.CodeInvalidField},
		{"all: bad date", "GET", "/api/v1/transactions?to=2019-1-1", 400, domain.CodeInvalidField},
		{"unknown route", "GET", "/api/v1/settlements", 404, CodeNotFound},
		{"root", "GET", "/", 404, CodeNotFound},
		{"api v2", "GET", "/api/v2/transactions", 404, CodeNotFound},
		{"trailing slash", "GET", "/api/v1/transactions/", 404, CodeNotFound},
		{"double slash", "GET", "/api/v1//transactions", 404, CodeNotFound},
		{"dot segment", "GET", "/api/v1/merchants/" + merchantA + "/../" + merchantB + "/transactions", 404, CodeNotFound},
		{"too deep", "GET", m + "/transactions/a-00/events", 404, CodeNotFound},
		{"POST search", "POST", s, 405, CodeMethodNotAllowed},
		{"PUT details", "PUT", m + "/transactions/a-00", 405, CodeMethodNotAllowed},
		{"DELETE journal", "DELETE", "/api/v1/journal", 405, CodeMethodNotAllowed},
		{"OPTIONS projections", "OPTIONS", "/api/v1/projections", 405, CodeMethodNotAllowed},
		{"POST healthz", "POST", "/healthz", 405, CodeMethodNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(c.method, c.target, tokAdmin)
			expect(t, r, c.status, c.code)
			if c.status == 405 && r.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", r.header.Get("Allow"))
			}
			if d := r.json["error"].(map[string]any)["detail"]; d == nil || d == "" {
				t.Errorf("no detail: %s", r.body)
			}
		})
	}
	if strings.Contains(h.log.String(), "level=ERROR") {
		t.Errorf("bad input logged as a server error:\n%s", h.log)
	}
}

func TestServerErrors(t *testing.T) {
	target := "/api/v1/merchants/" + merchantA + "/transactions"

	h := newHarness(t, nil)
	h.rm.panicMsg = "boom in the store"
	r := h.get(target, tokAdmin)
	expect(t, r, 500, domain.CodeStoreFailure)
	if strings.Contains(string(r.body), "boom") {
		t.Errorf("panic text leaked: %s", r.body)
	}
	if !strings.Contains(h.log.String(), "boom in the store") || !strings.Contains(h.log.String(), "stack=") {
		t.Errorf("panic not logged with its stack:\n%s", h.log)
	}

	h = newHarness(t, nil)
	h.rm.fail = domain.Wrap(domain.CodeStoreFailure, errors.New("disk I/O error: /var/lib/secret/path"), "search")
	r = h.get(target, tokAdmin)
	expect(t, r, 500, domain.CodeStoreFailure)
	if strings.Contains(string(r.body), "secret/path") || !strings.Contains(h.log.String(), "secret/path") {
		t.Errorf("engine failure: body %s, log %s", r.body, h.log)
	}

	h = newHarness(t, func(c *Config) { c.RequestTimeout = 20 * time.Millisecond })
	h.rm.block = true
	expect(t, h.get(target, tokAdmin), 503, CodeUnavailable)
}

func TestNewNeedsPorts(t *testing.T) {
	if _, err := New(Config{Tokens: testTokens(t)}); err == nil {
		t.Error("no read models: no error")
	}
	if _, err := New(Config{ReadModels: testRM()}); err == nil {
		t.Error("no tokens: no error")
	}
}

// TestOverRealServer runs the handler behind NewServer's time-outs on a
// loopback listener, with concurrent clients, under the race detector.
func TestOverRealServer(t *testing.T) {
	h := newHarness(t, nil)
	srv := httptest.NewUnstartedServer(h.h)
	srv.Config = NewServer("", h.h, nil)
	srv.Start()
	defer srv.Close()
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tok, m := tokMerchantA, merchantA
			if i%2 == 1 {
				tok, m = tokMerchantB, merchantB
			}
			req, _ := http.NewRequest("GET", srv.URL+"/api/v1/merchants/"+m+"/transactions?from=2019-10-16&to=2019-10-16", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var page searchJSON
			if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != 200 {
				t.Errorf("status %d: %v", res.StatusCode, err)
				return
			}
			for _, row := range page.Rows {
				if row.Merchant != m {
					t.Errorf("client of %s got a row of %s", m, row.Merchant)
				}
			}
		}(i)
	}
	wg.Wait()
	// An oversized request line is refused by the server itself.
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/transactions?after="+strings.Repeat("a", MaxHeaderBytes+1024), nil)
	req.Header.Set("Authorization", "Bearer "+tokAdmin)
	res, err := srv.Client().Do(req)
	if err == nil {
		res.Body.Close()
		if res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("huge request line: %d", res.StatusCode)
		}
	}
}

// testPayout is merchant A's payout of 2019-10-31, issued on 10-18 (for
// the test: the batch may run once the periods have closed) and paid on
// 10-31: September's e-money.
func testPayout() projections.Payout {
	return projections.Payout{NoticeNo: merchantA + "-001-20191031", Merchant: merchantA, Payday: date.New(2019, 10, 31), NoticeDate: date.New(2019, 10, 29),
		Lines:    []domain.PayoutLine{{Group: domain.GroupEmoney, PeriodStart: "2019-09-01", PeriodEnd: "2019-09-30", Count: 3, Sales: 1500, Rate: "3.24", Fee: 48, Amount: 1452}},
		FeeTotal: 48, FeeTax: 4, TransferFee: 180, TransferFeeTax: 18, Net: 1452 - 4 - 198, Transferred: true, Status: projections.PayoutStatusPaid,
		IssuedAt: time.Date(2019, 10, 18, 0, 0, 0, 0, time.UTC), OutcomeAt: time.Date(2019, 10, 31, 6, 0, 0, 0, time.UTC), Position: pos(900)}
}

func TestPayouts(t *testing.T) {
	h := newHarness(t, nil)
	p := testPayout()
	h.rm.payouts = []projections.Payout{p}
	var got payoutsJSON
	r := h.get("/api/v1/merchants/"+merchantA+"/payouts", tokMerchantA)
	expect(t, r, 200, "")
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Count != 1 || got.Payouts[0].NoticeNo != p.NoticeNo || got.Payouts[0].Net != 1250 || got.Payouts[0].Status != "paid" ||
		got.Payouts[0].OutcomeAt == nil || *got.Payouts[0].OutcomeAt != "2019-10-31T06:00:00Z" || len(got.Payouts[0].Lines) != 1 ||
		got.Payouts[0].Lines[0].Group != "電子マネー" || got.Payouts[0].Lines[0].PeriodStart != "2019-09-01" {
		t.Errorf("merchant A's payouts: %s", r.body)
	}
	for target, n := range map[string]int{"?from=2019-10-31&to=2019-10-31": 1, "?from=2019-11-01": 0, "?to=2019-10-30": 0, "?from=&to=": 1} {
		r := h.get("/api/v1/merchants/"+merchantA+"/payouts"+target, tokAdmin)
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || got.Count != n {
			t.Errorf("%s: %d %s", target, r.status, r.body)
		}
	}
	expect(t, h.get("/api/v1/merchants/"+merchantA+"/payouts?from=2019-11-01&to=2019-10-01", tokAdmin), 400, domain.CodeInvalidField)
	expect(t, h.get("/api/v1/merchants/"+merchantA+"/payouts?payday=2019-10-31", tokAdmin), 400, domain.CodeInvalidField)
	r = h.get("/api/v1/payouts?payday=2019-10-31", tokFinance)
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || got.Count != 1 || got.Payouts[0].Merchant != merchantA {
		t.Errorf("payouts of 10-31: %d %s", r.status, r.body)
	}
	if r := h.get("/api/v1/payouts?payday=2019-11-15", tokAuditor); json.Unmarshal(r.body, &got) != nil || got.Count != 0 || !strings.Contains(string(r.body), `"payouts":[]`) {
		t.Errorf("payouts of 11-15: %s", r.body)
	}
	expect(t, h.get("/api/v1/payouts", tokAdmin), 400, domain.CodeInvalidField)
	expect(t, h.get("/api/v1/payouts?payday=31/10/2019", tokAdmin), 400, domain.CodeInvalidField)
}

// A payout issued by as_of takes its periods out of the unsettled ones and
// is scheduled until the bank's outcome (recorded after as_of here).
func TestBalanceWithPayouts(t *testing.T) {
	h := newHarness(t, nil)
	p := testPayout()
	h.rm.payouts = []projections.Payout{p}
	var b balanceJSON
	r := h.get("/api/v1/merchants/"+merchantA+"/balance", tokMerchantA)
	if err := json.Unmarshal(r.body, &b); err != nil || r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, per := range b.Periods {
		if per.Start == "2019-09-01" {
			t.Errorf("September's e-money, paid out, is unsettled: %s", r.body)
		}
	}
	if b.Unsettled != (unsettledJSON{Card: 150000, Emoney: 500, Total: 150500}) || b.Payouts.Scheduled != p.Net || b.Payouts.Paid != 0 ||
		len(b.Payouts.List) != 1 || b.Payouts.List[0].Status != "issued" || b.Payouts.List[0].OutcomeAt != nil || b.Owed != 150500 {
		t.Errorf("as of 10-20: %s", r.body)
	}
	r = h.get("/api/v1/merchants/"+merchantA+"/balance?as_of=2019-10-31", tokAdmin)
	if err := json.Unmarshal(r.body, &b); err != nil || b.Payouts.Scheduled != 0 || b.Payouts.Paid != p.Net || b.Payouts.List[0].Status != "paid" {
		t.Errorf("as of 10-31: %s", r.body)
	}
	// Before it was issued the payout does not exist.
	r = h.get("/api/v1/merchants/"+merchantA+"/balance?as_of=2019-10-17", tokAdmin)
	if err := json.Unmarshal(r.body, &b); err != nil || len(b.Payouts.List) != 0 || b.Unsettled.Emoney != 2000 {
		t.Errorf("as of 10-17: %s", r.body)
	}
}

// With MaxInFlight, API requests beyond the bound wait their turn within
// their own time: one that runs out of it gets 503 H503 without reaching
// the read models, one whose client goes away gets nothing, the probes
// never wait, and every request gives its turn back.
func TestMaxInFlight(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxInFlight, c.RequestTimeout = 1, 50*time.Millisecond })
	search := "/api/v1/merchants/" + merchantA + "/transactions"
	calls := func() int {
		h.rm.mu.Lock()
		defer h.rm.mu.Unlock()
		return h.rm.calls
	}
	if err := h.h.gate.Enter(context.Background()); err != nil { // another request's turn
		t.Fatal(err)
	}
	expect(t, h.get("/healthz", ""), 200, "")
	r := h.get(search, tokAdmin)
	expect(t, r, 503, CodeUnavailable)
	if !strings.Contains(string(r.body), "busy") {
		t.Errorf("busy 503: %s", r.body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodGet, search, nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+tokAdmin)
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, req)
	if w.Body.Len() != 0 {
		t.Errorf("a request whose client left got a body: %s", w.Body)
	}
	if n := calls(); n != 0 {
		t.Fatalf("requests that never had a turn reached the read models %d times", n)
	}
	h.h.gate.Leave()
	for i := range 3 { // each gives its turn back to the next
		expect(t, h.get(search, tokAdmin), 200, "")
		if n := calls(); n != i+1 {
			t.Fatalf("after %d requests the read models saw %d", i+1, n)
		}
	}
}
