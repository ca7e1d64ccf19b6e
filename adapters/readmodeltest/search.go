package readmodeltest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"upay/domain"
	"upay/projections"
)

// check runs q and compares the first page and the whole result (paged
// with the cursor) with the oracle.
func (e *env) check(o *oracle, q projections.TxQuery) []projections.Transaction {
	e.t.Helper()
	want := o.rows(q)
	page, err := e.rm.SearchTransactions(e.ctx, q)
	if err != nil {
		e.t.Fatalf("search %s: %v", show(q), err)
	}
	n := min(len(want), q.PageSize())
	sameRows(e.t, "first page of "+show(q), page.Rows, want[:n])
	if page.More != (len(want) > q.PageSize()) {
		e.t.Fatalf("search %s: More = %v with %d matches and a page of %d", show(q), page.More, len(want), q.PageSize())
	}
	sameRows(e.t, "all pages of "+show(q), searchAll(e.t, e.ctx, e.rm, q), want)
	return want
}

func show(q projections.TxQuery) string {
	var s []string
	if q.Merchant != "" {
		s = append(s, "merchant="+string(q.Merchant))
	}
	if q.From != nil {
		s = append(s, "from="+q.From.String())
	}
	if q.To != nil {
		s = append(s, "to="+q.To.String())
	}
	if q.MinAmount != nil {
		s = append(s, fmt.Sprint("min=", *q.MinAmount))
	}
	if q.MaxAmount != nil {
		s = append(s, fmt.Sprint("max=", *q.MaxAmount))
	}
	if q.Status != "" {
		s = append(s, "status="+q.Status)
	}
	if q.Brand != "" {
		s = append(s, "brand="+q.Brand)
	}
	if q.Limit != 0 {
		s = append(s, fmt.Sprint("limit=", q.Limit))
	}
	return "{" + strings.Join(s, " ") + "}"
}

func testSearchEachFilter(t *testing.T, e *env) {
	e.mixed()
	e.catchUp()
	o := e.oracle()
	if got := e.check(o, projections.TxQuery{}); len(got) != 17 {
		t.Fatalf("no condition lists %d rows, want all 17 payments", len(got))
	}
	queries := []projections.TxQuery{
		{Merchant: mA}, {Merchant: mB}, {Merchant: mC}, {Merchant: "279999999"},
		{From: d(15)}, {To: d(2)}, {From: d(15), To: d(15)},
		{MinAmount: yen(5000)}, {MaxAmount: yen(800)}, {MinAmount: yen(800), MaxAmount: yen(4000)}, {MinAmount: yen(7000), MaxAmount: yen(7000)},
		{Brand: string(domain.Visa)}, {Brand: string(domain.Amex)}, {Brand: projections.BrandEmoney}, {Brand: string(domain.Discover)},
		{Merchant: mB, Brand: projections.BrandEmoney, Status: projections.StatusUnknown},
		{Merchant: mA, From: d(1), To: d(3), MinAmount: yen(2000)},
		{Merchant: mC, From: d(31), To: d(31), Brand: string(domain.JCB)},
		{From: d(16), To: d(20), Status: projections.StatusCaptured, Limit: 2},
		{Merchant: mA, Limit: 1},
	}
	for _, s := range projections.Statuses {
		queries = append(queries, projections.TxQuery{Status: s})
	}
	for _, q := range queries {
		e.check(o, q)
	}
	// Every status of the fixture is present, so each status query above
	// compared real rows.
	for _, s := range projections.Statuses {
		if len(o.rows(projections.TxQuery{Status: s})) == 0 {
			t.Fatalf("the fixture has no %s row", s)
		}
	}
	if got := o.rows(projections.TxQuery{Merchant: mB, Brand: projections.BrandEmoney, Status: projections.StatusUnknown}); ids(got) != "e3" {
		t.Fatalf("unknown e-money of %s: %s, want e3 (e2 was resolved)", mB, ids(got))
	}
}

// A row matches a date range on its sales date or its return date; a row
// with neither matches on its first event's business date.
func testSearchDateSemantics(t *testing.T, e *env) {
	e.mixed()
	e.catchUp()
	o := e.oracle()
	cases := []struct {
		q    projections.TxQuery
		want string
	}{
		// a1 sold on the 1st (period A), refunded on the 17th (period B).
		{projections.TxQuery{Merchant: mA, From: d(1), To: d(1)}, "a2,a1"},
		{projections.TxQuery{Merchant: mA, From: d(17), To: d(17)}, "a1"},
		{projections.TxQuery{Merchant: mA, From: d(16), To: d(31)}, "a3,a1"},
		// b1 sold on the 5th, refunded on the 31st: found on either date only.
		{projections.TxQuery{Merchant: mB, From: d(31), To: d(31)}, "b1"},
		{projections.TxQuery{Merchant: mB, From: d(6), To: d(30), Brand: string(domain.Visa)}, ""},
		// Rows without money match on the business date of their first event.
		{projections.TxQuery{Merchant: mA, From: d(2), To: d(3)}, "a6,a5,a4,a3"},
		{projections.TxQuery{Merchant: mB, From: d(15), To: d(15), Brand: projections.BrandEmoney}, "e5,e4,e3,e1"},
		// e2 was unknown on the 15th and resolved (succeeded) on the 20th:
		// its sales date is the resolution's.
		{projections.TxQuery{Merchant: mB, From: d(20), To: d(20)}, "e2"},
		// Open-ended ranges.
		{projections.TxQuery{Merchant: mC, From: d(20)}, "c3,c2"},
		{projections.TxQuery{Merchant: mC, To: d(16)}, "c1"},
		{projections.TxQuery{From: d(31)}, "c3,b1"},
	}
	for _, c := range cases {
		got := e.check(o, c.q)
		if ids(got) != c.want {
			t.Fatalf("%s: oracle says %s, the documented semantics %s", show(c.q), ids(got), c.want)
		}
	}
}

// The business date changes at midnight in Asia/Tokyo (15:00 UTC).
func testSearchTokyoMidnight(t *testing.T, e *env) {
	last := time.Date(2019, 10, 15, 14, 59, 59, 999999999, time.UTC) // 2019-10-15 23:59:59.999999999 JST
	e.sale("before", mA, domain.Visa, 100, last)
	e.sale("after", mA, domain.Visa, 200, last.Add(time.Nanosecond)) // 2019-10-16 00:00 JST
	e.authorize("auth-before", mA, domain.Visa, 300, domain.ResultApproved, last.Add(time.Nanosecond))
	e.authorize("auth-after", mA, domain.Visa, 400, domain.ResultApproved, last.Add(time.Hour))
	e.catchUp()
	o := e.oracle()
	for _, c := range []struct {
		q    projections.TxQuery
		want string
	}{
		{projections.TxQuery{From: d(15), To: d(15)}, "before"},
		{projections.TxQuery{From: d(16), To: d(16)}, "auth-after,auth-before,after"},
		{projections.TxQuery{To: d(15)}, "before"},
		{projections.TxQuery{From: d(16)}, "auth-after,auth-before,after"},
	} {
		if got := e.check(o, c.q); ids(got) != c.want {
			t.Fatalf("%s: %s, want %s", show(c.q), ids(got), c.want)
		}
	}
	row, ok, err := e.rm.Transaction(e.ctx, "before")
	if err != nil || !ok || row.SalesDate == nil || row.SalesDate.String() != "2019-10-15" {
		t.Fatalf("sale at %s: sales date %v, want 2019-10-15 (%v)", last, row.SalesDate, err)
	}
}

// At most 50 rows by default; More says when more match.
func testSearchLimitAndMore(t *testing.T, e *env) {
	for i := range 120 {
		e.sale(fmt.Sprintf("p%03d", i), mA, domain.Visa, domain.Yen(100+i), day(1+i/50, 9+float64(i%50)*0.2))
	}
	e.catchUp()
	o := e.oracle()
	page, err := e.rm.SearchTransactions(e.ctx, projections.TxQuery{Merchant: mA})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Rows) != projections.SearchLimit || !page.More || page.Next == "" {
		t.Fatalf("120 matches: %d rows, More %v, Next %q; want %d, true and a cursor", len(page.Rows), page.More, page.Next, projections.SearchLimit)
	}
	sameRows(t, "first 50", page.Rows, o.rows(projections.TxQuery{Merchant: mA})[:50])
	// Exactly 50 matches: all of them, and no More.
	q := projections.TxQuery{Merchant: mA, From: d(1), To: d(1)}
	if n := len(o.rows(q)); n != 50 {
		t.Fatalf("fixture: %d rows on day 1, want 50", n)
	}
	page, err = e.rm.SearchTransactions(e.ctx, q)
	if err != nil || len(page.Rows) != 50 || page.More || page.Next != "" {
		t.Fatalf("exactly 50 matches: %d rows, More %v, Next %q, %v", len(page.Rows), page.More, page.Next, err)
	}
	e.check(o, projections.TxQuery{Merchant: mA, From: d(2), To: d(3)}) // 70: 50 + More
	e.check(o, projections.TxQuery{Limit: projections.MaxSearchLimit})
}

// Paging with the cursor visits every row exactly once, in order, also
// among rows recorded at the same instant (ordered by payment id).
func testKeysetPaging(t *testing.T, e *env) {
	at := day(3, 12)
	for i := range 25 {
		e.sale(fmt.Sprintf("same-%02d", i), mB, domain.JCB, 1000, at)
	}
	for i := range 40 {
		e.sale(fmt.Sprintf("k%02d", i), domain.MerchantID(fmt.Sprintf("27000000%d", 1+i%3)), domain.Visa, domain.Yen(500*(1+i%7)), day(4+i/10, 10+float64(i%10)*0.5))
	}
	// Sold and refunded within one week: found once by a search whose
	// range holds both dates, also on the per-day merged form.
	e.sale("both", mB, domain.Visa, 3000, day(9, 10))
	e.refund("both", 500, day(10, 10))
	e.refund("same-00", 1000, day(10, 11)) // sold on the 3rd, refunded on the 10th
	e.catchUp()
	o := e.oracle()
	for _, q := range []projections.TxQuery{
		{Limit: 7}, {Limit: 1}, {Limit: 3, Merchant: mB}, {Limit: 4, From: d(3), To: d(6)}, {Limit: 5, MinAmount: yen(1000), MaxAmount: yen(2500)},
		{Limit: 2, Merchant: mB, From: d(9), To: d(10)}, {Limit: 4, Merchant: mB, From: d(3), To: d(9)}, {Limit: 6, Merchant: mB, From: d(3), To: d(10)},
		{Limit: 3, Merchant: mB, From: d(10), To: d(10), Status: projections.StatusPartiallyRefunded},
	} {
		got := e.check(o, q)
		seen := map[domain.PaymentID]bool{}
		for _, r := range got {
			if seen[r.Payment] {
				t.Fatalf("%s: %s twice", show(q), r.Payment)
			}
			seen[r.Payment] = true
		}
	}
	if rows := o.rows(projections.TxQuery{Merchant: mB, From: d(3), To: d(3)}); len(rows) < 25 || rows[0].Payment != "same-24" {
		t.Fatalf("same-instant rows are not ordered by payment id descending: %s", ids(rows))
	}
	if rows := o.rows(projections.TxQuery{Merchant: mB, From: d(10), To: d(10)}); ids(rows) != "both,same-00" {
		t.Fatalf("refunds on the 10th: %s", ids(rows))
	}
}

func testInvalidQueries(t *testing.T, e *env) {
	e.mixed()
	e.catchUp()
	good := projections.CursorOf(projections.Transaction{Payment: "a1", CreatedAt: day(1, 10)}).String()
	for _, q := range []projections.TxQuery{
		{Status: "settled"}, {Status: "Captured"}, {Brand: "unionpay"}, {Brand: "VISA"},
		{From: d(5), To: d(4)}, {MinAmount: yen(10), MaxAmount: yen(9)}, {MinAmount: yen(-1)}, {MaxAmount: yen(-5)},
		{Limit: -1}, {Limit: projections.MaxSearchLimit + 1},
		{After: "not a cursor!"}, {After: "AAAA"}, {After: good[:len(good)-2]}, {After: strings.Repeat("A", 300)},
	} {
		_, err := e.rm.SearchTransactions(e.ctx, q)
		if domain.CodeOf(err) != domain.CodeInvalidField {
			t.Errorf("search %s after=%q: error %v, want %s", show(q), q.After, err, domain.CodeInvalidField)
		}
	}
	if _, err := e.rm.SearchTransactions(e.ctx, projections.TxQuery{After: good}); err != nil {
		t.Fatalf("a valid cursor: %v", err)
	}
	if _, err := e.rm.PeriodTotals(e.ctx, mA, *d(5), *d(4)); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Errorf("period totals from > to: %v", err)
	}
	if _, err := e.rm.Journal(e.ctx, domain.Start, -1); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Errorf("journal limit -1: %v", err)
	}
}

func testDetails(t *testing.T, e *env) {
	e.mixed()
	e.catchUp()
	o := e.oracle()
	for id, want := range o.tx {
		got, ok, err := e.rm.Transaction(e.ctx, id)
		if err != nil || !ok {
			t.Fatalf("Transaction(%s): ok %v, %v", id, ok, err)
		}
		if !sameRow(got, want) {
			t.Fatalf("Transaction(%s):\n got %+v\nwant %+v", id, got, want)
		}
	}
	if _, ok, err := e.rm.Transaction(e.ctx, "nope"); ok || err != nil {
		t.Fatalf("unknown payment: ok %v, %v", ok, err)
	}
	// Spot checks of what the details screen shows.
	e3, _, _ := e.rm.Transaction(e.ctx, "e1")
	if e3.BalanceAfter == nil || *e3.BalanceAfter != 9700 || e3.Kind != domain.KindEmoney || e3.Brand != projections.BrandEmoney {
		t.Fatalf("e-money details: %+v", e3)
	}
	a5, _, _ := e.rm.Transaction(e.ctx, "a5")
	if a5.Status != projections.StatusDeclined || a5.LastCode != "ng-02" || a5.MaskedCard != "************1111" {
		t.Fatalf("declined details: %+v", a5)
	}
}
