package settlement

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
)

// Period kinds.
const (
	KindCard   = "card"   // カード: period A (1..15) and period B (16..month end)
	KindEmoney = "emoney" // 電子マネー: the calendar month
)

// Period is one settlement period and its payday. Close == End: a period
// closes on its last day. Payday is already moved to a business day and
// NoticeDate is 2 business days before it.
type Period struct {
	Kind       string // KindCard or KindEmoney
	Start, End date.Date
	Close      date.Date
	NoticeDate date.Date
	Payday     date.Date
}

// NoticeBusinessDays is how many business days before the payday the payout
// notice is sent.
const NoticeBusinessDays = 2

// Month is a calendar month.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != len("2006-01") {
		return Month{}, domain.Err(domain.CodeInvalidField, "month %q is not YYYY-MM", s)
	}
	return Month{t.Year(), t.Month()}, nil
}

// MonthOf returns the month of d.
func MonthOf(d date.Date) Month {
	y, m, _ := d.Date()
	return Month{y, m}
}

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// First returns the first day of m.
func (m Month) First() date.Date { return date.New(m.Year, m.Month, 1) }

// Last returns the last day of m.
func (m Month) Last() date.Date { return date.New(m.Year, m.Month+1, 0) }

// AddMonths returns the month n months after m (before, if n < 0).
func (m Month) AddMonths(n int) Month {
	i := m.Year*12 + int(m.Month) - 1 + n
	return Month{Year: floorDiv(i, 12), Month: time.Month(i-floorDiv(i, 12)*12) + 1}
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (m Month) ordinal() int { return m.Year*12 + int(m.Month) - 1 }

// cycle is one of the three kinds of period starting in a month.
type cycle int

const (
	cardA  cycle = iota // 1..15, paid at month end, moved back
	cardB               // 16..end, paid on the 15th of the next month, moved forward
	emoney              // the month, paid at the end of the next month, moved back
)

// period computes the period of cycle k starting in month m.
func (c *Calendar) period(k cycle, m Month) (Period, error) {
	var p Period
	var nominal date.Date
	back := true
	switch k {
	case cardA:
		p = Period{Kind: KindCard, Start: m.First(), End: m.First().Add(14)}
		nominal = m.Last()
	case cardB:
		p = Period{Kind: KindCard, Start: m.First().Add(15), End: m.Last()}
		nominal = m.AddMonths(1).First().Add(14)
		back = false
	case emoney:
		p = Period{Kind: KindEmoney, Start: m.First(), End: m.Last()}
		nominal = m.AddMonths(1).Last()
	}
	p.Close = p.End
	var err error
	if back {
		p.Payday, err = c.PrevBusinessDay(nominal)
	} else {
		p.Payday, err = c.NextBusinessDay(nominal)
	}
	if err != nil {
		return Period{}, inPeriod(err, p, "nominal payday "+nominal.String())
	}
	// PeriodsPaidOn relies on a payday staying in its nominal month; only
	// closures spanning half a month could break that.
	if MonthOf(p.Payday) != MonthOf(nominal) {
		return Period{}, domain.Err(domain.CodeInvalidField, "%s period %s..%s: no business day in %s to move its payday %s to", p.Kind, p.Start, p.End, MonthOf(nominal), nominal)
	}
	if p.NoticeDate, err = c.AddBusinessDays(p.Payday, -NoticeBusinessDays); err != nil {
		return Period{}, inPeriod(err, p, "notice date before payday "+p.Payday.String())
	}
	return p, nil
}

// inPeriod puts the period an error arose in before the error's detail.
func inPeriod(err error, p Period, what string) error {
	var e domain.Error
	if !errors.As(err, &e) {
		return err
	}
	where := fmt.Sprintf("%s period %s..%s, %s", p.Kind, p.Start, p.End, what)
	var ye *YearError
	if errors.As(err, &ye) { // the cause names the year; the date adds nothing
		e.Detail = where
	} else {
		e.Detail = where + ": " + e.Detail
	}
	return e
}

func comparePeriods(a, b Period) int {
	return cmp.Or(
		cmp.Compare(a.Payday.DaysSinceEpoch(), b.Payday.DaysSinceEpoch()),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Start.DaysSinceEpoch(), b.Start.DaysSinceEpoch()))
}

// PeriodsStarting returns every period (card A, card B, e-money) starting in
// the months from..to inclusive, sorted by payday, then kind ("card" before
// "emoney"), then period start. A payday or notice date in a year the
// calendar does not cover is an error naming that year.
func (c *Calendar) PeriodsStarting(from, to Month) ([]Period, error) {
	for _, m := range []Month{from, to} {
		if m.Month < time.January || m.Month > time.December {
			return nil, domain.Err(domain.CodeInvalidField, "month %d of %d is not 1..12", int(m.Month), m.Year)
		}
	}
	if from.ordinal() > to.ordinal() {
		return nil, domain.Err(domain.CodeInvalidField, "from month %s is after to month %s", from, to)
	}
	out := make([]Period, 0, 3*(to.ordinal()-from.ordinal()+1))
	for m := from; m.ordinal() <= to.ordinal(); m = m.AddMonths(1) {
		for _, k := range []cycle{cardA, cardB, emoney} {
			p, err := c.period(k, m)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	slices.SortFunc(out, comparePeriods)
	return out, nil
}

// PeriodFor returns the period of kind (KindCard or KindEmoney) that a sale
// of business date d belongs to.
func (c *Calendar) PeriodFor(kind string, d date.Date) (Period, error) {
	m := MonthOf(d)
	switch kind {
	case KindCard:
		if d.Day() <= 15 {
			return c.period(cardA, m)
		}
		return c.period(cardB, m)
	case KindEmoney:
		return c.period(emoney, m)
	}
	return Period{}, domain.Err(domain.CodeInvalidField, "period kind %q is not %q or %q", kind, KindCard, KindEmoney)
}

// PeriodsPaidOn returns every period whose (moved) payday is payday, sorted
// by kind then start: card period A and the previous month's e-money period
// share a month-end payday, card period B pays mid-month. A date that is no
// period's payday is an error listing the paydays of its month.
func (c *Calendar) PeriodsPaidOn(payday date.Date) ([]Period, error) {
	if _, err := c.IsBusinessDay(payday); err != nil {
		return nil, err
	}
	m := MonthOf(payday)
	var out []Period
	var days []string
	for _, k := range []struct {
		c cycle
		m Month
	}{{cardB, m.AddMonths(-1)}, {cardA, m}, {emoney, m.AddMonths(-1)}} {
		p, err := c.period(k.c, k.m)
		if err != nil {
			return nil, err
		}
		if p.Payday == payday {
			out = append(out, p)
		}
		if s := p.Payday.String(); !slices.Contains(days, s) {
			days = append(days, s)
		}
	}
	if len(out) == 0 {
		return nil, domain.Err(domain.CodeInvalidField, "%s is not the payday of any settlement period (paydays in %s: %s)", payday, m, strings.Join(days, ", "))
	}
	slices.SortFunc(out, comparePeriods)
	return out, nil
}
