package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/readgate"
	"upay/domain"
	"upay/projections"
	"upay/settlement"
)

// StreamReader is the one event-store method the details endpoint reads;
// domain.EventStore satisfies it. The API never appends.
type StreamReader interface {
	ReadStream(ctx context.Context, stream domain.StreamID, from uint64, opt domain.ReadOptions) ([]domain.RecordedEvent, error)
}

// Config wires a Handler. ReadModels and Tokens are required; the zero
// value of every other field works.
type Config struct {
	ReadModels projections.ReadModels
	Tokens     *Tokens
	// Events, when set, adds each payment's events to its details.
	Events StreamReader
	// Calendar computes settlement periods and paydays for the balance;
	// default settlement.DefaultCalendar().
	Calendar *settlement.Calendar
	// Log receives the access log and every 5xx with its cause; default: none.
	Log *slog.Logger
	// Now is the clock of the balance's default as_of; default time.Now.
	Now func() time.Time
	// RequestTimeout bounds each request's reads; default 10 s. A request
	// that runs out of time gets 503 H503.
	RequestTimeout time.Duration
	// MaxInFlight, when above 0, handles at most that many API requests
	// at once and queues the rest in order of arrival (the probes never
	// wait); a request still queued when its RequestTimeout runs out gets
	// 503 H503. For read models that answer from this process's memory, whose
	// requests are pure CPU work: without a bound the Go scheduler shares
	// the cores among all of them in 10 ms slices. On 2 cores under 32
	// clients the p99 was 26 ms unbounded, 18-20.5 ms bounded to 2 and
	// 6-8 ms bounded to 1 (serve uses GOMAXPROCS-1). Read models behind a
	// server (PostgreSQL) want no bound: their requests mostly wait on the
	// network (bounded to 2, the p99 went from 10 to 33 ms).
	MaxInFlight int
}

// DefaultRequestTimeout bounds a request's reads when Config sets none.
const DefaultRequestTimeout = 10 * time.Second

// Handler serves the admin read API. It is safe for concurrent use.
type Handler struct {
	cfg  Config
	mux  *http.ServeMux
	gate readgate.Gate
}

var _ http.Handler = (*Handler)(nil)

// route is one endpoint. Path is both the net/http pattern (after "GET ")
// and the OpenAPI path; a test checks docs/openapi.yaml lists every one.
type route struct {
	Path string
	// Query lists the keys the endpoint accepts; any other is U1009.
	Query []string
	// Public routes need no token (health probes).
	Public bool
	// Merchant routes have {merchant} in the path: a merchant token may
	// call them for its own merchant. Other routes are for admin, finance
	// and auditor tokens only; a merchant token gets 404 there.
	Merchant bool
	serve    func(h *Handler, r *http.Request) (any, error)
}

// routes is every endpoint served.
var routes = []route{
	{Path: "/healthz", Public: true, serve: (*Handler).healthz},
	{Path: "/readyz", Public: true, serve: (*Handler).readyz},
	{Path: "/api/v1/merchants/{merchant}/transactions", Query: searchKeys, Merchant: true, serve: (*Handler).searchMerchant},
	{Path: "/api/v1/merchants/{merchant}/transactions/{payment}", Merchant: true, serve: (*Handler).details},
	{Path: "/api/v1/merchants/{merchant}/balance", Query: balanceKeys, Merchant: true, serve: (*Handler).balance},
	{Path: "/api/v1/merchants/{merchant}/payouts", Query: payoutKeys, Merchant: true, serve: (*Handler).merchantPayouts},
	{Path: "/api/v1/transactions", Query: allSearchKeys, serve: (*Handler).searchAll},
	{Path: "/api/v1/payouts", Query: paydayKeys, serve: (*Handler).payoutsOn},
	{Path: "/api/v1/journal", Query: journalKeys, serve: (*Handler).journal},
	{Path: "/api/v1/journal/trial-balance", serve: (*Handler).trialBalance},
	{Path: "/api/v1/projections", serve: (*Handler).projections},
}

// New builds the handler.
func New(cfg Config) (*Handler, error) {
	if cfg.ReadModels == nil {
		return nil, fmt.Errorf("httpapi: no read models")
	}
	if cfg.Tokens == nil {
		return nil, fmt.Errorf("httpapi: no token table")
	}
	if cfg.Calendar == nil {
		cfg.Calendar = settlement.DefaultCalendar()
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux()}
	if cfg.MaxInFlight > 0 {
		h.gate = readgate.New(cfg.MaxInFlight)
	}
	for _, rt := range routes {
		h.mux.Handle("GET "+rt.Path, h.endpoint(rt, true))
		h.mux.Handle(rt.Path, h.endpoint(rt, false)) // every other method: 405
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { h.fail(w, r, errNotFound) })
	return h, nil
}

type ctxKey struct{}

func principalOf(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// ServeHTTP sets the headers every response carries, authenticates, turns
// a panic into a 500 U3003 JSON error, and logs the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	hdr := rec.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	who := "-"
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.cfg.Log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !rec.wrote {
				h.write(rec, r, &apiError{Status: http.StatusInternalServerError, Code: domain.CodeStoreFailure, Detail: "internal error; the server log has the cause"})
			}
		}
		h.cfg.Log.Info("http", "method", r.Method, "path", r.URL.Path, "query_bytes", len(r.URL.RawQuery),
			"status", rec.status, "bytes", rec.bytes, "ms", float64(time.Since(start).Microseconds())/1000, "who", who)
	}()
	if !isPublic(r.URL.Path) {
		tok, ok := bearer(r.Header.Get("Authorization"))
		var p Principal
		if ok {
			p, ok = h.cfg.Tokens.Authenticate(tok)
		}
		if !ok {
			challenge := `Bearer realm="upay"`
			if r.Header.Get("Authorization") != "" {
				challenge += `, error="invalid_token"`
			}
			hdr.Set("WWW-Authenticate", challenge)
			h.fail(rec, r, errf(http.StatusUnauthorized, CodeUnauthorized, "a valid bearer token is required"))
			return
		}
		who = p.Name
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, p))
	}
	if !cleanPath(r.URL.Path) {
		h.fail(rec, r, errNotFound)
		return
	}
	h.mux.ServeHTTP(rec, r)
}

func isPublic(path string) bool {
	for _, rt := range routes {
		if rt.Public && rt.Path == path {
			return true
		}
	}
	return false
}

// cleanPath rejects paths net/http's mux would redirect (a 301 with an HTML
// body): empty segments, "." and "..".
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	if p == "/" {
		return true
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// endpoint wraps a route: scope, method, time-out, JSON.
func (h *Handler) endpoint(rt route, methodOK bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !rt.Public {
			p, _ := principalOf(r.Context())
			if p.Role == RoleMerchant && (!rt.Merchant || r.PathValue("merchant") != string(p.Merchant)) {
				h.fail(w, r, errNotFound) // not 403: a merchant learns nothing of others
				return
			}
		}
		if !methodOK {
			w.Header().Set("Allow", "GET, HEAD")
			h.fail(w, r, errf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed here; use GET"))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), h.cfg.RequestTimeout)
		defer cancel()
		if h.gate != nil && !rt.Public {
			// The wait for a turn counts against the request's time; the
			// turn covers the reads and the JSON, the request's CPU work.
			if err := h.gate.Enter(ctx); err != nil {
				if r.Context().Err() == nil {
					h.fail(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
						Detail: "the server is busy: the request waited its whole time for a turn", Cause: err})
				}
				return // otherwise the client went away while it waited
			}
			defer h.gate.Leave()
		}
		body, err := rt.serve(h, r.WithContext(ctx))
		if err != nil {
			h.fail(w, r, toAPIError(err))
			return
		}
		h.write(w, r, body)
	}
}

// fail writes an error response; a 5xx is logged with its cause.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	if e.Status >= 500 {
		h.cfg.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "detail", e.Detail, "cause", fmt.Sprint(e.Cause))
	}
	h.write(w, r, e)
}

// write sends v as JSON: an *apiError with its status, anything else 200.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, v any) {
	status := http.StatusOK
	if e, ok := v.(*apiError); ok {
		status, v = e.Status, e.body()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		h.cfg.Log.Error("encoding response", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode((&apiError{Code: domain.CodeStoreFailure, Detail: "encoding the response failed"}).body())
	}
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// recorder remembers the status and size for the access log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// noQuery rejects any query parameter.
func noQuery(r *http.Request) error {
	if _, aerr := parseQuery(r.URL.RawQuery, nil); aerr != nil {
		return aerr
	}
	return nil
}

// pathMerchant reads the {merchant} wildcard.
func pathMerchant(r *http.Request) (domain.MerchantID, error) {
	s := r.PathValue("merchant")
	m, err := domain.ParseMerchantID(s)
	if err != nil {
		return "", errf(http.StatusBadRequest, domain.CodeInvalidField, fmt.Sprintf("merchant %s in the path must be 9 digits", quote(s)))
	}
	return m, nil
}

func (h *Handler) healthz(r *http.Request) (any, error) {
	if err := noQuery(r); err != nil {
		return nil, err
	}
	return map[string]string{"status": "ok"}, nil
}

// ReadyTimeout bounds the readiness probe's read.
const ReadyTimeout = 2 * time.Second

func (h *Handler) readyz(r *http.Request) (any, error) {
	if err := noQuery(r); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
	defer cancel()
	if _, err := h.cfg.ReadModels.Status(ctx); err != nil {
		return nil, &apiError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Detail: "the read models do not answer", Cause: err}
	}
	return map[string]string{"status": "ready"}, nil
}

func (h *Handler) searchMerchant(r *http.Request) (any, error) {
	m, err := pathMerchant(r)
	if err != nil {
		return nil, err
	}
	q, aerr := parseTxQuery(r.URL.RawQuery, m)
	if aerr != nil {
		return nil, aerr
	}
	return h.search(r, q)
}

func (h *Handler) searchAll(r *http.Request) (any, error) {
	q, aerr := parseTxQuery(r.URL.RawQuery, "")
	if aerr != nil {
		return nil, aerr
	}
	return h.search(r, q)
}

func (h *Handler) search(r *http.Request, q projections.TxQuery) (any, error) {
	page, err := h.cfg.ReadModels.SearchTransactions(r.Context(), q)
	if err != nil {
		return nil, err
	}
	if q.Merchant != "" { // defence in depth: never show another merchant's row
		rows := make([]projections.Transaction, 0, len(page.Rows))
		for _, t := range page.Rows {
			if t.Merchant == q.Merchant {
				rows = append(rows, t)
			} else {
				h.cfg.Log.Error("read models returned another merchant's row", "want", q.Merchant, "got", t.Merchant, "payment", t.Payment)
			}
		}
		page.Rows = rows
	}
	return searchView(q, page), nil
}

func (h *Handler) details(r *http.Request) (any, error) {
	m, err := pathMerchant(r)
	if err != nil {
		return nil, err
	}
	id, err := domain.ParsePaymentID(r.PathValue("payment"))
	if err != nil {
		return nil, errf(http.StatusBadRequest, domain.CodeInvalidField,
			fmt.Sprintf("payment %s in the path: 1 to 64 letters, digits and . _ : -", quote(r.PathValue("payment"))))
	}
	if err := noQuery(r); err != nil {
		return nil, err
	}
	t, ok, err := h.cfg.ReadModels.Transaction(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !ok || t.Merchant != m {
		return nil, errNoPayment
	}
	out := detailJSON{Transaction: TransactionView(t), Result: codeView(t.LastCode), CardCompany: codeView(t.CardCode)}
	if h.cfg.Events != nil {
		evs, err := h.cfg.Events.ReadStream(r.Context(), id.Stream(), 0, domain.ReadOptions{Max: maxEvents})
		if err != nil {
			return nil, err
		}
		out.Events = make([]eventJSON, len(evs))
		for i, e := range evs {
			out.Events[i] = eventView(e)
		}
	}
	return out, nil
}

// maxEvents bounds the events one details response lists.
const maxEvents = 1000

func (h *Handler) balance(r *http.Request) (any, error) {
	m, err := pathMerchant(r)
	if err != nil {
		return nil, err
	}
	v, aerr := parseQuery(r.URL.RawQuery, balanceKeys)
	if aerr != nil {
		return nil, aerr
	}
	asOf := domain.BusinessDate(h.cfg.Now())
	if s, ok := v["as_of"]; ok {
		d, aerr := ParseDate("as_of", s)
		if aerr != nil {
			return nil, aerr
		}
		asOf = d
	}
	return balance(r.Context(), h.cfg.ReadModels, h.cfg.Calendar, m, asOf)
}

// Payday bounds of a merchant's payouts when from or to is not given.
var (
	firstPayday = date.New(1900, 1, 1)
	lastPayday  = date.New(9999, 12, 31)
)

func (h *Handler) merchantPayouts(r *http.Request) (any, error) {
	m, err := pathMerchant(r)
	if err != nil {
		return nil, err
	}
	v, aerr := parseQuery(r.URL.RawQuery, payoutKeys)
	if aerr != nil {
		return nil, aerr
	}
	from, to := firstPayday, lastPayday
	if s, ok := v["from"]; ok {
		if from, aerr = ParseDate("from", s); aerr != nil {
			return nil, aerr
		}
	}
	if s, ok := v["to"]; ok {
		if to, aerr = ParseDate("to", s); aerr != nil {
			return nil, aerr
		}
	}
	if from.After(to) {
		return nil, errf(http.StatusBadRequest, domain.CodeInvalidField, fmt.Sprintf("from %s is after to %s", from, to))
	}
	ps, err := h.cfg.ReadModels.Payouts(r.Context(), m, from, to)
	if err != nil {
		return nil, err
	}
	kept := ps[:0]
	for _, p := range ps { // defence in depth: never show another merchant's payout
		if p.Merchant == m {
			kept = append(kept, p)
		} else {
			h.cfg.Log.Error("read models returned another merchant's payout", "want", m, "got", p.Merchant, "notice", p.NoticeNo)
		}
	}
	return payoutsView(kept), nil
}

func (h *Handler) payoutsOn(r *http.Request) (any, error) {
	v, aerr := parseQuery(r.URL.RawQuery, paydayKeys)
	if aerr != nil {
		return nil, aerr
	}
	s, ok := v["payday"]
	if !ok {
		return nil, errf(http.StatusBadRequest, domain.CodeInvalidField, "payday is required")
	}
	day, aerr := ParseDate("payday", s)
	if aerr != nil {
		return nil, aerr
	}
	ps, err := h.cfg.ReadModels.PayoutsOn(r.Context(), day)
	if err != nil {
		return nil, err
	}
	return payoutsView(ps), nil
}

func (h *Handler) journal(r *http.Request) (any, error) {
	q, aerr := parseJournalQuery(r.URL.RawQuery)
	if aerr != nil {
		return nil, aerr
	}
	es, err := h.cfg.ReadModels.Journal(r.Context(), q.After, q.Limit)
	if err != nil {
		return nil, err
	}
	return journalView(es, q.Limit), nil
}

func (h *Handler) trialBalance(r *http.Request) (any, error) {
	if err := noQuery(r); err != nil {
		return nil, err
	}
	tb, err := h.cfg.ReadModels.TrialBalance(r.Context())
	if err != nil {
		return nil, err
	}
	return trialBalanceView(tb), nil
}

func (h *Handler) projections(r *http.Request) (any, error) {
	if err := noQuery(r); err != nil {
		return nil, err
	}
	ss, err := h.cfg.ReadModels.Status(r.Context())
	if err != nil {
		return nil, err
	}
	return projectionsView(ss), nil
}
