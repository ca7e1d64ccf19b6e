package projections

import (
	"strings"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []Cursor{
		{CreatedAt: time.Date(2019, 10, 15, 15, 0, 0, 123456789, time.UTC), Payment: "270000001-20191016-00001"},
		{CreatedAt: time.Unix(0, 0).UTC(), Payment: "p"},
		{CreatedAt: time.Date(1969, 12, 31, 0, 0, 0, 1, time.UTC), Payment: "a.b_c:d-e"},
	} {
		s := c.String()
		if strings.ContainsAny(s, "+/=") {
			t.Errorf("cursor %q is not URL-safe", s)
		}
		got, err := ParseCursor(s)
		if err != nil || !got.CreatedAt.Equal(c.CreatedAt) || got.Payment != c.Payment {
			t.Errorf("round trip of %+v: %+v, %v", c, got, err)
		}
	}
	good := Cursor{CreatedAt: time.Now(), Payment: "p1"}.String()
	for _, bad := range []string{"", "!", "AAAA", good[:len(good)-3], "B" + good[1:], strings.Repeat("A", 201),
		Cursor{CreatedAt: time.Now(), Payment: "bad id"}.String()} {
		if _, err := ParseCursor(bad); domain.CodeOf(err) != domain.CodeInvalidField {
			t.Errorf("ParseCursor(%q): %v, want U1009", bad, err)
		}
	}
}

// The cursor orders like the listing: newer first, then payment id
// descending among rows of the same instant.
func TestCursorPrecedesFollowsNewer(t *testing.T) {
	at := time.Date(2019, 10, 1, 0, 0, 0, 0, time.UTC)
	rows := []Transaction{{Payment: "b", CreatedAt: at.Add(time.Second)}, {Payment: "c", CreatedAt: at}, {Payment: "b", CreatedAt: at}, {Payment: "a", CreatedAt: at}}
	for i := range rows {
		for j := range rows {
			if got, want := CursorOf(rows[i]).Precedes(rows[j]), Newer(rows[i], rows[j]); got != want {
				t.Errorf("cursor of %d precedes %d: %v, but Newer says %v", i, j, got, want)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	d1, d2 := date.New(2019, 10, 1), date.New(2019, 10, 2)
	y := func(v domain.Yen) *domain.Yen { return &v }
	for _, q := range []TxQuery{
		{}, {Status: StatusPartiallyRefunded}, {Brand: "emoney"}, {Brand: "discover"}, {From: &d1, To: &d1}, {From: &d1, To: &d2},
		{MinAmount: y(0), MaxAmount: y(0)}, {Limit: MaxSearchLimit}, {After: Cursor{CreatedAt: time.Now(), Payment: "p"}.String()},
	} {
		if err := q.Validate(); err != nil {
			t.Errorf("%+v: %v", q, err)
		}
	}
	for _, q := range []TxQuery{
		{Status: "partially_refunded"}, {Brand: "Visa"}, {Brand: "jcb "}, {From: &d2, To: &d1}, {MinAmount: y(2), MaxAmount: y(1)},
		{MinAmount: y(-1)}, {MaxAmount: y(-1)}, {Limit: -1}, {Limit: MaxSearchLimit + 1}, {After: "x"},
	} {
		if err := q.Validate(); domain.CodeOf(err) != domain.CodeInvalidField {
			t.Errorf("%+v: %v, want U1009", q, err)
		}
	}
	if (TxQuery{}).PageSize() != SearchLimit || (TxQuery{Limit: 7}).PageSize() != 7 {
		t.Error("PageSize")
	}
	if n, err := CheckJournalLimit(0); n != JournalLimit || err != nil {
		t.Errorf("journal limit 0: %d %v", n, err)
	}
	if _, err := CheckJournalLimit(MaxJournalLimit + 1); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Errorf("journal limit too big: %v", err)
	}
}

func TestDayStartIsTokyoMidnight(t *testing.T) {
	got := DayStart(date.New(2019, 10, 16))
	if want := time.Date(2019, 10, 15, 15, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("DayStart(2019-10-16) = %s, want %s", got.UTC(), want)
	}
	if domain.BusinessDate(got) != date.New(2019, 10, 16) || domain.BusinessDate(got.Add(-time.Nanosecond)) != date.New(2019, 10, 15) {
		t.Fatal("DayStart is not where the business date changes")
	}
}

func TestCheckNames(t *testing.T) {
	if n, err := CheckNames(nil); err != nil || len(n) != len(Names) || len(Names) != 5 {
		t.Fatalf("all: %v %v", n, err)
	}
	if n, err := CheckNames([]string{NameJournal, NameJournal}); err != nil || len(n) != 1 {
		t.Fatalf("duplicate: %v %v", n, err)
	}
	if _, err := CheckNames([]string{"listing"}); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Fatalf("unknown: %v", err)
	}
}
