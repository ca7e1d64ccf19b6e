package projections

import (
	"upay/domain"
)

// Accounts of the chart (docs/journal.md). Per-merchant accounts carry the
// merchant id after a colon.
const (
	AccCardReceivable   = "acquirer-receivable:card"   // what the card companies owe us for captured sales
	AccEmoneyReceivable = "acquirer-receivable:emoney" // what the e-money issuers owe us
	AccMerchantPayable  = "merchant-payable"           // + ":<merchant>": what we owe the merchant
	AccFeeRevenue       = "fee-revenue"                // 決済手数料
	AccTaxPayable       = "tax-payable"                // consumption tax on fees and transfer fees
	AccTransferRevenue  = "transfer-fee-revenue"       // 振込手数料
	AccBank             = "bank"                       // our account the payouts leave from
)

// MerchantPayable names a merchant's payable account.
func MerchantPayable(m domain.MerchantID) string { return AccMerchantPayable + ":" + string(m) }

// Posting is one line of a journal entry: exactly one of Debit and Credit
// is positive.
type Posting struct {
	Account string
	Debit   domain.Yen
	Credit  domain.Yen
}

// Postings returns the balanced entry an event posts, or nil when it moves
// no money (authorizations, declines, voids, failed, unknown and training
// debits).
func Postings(e domain.Event) []Posting {
	switch e := e.(type) {
	case domain.CardCaptured:
		return pair(AccCardReceivable, MerchantPayable(e.Merchant), e.Amount)
	case domain.CardRefunded:
		return pair(MerchantPayable(e.Merchant), AccCardReceivable, e.Amount)
	case domain.EmoneyDebit:
		if !e.Training && e.Outcome == domain.OutcomeSucceeded {
			return pair(AccEmoneyReceivable, MerchantPayable(e.Merchant), e.Amount)
		}
	case domain.EmoneyResolved:
		if !e.Training && e.Outcome == domain.OutcomeSucceeded {
			return pair(AccEmoneyReceivable, MerchantPayable(e.Merchant), e.Amount)
		}
	}
	return nil
}

func pair(debit, credit string, amount domain.Yen) []Posting {
	return []Posting{{Account: debit, Debit: amount}, {Account: credit, Credit: amount}}
}

// TrialBalance accumulates postings per account.
type TrialBalance map[string]struct{ Debit, Credit domain.Yen }

// Post adds postings.
func (tb TrialBalance) Post(ps []Posting) {
	for _, p := range ps {
		b := tb[p.Account]
		b.Debit += p.Debit
		b.Credit += p.Credit
		tb[p.Account] = b
	}
}

// Totals returns total debits and credits; they are equal after any prefix
// of the log.
func (tb TrialBalance) Totals() (debit, credit domain.Yen) {
	for _, b := range tb {
		debit += b.Debit
		credit += b.Credit
	}
	return
}
