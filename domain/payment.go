package domain

import (
	"time"

	"github.com/rickb777/date"
)

// Kind tells card payments from e-money payments.
type Kind string

// Payment kinds.
const (
	KindCard   Kind = "card"
	KindEmoney Kind = "emoney"
)

// VoidWindowDays: a void whose business date is this many days or more after
// the authorization's business date is rejected ng-91 (manual: 与信照会から60日以上経過).
const VoidWindowDays = 60

// Payment is the decision state of one payment, folded from its events.
type Payment struct {
	Exists   bool
	Kind     Kind
	ID       PaymentID
	Merchant MerchantID
	Brand    Brand
	Card     CardRef
	AuthDate date.Date // business date of the authorization or debit

	// card
	Approved   bool
	Authorized Yen
	Captured   Yen
	Refunded   Yen
	Voided     bool

	// e-money
	Amount   Yen
	Outcome  string
	Training bool
	Balance  Yen // balance before the debit
}

// Evolve folds one event into the state. at is the event's processing time.
func (p *Payment) Evolve(e Event, at time.Time) {
	switch e := e.(type) {
	case CardAuthorized:
		*p = Payment{Exists: true, Kind: KindCard, ID: e.Payment, Merchant: e.Merchant, Brand: e.Brand,
			Card: CardRef{e.CardLast4, e.CardFingerprint}, AuthDate: BusinessDate(at), Approved: true, Authorized: e.Amount}
	case CardDeclined:
		*p = Payment{Exists: true, Kind: KindCard, ID: e.Payment, Merchant: e.Merchant, Brand: e.Brand,
			Card: CardRef{e.CardLast4, e.CardFingerprint}, AuthDate: BusinessDate(at), Authorized: e.Amount}
	case CardCaptured:
		p.Captured += e.Amount
	case CardVoided:
		p.Voided = true
	case CardRefunded:
		p.Refunded += e.Amount
	case EmoneyDebit:
		*p = Payment{Exists: true, Kind: KindEmoney, ID: e.Payment, Merchant: e.Merchant,
			Card: CardRef{e.CardLast4, e.CardFingerprint}, AuthDate: BusinessDate(at),
			Amount: e.Amount, Outcome: e.Outcome, Training: e.Training, Balance: e.BalanceBefore}
	case EmoneyResolved:
		p.Outcome = e.Outcome
	}
}

// Decide applies the payment rules of shared/domain.md to a command and
// returns the events to record, or an Error with the rule's code. It never
// changes p. now is the processing time the events will carry.
func (p Payment) Decide(c Command, now time.Time) ([]Event, error) {
	switch c := c.(type) {
	case Authorize:
		return p.authorize(c)
	case Capture:
		return p.capture(c)
	case Void:
		return p.void(c, now)
	case Refund:
		return p.refund(c)
	case EmoneyDebitCmd:
		return p.debit(c)
	case EmoneyResolve:
		return p.resolve(c)
	}
	return nil, Err(CodeUnknownType, "unknown command %T", c)
}

func (p Payment) authorize(c Authorize) ([]Event, error) {
	if p.Exists {
		return nil, Err(CodePaymentExists, "payment %s already exists", c.Payment)
	}
	if err := CheckAmount("amount", c.Amount); err != nil {
		return nil, err
	}
	if c.Installments < 1 || c.Installments > MaxInstallments {
		return nil, Err(CodeInvalidField, "installments %d must be 1..%d", c.Installments, MaxInstallments)
	}
	if c.Result == ResultApproved {
		if c.CardCompanyCode != "" {
			return nil, Err(CodeInvalidField, "card_company_code %s goes only with a decline", c.CardCompanyCode)
		}
		return []Event{CardAuthorized{Payment: c.Payment, Merchant: c.Merchant, Brand: c.Brand, Amount: c.Amount,
			Installments: c.Installments, CardLast4: c.Card.Last4, CardFingerprint: c.Card.Fingerprint,
			Terminal: c.Terminal, Result: c.Result}}, nil
	}
	if !IsDeclineResult(c.Result) {
		return nil, Err(CodeInvalidField, "result %q must be ok-01 or ng-01..ng-08", c.Result)
	}
	if c.CardCompanyCode != "" && !IsCardCompanyCode(c.CardCompanyCode) {
		return nil, Err(CodeInvalidField, "card_company_code %q is not a Gxx code of the catalogue", c.CardCompanyCode)
	}
	return []Event{CardDeclined{Payment: c.Payment, Merchant: c.Merchant, Brand: c.Brand, Amount: c.Amount,
		Installments: c.Installments, CardLast4: c.Card.Last4, CardFingerprint: c.Card.Fingerprint,
		Terminal: c.Terminal, Result: c.Result, CardCompanyCode: c.CardCompanyCode}}, nil
}

func (p Payment) card(id PaymentID) error {
	if !p.Exists {
		return Err(CodePaymentNotFound, "payment %s not found", id)
	}
	if p.Kind != KindCard {
		return Err(CodeWrongKind, "payment %s is an e-money payment", id)
	}
	return nil
}

func (p Payment) capture(c Capture) ([]Event, error) {
	if err := p.card(c.Payment); err != nil {
		return nil, err
	}
	if !p.Approved || p.Voided || p.Captured > 0 {
		return nil, Err(CodeNotCapturable, "payment %s: %s", c.Payment, p.cardState())
	}
	amount := c.Amount
	if amount == 0 {
		amount = p.Authorized
	}
	if err := CheckAmount("amount", amount); err != nil {
		return nil, err
	}
	if amount > p.Authorized {
		return nil, Err(CodeCaptureTooBig, "capture %d exceeds the authorized %d", amount, p.Authorized)
	}
	return []Event{CardCaptured{Payment: p.ID, Merchant: p.Merchant, Brand: p.Brand, Amount: amount}}, nil
}

func (p Payment) void(c Void, now time.Time) ([]Event, error) {
	if !p.Exists {
		return nil, Err(CodePaymentNotFound, "payment %s not found", c.Payment)
	}
	if p.Kind == KindEmoney {
		return nil, Err(CodeRefundImpossible, "payment %s is e-money: it can never be voided (refund cash instead)", c.Payment)
	}
	if !p.Approved {
		return nil, Err(CodeVoidImpossible, "payment %s was declined: there is no authorization to void", c.Payment)
	}
	if p.Voided || p.Captured > 0 {
		return nil, Err(CodeAlreadyDone, "payment %s: %s", c.Payment, p.cardState())
	}
	if c.Card != nil && c.Card.Fingerprint != p.Card.Fingerprint {
		return nil, Err(CodeOtherCard, "payment %s: the card presented is not the authorization's card", c.Payment)
	}
	if days := BusinessDate(now).Sub(p.AuthDate); days >= VoidWindowDays {
		return nil, Err(CodeVoidImpossible, "payment %s: authorized on %s, %d days ago (60 or more)", c.Payment, p.AuthDate, days)
	}
	return []Event{CardVoided{Payment: p.ID, Merchant: p.Merchant, Brand: p.Brand, Amount: p.Authorized, Result: ResultVoided}}, nil
}

func (p Payment) refund(c Refund) ([]Event, error) {
	if !p.Exists {
		return nil, Err(CodePaymentNotFound, "payment %s not found", c.Payment)
	}
	if p.Kind == KindEmoney {
		return nil, Err(CodeRefundImpossible, "payment %s is e-money: it can never be refunded (refund cash instead)", c.Payment)
	}
	if err := CheckAmount("amount", c.Amount); err != nil {
		return nil, err
	}
	left := p.Captured - p.Refunded
	if left <= 0 {
		return nil, Err(CodeRefundImpossible, "payment %s: nothing left to refund (%s)", c.Payment, p.cardState())
	}
	if c.Card.Fingerprint != p.Card.Fingerprint {
		return nil, Err(CodeOtherCard, "payment %s: the card presented is not the sale's card", c.Payment)
	}
	if c.Amount > left {
		return nil, Err(CodeRefundTooBig, "refund %d exceeds the %d left to refund", c.Amount, left)
	}
	return []Event{CardRefunded{Payment: p.ID, Merchant: p.Merchant, Brand: p.Brand, Amount: c.Amount, Result: ResultRefunded}}, nil
}

func (p Payment) debit(c EmoneyDebitCmd) ([]Event, error) {
	if p.Exists {
		return nil, Err(CodePaymentExists, "payment %s already exists", c.Payment)
	}
	if err := CheckAmount("amount", c.Amount); err != nil {
		return nil, err
	}
	maxBalance := EmoneyCardLimit
	if c.Training {
		maxBalance = TrainingBalance
	}
	if c.BalanceBefore < 0 || c.BalanceBefore > maxBalance {
		return nil, Err(CodeEmoneyOverLimit, "balance_before %d must be 0..%d", c.BalanceBefore, maxBalance)
	}
	if c.Amount > EmoneyCardLimit {
		return nil, Err(CodeEmoneyOverLimit, "debit %d exceeds the card limit of 20,000 yen", c.Amount)
	}
	if c.Amount > c.BalanceBefore {
		return nil, Err(CodeEmoneyOverBal, "debit %d exceeds the card balance %d", c.Amount, c.BalanceBefore)
	}
	e := EmoneyDebit{Payment: c.Payment, Merchant: c.Merchant, Amount: c.Amount, CardLast4: c.Card.Last4,
		CardFingerprint: c.Card.Fingerprint, BalanceBefore: c.BalanceBefore, Terminal: c.Terminal,
		Training: c.Training, Outcome: c.Outcome}
	switch c.Outcome {
	case OutcomeSucceeded:
		after := c.BalanceBefore - c.Amount
		e.BalanceAfter = &after
	case OutcomeFailed:
		after := c.BalanceBefore
		e.BalanceAfter = &after
	case OutcomeUnknown:
	default:
		return nil, Err(CodeInvalidField, "outcome %q must be succeeded, failed or unknown", c.Outcome)
	}
	return []Event{e}, nil
}

func (p Payment) resolve(c EmoneyResolve) ([]Event, error) {
	if !p.Exists {
		return nil, Err(CodePaymentNotFound, "payment %s not found", c.Payment)
	}
	if p.Kind != KindEmoney {
		return nil, Err(CodeWrongKind, "payment %s is a card payment", c.Payment)
	}
	if p.Outcome != OutcomeUnknown {
		return nil, Err(CodeNotUnknown, "payment %s already %s", c.Payment, p.Outcome)
	}
	after := p.Balance
	switch c.Outcome {
	case OutcomeSucceeded:
		after -= p.Amount
	case OutcomeFailed:
	default:
		return nil, Err(CodeInvalidField, "outcome %q must be succeeded or failed", c.Outcome)
	}
	return []Event{EmoneyResolved{Payment: p.ID, Merchant: p.Merchant, Amount: p.Amount, Outcome: c.Outcome,
		BalanceAfter: after, Training: p.Training}}, nil
}

func (p Payment) cardState() string {
	switch {
	case !p.Approved:
		return "the authorization was declined"
	case p.Voided:
		return "the authorization was voided"
	case p.Captured == 0:
		return "authorized, not captured"
	case p.Refunded >= p.Captured:
		return "fully refunded"
	case p.Refunded > 0:
		return "captured and partly refunded"
	default:
		return "already captured"
	}
}

// Manual result codes the rules use.
const (
	ResultApproved       = "ok-01"
	ResultRefunded       = "ok-40"
	ResultVoided         = "ok-90"
	CodeVoidImpossible   = "ng-91" // void of a declined authorization or 60+ days later
	CodeAlreadyDone      = "P1241" // void of a voided or captured authorization
	CodeOtherCard        = "P1245" // refund/void with a different card
	CodeRefundImpossible = "P1441" // nothing to refund, or e-money
)

// IsDeclineResult reports whether r is an authorization decline code ng-01..ng-08.
func IsDeclineResult(r string) bool {
	return len(r) == 5 && r[:4] == "ng-0" && r[4] >= '1' && r[4] <= '8'
}

// IsCardCompanyCode reports whether g is one of the manual's Gxx codes.
func IsCardCompanyCode(g string) bool {
	c, ok := codeIndex[g]
	return ok && len(g) == 3 && g[0] == 'G' && c.Source == "manual"
}
