package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"upay/domain"
	"upay/projections"
)

var querySeeds = []string{
	"",
	"from=2019-10-01&to=2019-10-31&min=100&max=5000&status=captured&brand=visa&limit=50&after=i50",
	"from=2019-10-17&to=2019-10-16",
	"from=2019-02-30",
	"min=1.5",
	"min=-1",
	"max=10000000000",
	"min=2&max=1",
	"status=partially+refunded",
	"status=partially%20refunded",
	"brand=EMONEY",
	"brand=unionpay",
	"limit=0",
	"limit=501",
	"after=%00",
	"merchant=270212122",
	"merchant=12",
	"x=1",
	"from=1&from=2",
	"%zz",
	"a;b",
	"status=%ff",
	"=",
	"&&&",
	"from",
	strings.Repeat("a", MaxQueryBytes+1),
}

// FuzzParseTxQuery: the search parser never panics; it either accepts a
// query that satisfies every rule of the port, or rejects it with a 400 or
// 414 carrying a known code.
func FuzzParseTxQuery(f *testing.F) {
	for _, s := range querySeeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, all bool) {
		var m domain.MerchantID = merchantA
		if all {
			m = ""
		}
		q, err := ParseTxQuery(raw, m)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				t.Fatalf("%q: error %T %v is not an API error", raw, err, err)
			}
			if ae.Status != http.StatusBadRequest && ae.Status != http.StatusRequestURITooLong {
				t.Fatalf("%q: status %d", raw, ae.Status)
			}
			if c, ok := lookup(ae.Code); !ok || c.Message == "" {
				t.Fatalf("%q: code %q not in the catalogue", raw, ae.Code)
			}
			if ae.Detail == "" {
				t.Fatalf("%q: no detail", raw)
			}
			return
		}
		if len(raw) > MaxQueryBytes {
			t.Fatalf("%q: accepted an oversized query", raw)
		}
		if !all && q.Merchant != merchantA {
			t.Fatalf("%q: merchant became %q", raw, q.Merchant)
		}
		if q.Merchant != "" {
			if _, err := domain.ParseMerchantID(string(q.Merchant)); err != nil {
				t.Fatalf("%q: merchant %q", raw, q.Merchant)
			}
		}
		if q.From != nil && q.To != nil && q.From.After(*q.To) {
			t.Fatalf("%q: from after to", raw)
		}
		if q.MinAmount != nil && (*q.MinAmount < 0 || *q.MinAmount > domain.MaxAmount) ||
			q.MaxAmount != nil && (*q.MaxAmount < 0 || *q.MaxAmount > domain.MaxAmount) {
			t.Fatalf("%q: amount out of range", raw)
		}
		if q.MinAmount != nil && q.MaxAmount != nil && *q.MinAmount > *q.MaxAmount {
			t.Fatalf("%q: min above max", raw)
		}
		if q.Status != "" && !slices.Contains(projections.Statuses, q.Status) {
			t.Fatalf("%q: status %q", raw, q.Status)
		}
		if q.Brand != "" {
			if _, ok := ParseBrand(q.Brand); !ok || q.Brand != strings.ToLower(q.Brand) {
				t.Fatalf("%q: brand %q", raw, q.Brand)
			}
		}
		if q.Limit < 1 || q.Limit > MaxSearchLimit {
			t.Fatalf("%q: limit %d", raw, q.Limit)
		}
		if len(q.After) > maxCursorBytes || q.After != "" && !validToken(q.After) {
			t.Fatalf("%q: cursor %q", raw, q.After)
		}
		// Parsing is a function of the query's content: the same query
		// re-encoded parses to the same TxQuery.
		vals, _ := url.ParseQuery(raw)
		if len(vals.Encode()) <= MaxQueryBytes {
			q2, err := ParseTxQuery(vals.Encode(), m)
			if err != nil || !sameQuery(q, q2) {
				t.Fatalf("%q: re-encoded %q parses to %+v, %v", raw, vals.Encode(), q2, err)
			}
		}
	})
}

func sameQuery(a, b projections.TxQuery) bool {
	eqd := func(x, y interface{ String() string }) bool { return x.String() == y.String() }
	if (a.From == nil) != (b.From == nil) || a.From != nil && !eqd(a.From, b.From) ||
		(a.To == nil) != (b.To == nil) || a.To != nil && !eqd(a.To, b.To) ||
		(a.MinAmount == nil) != (b.MinAmount == nil) || a.MinAmount != nil && *a.MinAmount != *b.MinAmount ||
		(a.MaxAmount == nil) != (b.MaxAmount == nil) || a.MaxAmount != nil && *a.MaxAmount != *b.MaxAmount {
		return false
	}
	return a.Merchant == b.Merchant && a.Status == b.Status && a.Brand == b.Brand && a.Limit == b.Limit && a.After == b.After
}

// FuzzSearchHTTP drives the whole handler with arbitrary query strings on
// both search endpoints and the journal: never a 500, always JSON.
func FuzzSearchHTTP(f *testing.F) {
	for _, s := range querySeeds {
		f.Add(s)
	}
	h := newHarness(f, nil)
	f.Fuzz(func(t *testing.T, raw string) {
		for _, p := range []string{"/api/v1/merchants/" + merchantA + "/transactions", "/api/v1/transactions", "/api/v1/journal"} {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL = &url.URL{Path: p, RawQuery: raw}
			req.Header.Set("Authorization", "Bearer "+tokAdmin)
			w := httptest.NewRecorder()
			h.h.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("%s?%q: %d %s", p, raw, w.Code, w.Body)
			}
			if w.Code != 200 && !strings.Contains(w.Body.String(), `"error":{"code":"`) {
				t.Fatalf("%s?%q: %d without a JSON error: %s", p, raw, w.Code, w.Body)
			}
		}
	})
}

func TestParseDate(t *testing.T) {
	for s, ok := range map[string]bool{
		"2019-10-16": true, "2020-02-29": true, "2019-02-29": false, "2019-10-32": false, "2019-00-01": false,
		"2019-1-01": false, "19-10-16": false, "2019-10-16 ": false, "+019-10-16": false, "1899-12-31": false,
		"９０１９-10-16": false, "": false,
	} {
		d, err := ParseDate("from", s)
		if (err == nil) != ok {
			t.Errorf("ParseDate(%q) = %v, %v", s, d, err)
		}
		if ok && d.String() != s {
			t.Errorf("ParseDate(%q) = %s", s, d)
		}
	}
}
