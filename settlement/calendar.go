package settlement

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rickb777/date"

	"upay/domain"
)

// embeddedHolidays is the Cabinet Office's list of national holidays
// (国民の祝日・休日) as updated on 2026-02-02, 1955..2027, converted from its
// syukujitsu.csv (CP932, YYYY/M/D) to UTF-8 date,name with YYYY-MM-DD dates.
//
//go:embed data/jp-national-holidays.csv
var embeddedHolidays []byte

// DefaultHolidays returns the embedded national-holiday CSV, for callers
// that replace only the operator's closures (LoadCalendar(DefaultHolidays(), f)).
func DefaultHolidays() io.Reader { return bytes.NewReader(embeddedHolidays) }

var defaultCalendar, defaultCalendarErr = LoadCalendar(DefaultHolidays(), nil)

// DefaultCalendar returns the calendar built from the embedded holiday list
// and no extra closures. It is parsed once, at program start; it never
// panics: were the embedded data unreadable, every method of the returned
// calendar would return that error (a test pins that it is readable).
func DefaultCalendar() *Calendar {
	if defaultCalendarErr != nil {
		return &Calendar{broken: defaultCalendarErr}
	}
	return defaultCalendar
}

// Calendar is the bank business-day calendar (金融機関の営業日) of the years
// its national-holiday list covers. A day is closed when it is a Saturday, a
// Sunday, a national holiday of the list, December 31, January 2 or 3, or an
// operator's extra closure. A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	first, last int       // years covered, inclusive
	base        date.Date // January 1 of first
	days        int       // days covered, from base
	closed      []uint64  // bit i: base+i is closed
	names       map[date.Date]string
	extra       map[date.Date]string
	broken      error // set only for a DefaultCalendar whose data did not load
}

// YearError is the cause of an error about a date whose year the holiday
// data does not cover: the calendar never guesses.
type YearError struct {
	Year        int // the missing year
	First, Last int // the years the calendar covers
}

func (e *YearError) Error() string {
	return fmt.Sprintf("no bank holiday data for year %d (the calendar covers %d..%d; add that year's Cabinet Office list to the holiday file)", e.Year, e.First, e.Last)
}

// holidayLine is one parsed line of a date,name file.
type holidayLine struct {
	d    date.Date
	name string
	line int
}

// maxLine bounds one line of a holiday file.
const maxLine = 4096

// parseHolidays reads a date,name CSV: the header "date,name" (an optional
// UTF-8 byte-order mark before it), then one YYYY-MM-DD date and a non-empty
// name per line. CRLF line ends and blank lines are tolerated; a repeated
// date is an error. what names the file in errors.
func parseHolidays(r io.Reader, what string) ([]holidayLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, maxLine), maxLine)
	var out []holidayLine
	seen := map[date.Date]int{}
	n := 0
	header := false
	for sc.Scan() {
		n++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if n == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		if !utf8.ValidString(text) {
			return nil, domain.Err(domain.CodeInvalidField, "%s, line %d: not valid UTF-8", what, n)
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if !header {
			if text != "date,name" {
				return nil, domain.Err(domain.CodeInvalidField, "%s, line %d: header %q, want \"date,name\"", what, n, text)
			}
			header = true
			continue
		}
		ds, name, ok := strings.Cut(text, ",")
		if !ok {
			return nil, domain.Err(domain.CodeInvalidField, "%s, line %d: %q has no comma; want YYYY-MM-DD,name", what, n, text)
		}
		if strings.ContainsAny(name, ",\"") {
			return nil, domain.Err(domain.CodeInvalidField, "%s, line %d: name %q holds a comma or quote; want exactly two fields date,name", what, n, name)
		}
		if strings.TrimSpace(name) == "" {
			return nil, domain.Err(domain.CodeInvalidField, "%s, line %d: empty name for %q", what, n, ds)
		}
		d, err := parseISODate(ds)
		if err != nil {
			return nil, domain.Err(domain.CodeInvalidField, "%s, line %d: %v", what, n, err)
		}
		if prev, dup := seen[d]; dup {
			return nil, domain.Err(domain.CodeInvalidField, "%s, line %d: date %s repeats line %d", what, n, ds, prev)
		}
		seen[d] = n
		out = append(out, holidayLine{d: d, name: name, line: n})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, domain.Err(domain.CodeInvalidField, "%s, line %d: longer than %d bytes", what, n+1, maxLine)
		}
		return nil, domain.Wrap(domain.CodeInvalidField, err, "%s: read failed", what)
	}
	if !header {
		return nil, domain.Err(domain.CodeInvalidField, "%s: empty file, want the header \"date,name\"", what)
	}
	return out, nil
}

// parseISODate accepts exactly YYYY-MM-DD naming a real day.
func parseISODate(s string) (date.Date, error) {
	if len(s) != len("2006-01-02") {
		return date.Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return date.Date{}, fmt.Errorf("date %q is not a valid YYYY-MM-DD date", s)
	}
	return date.New(t.Date()), nil
}

// LoadCalendar builds a calendar from a national-holiday list and, when
// extra is not nil, the operator's extra closures, both in the date,name CSV
// format of the Cabinet Office list (data/jp-national-holidays.csv). The
// calendar covers the years from the first to the last year of the holiday
// list; every year in between must have at least one holiday (a missing year
// would silently become a year without holidays), and every extra closure
// must fall within those years. A closure on a day already closed is allowed.
func LoadCalendar(holidays io.Reader, extra io.Reader) (*Calendar, error) {
	hs, err := parseHolidays(holidays, "national holidays")
	if err != nil {
		return nil, err
	}
	if len(hs) == 0 {
		return nil, domain.Err(domain.CodeInvalidField, "national holidays: no dates after the header")
	}
	var xs []holidayLine
	if extra != nil {
		if xs, err = parseHolidays(extra, "extra closures"); err != nil {
			return nil, err
		}
	}
	c := &Calendar{first: hs[0].d.Year(), last: hs[0].d.Year(), names: make(map[date.Date]string, len(hs))}
	years := map[int]bool{}
	for _, h := range hs {
		y := h.d.Year()
		years[y] = true
		c.first = min(c.first, y)
		c.last = max(c.last, y)
		c.names[h.d] = h.name
	}
	for y := c.first; y <= c.last; y++ {
		if !years[y] {
			return nil, domain.Err(domain.CodeInvalidField, "national holidays: no holiday in year %d, between %d and %d (is a year missing?)", y, c.first, c.last)
		}
	}
	c.base = date.New(c.first, time.January, 1)
	c.days = int(date.New(c.last+1, time.January, 1).Sub(c.base))
	c.closed = make([]uint64, (c.days+63)/64)
	for i := range c.days {
		d := c.base.Add(date.PeriodOfDays(i))
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			c.setClosed(i)
		}
	}
	for y := c.first; y <= c.last; y++ {
		for _, d := range bankHolidays(y) {
			c.setClosed(int(d.Sub(c.base)))
		}
	}
	for _, h := range hs {
		c.setClosed(int(h.d.Sub(c.base)))
	}
	if len(xs) > 0 {
		c.extra = make(map[date.Date]string, len(xs))
	}
	for _, x := range xs {
		if y := x.d.Year(); y < c.first || y > c.last {
			return nil, domain.Err(domain.CodeInvalidField, "extra closures, line %d: %s is outside the years of the national holiday list (%d..%d)", x.line, x.d, c.first, c.last)
		}
		c.extra[x.d] = x.name
		c.setClosed(int(x.d.Sub(c.base)))
	}
	return c, nil
}

// bankHolidays are the days closed by law in every year besides weekends
// and national holidays (Banking Act enforcement order art. 5(1)).
func bankHolidays(y int) [3]date.Date {
	return [3]date.Date{date.New(y, time.January, 2), date.New(y, time.January, 3), date.New(y, time.December, 31)}
}

func (c *Calendar) setClosed(i int) { c.closed[i/64] |= 1 << (i % 64) }

// index returns d's position in the bitset, or an error naming d's year when
// the calendar does not cover it.
func (c *Calendar) index(d date.Date) (int, error) {
	if c.broken != nil {
		return 0, c.broken
	}
	i := int(d.Sub(c.base))
	if i < 0 || i >= c.days {
		return 0, c.yearErr(d)
	}
	return i, nil
}

func (c *Calendar) yearErr(d date.Date) error {
	return domain.Wrap(domain.CodeInvalidField, &YearError{Year: d.Year(), First: c.first, Last: c.last}, "bank calendar, %s", d)
}

// Years returns the first and last year the calendar covers.
func (c *Calendar) Years() (first, last int) { return c.first, c.last }

// IsBusinessDay reports whether d is a bank business day. A date outside
// the years covered is an error (its cause a *YearError), never a guess.
func (c *Calendar) IsBusinessDay(d date.Date) (bool, error) {
	i, err := c.index(d)
	if err != nil {
		return false, err
	}
	return c.closed[i/64]&(1<<(i%64)) == 0, nil
}

// ClosedReason says why d is not a business day: "Saturday", "Sunday",
// "national holiday 元日", "bank holiday (Dec 31)", "extra closure NAME";
// several reasons are joined with "; ". It is "" for a business day.
func (c *Calendar) ClosedReason(d date.Date) (string, error) {
	if _, err := c.index(d); err != nil {
		return "", err
	}
	var rs []string
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		rs = append(rs, wd.String())
	}
	if n, ok := c.names[d]; ok {
		rs = append(rs, "national holiday "+n)
	}
	if _, m, day := d.Date(); (m == time.December && day == 31) || (m == time.January && (day == 2 || day == 3)) {
		rs = append(rs, fmt.Sprintf("bank holiday (%s %d)", m.String()[:3], day))
	}
	if n, ok := c.extra[d]; ok {
		rs = append(rs, "extra closure "+n)
	}
	return strings.Join(rs, "; "), nil
}

// step moves from d one day at a time in direction dir (+1 or -1) until a
// business day, d itself included.
func (c *Calendar) step(d date.Date, dir int) (date.Date, error) {
	for {
		ok, err := c.IsBusinessDay(d)
		if err != nil {
			return date.Date{}, err
		}
		if ok {
			return d, nil
		}
		d = d.Add(date.PeriodOfDays(dir))
	}
}

// PrevBusinessDay returns d if it is a business day, else the last business
// day before it.
func (c *Calendar) PrevBusinessDay(d date.Date) (date.Date, error) { return c.step(d, -1) }

// NextBusinessDay returns d if it is a business day, else the first business
// day after it.
func (c *Calendar) NextBusinessDay(d date.Date) (date.Date, error) { return c.step(d, +1) }

// AddBusinessDays returns the n-th business day after d (n > 0) or before d
// (n < 0), not counting d itself, which need not be a business day; n == 0
// returns d unchanged. AddBusinessDays(payday, -2) is the notice date.
func (c *Calendar) AddBusinessDays(d date.Date, n int) (date.Date, error) {
	if _, err := c.index(d); err != nil {
		return date.Date{}, err
	}
	dir := 1
	if n < 0 {
		dir, n = -1, -n
	}
	for ; n > 0; n-- {
		var err error
		if d, err = c.step(d.Add(date.PeriodOfDays(dir)), dir); err != nil {
			return date.Date{}, err
		}
	}
	return d, nil
}
