package domain

import "fmt"

// Payout event type names. Never rename one.
const (
	TypePayoutIssued   = "payout.issued"
	TypePayoutIndexed  = "payout.indexed"
	TypePayoutPaid     = "payout.paid"
	TypePayoutReturned = "payout.returned"
)

// PayoutLine is one brand group and period of a payout.
type PayoutLine struct {
	Group       Group  `json:"group"`
	PeriodStart string `json:"period_start"` // YYYY-MM-DD
	PeriodEnd   string `json:"period_end"`
	Count       int64  `json:"count"`
	Sales       Yen    `json:"sales"`
	Rate        string `json:"rate"` // percent, effective on the period's close date
	Fee         Yen    `json:"fee"`
	Amount      Yen    `json:"amount"`
}

// PayoutIssued records every figure of one merchant's payout for one
// payday, with the merchant's name, contact and bank account as they were,
// so that a notice is built from this event alone and never recomputed.
// Stream: payout-<merchant>-<YYYYMMDD>, appended with NoStream.
type PayoutIssued struct {
	Merchant       MerchantID   `json:"merchant"`
	Payday         string       `json:"payday"`
	NoticeDate     string       `json:"notice_date"`
	NoticeNo       string       `json:"notice_no"` // <merchant>-<seq>-<YYYYMMDD>
	Name           string       `json:"name"`
	Contact        string       `json:"contact"`
	Email          string       `json:"email"`
	Bank           BankAccount  `json:"bank"`
	Lines          []PayoutLine `json:"lines"`
	FeeTotal       Yen          `json:"fee_total"`
	FeeTaxRate     string       `json:"fee_tax_rate"`
	FeeTax         Yen          `json:"fee_tax"`
	PriorPeriod    Yen          `json:"prior_period"`
	PriorFrom      string       `json:"prior_from,omitempty"` // notice number the prior-period amount was carried from
	TransferFee    Yen          `json:"transfer_fee"`
	TransferFeeTax Yen          `json:"transfer_fee_tax"`
	Net            Yen          `json:"net"`
	CarriedForward Yen          `json:"carried_forward"`
	Transferred    bool         `json:"transferred"`
	FeeWaived      bool         `json:"fee_waived"`
}

// PayoutIndexed: a merchant's payout history, one event per payout, in the
// stream payouts-<merchant> (appended in the same transaction as the
// payout), so the next payout finds its prior-period amount in one read.
type PayoutIndexed struct {
	Merchant       MerchantID `json:"merchant"`
	Payday         string     `json:"payday"`
	NoticeNo       string     `json:"notice_no"`
	CarriedForward Yen        `json:"carried_forward"`
}

// PayoutPaid: the bank executed the transfer.
type PayoutPaid struct {
	Merchant MerchantID `json:"merchant"`
	Payday   string     `json:"payday"`
	NoticeNo string     `json:"notice_no"`
}

// PayoutReturned: the bank returned the transfer (組戻し, e.g. a closed account).
type PayoutReturned struct {
	Merchant MerchantID `json:"merchant"`
	Payday   string     `json:"payday"`
	NoticeNo string     `json:"notice_no"`
	Reason   string     `json:"reason"`
}

func (PayoutIssued) EventType() string   { return TypePayoutIssued }
func (PayoutIndexed) EventType() string  { return TypePayoutIndexed }
func (PayoutPaid) EventType() string     { return TypePayoutPaid }
func (PayoutReturned) EventType() string { return TypePayoutReturned }
func (PayoutIssued) EventVersion() int   { return 1 }
func (PayoutIndexed) EventVersion() int  { return 1 }
func (PayoutPaid) EventVersion() int     { return 1 }
func (PayoutReturned) EventVersion() int { return 1 }

func init() {
	RegisterEvent(TypePayoutIssued, 1, decodeAs[PayoutIssued])
	RegisterEvent(TypePayoutIndexed, 1, decodeAs[PayoutIndexed])
	RegisterEvent(TypePayoutPaid, 1, decodeAs[PayoutPaid])
	RegisterEvent(TypePayoutReturned, 1, decodeAs[PayoutReturned])
}

// PayoutStream is the stream of one merchant's payout for one payday.
func PayoutStream(m MerchantID, payday string) StreamID {
	return StreamID(fmt.Sprintf("payout-%s-%s", m, compactDate(payday)))
}

// PayoutIndexStream is a merchant's payout history.
func PayoutIndexStream(m MerchantID) StreamID { return StreamID("payouts-" + string(m)) }

// NoticeNo formats a notice number: <merchant>-<3-digit sequence>-<YYYYMMDD>.
func NoticeNo(m MerchantID, seq int, payday string) string {
	return fmt.Sprintf("%s-%03d-%s", m, seq, compactDate(payday))
}

func compactDate(iso string) string {
	out := make([]byte, 0, 8)
	for i := 0; i < len(iso); i++ {
		if iso[i] != '-' {
			out = append(out, iso[i])
		}
	}
	return string(out)
}
