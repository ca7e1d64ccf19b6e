package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Event is a payload with a stable type name and schema version. The
// canonical encoding of a payload is its JSON form with the field names
// below; docs/events.md is the catalogue. A type's fields are only ever
// added (with a version bump when the meaning changes); old versions keep
// decoding from the fixtures in testdata/events.
type Event interface {
	EventType() string
	EventVersion() int
}

// Event type names. They are stored with every event: never rename one.
const (
	TypeCardAuthorized   = "card.authorized"
	TypeCardDeclined     = "card.declined"
	TypeCardCaptured     = "card.captured"
	TypeCardVoided       = "card.voided"
	TypeCardRefunded     = "card.refunded"
	TypeEmoneySucceeded  = "emoney.debit_succeeded"
	TypeEmoneyFailed     = "emoney.debit_failed"
	TypeEmoneyUnknown    = "emoney.debit_unknown"
	TypeEmoneyResolved   = "emoney.debit_resolved"
	TypeEmoneyTrainingOK = "emoney.training_debit"
)

// CardAuthorized: the card company approved an authorization (ok-01).
type CardAuthorized struct {
	Payment         PaymentID  `json:"payment"`
	Merchant        MerchantID `json:"merchant"`
	Brand           Brand      `json:"brand"`
	Amount          Yen        `json:"amount"`
	Installments    int        `json:"installments"`
	CardLast4       string     `json:"card_last4"`
	CardFingerprint string     `json:"card_fingerprint"`
	Terminal        string     `json:"terminal,omitempty"`
	Result          string     `json:"result"` // ok-01
}

// CardDeclined: the authorization was declined (ng-01..ng-08, optionally
// with the card company's Gxx code). Recorded for the audit trail; no money.
type CardDeclined struct {
	Payment         PaymentID  `json:"payment"`
	Merchant        MerchantID `json:"merchant"`
	Brand           Brand      `json:"brand"`
	Amount          Yen        `json:"amount"`
	Installments    int        `json:"installments"`
	CardLast4       string     `json:"card_last4"`
	CardFingerprint string     `json:"card_fingerprint"`
	Terminal        string     `json:"terminal,omitempty"`
	Result          string     `json:"result"`                      // ng-xx
	CardCompanyCode string     `json:"card_company_code,omitempty"` // Gxx
}

// CardCaptured: the sale is confirmed (売上確定) for Amount <= authorized.
type CardCaptured struct {
	Payment  PaymentID  `json:"payment"`
	Merchant MerchantID `json:"merchant"`
	Brand    Brand      `json:"brand"`
	Amount   Yen        `json:"amount"`
}

// CardVoided: an uncaptured authorization was cancelled (与信取消, ok-90).
type CardVoided struct {
	Payment  PaymentID  `json:"payment"`
	Merchant MerchantID `json:"merchant"`
	Brand    Brand      `json:"brand"`
	Amount   Yen        `json:"amount"` // the authorized amount released
	Result   string     `json:"result"` // ok-90
}

// CardRefunded: captured money given back (売上取消/返品, ok-40), in full or in part.
type CardRefunded struct {
	Payment  PaymentID  `json:"payment"`
	Merchant MerchantID `json:"merchant"`
	Brand    Brand      `json:"brand"`
	Amount   Yen        `json:"amount"`
	Result   string     `json:"result"` // ok-40
}

// EmoneyDebit is the payload of the three e-money debit events (succeeded,
// failed, unknown) and of a training debit. BalanceAfter is what the card
// holds after the debit as far as the ledger knows: before-amount when
// succeeded, before when failed, and nil (unknown) until resolved.
type EmoneyDebit struct {
	Payment         PaymentID  `json:"payment"`
	Merchant        MerchantID `json:"merchant"`
	Amount          Yen        `json:"amount"`
	CardLast4       string     `json:"card_last4"`
	CardFingerprint string     `json:"card_fingerprint"`
	BalanceBefore   Yen        `json:"balance_before"`
	BalanceAfter    *Yen       `json:"balance_after"`
	Terminal        string     `json:"terminal,omitempty"`
	Training        bool       `json:"training,omitempty"`
	Outcome         string     `json:"outcome"` // succeeded | failed | unknown
}

// EmoneyResolved: an unknown debit's outcome, learned from a balance
// inquiry (残高照会). A success counts on the resolution's business date.
type EmoneyResolved struct {
	Payment      PaymentID  `json:"payment"`
	Merchant     MerchantID `json:"merchant"`
	Amount       Yen        `json:"amount"`
	Outcome      string     `json:"outcome"` // succeeded | failed
	BalanceAfter Yen        `json:"balance_after"`
	Training     bool       `json:"training,omitempty"`
}

// E-money outcomes.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	OutcomeUnknown   = "unknown"
)

func (CardAuthorized) EventType() string { return TypeCardAuthorized }
func (CardDeclined) EventType() string   { return TypeCardDeclined }
func (CardCaptured) EventType() string   { return TypeCardCaptured }
func (CardVoided) EventType() string     { return TypeCardVoided }
func (CardRefunded) EventType() string   { return TypeCardRefunded }
func (EmoneyResolved) EventType() string { return TypeEmoneyResolved }

// EventType of a debit follows its outcome; a training debit has its own
// type so that no money-counting reader can mistake it for a sale.
func (e EmoneyDebit) EventType() string {
	switch {
	case e.Training:
		return TypeEmoneyTrainingOK
	case e.Outcome == OutcomeSucceeded:
		return TypeEmoneySucceeded
	case e.Outcome == OutcomeFailed:
		return TypeEmoneyFailed
	default:
		return TypeEmoneyUnknown
	}
}

func (CardAuthorized) EventVersion() int { return 1 }
func (CardDeclined) EventVersion() int   { return 1 }
func (CardCaptured) EventVersion() int   { return 1 }
func (CardVoided) EventVersion() int     { return 1 }
func (CardRefunded) EventVersion() int   { return 1 }
func (EmoneyDebit) EventVersion() int    { return 1 }
func (EmoneyResolved) EventVersion() int { return 1 }

// EncodeEvent returns the canonical encoding of a payload.
func EncodeEvent(e Event) ([]byte, error) { return json.Marshal(e) }

// decoders maps a type name and version to a decoder. Settlement and
// merchant events register theirs with RegisterEvent.
var decoders = map[string]func([]byte) (Event, error){}

func init() {
	RegisterEvent(TypeCardAuthorized, 1, decodeAs[CardAuthorized])
	RegisterEvent(TypeCardDeclined, 1, decodeAs[CardDeclined])
	RegisterEvent(TypeCardCaptured, 1, decodeAs[CardCaptured])
	RegisterEvent(TypeCardVoided, 1, decodeAs[CardVoided])
	RegisterEvent(TypeCardRefunded, 1, decodeAs[CardRefunded])
	for _, t := range []string{TypeEmoneySucceeded, TypeEmoneyFailed, TypeEmoneyUnknown, TypeEmoneyTrainingOK} {
		RegisterEvent(t, 1, decodeAs[EmoneyDebit])
	}
	RegisterEvent(TypeEmoneyResolved, 1, decodeAs[EmoneyResolved])
}

// RegisterEvent adds a decoder for a type name and version.
func RegisterEvent(typ string, version int, dec func([]byte) (Event, error)) {
	decoders[fmt.Sprintf("%s@%d", typ, version)] = dec
}

// DecodeEvent decodes a recorded payload by its type name and version.
// Unknown fields are an error: a payload must be exactly what its schema says.
func DecodeEvent(typ string, version int, data []byte) (Event, error) {
	dec, ok := decoders[fmt.Sprintf("%s@%d", typ, version)]
	if !ok {
		return nil, Err(CodeUnknownType, "unknown event type %s version %d", typ, version)
	}
	return dec(data)
}

func decodeAs[T Event](data []byte) (Event, error) {
	var v T
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&v); err != nil {
		return nil, Wrap(CodeMalformed, err, "decoding %T", v)
	}
	return v, nil
}
