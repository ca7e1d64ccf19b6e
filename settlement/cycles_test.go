package settlement

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
)

// TestPaydays: expectations worked out by hand from the holiday CSV and a
// wall calendar, not with the code under test.
func TestPaydays(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		name       string
		kind       string
		sale       string // a business date in the period
		start, end string
		notice     string
		payday     string
	}{
		{"card A 2019-10: Thu 10-31 is a business day", KindCard, "2019-10-15", "2019-10-01", "2019-10-15", "2019-10-29", "2019-10-31"},
		{"card A 2019-04: 04-30 and 04-29 holidays, weekend: back to Fri 04-26", KindCard, "2019-04-01", "2019-04-01", "2019-04-15", "2019-04-24", "2019-04-26"},
		{"card B 2019-04: Wed 05-15 after Golden Week", KindCard, "2019-04-30", "2019-04-16", "2019-04-30", "2019-05-13", "2019-05-15"},
		{"e-money 2019-03: 04-30 holiday: Fri 04-26", KindEmoney, "2019-03-31", "2019-03-01", "2019-03-31", "2019-04-24", "2019-04-26"},
		{"card B 2019-03: Mon 04-15", KindCard, "2019-03-16", "2019-03-16", "2019-03-31", "2019-04-11", "2019-04-15"},
		{"card B 2020-08: Tue 09-15, notice over the weekend", KindCard, "2020-08-16", "2020-08-16", "2020-08-31", "2020-09-11", "2020-09-15"},
		{"card B 2019-08: Sun 09-15, Mon 09-16 敬老の日: forward to Tue 09-17", KindCard, "2019-08-20", "2019-08-16", "2019-08-31", "2019-09-12", "2019-09-17"},
		{"card B 2021-07: Sun 08-15: forward to Mon 08-16", KindCard, "2021-07-22", "2021-07-16", "2021-07-31", "2021-08-12", "2021-08-16"},
		{"card A 2021-07: Sat 07-31: back to Fri 07-30", KindCard, "2021-07-01", "2021-07-01", "2021-07-15", "2021-07-28", "2021-07-30"},
		{"card A 2019-12: Dec 31 closed: Mon 12-30", KindCard, "2019-12-02", "2019-12-01", "2019-12-15", "2019-12-26", "2019-12-30"},
		{"card A 2017-12: Dec 31 Sunday, Dec 30 Saturday: Fri 12-29", KindCard, "2017-12-10", "2017-12-01", "2017-12-15", "2017-12-27", "2017-12-29"},
		{"card A 2022-12: Dec 31 Saturday: Fri 12-30", KindCard, "2022-12-15", "2022-12-01", "2022-12-15", "2022-12-28", "2022-12-30"},
		{"e-money 2019-11: Dec 31 closed: Mon 12-30", KindEmoney, "2019-11-30", "2019-11-01", "2019-11-30", "2019-12-26", "2019-12-30"},
		{"card B 2018-12: Tue 2019-01-15, notice before 01-14 成人の日", KindCard, "2018-12-31", "2018-12-16", "2018-12-31", "2019-01-10", "2019-01-15"},
		{"card B 2019-12: Wed 2020-01-15, notice before 01-13 成人の日", KindCard, "2019-12-16", "2019-12-16", "2019-12-31", "2020-01-10", "2020-01-15"},
		{"card B 2020-02 (leap year): 2020-03-16", KindCard, "2020-02-29", "2020-02-16", "2020-02-29", "2020-03-12", "2020-03-16"},
		{"e-money 2020-06: Fri 07-31, 07-23/24 Olympic holidays far enough", KindEmoney, "2020-06-15", "2020-06-01", "2020-06-30", "2020-07-29", "2020-07-31"},
		{"card B 2020-06: Wed 07-15", KindCard, "2020-06-16", "2020-06-16", "2020-06-30", "2020-07-13", "2020-07-15"},
	}
	for _, tt := range tests {
		p, err := c.PeriodFor(tt.kind, iso(tt.sale))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		want := Period{Kind: tt.kind, Start: iso(tt.start), End: iso(tt.end), Close: iso(tt.end), NoticeDate: iso(tt.notice), Payday: iso(tt.payday)}
		if p != want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, fmtPeriod(p), fmtPeriod(want))
		}
	}
	if _, err := c.PeriodFor("cash", iso("2019-10-01")); domain.CodeOf(err) != domain.CodeInvalidField {
		t.Errorf("PeriodFor(cash) = %v, want a %s error", err, domain.CodeInvalidField)
	}
}

func fmtPeriod(p Period) string {
	return fmt.Sprintf("%s %s..%s close %s notice %s payday %s", p.Kind, p.Start, p.End, p.Close, p.NoticeDate, p.Payday)
}

func TestPeriodsStarting(t *testing.T) {
	c := DefaultCalendar()
	got, err := c.PeriodsStarting(Month{2019, time.October}, Month{2019, time.December})
	if err != nil {
		t.Fatal(err)
	}
	// kind, start, end, notice, payday; sorted by payday, kind, start.
	want := [][5]string{
		{"card", "2019-10-01", "2019-10-15", "2019-10-29", "2019-10-31"},
		{"card", "2019-10-16", "2019-10-31", "2019-11-13", "2019-11-15"},
		{"card", "2019-11-01", "2019-11-15", "2019-11-27", "2019-11-29"},   // Sat 11-30
		{"emoney", "2019-10-01", "2019-10-31", "2019-11-27", "2019-11-29"}, // same payday
		{"card", "2019-11-16", "2019-11-30", "2019-12-12", "2019-12-16"},   // Sun 12-15
		{"card", "2019-12-01", "2019-12-15", "2019-12-26", "2019-12-30"},   // Dec 31
		{"emoney", "2019-11-01", "2019-11-30", "2019-12-26", "2019-12-30"}, // Dec 31
		{"card", "2019-12-16", "2019-12-31", "2020-01-10", "2020-01-15"},   // 01-13 成人の日
		{"emoney", "2019-12-01", "2019-12-31", "2020-01-29", "2020-01-31"}, // Fri
	}
	if len(got) != len(want) {
		t.Fatalf("%d periods, want %d", len(got), len(want))
	}
	for i, w := range want {
		wp := Period{Kind: w[0], Start: iso(w[1]), End: iso(w[2]), Close: iso(w[2]), NoticeDate: iso(w[3]), Payday: iso(w[4])}
		if got[i] != wp {
			t.Errorf("period %d:\n got %s\nwant %s", i, fmtPeriod(got[i]), fmtPeriod(wp))
		}
	}

	bad := []struct {
		name     string
		from, to Month
		part     string
	}{
		{"from after to", Month{2019, time.December}, Month{2019, time.October}, "2019-12 is after to month 2019-10"},
		{"month 13", Month{2019, 13}, Month{2020, time.January}, "month 13 of 2019"},
		{"month 0", Month{2019, time.January}, Month{2019, 0}, "month 0 of 2019"},
	}
	for _, tt := range bad {
		_, err := c.PeriodsStarting(tt.from, tt.to)
		if domain.CodeOf(err) != domain.CodeInvalidField || !strings.Contains(fmt.Sprint(err), tt.part) {
			t.Errorf("%s: %v, want a %s error with %q", tt.name, err, domain.CodeInvalidField, tt.part)
		}
	}
}

func TestPeriodsPaidOn(t *testing.T) {
	c := DefaultCalendar()
	tests := []struct {
		payday string
		want   []string // kind start..end
		errHas string
	}{
		{"2019-04-26", []string{"card 2019-04-01..2019-04-15", "emoney 2019-03-01..2019-03-31"}, ""},
		{"2019-05-15", []string{"card 2019-04-16..2019-04-30"}, ""},
		{"2019-04-15", []string{"card 2019-03-16..2019-03-31"}, ""},
		{"2019-09-17", []string{"card 2019-08-16..2019-08-31"}, ""},
		{"2019-12-30", []string{"card 2019-12-01..2019-12-15", "emoney 2019-11-01..2019-11-30"}, ""},
		{"2019-10-30", nil, "2019-10-30 is not the payday of any settlement period (paydays in 2019-10: 2019-10-15, 2019-10-31)"},
		{"2019-04-30", nil, "paydays in 2019-04: 2019-04-15, 2019-04-26"},
		{"2019-09-16", nil, "paydays in 2019-09: 2019-09-17, 2019-09-30"},
		{"2019-12-31", nil, "paydays in 2019-12: 2019-12-16, 2019-12-30"},
	}
	for _, tt := range tests {
		ps, err := c.PeriodsPaidOn(iso(tt.payday))
		if tt.errHas != "" {
			if domain.CodeOf(err) != domain.CodeInvalidField || !strings.Contains(fmt.Sprint(err), tt.errHas) {
				t.Errorf("PeriodsPaidOn(%s) = %v, %v; want a %s error with %q", tt.payday, ps, err, domain.CodeInvalidField, tt.errHas)
			}
			continue
		}
		if err != nil {
			t.Fatalf("PeriodsPaidOn(%s): %v", tt.payday, err)
		}
		var got []string
		for _, p := range ps {
			if p.Payday != iso(tt.payday) {
				t.Errorf("PeriodsPaidOn(%s) returned %s", tt.payday, fmtPeriod(p))
			}
			got = append(got, fmt.Sprintf("%s %s..%s", p.Kind, p.Start, p.End))
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("PeriodsPaidOn(%s) = %q, want %q", tt.payday, got, tt.want)
		}
	}
}

// TestPaydayTableInvariants checks every period starting 2019-01..2027-11
// (card period B and e-money of 2027-12 pay in 2028, which the data lacks).
func TestPaydayTableInvariants(t *testing.T) {
	c := DefaultCalendar()
	open := oracle(t)
	from, to := Month{2019, time.January}, Month{2027, time.November}
	ps, err := c.PeriodsStarting(from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3*(9*12-1) {
		t.Fatalf("%d periods, want %d", len(ps), 3*(9*12-1))
	}
	cover := map[string]map[date.Date]int{KindCard: {}, KindEmoney: {}}
	byPayday := map[date.Date][]Period{}
	for i, p := range ps {
		if i > 0 && comparePeriods(ps[i-1], p) >= 0 {
			t.Errorf("not sorted: %s before %s", fmtPeriod(ps[i-1]), fmtPeriod(p))
		}
		if p.Close != p.End {
			t.Errorf("%s: close is not the end", fmtPeriod(p))
		}
		if !open(p.Payday) {
			t.Errorf("%s: payday is not a business day", fmtPeriod(p))
		}
		y, m, _ := p.Start.Date()
		var nominal date.Date
		back := true
		switch {
		case p.Kind == KindCard && p.Start.Day() == 1:
			nominal = date.New(y, m+1, 0)
			if p.End != date.New(y, m, 15) {
				t.Errorf("%s: card period A must end on the 15th", fmtPeriod(p))
			}
		case p.Kind == KindCard && p.Start.Day() == 16:
			nominal, back = date.New(y, m+1, 15), false
			if p.End != date.New(y, m+1, 0) {
				t.Errorf("%s: card period B must end on the month's last day", fmtPeriod(p))
			}
		case p.Kind == KindEmoney && p.Start.Day() == 1:
			nominal = date.New(y, m+2, 0)
			if p.End != date.New(y, m+1, 0) {
				t.Errorf("%s: e-money period must end on the month's last day", fmtPeriod(p))
			}
		default:
			t.Fatalf("unexpected period %s", fmtPeriod(p))
		}
		moved := p.Payday.Sub(nominal)
		if back && (moved > 0 || moved < -10) || !back && (moved < 0 || moved > 10) {
			t.Errorf("%s: payday moved %d days from its nominal %s", fmtPeriod(p), moved, nominal)
		}
		// The payday is the first business day in the move's direction.
		for d := nominal; d != p.Payday; d = d.Add(date.PeriodOfDays(map[bool]int{true: -1, false: 1}[back])) {
			if open(d) {
				t.Errorf("%s: %s is a business day nearer the nominal payday", fmtPeriod(p), d)
			}
		}
		// Notice: exactly one business day strictly between it and the payday.
		between := 0
		for d := p.NoticeDate.Add(1); d.Before(p.Payday); d = d.Add(1) {
			if open(d) {
				between++
			}
		}
		if !open(p.NoticeDate) || !p.NoticeDate.Before(p.Payday) || between != 1 {
			t.Errorf("%s: notice is not 2 business days before the payday", fmtPeriod(p))
		}
		for d := p.Start; !d.After(p.End); d = d.Add(1) {
			cover[p.Kind][d]++
		}
		byPayday[p.Payday] = append(byPayday[p.Payday], p)
	}
	for d := from.First(); !d.After(to.Last()); d = d.Add(1) {
		for _, k := range []string{KindCard, KindEmoney} {
			if cover[k][d] != 1 {
				t.Errorf("%s is in %d %s periods, want 1", d, cover[k][d], k)
			}
			p, err := c.PeriodFor(k, d)
			if err != nil || d.Before(p.Start) || d.After(p.End) || p.Kind != k {
				t.Errorf("PeriodFor(%s, %s) = %s, %v", k, d, fmtPeriod(p), err)
			}
		}
	}
	for _, k := range []string{KindCard, KindEmoney} {
		if n := len(cover[k]); n != int(to.Last().Sub(from.First()))+1 {
			t.Errorf("%s periods cover %d days", k, n)
		}
	}
	// The payout batch's view agrees with the table, payday by payday, where
	// the table holds every period paying that day: 2019-01-31 also pays the
	// e-money of 2018-12, 2027-12-30 the card period A of 2027-12.
	for payday, want := range byPayday {
		if payday.Before(iso("2019-02-01")) || payday.After(iso("2027-11-30")) {
			continue
		}
		got, err := c.PeriodsPaidOn(payday)
		if err != nil {
			t.Errorf("PeriodsPaidOn(%s): %v", payday, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("PeriodsPaidOn(%s) = %v, want %v", payday, got, want)
		}
	}
	// Card A and e-money always share the month end: 107 mid-month paydays
	// (2019-02..2027-12) and 108 month ends (2019-01..2027-12).
	if n := len(byPayday); n != 107+108 {
		t.Errorf("%d distinct paydays, want %d", n, 107+108)
	}
}

func TestParseMonth(t *testing.T) {
	for s, want := range map[string]Month{"2019-10": {2019, time.October}, "2027-01": {2027, time.January}} {
		if got, err := ParseMonth(s); err != nil || got != want || got.String() != s {
			t.Errorf("ParseMonth(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"2019-13", "2019-1", "201910", "2019-10-01", "", "19-10", "2019/10"} {
		if _, err := ParseMonth(s); domain.CodeOf(err) != domain.CodeInvalidField {
			t.Errorf("ParseMonth(%q): %v, want a %s error", s, err, domain.CodeInvalidField)
		}
	}
	m := Month{2019, time.December}
	if m.AddMonths(1) != (Month{2020, time.January}) || m.AddMonths(-12) != (Month{2018, time.December}) || m.AddMonths(-24-11) != (Month{2017, time.January}) {
		t.Errorf("AddMonths wrong: %v %v %v", m.AddMonths(1), m.AddMonths(-12), m.AddMonths(-35))
	}
	if m.First() != iso("2019-12-01") || m.Last() != iso("2019-12-31") || (Month{2020, time.February}).Last() != iso("2020-02-29") {
		t.Error("First/Last wrong")
	}
}

// BenchmarkPaydays100Years computes every period starting 1955-01..2054-12
// (1,200 months, 3,600 periods). Holiday data: the embedded Cabinet Office
// list (1955-2027) extended by a synthetic 2028-2055 that repeats the
// fixed-date holidays (01-01, 02-11, 02-23, 04-29, 05-03..05, 11-03, 11-23);
// 2055 is needed for the paydays of 2054-12. Loading is outside the timer.
func BenchmarkPaydays100Years(b *testing.B) {
	var sb strings.Builder
	sb.Write(embeddedHolidays)
	for y := 2028; y <= 2055; y++ {
		for _, md := range []string{"01-01", "02-11", "02-23", "04-29", "05-03", "05-04", "05-05", "11-03", "11-23"} {
			fmt.Fprintf(&sb, "%d-%s,synthetic\n", y, md)
		}
	}
	c, err := LoadCalendar(strings.NewReader(sb.String()), nil)
	if err != nil {
		b.Fatal(err)
	}
	if first, last := c.Years(); first != 1955 || last != 2055 {
		b.Fatalf("years %d..%d", first, last)
	}
	b.ReportAllocs()
	for b.Loop() {
		ps, err := c.PeriodsStarting(Month{1955, time.January}, Month{2054, time.December})
		if err != nil {
			b.Fatal(err)
		}
		if len(ps) != 3600 {
			b.Fatalf("%d periods", len(ps))
		}
	}
}

// TestPaydayStaysInItsMonth: closures that push a payday out of its
// nominal month are an error rather than a payday PeriodsPaidOn cannot find.
func TestPaydayStaysInItsMonth(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(header)
	for d := iso("2019-10-15"); !d.After(iso("2019-10-31")); d = d.Add(1) {
		fmt.Fprintf(&sb, "%s,outage\n", d)
	}
	c, err := LoadCalendar(DefaultHolidays(), strings.NewReader(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	// Card B of 2019-09 (nominal 10-15) would move forward to 11-01.
	_, err = c.PeriodFor(KindCard, iso("2019-09-20"))
	if domain.CodeOf(err) != domain.CodeInvalidField || !strings.Contains(fmt.Sprint(err), "no business day in 2019-10 to move its payday 2019-10-15 to") {
		t.Errorf("card B 2019-09 with October closed from the 15th: %v", err)
	}
	// Card A of 2019-10 (nominal 10-31) moves back past the closures, the
	// 10-14 体育の日 and the weekend to Fri 10-11, still in October.
	p, err := c.PeriodFor(KindCard, iso("2019-10-01"))
	if err != nil || p.Payday != iso("2019-10-11") || p.NoticeDate != iso("2019-10-09") {
		t.Errorf("card A 2019-10 with October closed from the 15th: %s, %v", fmtPeriod(p), err)
	}
}
