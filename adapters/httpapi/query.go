package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
)

// Limits of the query string.
const (
	MaxQueryBytes  = 2048 // longer query strings get 414 H414
	MaxSearchLimit = 500  // the largest limit= of a search (tools)
	DefaultJournal = 100  // journal entries per page by default
	MaxJournal     = 1000 // the largest limit= of the journal
	maxCursorBytes = 512
)

// Query keys of each endpoint. Any other key is rejected (U1009).
var (
	searchKeys    = []string{"from", "to", "min", "max", "status", "brand", "limit", "after"}
	allSearchKeys = append(slices.Clone(searchKeys), "merchant")
	journalKeys   = []string{"after", "limit"}
	balanceKeys   = []string{"as_of"}
	payoutKeys    = []string{"from", "to"}
	paydayKeys    = []string{"payday"}
)

// parseQuery checks a raw query string: its length, its syntax, UTF-8, that
// every key is one of allowed and that none is repeated. An empty value is
// returned as absent: a form submitting empty fields means "no condition".
func parseQuery(raw string, allowed []string) (map[string]string, *apiError) {
	if len(raw) > MaxQueryBytes {
		return nil, errf(http.StatusRequestURITooLong, CodeQueryTooLong,
			fmt.Sprintf("query string of %d bytes exceeds %d", len(raw), MaxQueryBytes))
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errf(http.StatusBadRequest, domain.CodeInvalidField, "malformed query string: "+cleanErr(err))
	}
	out := make(map[string]string, len(vals))
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the same key first every time
	for _, k := range keys {
		v := vals[k]
		if !utf8.ValidString(k) || !utf8.ValidString(strings.Join(v, "")) {
			return nil, errf(http.StatusBadRequest, domain.CodeInvalidUTF8, "query parameter is not valid UTF-8")
		}
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, errf(http.StatusBadRequest, domain.CodeInvalidField, fmt.Sprintf("unknown query parameter %q: this endpoint takes none", k))
			}
			return nil, errf(http.StatusBadRequest, domain.CodeInvalidField,
				fmt.Sprintf("unknown query parameter %q (known: %s)", k, strings.Join(allowed, ", ")))
		}
		if len(v) > 1 {
			return nil, errf(http.StatusBadRequest, domain.CodeInvalidField, fmt.Sprintf("query parameter %q given %d times", k, len(v)))
		}
		if v[0] != "" {
			out[k] = v[0]
		}
	}
	return out, nil
}

// cleanErr renders a url parse error without echoing long input.
func cleanErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// quote renders a value for a detail message, shortened.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}

// ParseDate reads a calendar date YYYY-MM-DD (years 1900..9999).
func ParseDate(name, s string) (date.Date, *apiError) {
	bad := errf(http.StatusBadRequest, domain.CodeInvalidField,
		fmt.Sprintf("%s %s is not a date YYYY-MM-DD", name, quote(s)))
	if len(s) != len("2006-01-02") || s[4] != '-' || s[7] != '-' {
		return date.Date{}, bad
	}
	for i := 0; i < len(s); i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			return date.Date{}, bad
		}
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil || t.Year() < 1900 {
		return date.Date{}, bad
	}
	return date.New(t.Year(), t.Month(), t.Day()), nil
}

// parseAmount reads a whole number of yen, 0..domain.MaxAmount: digits only
// (no sign, decimal point, exponent, separator or full-width digit).
func parseAmount(name, s string) (domain.Yen, *apiError) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errf(http.StatusBadRequest, domain.CodeInvalidAmount,
				fmt.Sprintf("%s %s is not a whole number of yen (digits only)", name, quote(s)))
		}
	}
	if len(s) > 12 {
		return 0, errf(http.StatusBadRequest, domain.CodeAmountTooBig, fmt.Sprintf("%s %s exceeds 9,999,999,999 yen", name, quote(s)))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errf(http.StatusBadRequest, domain.CodeInvalidAmount, fmt.Sprintf("%s %s is not a whole number of yen", name, quote(s)))
	}
	if n > domain.MaxAmount {
		return 0, errf(http.StatusBadRequest, domain.CodeAmountTooBig, fmt.Sprintf("%s %d exceeds 9,999,999,999 yen", name, n))
	}
	return n, nil
}

// parseLimit reads a page size 1..max.
func parseLimit(s string, max int) (int, *apiError) {
	bad := errf(http.StatusBadRequest, domain.CodeInvalidField, fmt.Sprintf("limit %s is not a whole number 1..%d", quote(s), max))
	if len(s) > 6 {
		return 0, bad
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, bad
	}
	return n, nil
}

// ParseStatus accepts a listing status; "partially refunded" may also be
// written partially_refunded or partially-refunded. Case is ignored.
func ParseStatus(s string) (string, bool) {
	s = strings.ToLower(strings.NewReplacer("_", " ", "-", " ").Replace(s))
	if slices.Contains(projections.Statuses, s) {
		return s, true
	}
	return "", false
}

// ParseBrand accepts a card brand or "emoney", in any case.
func ParseBrand(s string) (string, bool) {
	s = strings.ToLower(s)
	if s == "emoney" {
		return s, true
	}
	if slices.Contains(domain.Brands, domain.Brand(s)) {
		return s, true
	}
	return "", false
}

// ParseTxQuery reads the search parameters of a raw query string into a
// TxQuery for merchant m ("" = every merchant, which then also accepts a
// merchant= filter). It returns an *apiError (400 with U1009, U1004, U1005
// or U1008; 414 with H414) for any bad input, never panics, and checks
// everything the read models would reject except the cursor's content.
func ParseTxQuery(raw string, m domain.MerchantID) (projections.TxQuery, error) {
	q, err := parseTxQuery(raw, m)
	if err != nil {
		return q, err
	}
	return q, nil
}

func parseTxQuery(raw string, m domain.MerchantID) (projections.TxQuery, *apiError) {
	keys := searchKeys
	if m == "" {
		keys = allSearchKeys
	}
	v, aerr := parseQuery(raw, keys)
	if aerr != nil {
		return projections.TxQuery{}, aerr
	}
	q := projections.TxQuery{Merchant: m, Limit: projections.SearchLimit}
	if s, ok := v["merchant"]; ok {
		id, err := domain.ParseMerchantID(s)
		if err != nil {
			return q, errf(http.StatusBadRequest, domain.CodeInvalidField, fmt.Sprintf("merchant %s must be 9 digits", quote(s)))
		}
		q.Merchant = id
	}
	for _, k := range []string{"from", "to"} {
		s, ok := v[k]
		if !ok {
			continue
		}
		d, aerr := ParseDate(k, s)
		if aerr != nil {
			return q, aerr
		}
		if k == "from" {
			q.From = &d
		} else {
			q.To = &d
		}
	}
	if q.From != nil && q.To != nil && q.From.After(*q.To) {
		return q, errf(http.StatusBadRequest, domain.CodeInvalidField, fmt.Sprintf("from %s is after to %s", q.From, q.To))
	}
	for _, k := range []string{"min", "max"} {
		s, ok := v[k]
		if !ok {
			continue
		}
		n, aerr := parseAmount(k, s)
		if aerr != nil {
			return q, aerr
		}
		if k == "min" {
			q.MinAmount = &n
		} else {
			q.MaxAmount = &n
		}
	}
	if q.MinAmount != nil && q.MaxAmount != nil && *q.MinAmount > *q.MaxAmount {
		return q, errf(http.StatusBadRequest, domain.CodeInvalidField, fmt.Sprintf("min %d is above max %d", *q.MinAmount, *q.MaxAmount))
	}
	if s, ok := v["status"]; ok {
		st, ok := ParseStatus(s)
		if !ok {
			return q, errf(http.StatusBadRequest, domain.CodeInvalidField,
				fmt.Sprintf("status %s is not one of %s", quote(s), strings.Join(projections.Statuses, ", ")))
		}
		q.Status = st
	}
	if s, ok := v["brand"]; ok {
		b, ok := ParseBrand(s)
		if !ok {
			return q, errf(http.StatusBadRequest, domain.CodeInvalidField,
				fmt.Sprintf("brand %s is not one of visa, mastercard, jcb, amex, diners, discover, emoney", quote(s)))
		}
		q.Brand = b
	}
	if s, ok := v["limit"]; ok {
		n, aerr := parseLimit(s, MaxSearchLimit)
		if aerr != nil {
			return q, aerr
		}
		q.Limit = n
	}
	if s, ok := v["after"]; ok {
		if len(s) > maxCursorBytes || !validToken(s) {
			return q, errf(http.StatusBadRequest, domain.CodeInvalidField, "after is not a cursor this API returned")
		}
		q.After = s
	}
	return q, nil
}

// journalQuery is the journal's page request.
type journalQuery struct {
	After domain.Position
	Limit int
}

func parseJournalQuery(raw string) (journalQuery, *apiError) {
	v, aerr := parseQuery(raw, journalKeys)
	if aerr != nil {
		return journalQuery{}, aerr
	}
	q := journalQuery{After: domain.Start, Limit: DefaultJournal}
	if s, ok := v["after"]; ok {
		if len(s) > 41 || strings.TrimSpace(s) != s {
			return q, errf(http.StatusBadRequest, domain.CodeInvalidField, fmt.Sprintf("after %s is not a position token", quote(s)))
		}
		p, err := domain.ParsePosition(s)
		if err != nil {
			return q, errf(http.StatusBadRequest, domain.CodeInvalidField, fmt.Sprintf("after %s is not a position token", quote(s)))
		}
		q.After = p
	}
	if s, ok := v["limit"]; ok {
		n, aerr := parseLimit(s, MaxJournal)
		if aerr != nil {
			return q, aerr
		}
		q.Limit = n
	}
	return q, nil
}
