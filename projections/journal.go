package projections

import (
	"upay/domain"
)

// Accounts of the chart (docs/journal.md). Per-merchant accounts carry the
// merchant id after a colon.
const (
	AccCardReceivable    = "acquirer-receivable:card"   // what the card companies owe us for captured sales
	AccEmoneyReceivable  = "acquirer-receivable:emoney" // what the e-money issuers owe us
	AccMerchantPayable   = "merchant-payable"           // + ":<merchant>": what we owe the merchant
	AccFeeRevenue        = "fee-revenue"                // 決済手数料
	AccTaxPayable        = "tax-payable"                // consumption tax on fees and transfer fees
	AccTransferRevenue   = "transfer-fee-revenue"       // 振込手数料
	AccTransferInTransit = "transfer-in-transit"        // payouts issued for transfer, not yet executed by the bank
	AccBank              = "bank"                       // our account the payouts leave from
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

// PayoutLookup finds an issued payout by its notice number.
type PayoutLookup func(noticeNo string) (domain.PayoutIssued, bool)

// Postings returns the balanced entry an event posts, or nil when it moves
// no money (authorizations, declines, voids, failed, unknown and training
// debits, payout index and merchant events).
//
// A payout's bank outcome (payout.paid, payout.returned) carries no
// amount: its entry moves the net of the payout it reports on, which
// issued finds (it may be nil for any other event). Errors: a bank outcome
// whose payout issued cannot find, and a payout.issued whose figures do
// not balance (they break settlement.Payout.Check's identities); either
// would break the books, so the caller stops rather than skip the event.
func Postings(e domain.Event, issued PayoutLookup) ([]Posting, error) {
	switch e := e.(type) {
	case domain.CardCaptured:
		return pair(AccCardReceivable, MerchantPayable(e.Merchant), e.Amount), nil
	case domain.CardRefunded:
		return pair(MerchantPayable(e.Merchant), AccCardReceivable, e.Amount), nil
	case domain.EmoneyDebit:
		if !e.Training && e.Outcome == domain.OutcomeSucceeded {
			return pair(AccEmoneyReceivable, MerchantPayable(e.Merchant), e.Amount), nil
		}
	case domain.EmoneyResolved:
		if !e.Training && e.Outcome == domain.OutcomeSucceeded {
			return pair(AccEmoneyReceivable, MerchantPayable(e.Merchant), e.Amount), nil
		}
	case domain.PayoutIssued:
		return payoutPostings(e)
	case domain.PayoutPaid:
		p, err := lookup(issued, e.NoticeNo, e.EventType())
		if err != nil {
			return nil, err
		}
		return pair(AccTransferInTransit, AccBank, p.Net), nil
	case domain.PayoutReturned:
		p, err := lookup(issued, e.NoticeNo, e.EventType())
		if err != nil {
			return nil, err
		}
		// The transfer never reached the merchant: the money stays in
		// our bank account and is owed to the merchant again.
		return pair(AccTransferInTransit, MerchantPayable(p.Merchant), p.Net), nil
	}
	return nil, nil
}

func lookup(issued PayoutLookup, notice, typ string) (domain.PayoutIssued, error) {
	if issued != nil {
		if p, ok := issued(notice); ok {
			return p, nil
		}
	}
	return domain.PayoutIssued{}, domain.Err(domain.CodeMalformed, "%s of payout %s: the payout.issued it reports on is not in the log", typ, notice)
}

// payoutPostings is a payout's entry, one posting per figure of the
// notice (a zero figure posts nothing, a negative one posts on the other
// side): the lines' sales and the prior-period amount leave the merchant's
// payable; the fees, their taxes and the net (to transfer-in-transit until
// the bank executes the transfer) are credited; a carry-forward stays in
// the payable, owed to (or, negative, by) the merchant until its next
// payout settles it as that payout's prior-period amount.
func payoutPostings(p domain.PayoutIssued) ([]Posting, error) {
	payable := MerchantPayable(p.Merchant)
	var ps []Posting
	for _, l := range p.Lines {
		ps = post(ps, payable, l.Sales)
	}
	ps = post(ps, payable, p.PriorPeriod)
	ps = post(ps, AccFeeRevenue, -p.FeeTotal)
	ps = post(ps, AccTaxPayable, -p.FeeTax)
	ps = post(ps, AccTransferRevenue, -p.TransferFee)
	ps = post(ps, AccTaxPayable, -p.TransferFeeTax)
	ps = post(ps, AccTransferInTransit, -p.Net)
	ps = post(ps, payable, -p.CarriedForward)
	var dr, cr domain.Yen
	for _, x := range ps {
		dr += x.Debit
		cr += x.Credit
	}
	if dr != cr {
		return nil, domain.Err(domain.CodeMalformed, "payout %s does not balance: debits %d, credits %d", p.NoticeNo, dr, cr)
	}
	return ps, nil
}

// post appends a debit of amount to account: a credit when amount is
// negative, nothing when it is zero.
func post(ps []Posting, account string, amount domain.Yen) []Posting {
	switch {
	case amount > 0:
		return append(ps, Posting{Account: account, Debit: amount})
	case amount < 0:
		return append(ps, Posting{Account: account, Credit: -amount})
	}
	return ps
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

// Balance returns an account's balance as its kind reads it: credit − debit
// for liabilities and revenue (credit side true), debit − credit for
// assets.
func (tb TrialBalance) Balance(account string, creditSide bool) domain.Yen {
	b := tb[account]
	if creditSide {
		return b.Credit - b.Debit
	}
	return b.Debit - b.Credit
}
