package scenarios

import (
	"time"

	"github.com/rickb777/date"
	"github.com/shopspring/decimal"

	"upay/domain"
)

// Scenario is a parsed, checked scenario file.
type Scenario struct {
	File      string
	Name      string
	Merchants []Merchant
	Steps     []Step
	Expect    Expect
}

// Merchant is a merchant the scenario registers before its first step.
type Merchant struct {
	Registration   domain.MerchantRegistered
	NoticePassword string // "" when the file gives none
	path           string // merchants[i]
	pos            position
}

// Step is one step, with its processing time resolved.
type Step struct {
	N    int    // 1-based, as expect.rejections counts
	Kind string // authorize, capture, ..., payout_run
	At   time.Time
	// Payment steps: the command as a JSON line of the ingest format
	// (docs/ingest.md), request id and time included.
	Line      []byte
	RequestID string
	Payment   domain.PaymentID

	Merchant  domain.MerchantID  // set_rates, set_bank
	Rates     domain.Rates       // set_rates
	Effective date.Date          // set_rates
	Bank      domain.BankAccount // set_bank
	Payday    date.Date          // payout_run
}

// Expect is what the scenario must lead to. Every rejected step must be in
// Rejections and every issued payout in Payouts.
type Expect struct {
	Rejections []ExpectRejection
	Payouts    []ExpectPayout
}

// ExpectRejection is a step (1-based) rejected with a code; Merchant is set
// for one merchant's failure inside a payout batch.
type ExpectRejection struct {
	Step     int
	Code     string
	Merchant string
}

// ExpectPayout is an issued payout: Merchant and Payday identify it, and
// every other field is compared only when the file gives it (nil: not
// compared). Lines, when given, are compared line by line.
type ExpectPayout struct {
	Merchant       string
	Payday         string
	NoticeDate     *string
	NoticeNo       *string
	Lines          *[]ExpectLine
	FeeTax         *int64
	PriorPeriod    *int64
	TransferFee    *int64
	TransferFeeTax *int64
	Net            *int64
	CarriedForward *int64
}

// ExpectLine is one payout line; nil fields are not compared. Rate is
// compared as a number (3.24 equals 3.240).
type ExpectLine struct {
	Group  *string
	Period *string
	Count  *int64
	Sales  *int64
	Rate   *decimal.Decimal
	Fee    *int64
	Amount *int64
}
