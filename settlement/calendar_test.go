package settlement

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
)

func iso(s string) date.Date { return date.MustParseISO(s) }

func TestDefaultCalendarLoads(t *testing.T) {
	if defaultCalendarErr != nil {
		t.Fatalf("embedded holiday list does not load: %v", defaultCalendarErr)
	}
	c := DefaultCalendar()
	if first, last := c.Years(); first != 1955 || last != 2027 {
		t.Errorf("Years() = %d..%d, want 1955..2027", first, last)
	}
	// data/jp-national-holidays.csv: 1068 lines, one of them the header.
	if len(c.names) != 1067 {
		t.Errorf("%d national holidays loaded, want 1067", len(c.names))
	}
}

// TestNationalHolidays pins years against the Cabinet Office list:
// 2019 (enthronement), 2020 and 2021 (Olympic moves), and the move of the
// emperor's birthday from Dec 23 to Feb 23.
func TestNationalHolidays(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		day    string
		open   bool
		reason string // substring of ClosedReason for a closed day
	}{
		// 2019 Golden Week: Sat 04-27 .. Mon 05-06, ten days closed.
		{"2019-04-26", true, ""},
		{"2019-04-27", false, "Saturday"},
		{"2019-04-28", false, "Sunday"},
		{"2019-04-29", false, "昭和の日"},
		{"2019-04-30", false, "national holiday 休日"}, // citizens' holiday
		{"2019-05-01", false, "休日（祝日扱い）"},            // enthronement day
		{"2019-05-02", false, "national holiday 休日"}, // citizens' holiday
		{"2019-05-03", false, "憲法記念日"},
		{"2019-05-04", false, "みどりの日"},
		{"2019-05-05", false, "こどもの日"},
		{"2019-05-06", false, "national holiday 休日"}, // substitute
		{"2019-05-07", true, ""},
		{"2019-10-22", false, "休日（祝日扱い）"}, // 即位礼正殿の儀
		{"2019-10-21", true, ""},
		{"2019-12-23", true, ""}, // no emperor's birthday from 2019 on
		{"2018-12-24", false, "national holiday 休日"},
		{"2020-02-23", false, "Sunday; national holiday 天皇誕生日"},
		{"2020-02-24", false, "national holiday 休日"},
		// 2020 Olympic moves: 海の日 07-23, スポーツの日 07-24, 山の日 08-10.
		{"2020-07-20", true, ""}, // would be the 3rd Monday
		{"2020-07-23", false, "海の日"},
		{"2020-07-24", false, "スポーツの日"},
		{"2020-08-10", false, "山の日"},
		{"2020-08-11", true, ""},
		{"2020-10-12", true, ""}, // would be the 2nd Monday
		// 2021: 07-22, 07-23, 08-08 (Sunday) and its substitute 08-09.
		{"2021-07-19", true, ""},
		{"2021-07-22", false, "海の日"},
		{"2021-07-23", false, "スポーツの日"},
		{"2021-08-08", false, "Sunday; national holiday 山の日"},
		{"2021-08-09", false, "national holiday 休日"},
		{"2021-08-11", true, ""},
		{"2021-10-11", true, ""},
		// Bank holidays by law.
		{"2019-12-30", true, ""},
		{"2019-12-31", false, "bank holiday (Dec 31)"},
		{"2020-01-01", false, "元日"},
		{"2020-01-02", false, "bank holiday (Jan 2)"},
		{"2020-01-03", false, "bank holiday (Jan 3)"},
		{"2020-01-06", true, ""},
		{"2022-12-31", false, "Saturday; bank holiday (Dec 31)"},
		{"1955-01-03", false, "bank holiday (Jan 3)"},
		{"2027-12-31", false, "bank holiday (Dec 31)"},
		{"2027-12-30", true, ""},
		// The data's last entry.
		{"2027-11-23", false, "勤労感謝の日"},
	}
	for _, tt := range tests {
		open, err := c.IsBusinessDay(iso(tt.day))
		if err != nil {
			t.Fatalf("%s: %v", tt.day, err)
		}
		if open != tt.open {
			t.Errorf("IsBusinessDay(%s) = %v, want %v", tt.day, open, tt.open)
		}
		reason, err := c.ClosedReason(iso(tt.day))
		if err != nil {
			t.Fatalf("%s: %v", tt.day, err)
		}
		if tt.open && reason != "" {
			t.Errorf("ClosedReason(%s) = %q for a business day", tt.day, reason)
		}
		if !tt.open && !strings.Contains(reason, tt.reason) {
			t.Errorf("ClosedReason(%s) = %q, want it to contain %q", tt.day, reason, tt.reason)
		}
	}
}

// oracle is an independent reading of the holiday CSV and the bank-holiday
// rules, written without the code under test, to check every day it covers.
func oracle(t *testing.T) func(date.Date) bool {
	t.Helper()
	hol := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(embeddedHolidays)), "\n")[1:] {
		hol[l[:10]] = true
	}
	return func(d date.Date) bool {
		tm := d.UTC()
		s := tm.Format("2006-01-02")
		switch {
		case tm.Weekday() == time.Saturday || tm.Weekday() == time.Sunday:
		case hol[s]:
		case strings.HasSuffix(s, "-12-31"), strings.HasSuffix(s, "-01-02"), strings.HasSuffix(s, "-01-03"):
		default:
			return true
		}
		return false
	}
}

func TestEveryDayAgainstOracle(t *testing.T) {
	c := DefaultCalendar()
	open := oracle(t)
	n := 0
	for d := iso("1955-01-01"); d.Before(iso("2028-01-01")); d = d.Add(1) {
		got, err := c.IsBusinessDay(d)
		if err != nil {
			t.Fatal(err)
		}
		if want := open(d); got != want {
			t.Errorf("IsBusinessDay(%s) = %v, want %v", d, got, want)
		}
		n++
	}
	if n != 26663 { // 73 years, 18 of them leap years: 73*365+18
		t.Errorf("checked %d days, want 26663", n)
	}
}

func TestStepping(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		op   string
		from string
		n    int
		want string
	}{
		{"prev", "2019-04-30", 0, "2019-04-26"},
		{"prev", "2019-04-26", 0, "2019-04-26"},
		{"next", "2019-04-27", 0, "2019-05-07"},
		{"next", "2019-12-31", 0, "2020-01-06"},
		{"prev", "2020-01-05", 0, "2019-12-30"},
		{"add", "2019-04-26", 1, "2019-05-07"},
		{"add", "2019-04-26", 2, "2019-05-08"},
		{"add", "2019-05-07", -1, "2019-04-26"},
		{"add", "2019-05-01", -1, "2019-04-26"}, // from a closed day
		{"add", "2019-05-01", 1, "2019-05-07"},
		{"add", "2019-05-01", 0, "2019-05-01"},
		{"add", "2019-12-30", 1, "2020-01-06"},
		{"add", "2020-01-06", -1, "2019-12-30"},
		{"add", "2020-01-15", -2, "2020-01-10"}, // 01-13 成人の日
		{"add", "2019-10-31", -2, "2019-10-29"},
		// October 2019: 23 weekdays, 10-14 and 10-22 closed: 20 business days
		// after 10-01; then Fri 11-01 and, past the weekend and 11-04, Tue 11-05.
		{"add", "2019-10-01", 20, "2019-10-31"},
		{"add", "2019-10-01", 21, "2019-11-01"},
		{"add", "2019-10-01", 22, "2019-11-05"},
		{"add", "2019-11-05", -22, "2019-10-01"},
	}
	for _, tt := range tests {
		var got date.Date
		var err error
		switch tt.op {
		case "prev":
			got, err = c.PrevBusinessDay(iso(tt.from))
		case "next":
			got, err = c.NextBusinessDay(iso(tt.from))
		case "add":
			got, err = c.AddBusinessDays(iso(tt.from), tt.n)
		}
		if err != nil {
			t.Fatalf("%s %s %d: %v", tt.op, tt.from, tt.n, err)
		}
		if got != iso(tt.want) {
			t.Errorf("%s(%s, %d) = %s, want %s", tt.op, tt.from, tt.n, got, tt.want)
		}
	}
}

func TestYearNotCovered(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		name string
		call func() error
		year int
	}{
		{"IsBusinessDay 2028", func() error { _, err := c.IsBusinessDay(iso("2028-01-04")); return err }, 2028},
		{"IsBusinessDay 1954", func() error { _, err := c.IsBusinessDay(iso("1954-12-31")); return err }, 1954},
		{"NextBusinessDay past the end", func() error { _, err := c.NextBusinessDay(iso("2027-12-31")); return err }, 2028},
		{"PrevBusinessDay past the start", func() error { _, err := c.PrevBusinessDay(iso("1955-01-02")); return err }, 1954},
		{"AddBusinessDays past the end", func() error { _, err := c.AddBusinessDays(iso("2027-12-30"), 1); return err }, 2028},
		{"ClosedReason 2030", func() error { _, err := c.ClosedReason(iso("2030-06-01")); return err }, 2030},
		{"PeriodFor card 2027-12-20", func() error { _, err := c.PeriodFor(KindCard, iso("2027-12-20")); return err }, 2028},
		{"PeriodFor emoney 2027-12-01", func() error { _, err := c.PeriodFor(KindEmoney, iso("2027-12-01")); return err }, 2028},
		{"PeriodsStarting 2027-12", func() error {
			_, err := c.PeriodsStarting(Month{2027, time.December}, Month{2027, time.December})
			return err
		}, 2028},
		{"PeriodsPaidOn 2028-01-17", func() error { _, err := c.PeriodsPaidOn(iso("2028-01-17")); return err }, 2028},
	}
	for _, tt := range tests {
		err := tt.call()
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if code := domain.CodeOf(err); code != domain.CodeInvalidField {
			t.Errorf("%s: code %q, want %s", tt.name, code, domain.CodeInvalidField)
		}
		var ye *YearError
		if !errors.As(err, &ye) || ye.Year != tt.year || ye.First != 1955 || ye.Last != 2027 {
			t.Errorf("%s: %v, want a YearError for %d", tt.name, err, tt.year)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("year %d", tt.year)) {
			t.Errorf("%s: message %q does not name year %d", tt.name, err, tt.year)
		}
	}
	// The last covered month still works: card period A of 2027-12 pays
	// before Dec 31 (closed) on Thursday 12-30.
	p, err := c.PeriodFor(KindCard, iso("2027-12-15"))
	if err != nil || p.Payday != iso("2027-12-30") || p.NoticeDate != iso("2027-12-28") {
		t.Errorf("card period A of 2027-12 = %+v, %v; want payday 2027-12-30, notice 2027-12-28", p, err)
	}
}

const header = "date,name\n"

func TestLoadCalendarFormat(t *testing.T) {
	// BOM, CRLF, blank lines and unsorted dates are accepted.
	c, err := LoadCalendar(strings.NewReader("\uFEFFdate,name\r\n2020-05-05,こどもの日\r\n\r\n2020-01-01,元日\r\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if first, last := c.Years(); first != 2020 || last != 2020 {
		t.Errorf("Years() = %d..%d, want 2020..2020", first, last)
	}
	for day, want := range map[string]bool{"2020-05-05": false, "2020-01-01": false, "2020-05-07": true, "2020-01-03": false, "2020-05-09": false} {
		if got, err := c.IsBusinessDay(iso(day)); err != nil || got != want {
			t.Errorf("IsBusinessDay(%s) = %v, %v; want %v", day, got, err, want)
		}
	}
}

func TestLoadCalendarErrors(t *testing.T) {
	tests := []struct {
		name      string
		holidays  string
		extra     string
		wantParts []string
	}{
		{"empty", "", "", []string{"national holidays", "empty file"}},
		{"header only", header, "", []string{"no dates"}},
		{"wrong header", "day,name\n2020-01-01,元日\n", "", []string{"line 1", `"day,name"`}},
		{"BOM on line 2", header + "\uFEFF2020-01-01,元日\n", "", []string{"line 2", "not YYYY-MM-DD"}},
		{"slashes", header + "2020-01-01,元日\n2020/2/11,建国記念の日\n", "", []string{"line 3", `"2020/2/11"`}},
		{"no comma", header + "2020-01-01\n", "", []string{"line 2", "no comma"}},
		{"three fields", header + "2020-01-01,元日,x\n", "", []string{"line 2", "two fields"}},
		{"empty name", header + "2020-01-01,\n", "", []string{"line 2", "empty name"}},
		{"no such day", header + "2019-02-29,x\n", "", []string{"line 2", `"2019-02-29"`}},
		{"short date", header + "2019-2-11,x\n", "", []string{"line 2", "not YYYY-MM-DD"}},
		{"spaces", header + " 2019-02-11,x\n", "", []string{"line 2", "not YYYY-MM-DD"}},
		{"duplicate", header + "2020-01-01,元日\n2020-02-11,建国記念の日\n2020-01-01,元日\n", "", []string{"line 4", "2020-01-01 repeats line 2"}},
		{"invalid UTF-8", header + "2020-01-01,\xff\n", "", []string{"line 2", "UTF-8"}},
		{"missing year", header + "2019-01-01,元日\n2021-01-01,元日\n", "", []string{"no holiday in year 2020"}},
		{"long line", header + "2020-01-01," + strings.Repeat("x", 5000) + "\n", "", []string{"line 2", "longer than"}},
		{"closure bad line", header + "2020-01-01,元日\n", header + "2020-13-01,x\n", []string{"extra closures", "line 2"}},
		{"closure duplicate", header + "2020-01-01,元日\n", header + "2020-06-01,x\n2020-06-01,y\n", []string{"extra closures", "line 3", "repeats line 2"}},
		{"closure beyond the years", header + "2020-01-01,元日\n", header + "2021-06-01,system move\n", []string{"extra closures", "line 2", "2021-06-01", "2020..2020"}},
	}
	for _, tt := range tests {
		var extra *strings.Reader
		if tt.extra != "" {
			extra = strings.NewReader(tt.extra)
		}
		var err error
		if extra != nil {
			_, err = LoadCalendar(strings.NewReader(tt.holidays), extra)
		} else {
			_, err = LoadCalendar(strings.NewReader(tt.holidays), nil)
		}
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if code := domain.CodeOf(err); code != domain.CodeInvalidField {
			t.Errorf("%s: code %q, want %s", tt.name, code, domain.CodeInvalidField)
		}
		for _, p := range tt.wantParts {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: error %q lacks %q", tt.name, err, p)
			}
		}
	}
}

// TestReplaceableData: a new year or an extra closure is a data change only.
func TestReplaceableData(t *testing.T) {
	next := string(embeddedHolidays) + "2028-01-01,元日\n2028-01-10,成人の日\n"
	closures := header + "2019-10-31,system migration\n2028-01-11,system migration\n"
	c, err := LoadCalendar(strings.NewReader(next), strings.NewReader(closures))
	if err != nil {
		t.Fatal(err)
	}
	if _, last := c.Years(); last != 2028 {
		t.Errorf("last year %d, want 2028", last)
	}
	tests := []struct {
		day    string
		open   bool
		reason string
	}{
		{"2028-01-10", false, "成人の日"},
		{"2028-01-11", false, "extra closure system migration"},
		{"2028-01-12", true, ""},
		{"2019-10-31", false, "extra closure system migration"},
		{"2019-10-30", true, ""},
	}
	for _, tt := range tests {
		open, err := c.IsBusinessDay(iso(tt.day))
		reason, err2 := c.ClosedReason(iso(tt.day))
		if err != nil || err2 != nil || open != tt.open || !strings.Contains(reason, tt.reason) {
			t.Errorf("%s: open %v reason %q (%v, %v); want %v, %q", tt.day, open, reason, err, err2, tt.open, tt.reason)
		}
	}
	// The closure moves card period A of 2019-10 to Wednesday 10-30, its
	// notice to Monday 10-28; card period B of 2027-12 is now payable.
	p, err := c.PeriodFor(KindCard, iso("2019-10-01"))
	if err != nil || p.Payday != iso("2019-10-30") || p.NoticeDate != iso("2019-10-28") {
		t.Errorf("card A 2019-10 with closure: %+v, %v", p, err)
	}
	p, err = c.PeriodFor(KindCard, iso("2027-12-16"))
	if err != nil || p.Payday != iso("2028-01-17") || p.NoticeDate != iso("2028-01-13") {
		t.Errorf("card B 2027-12 with 2028 data: %+v, %v; want payday 2028-01-17 (15th a Saturday), notice 2028-01-13 (01-14, 01-13)", p, err)
	}
}

func TestBrokenDefaultNeverPanics(t *testing.T) {
	broken := errors.New("embedded data unreadable")
	c := &Calendar{broken: broken}
	if _, err := c.IsBusinessDay(iso("2019-10-01")); !errors.Is(err, broken) {
		t.Errorf("IsBusinessDay on a broken calendar: %v", err)
	}
	if _, err := c.PeriodsStarting(Month{2019, time.October}, Month{2019, time.October}); !errors.Is(err, broken) {
		t.Errorf("PeriodsStarting on a broken calendar: %v", err)
	}
	if _, err := c.PeriodsPaidOn(iso("2019-10-31")); !errors.Is(err, broken) {
		t.Errorf("PeriodsPaidOn on a broken calendar: %v", err)
	}
}

func BenchmarkIsBusinessDay(b *testing.B) {
	c := DefaultCalendar()
	start := iso("1955-01-01")
	const span = 26663 // days 1955..2027
	b.ReportAllocs()
	i, open := 0, 0
	for b.Loop() {
		ok, err := c.IsBusinessDay(start.Add(date.PeriodOfDays(i)))
		if err != nil {
			b.Fatal(err)
		}
		if ok {
			open++
		}
		if i++; i == span {
			i = 0
		}
	}
	_ = open
}

func BenchmarkLoadDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadCalendar(DefaultHolidays(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
