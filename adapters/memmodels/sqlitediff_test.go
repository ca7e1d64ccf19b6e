package memmodels

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/sqlitemodels"
	"upay/domain"
	"upay/projections"
)

// rowKey names the fields a search depends on, for comparing pages.
func rowKey(t projections.Transaction) string {
	s := func(d *date.Date) string {
		if d == nil {
			return "-"
		}
		return d.String()
	}
	return fmt.Sprintf("%s|%s|%s|%d|%s|%s|%s|%s|%d", t.Payment, t.Merchant, t.Brand, t.Amount, t.Status, s(t.SalesDate), s(t.ReturnDate), t.Payout, t.CreatedAt.UnixNano())
}

func keys(ts []projections.Transaction) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = rowKey(t)
	}
	return out
}

// TestSameAsSQLite writes the same random batches to these models and to
// the SQLite read models (rows whose sales and return dates move, created
// times that tie, payout stamps) and compares every page of hundreds of
// random searches (300, paged to the end) of every shape (merchant or not, open and closed date
// ranges of 1 to 101 days, amount, status and brand filters, small limits,
// the cursor to the end), then every row and the unknown e-money lists.
// The conformance suite checks each store against an oracle on its
// fixtures; this checks the two engines against each other where the
// search takes different paths (merged date indexes, scans).
func TestSameAsSQLite(t *testing.T) {
	ctx := context.Background()
	sq, err := sqlitemodels.Open(filepath.Join(t.TempDir(), "r.db"), sqlitemodels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	mm := New(nil)
	r := rand.New(rand.NewPCG(1, 2))
	merchants := []domain.MerchantID{"270000001", "270000002", "270000003", "270000004"}
	brands := []string{"visa", "mastercard", "jcb", "amex", "diners", "discover", "emoney"}
	base := time.Date(2019, 10, 1, 0, 0, 0, 0, domain.Tokyo)
	d0 := date.New(2019, 10, 1)
	rows := map[domain.PaymentID]*projections.Transaction{}
	var ids []domain.PaymentID
	pos := uint64(1)
	randDates := func(t *projections.Transaction) {
		created := domain.BusinessDate(t.CreatedAt)
		t.SalesDate, t.ReturnDate = nil, nil
		switch r.IntN(4) {
		case 0:
		case 1, 2:
			s := created.Add(date.PeriodOfDays(r.IntN(5)))
			t.SalesDate = &s
		case 3:
			s := created.Add(date.PeriodOfDays(r.IntN(5)))
			rd := s.Add(date.PeriodOfDays(r.IntN(80)))
			t.SalesDate, t.ReturnDate = &s, &rd
		}
		t.Status = projections.Statuses[r.IntN(len(projections.Statuses))]
		t.Amount = domain.Yen(r.IntN(10000))
	}
	write := func(b *projections.Batch) {
		for _, w := range []projections.Writer{sq, mm} {
			tx, err := w.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Write(b); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for round := 0; round < 60; round++ {
		b := &projections.Batch{}
		seen := map[domain.PaymentID]bool{}
		for i := 0; i < 40; i++ {
			var tr projections.Transaction
			if len(ids) > 0 && r.IntN(3) == 0 {
				id := ids[r.IntN(len(ids))]
				if seen[id] {
					continue
				}
				tr = *rows[id]
				randDates(&tr)
			} else {
				id := domain.PaymentID(fmt.Sprintf("p%03d%c", r.IntN(1000), 'a'+rune(r.IntN(26))))
				if rows[id] != nil || seen[id] {
					continue
				}
				// coarse times so ties in created_at occur
				at := base.Add(time.Duration(r.IntN(90*24*4)) * 15 * time.Minute)
				tr = projections.Transaction{Payment: id, Merchant: merchants[r.IntN(len(merchants))], Kind: domain.KindCard,
					Brand: brands[r.IntN(len(brands))], CreatedAt: at.UTC(), UpdatedAt: at.UTC()}
				randDates(&tr)
				ids = append(ids, id)
			}
			seen[tr.Payment] = true
			pos++
			tr.Position = domain.Position{Commit: pos, Prepare: pos}
			c := tr
			rows[tr.Payment] = &c
			cc := c
			b.Transactions = append(b.Transactions, &cc)
		}
		if round%5 == 4 {
			from := d0.Add(date.PeriodOfDays(r.IntN(90)))
			st := projections.Settlement{Merchant: merchants[r.IntN(len(merchants))], Group: domain.Brand(brands[r.IntN(6)]).Group(),
				From: from, To: from.Add(date.PeriodOfDays(r.IntN(20))), NoticeNo: fmt.Sprintf("N%03d", round)}
			if r.IntN(3) == 0 {
				st.Group = domain.GroupEmoney
			}
			b.Settled = append(b.Settled, st)
			// the fold stamps rows it writes
			for _, tr := range b.Transactions {
				st.Stamp(tr)
			}
		}
		write(b)
	}
	ptr := func(d date.Date) *date.Date { return &d }
	yen := func(y int) *domain.Yen { v := domain.Yen(y); return &v }
	n := 0
	queries, minPages := 300, 1000
	if raceBuild {
		queries, minPages = 15, 30
	}
	for qi := 0; qi < queries; qi++ {
		var q projections.TxQuery
		if r.IntN(2) == 0 {
			// Now and then a merchant without a row.
			q.Merchant = append(merchants, "270000009")[r.IntN(len(merchants)+1)]
		}
		switch r.IntN(5) {
		case 0:
		case 1:
			q.From = ptr(d0.Add(date.PeriodOfDays(r.IntN(120))))
		case 2:
			q.To = ptr(d0.Add(date.PeriodOfDays(r.IntN(120))))
		default:
			f := d0.Add(date.PeriodOfDays(r.IntN(120)))
			q.From, q.To = &f, ptr(f.Add(date.PeriodOfDays([]int{0, 0, 1, 3, 6, 7, 20, 61, 62, 100}[r.IntN(10)])))
		}
		if r.IntN(4) == 0 {
			q.MinAmount = yen(r.IntN(5000))
		}
		if r.IntN(4) == 0 {
			q.MaxAmount = yen(5000 + r.IntN(5000))
		}
		if r.IntN(4) == 0 {
			q.Status = projections.Statuses[r.IntN(len(projections.Statuses))]
		}
		if r.IntN(4) == 0 {
			q.Brand = brands[r.IntN(len(brands))]
		}
		q.Limit = []int{0, 1, 2, 3, 7}[r.IntN(5)]
		for page := 0; page < 200; page++ {
			a, err1 := sq.SearchTransactions(ctx, q)
			b, err2 := mm.SearchTransactions(ctx, q)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("errors differ: %v %v", err1, err2)
			}
			if !reflect.DeepEqual(keys(a.Rows), keys(b.Rows)) || a.More != b.More || a.Next != b.Next {
				t.Fatalf("query %+v page %d differ:\nsql %v %v\nmem %v %v", q, page, keys(a.Rows), a.More, keys(b.Rows), b.More)
			}
			n++
			if !a.More {
				break
			}
			q.After = a.Next
		}
	}
	for _, id := range ids {
		a, okA, err1 := sq.Transaction(ctx, id)
		b, okB, err2 := mm.Transaction(ctx, id)
		if err1 != nil || err2 != nil || !okA || !okB || rowKey(a) != rowKey(b) {
			t.Fatalf("row %s: sql %s (%v %v) mem %s (%v %v)", id, rowKey(a), okA, err1, rowKey(b), okB, err2)
		}
	}
	for _, mid := range merchants {
		a, err1 := sq.UnknownEmoney(ctx, mid)
		b, err2 := mm.UnknownEmoney(ctx, mid)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(keys(a), keys(b)) {
			t.Fatalf("unknown e-money of %s differ: %v %v", mid, err1, err2)
		}
	}
	if n < minPages {
		t.Fatalf("only %d pages compared", n)
	}
	t.Logf("%d pages compared, %d rows", n, len(ids))
}
