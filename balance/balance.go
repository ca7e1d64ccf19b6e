// Package balance assembles a merchant's balance from the read models and
// the settlement calendar: the card sales of each settlement period not yet
// paid, per brand group; the e-money of each month not yet paid; and the
// e-money debits still awaiting resolution, which count nowhere until they
// are resolved.
//
// It sits between projections (which must not know the settlement rules)
// and settlement (which must not know the read models): a period is
// unsettled while its payday, as the calendar moves it to a bank business
// day, is after the balance's date and no payout issued by that date has
// paid it out. The payouts read model adds the merchant's payouts with
// their status as of that date (scheduled, paid, returned), the transfers
// returned (owed again) and the carry-forward waiting for the next payout.
package balance

import (
	"context"
	"slices"
	"time"

	"github.com/rickb777/date"

	"upay/domain"
	"upay/projections"
	"upay/settlement"
)

// Window is how far back from the balance's date period totals are read:
// the oldest period that can still be unpaid is the previous month's
// e-money, paid at the end of this month, so 62 days reach its first day.
const Window = 62

// Line is one brand group of one period: count is captures and refunds,
// sales captures minus refunds processed in the period.
type Line struct {
	Group domain.Group
	Count int64
	Sales domain.Yen
}

// Period is one unsettled settlement period and its lines, in payout-line
// order, only groups with activity.
type Period struct {
	settlement.Period
	Lines []Line
	Count int64
	Sales domain.Yen
}

// Balance is a merchant's unsettled money as of a business date.
type Balance struct {
	Merchant domain.MerchantID
	AsOf     date.Date
	// Card holds the card periods (A: 1..15, B: 16..end) whose payday is
	// after AsOf and that have any capture or refund up to AsOf, oldest
	// first.
	Card []Period
	// Emoney holds the e-money months whose payday is after AsOf, oldest
	// first.
	Emoney []Period
	// Unknown lists the e-money debits awaiting resolution, oldest first;
	// UnknownAmount is what they would add if all succeeded.
	Unknown       []projections.Transaction
	UnknownAmount domain.Yen
	// CardTotal, EmoneyTotal and Total sum the unsettled sales.
	CardTotal, EmoneyTotal, Total domain.Yen
	Payouts
	// Owed is what the merchant is owed and no transfer is on its way
	// for: the unsettled sales, the carry-forward and the returned
	// transfers. As of the last event, and when every payday's batch has
	// run, it equals the merchant's payable in the journal
	// (docs/journal.md).
	Owed domain.Yen
}

// Payouts are a merchant's payouts as of a business date.
type Payouts struct {
	// List holds the payouts issued on or before the date whose payday
	// is at most Window days before it, and any older one still
	// scheduled or returned, by payday; each with its status as of the
	// date (a bank outcome recorded later is not known yet).
	List []projections.Payout
	// Scheduled sums the nets of the transfers issued and not yet
	// reported by the bank; Paid those of the listed paid transfers;
	// Returned those of every returned transfer, owed to the merchant
	// again.
	Scheduled, Paid, Returned domain.Yen
	// CarriedForward is the latest payout's carry-forward (CarriedFrom
	// its notice), which the next payout settles as its prior-period
	// amount; 0 and "" when there is none.
	CarriedForward domain.Yen
	CarriedFrom    string

	settled map[settledKey]bool
}

type settledKey struct {
	group domain.Group
	start string // YYYY-MM-DD
}

// Settles reports whether a payout issued by the date read paid out the
// group's sales of the period starting on start.
func (p Payouts) Settles(g domain.Group, start date.Date) bool {
	return p.settled[settledKey{g, start.String()}]
}

// ReadPayouts reads merchant m's payouts as of business date asOf.
// Errors: those of the read models.
func ReadPayouts(ctx context.Context, rm projections.ReadModels, m domain.MerchantID, asOf date.Date) (Payouts, error) {
	// A payout issued by asOf pays at the latest a month after: the
	// e-money month closes at its end and is paid at the end of the next.
	all, err := rm.Payouts(ctx, m, date.Date{}, asOf.Add(Window))
	if err != nil {
		return Payouts{}, err
	}
	out := Payouts{settled: map[settledKey]bool{}}
	for _, p := range all {
		st := p.StatusOn(asOf)
		if st == "" {
			continue // issued after asOf
		}
		if st != p.Status {
			p.Status, p.Reason, p.OutcomeAt = st, "", time.Time{}
		}
		for _, l := range p.Lines {
			out.settled[settledKey{l.Group, l.PeriodStart}] = true
		}
		out.CarriedForward, out.CarriedFrom = p.CarriedForward, p.NoticeNo // by payday: the last one's stands
		scheduled := st == projections.PayoutStatusIssued && p.Transferred
		switch {
		case scheduled:
			out.Scheduled += p.Net
		case st == projections.PayoutStatusReturned:
			out.Returned += p.Net
		case p.Payday.Before(asOf.Add(-Window)):
			continue // old history
		case st == projections.PayoutStatusPaid:
			out.Paid += p.Net
		}
		out.List = append(out.List, p)
	}
	return out, nil
}

// Compute assembles the balance of merchant m as of business date asOf.
// Cells dated after asOf are left out, so a balance as of a past date
// shows what was unsettled then (as far as later refunds allow: a
// refund recorded later counts on its own, later, date). Errors: those of
// the read models, and U1009 when a date is outside the calendar's years.
func Compute(ctx context.Context, rm projections.ReadModels, cal *settlement.Calendar, m domain.MerchantID, asOf date.Date) (Balance, error) {
	b := Balance{Merchant: m, AsOf: asOf}
	var err error
	if b.Payouts, err = ReadPayouts(ctx, rm, m, asOf); err != nil {
		return Balance{}, err
	}
	cells, err := rm.PeriodTotals(ctx, m, asOf.Add(-Window), asOf)
	if err != nil {
		return Balance{}, err
	}
	type key struct {
		kind  string
		start date.Date
	}
	periods := map[key]*Period{}
	var card, emoney []*Period
	for _, c := range cells {
		kind := settlement.KindCard
		if c.Group == domain.GroupEmoney {
			kind = settlement.KindEmoney
		}
		sp, err := cal.PeriodFor(kind, c.Date)
		if err != nil {
			return Balance{}, err
		}
		if !sp.Payday.After(asOf) || b.Settles(c.Group, sp.Start) {
			continue // paid on or before asOf, or paid out by a payout issued by then
		}
		k := key{kind, sp.Start}
		p := periods[k]
		if p == nil {
			p = &Period{Period: sp}
			periods[k] = p
			if kind == settlement.KindCard {
				card = append(card, p)
			} else {
				emoney = append(emoney, p)
			}
		}
		i := slices.IndexFunc(p.Lines, func(l Line) bool { return l.Group == c.Group })
		if i < 0 {
			p.Lines = append(p.Lines, Line{Group: c.Group})
			i = len(p.Lines) - 1
		}
		p.Lines[i].Count += c.Count
		p.Lines[i].Sales += c.Sales
		p.Count += c.Count
		p.Sales += c.Sales
	}
	byStart := func(a, b *Period) int { return int(a.Start.Sub(b.Start)) }
	slices.SortFunc(card, byStart)
	slices.SortFunc(emoney, byStart)
	for _, p := range card {
		slices.SortFunc(p.Lines, func(a, b Line) int {
			return slices.Index(domain.Groups, a.Group) - slices.Index(domain.Groups, b.Group)
		})
		b.Card = append(b.Card, *p)
		b.CardTotal += p.Sales
	}
	for _, p := range emoney {
		b.Emoney = append(b.Emoney, *p)
		b.EmoneyTotal += p.Sales
	}
	b.Total = b.CardTotal + b.EmoneyTotal
	b.Owed = b.Total + b.CarriedForward + b.Returned
	if b.Unknown, err = rm.UnknownEmoney(ctx, m); err != nil {
		return Balance{}, err
	}
	for _, t := range b.Unknown {
		b.UnknownAmount += t.Amount
	}
	return b, nil
}
