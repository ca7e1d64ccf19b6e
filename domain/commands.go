package domain

import "time"

// Command is a terminal operation addressed to one payment. Every command
// carries the terminal's request id (the idempotency key) and, in import
// mode only, the processing time to record (At).
type Command interface {
	Meta() CommandMeta
	PaymentID() PaymentID
	Name() string // the command's type name in the input format
}

// CommandMeta is what every command carries besides its payload.
type CommandMeta struct {
	RequestID string
	At        time.Time // zero: the ledger's clock stamps the processing time
}

// Authorize records a card authorization as the payment centre answered it:
// Result ok-01 (approved) or ng-01..ng-08 (declined, CardCompanyCode Gxx optional).
type Authorize struct {
	CommandMeta
	Payment         PaymentID
	Merchant        MerchantID
	Brand           Brand
	Amount          Yen
	Installments    int
	Card            CardRef
	Terminal        string
	Result          string
	CardCompanyCode string
}

// Capture confirms a sale of Amount (0: the authorized amount).
type Capture struct {
	CommandMeta
	Payment PaymentID
	Amount  Yen
}

// Void cancels an uncaptured authorization. Card, when presented, must be
// the authorization's card.
type Void struct {
	CommandMeta
	Payment PaymentID
	Card    *CardRef
}

// Refund gives back captured money; the same card must be presented.
type Refund struct {
	CommandMeta
	Payment PaymentID
	Amount  Yen
	Card    CardRef
}

// EmoneyDebitCmd records an e-money debit as the terminal saw it.
type EmoneyDebitCmd struct {
	CommandMeta
	Payment       PaymentID
	Merchant      MerchantID
	Amount        Yen
	Card          CardRef
	BalanceBefore Yen
	Outcome       string // succeeded | failed | unknown
	Training      bool
	Terminal      string
}

// EmoneyResolve settles an unknown debit after a balance inquiry.
type EmoneyResolve struct {
	CommandMeta
	Payment PaymentID
	Outcome string // succeeded | failed
}

func (c Authorize) Meta() CommandMeta      { return c.CommandMeta }
func (c Capture) Meta() CommandMeta        { return c.CommandMeta }
func (c Void) Meta() CommandMeta           { return c.CommandMeta }
func (c Refund) Meta() CommandMeta         { return c.CommandMeta }
func (c EmoneyDebitCmd) Meta() CommandMeta { return c.CommandMeta }
func (c EmoneyResolve) Meta() CommandMeta  { return c.CommandMeta }

func (c Authorize) PaymentID() PaymentID      { return c.Payment }
func (c Capture) PaymentID() PaymentID        { return c.Payment }
func (c Void) PaymentID() PaymentID           { return c.Payment }
func (c Refund) PaymentID() PaymentID         { return c.Payment }
func (c EmoneyDebitCmd) PaymentID() PaymentID { return c.Payment }
func (c EmoneyResolve) PaymentID() PaymentID  { return c.Payment }

// Command type names of the input format (docs/ingest.md).
const (
	CmdAuthorize     = "authorize"
	CmdCapture       = "capture"
	CmdVoid          = "void"
	CmdRefund        = "refund"
	CmdEmoneyDebit   = "emoney_debit"
	CmdEmoneyResolve = "emoney_resolve"
)

func (Authorize) Name() string      { return CmdAuthorize }
func (Capture) Name() string        { return CmdCapture }
func (Void) Name() string           { return CmdVoid }
func (Refund) Name() string         { return CmdRefund }
func (EmoneyDebitCmd) Name() string { return CmdEmoneyDebit }
func (EmoneyResolve) Name() string  { return CmdEmoneyResolve }
