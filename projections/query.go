package projections

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
)

// MaxSearchLimit bounds TxQuery.Limit: tools page through big results with
// the cursor instead of asking for them at once, so one request never holds
// a reader for long.
const MaxSearchLimit = 1000

// BrandEmoney is the Brand of an e-money row and the TxQuery.Brand that
// selects e-money payments.
const BrandEmoney = "emoney"

// Validate checks a query before any store runs it, so that every read-model
// store refuses the same input with the same code: U1009 for an unknown
// status or brand, From after To, MinAmount above MaxAmount, a negative
// amount, a limit outside 0..MaxSearchLimit or a cursor that does not parse.
func (q TxQuery) Validate() error {
	if q.Status != "" && !slices.Contains(Statuses, q.Status) {
		return domain.Err(domain.CodeInvalidField, "status %q is not one of %q", q.Status, Statuses)
	}
	if q.Brand != "" && q.Brand != BrandEmoney && !slices.Contains(domain.Brands, domain.Brand(q.Brand)) {
		return domain.Err(domain.CodeInvalidField, "brand %q is not one of visa, mastercard, jcb, amex, diners, discover, emoney", q.Brand)
	}
	if q.From != nil && q.To != nil && q.From.After(*q.To) {
		return domain.Err(domain.CodeInvalidField, "from %s is after to %s", *q.From, *q.To)
	}
	if q.MinAmount != nil && *q.MinAmount < 0 {
		return domain.Err(domain.CodeInvalidField, "min amount %d is negative", *q.MinAmount)
	}
	if q.MaxAmount != nil && *q.MaxAmount < 0 {
		return domain.Err(domain.CodeInvalidField, "max amount %d is negative", *q.MaxAmount)
	}
	if q.MinAmount != nil && q.MaxAmount != nil && *q.MinAmount > *q.MaxAmount {
		return domain.Err(domain.CodeInvalidField, "min amount %d is above max amount %d", *q.MinAmount, *q.MaxAmount)
	}
	if q.Limit < 0 || q.Limit > MaxSearchLimit {
		return domain.Err(domain.CodeInvalidField, "limit %d must be 0..%d (0: %d)", q.Limit, MaxSearchLimit, SearchLimit)
	}
	if q.After != "" {
		if _, err := ParseCursor(q.After); err != nil {
			return err
		}
	}
	return nil
}

// PageSize is the number of rows a page of q holds at most.
func (q TxQuery) PageSize() int {
	if q.Limit <= 0 {
		return SearchLimit
	}
	return q.Limit
}

// Matches is the search's meaning in Go, row by row: what every store's
// query must select (the conformance suite checks stores against it). It
// ignores Limit and After.
func (q TxQuery) Matches(t Transaction) bool {
	if q.Merchant != "" && t.Merchant != q.Merchant {
		return false
	}
	if q.Status != "" && t.Status != q.Status {
		return false
	}
	if q.Brand != "" && t.Brand != q.Brand {
		return false
	}
	if q.MinAmount != nil && t.Amount < *q.MinAmount {
		return false
	}
	if q.MaxAmount != nil && t.Amount > *q.MaxAmount {
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

// Newer is the listing's order: newest first (CreatedAt descending, then
// payment id descending, which makes the order total).
func Newer(a, b Transaction) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.Payment > b.Payment
}

// DayStart is the first instant of a business date: midnight in Asia/Tokyo.
// A business date d covers [DayStart(d), DayStart(d+1)).
func DayStart(d date.Date) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, domain.Tokyo)
}

// Cursor is the keyset position of a row in the listing's order: the next
// page holds the rows strictly after it (older, or as old with a smaller
// payment id). Its token is opaque to clients.
type Cursor struct {
	CreatedAt time.Time
	Payment   domain.PaymentID
}

// CursorOf returns the cursor just after row t.
func CursorOf(t Transaction) Cursor { return Cursor{CreatedAt: t.CreatedAt, Payment: t.Payment} }

// String renders the token: URL-safe base64 of a version byte, the Unix
// nanoseconds (8 bytes, big endian) and the payment id.
func (c Cursor) String() string {
	b := make([]byte, 0, 9+len(c.Payment))
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(c.CreatedAt.UnixNano()))
	b = append(b, c.Payment...)
	return base64.RawURLEncoding.EncodeToString(b)
}

const cursorVersion = 1

// ParseCursor reads a token made by Cursor.String. Errors: U1009.
func ParseCursor(s string) (Cursor, error) {
	bad := func() (Cursor, error) {
		return Cursor{}, domain.Err(domain.CodeInvalidField, "cursor %.40q is not a cursor this API issued", s)
	}
	if len(s) > 200 {
		return bad()
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 10 || b[0] != cursorVersion {
		return bad()
	}
	id, err := domain.ParsePaymentID(string(b[9:]))
	if err != nil {
		return bad()
	}
	ns := int64(binary.BigEndian.Uint64(b[1:9]))
	return Cursor{CreatedAt: time.Unix(0, ns).UTC(), Payment: id}, nil
}

// Precedes reports whether the cursor comes before row t in the listing's
// order, i.e. whether t belongs to the pages that follow the cursor.
func (c Cursor) Precedes(t Transaction) bool {
	if !t.CreatedAt.Equal(c.CreatedAt) {
		return t.CreatedAt.Before(c.CreatedAt)
	}
	return t.Payment < c.Payment
}

// Journal page sizes: Journal(after, 0) returns JournalLimit entries, and
// no call returns more than MaxJournalLimit.
const (
	JournalLimit    = 1000
	MaxJournalLimit = 10000
)

// CheckJournalLimit returns the page size a Journal call with limit uses.
// Errors: U1009 for a limit outside 0..MaxJournalLimit.
func CheckJournalLimit(limit int) (int, error) {
	if limit < 0 || limit > MaxJournalLimit {
		return 0, domain.Err(domain.CodeInvalidField, "journal limit %d must be 0..%d (0: %d)", limit, MaxJournalLimit, JournalLimit)
	}
	if limit == 0 {
		return JournalLimit, nil
	}
	return limit, nil
}
