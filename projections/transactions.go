package projections

import (
	"time"

	"github.com/rickb777/date"

	"upay/domain"
)

// Transaction statuses shown in the listing.
const (
	StatusAuthorized        = "authorized"
	StatusCaptured          = "captured"
	StatusPartiallyRefunded = "partially refunded"
	StatusRefunded          = "refunded"
	StatusVoided            = "voided"
	StatusDeclined          = "declined"
	StatusUnknown           = "unknown"
	StatusFailed            = "failed"
	StatusTraining          = "training"
)

// Statuses lists every status, for validating search input.
var Statuses = []string{StatusAuthorized, StatusCaptured, StatusPartiallyRefunded, StatusRefunded,
	StatusVoided, StatusDeclined, StatusUnknown, StatusFailed, StatusTraining}

// Transaction is one row of the listing (取引一覧): one payment.
type Transaction struct {
	Payment       domain.PaymentID
	Merchant      domain.MerchantID
	Kind          domain.Kind
	Brand         string     // card brand, or "emoney"
	Amount        domain.Yen // authorized (card) or debited (e-money) amount
	Captured      domain.Yen // money taken: card captures, e-money successes
	Refunded      domain.Yen
	Status        string
	LastCode      string     // the last result code (ok-01, ng-02, ok-40, ...)
	CardCode      string     // the card company's Gxx code of a decline
	SalesDate     *date.Date // business date the money was taken (売上処理日)
	ReturnDate    *date.Date // business date of the last refund (返品処理日)
	MaskedCard    string     // "************1111"
	Installments  int
	Terminal      string
	BalanceBefore *domain.Yen // e-money
	BalanceAfter  *domain.Yen // e-money, nil while unknown
	Payout        string      // the notice number that settled it, once paid out
	CreatedAt     time.Time   // processing time of the first event
	UpdatedAt     time.Time
	Position      domain.Position // of the last event applied
}

func mask(last4 string) string { return "************" + last4 }

// Apply folds one event of the payment's stream into its row.
func (t *Transaction) Apply(e domain.Event, at time.Time, pos domain.Position) {
	d := domain.BusinessDate(at)
	t.UpdatedAt, t.Position = at, pos
	switch e := e.(type) {
	case domain.CardAuthorized:
		*t = Transaction{Payment: e.Payment, Merchant: e.Merchant, Kind: domain.KindCard, Brand: string(e.Brand),
			Amount: e.Amount, Status: StatusAuthorized, LastCode: e.Result, MaskedCard: mask(e.CardLast4),
			Installments: e.Installments, Terminal: e.Terminal, CreatedAt: at, UpdatedAt: at, Position: pos}
	case domain.CardDeclined:
		*t = Transaction{Payment: e.Payment, Merchant: e.Merchant, Kind: domain.KindCard, Brand: string(e.Brand),
			Amount: e.Amount, Status: StatusDeclined, LastCode: e.Result, CardCode: e.CardCompanyCode,
			MaskedCard: mask(e.CardLast4), Installments: e.Installments, Terminal: e.Terminal,
			CreatedAt: at, UpdatedAt: at, Position: pos}
	case domain.CardCaptured:
		t.Captured += e.Amount
		t.Status = StatusCaptured
		t.SalesDate = &d
	case domain.CardVoided:
		t.Status = StatusVoided
		t.LastCode = e.Result
	case domain.CardRefunded:
		t.Refunded += e.Amount
		t.LastCode = e.Result
		t.ReturnDate = &d
		if t.Refunded >= t.Captured {
			t.Status = StatusRefunded
		} else {
			t.Status = StatusPartiallyRefunded
		}
	case domain.EmoneyDebit:
		before := e.BalanceBefore
		*t = Transaction{Payment: e.Payment, Merchant: e.Merchant, Kind: domain.KindEmoney, Brand: "emoney",
			Amount: e.Amount, MaskedCard: mask(e.CardLast4), Terminal: e.Terminal, BalanceBefore: &before,
			BalanceAfter: e.BalanceAfter, CreatedAt: at, UpdatedAt: at, Position: pos, Installments: 1}
		switch {
		case e.Training:
			t.Status = StatusTraining
		case e.Outcome == domain.OutcomeSucceeded:
			t.Status, t.Captured, t.SalesDate = StatusCaptured, e.Amount, &d
		case e.Outcome == domain.OutcomeFailed:
			t.Status = StatusFailed
		default:
			t.Status = StatusUnknown
		}
	case domain.EmoneyResolved:
		after := e.BalanceAfter
		t.BalanceAfter = &after
		switch {
		case e.Training:
			t.Status = StatusTraining
		case e.Outcome == domain.OutcomeSucceeded:
			// Counts on the resolution's business date (domain.md, chosen).
			t.Status, t.Captured, t.SalesDate = StatusCaptured, e.Amount, &d
		default:
			t.Status = StatusFailed
		}
	}
}
