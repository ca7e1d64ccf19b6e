package projections

import (
	"time"

	"upay/domain"
)

// EventDetail is one event of a payment as the details screen (取引詳細)
// shows it: what happened, when, for how much, and the result code with
// its meaning and remedy from the catalogue.
type EventDetail struct {
	Position     domain.Position
	Revision     uint64
	Time         time.Time // processing time
	Type         string
	Amount       domain.Yen
	Code         string // the result code the event records (ok-01, ng-02, ok-40, ok-90); "" when it records none
	CardCode     string // the card company's Gxx code of a decline
	Outcome      string // e-money: succeeded, failed or unknown
	BalanceAfter *domain.Yen
	// Codes are the catalogue entries of Code and CardCode, in that order.
	Codes []domain.Code
}

// Details decodes a payment's recorded events into what the details
// screen shows, in stream order. Errors: U1001/U1002 for an event that
// does not decode.
func Details(evs []domain.RecordedEvent) ([]EventDetail, error) {
	out := make([]EventDetail, 0, len(evs))
	for _, r := range evs {
		e, err := Decode(r.Type, r.Version, r.Data)
		if err != nil {
			return nil, err
		}
		d := EventDetail{Position: r.Position, Revision: r.Revision, Time: r.Time, Type: r.Type}
		switch e := e.(type) {
		case domain.CardAuthorized:
			d.Amount, d.Code = e.Amount, e.Result
		case domain.CardDeclined:
			d.Amount, d.Code, d.CardCode = e.Amount, e.Result, e.CardCompanyCode
		case domain.CardCaptured:
			d.Amount = e.Amount
		case domain.CardVoided:
			d.Amount, d.Code = e.Amount, e.Result
		case domain.CardRefunded:
			d.Amount, d.Code = e.Amount, e.Result
		case domain.EmoneyDebit:
			d.Amount, d.Outcome, d.BalanceAfter = e.Amount, e.Outcome, e.BalanceAfter
		case domain.EmoneyResolved:
			after := e.BalanceAfter
			d.Amount, d.Outcome, d.BalanceAfter = e.Amount, e.Outcome, &after
		}
		for _, c := range []string{d.Code, d.CardCode} {
			if c == "" {
				continue
			}
			if entry, ok := domain.LookupCode(c); ok {
				d.Codes = append(d.Codes, entry)
			} else {
				d.Codes = append(d.Codes, domain.Code{Code: c})
			}
		}
		out = append(out, d)
	}
	return out, nil
}
