package httpapi

import (
	"context"
	"slices"

	"github.com/rickb777/date"

	bal "upay/balance"
	"upay/domain"
	"upay/projections"
	"upay/settlement"
)

// balanceJSON is a merchant's unsettled money as of a business date: the
// period totals of every settlement period whose payday is on or after
// as_of (or whose payday the calendar cannot tell) and that no payout
// issued by as_of has paid out, summed over the days from..as_of, plus the
// e-money debits awaiting resolution, which count nowhere in money until
// resolved. The window from the first day of the previous month covers
// every unpaid period: the longest, an e-money month, is paid at the end
// of the next month. Payouts lists the merchant's payouts as of as_of
// (balance.ReadPayouts); Owed is the unsettled total plus the
// carry-forward plus the returned transfers.
type balanceJSON struct {
	Merchant      string              `json:"merchant"`
	AsOf          string              `json:"as_of"`
	From          string              `json:"from"`
	To            string              `json:"to"`
	Periods       []balancePeriodJSON `json:"periods"`
	Unsettled     unsettledJSON       `json:"unsettled"`
	UnknownEmoney unknownEmoneyJSON   `json:"unknown_emoney"`
	Payouts       balancePayoutsJSON  `json:"payouts"`
	Owed          int64               `json:"owed"`
}

// balancePayoutsJSON is the merchant's payouts as of the balance's date.
type balancePayoutsJSON struct {
	List           []payoutJSON `json:"list"`
	Scheduled      int64        `json:"scheduled"` // issued, the bank has not reported on the transfer
	Paid           int64        `json:"paid"`      // of the listed payouts
	Returned       int64        `json:"returned"`  // every returned transfer: owed again
	CarriedForward int64        `json:"carried_forward"`
	CarriedFrom    string       `json:"carried_from,omitempty"`
}

// balancePeriodJSON is one brand group's money in one settlement period.
type balancePeriodJSON struct {
	Group      string  `json:"group"`  // VISA/MASTER, JCB/その他, 電子マネー
	Kind       string  `json:"kind"`   // card or emoney
	Start      string  `json:"start"`  // first day of the period
	End        string  `json:"end"`    // last day (the close date)
	Closed     bool    `json:"closed"` // the period ended before as_of
	NoticeDate *string `json:"notice_date"`
	Payday     *string `json:"payday"` // null when the calendar does not cover its year
	Count      int64   `json:"count"`  // captures and refunds
	Sales      int64   `json:"sales"`  // captures minus refunds
}

type unsettledJSON struct {
	Card   int64 `json:"card"`
	Emoney int64 `json:"emoney"`
	Total  int64 `json:"total"`
}

type unknownEmoneyJSON struct {
	Count        int               `json:"count"`
	Amount       int64             `json:"amount"`
	Transactions []TransactionJSON `json:"transactions"`
}

// balance computes the balance of merchant m as of asOf.
func balance(ctx context.Context, rm projections.ReadModels, cal *settlement.Calendar, m domain.MerchantID, asOf date.Date) (balanceJSON, error) {
	y, mo, _ := asOf.Date()
	from := date.New(y, mo-1, 1)
	rows, err := rm.PeriodTotals(ctx, m, from, asOf)
	if err != nil {
		return balanceJSON{}, err
	}
	unknown, err := rm.UnknownEmoney(ctx, m)
	if err != nil {
		return balanceJSON{}, err
	}
	pays, err := bal.ReadPayouts(ctx, rm, m, asOf)
	if err != nil {
		return balanceJSON{}, err
	}
	type key struct {
		group domain.Group
		start date.Date
	}
	cells := map[key]*balancePeriodJSON{}
	var keys []key
	for _, r := range rows {
		if r.Merchant != "" && r.Merchant != m {
			continue
		}
		kind := settlement.KindCard
		if r.Group == domain.GroupEmoney {
			kind = settlement.KindEmoney
		}
		p, perr := cal.PeriodFor(kind, r.Date)
		if perr != nil { // year not covered: bounds by arithmetic, payday unknown
			p = settlement.Period{Kind: kind, Start: r.Date, End: r.Date}
			ry, rmo, rd := r.Date.Date()
			switch {
			case kind == settlement.KindEmoney:
				p.Start, p.End = date.New(ry, rmo, 1), date.New(ry, rmo+1, 0)
			case rd <= 15:
				p.Start, p.End = date.New(ry, rmo, 1), date.New(ry, rmo, 15)
			default:
				p.Start, p.End = date.New(ry, rmo, 16), date.New(ry, rmo+1, 0)
			}
		}
		if !p.Payday.IsZero() && p.Payday.Before(asOf) || pays.Settles(r.Group, p.Start) {
			continue // paid, or paid out by a payout issued by as_of
		}
		k := key{r.Group, p.Start}
		c := cells[k]
		if c == nil {
			c = &balancePeriodJSON{Group: string(r.Group), Kind: kind, Start: p.Start.String(), End: p.End.String(),
				Closed: p.End.Before(asOf)}
			if !p.Payday.IsZero() {
				pd, nd := p.Payday.String(), p.NoticeDate.String()
				c.Payday, c.NoticeDate = &pd, &nd
			}
			cells[k] = c
			keys = append(keys, k)
		}
		c.Count += r.Count
		c.Sales += r.Sales
	}
	order := func(g domain.Group) int { return slices.Index(domain.Groups, g) }
	slices.SortFunc(keys, func(a, b key) int {
		if d := order(a.group) - order(b.group); d != 0 {
			return d
		}
		return int(a.start.Sub(b.start))
	})
	out := balanceJSON{Merchant: string(m), AsOf: asOf.String(), From: from.String(), To: asOf.String(),
		Periods:       make([]balancePeriodJSON, 0, len(keys)),
		UnknownEmoney: unknownEmoneyJSON{Count: len(unknown), Transactions: txViews(unknown)}}
	for _, k := range keys {
		c := cells[k]
		out.Periods = append(out.Periods, *c)
		if c.Kind == settlement.KindEmoney {
			out.Unsettled.Emoney += c.Sales
		} else {
			out.Unsettled.Card += c.Sales
		}
	}
	out.Unsettled.Total = out.Unsettled.Card + out.Unsettled.Emoney
	for _, t := range unknown {
		out.UnknownEmoney.Amount += t.Amount
	}
	out.Payouts = balancePayoutsJSON{List: make([]payoutJSON, len(pays.List)), Scheduled: pays.Scheduled, Paid: pays.Paid,
		Returned: pays.Returned, CarriedForward: pays.CarriedForward, CarriedFrom: pays.CarriedFrom}
	for i, p := range pays.List {
		out.Payouts.List[i] = payoutView(p)
	}
	out.Owed = out.Unsettled.Total + pays.CarriedForward + pays.Returned
	return out, nil
}
