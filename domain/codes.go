package domain

import (
	"sort"
	"strings"
)

// Code is one entry of the result/error code catalogue: the manual's codes
// (P-codes, E-codes, T0xxxx, ok-xx, ng-xx, Gxx, in-app messages) and the
// codes this ledger adds (Uxxxx) for rules the manual does not cover.
//
// A code may be a pattern: "P01xx" matches P0100..P0199 and "T0xxxx" matches
// T00000..T09999; an exact entry wins over a pattern.
type Code struct {
	Code     string // e.g. "P1245", "ng-91", "P01xx", "U1004"
	Category string // which table it comes from, e.g. "P10xx", "ng-xx (与信取消)", "ledger"
	Message  string // 表示エラー (Japanese), as the manual prints it
	Remedy   string // 解決方法 (Japanese)
	Source   string // "manual" or "ledger" (added by this project)
	Note     string // for ledger codes: the rule it enforces, in English
}

// Codes added by this ledger (source "ledger"), for rules the manual does not
// cover. Never renumber or reuse one: old events and logs refer to them.
const (
	// Input (U1xxx): a command line that cannot be read.
	CodeMalformed     = "U1001" // not valid JSON / YAML
	CodeUnknownType   = "U1002" // unknown command type
	CodeMissingField  = "U1003" // a required field is absent
	CodeInvalidAmount = "U1004" // amount not a positive whole number of yen
	CodeAmountTooBig  = "U1005" // amount above 9,999,999,999 yen
	CodeUnknownBrand  = "U1006" // brand not one of the six card brands
	CodeLineTooLong   = "U1007" // input line over 64 KiB
	CodeInvalidUTF8   = "U1008" // input line is not valid UTF-8
	CodeInvalidField  = "U1009" // a field has an invalid value (format, range, unknown key)
	CodeTimeBackwards = "U1010" // import time earlier than the last recorded event

	// Payment rules (U2xxx) not covered by a manual code.
	CodePaymentExists    = "U2001" // payment id already used
	CodePaymentNotFound  = "U2002" // no such payment
	CodeNotCapturable    = "U2101" // capture of a declined, voided or captured authorization
	CodeCaptureTooBig    = "U2102" // capture above the authorized amount
	CodeRefundTooBig     = "U2103" // refund above what is left to refund
	CodeEmoneyOverBal    = "U2201" // e-money debit above the card balance
	CodeEmoneyOverLimit  = "U2202" // e-money debit or balance above 20,000 yen
	CodeNotUnknown       = "U2203" // resolve of an e-money debit whose outcome is known
	CodeWrongKind        = "U2204" // card command on an e-money payment or the reverse
	CodeMerchantMismatch = "U2205" // command names another merchant than the payment's

	// Merchants and contracts (U23xx).
	CodeMerchantExists     = "U2301" // merchant id already registered
	CodeMerchantUnknown    = "U2302" // merchant not registered
	CodeInvalidRate        = "U2303" // rate not a decimal in 0..100 with at most 4 decimals
	CodeRateInClosedPeriod = "U2304" // rate change effective in a period that has closed

	// Payouts (U24xx).
	CodeBatchTooEarly    = "U2401" // payout batch before every period it pays has closed
	CodePayoutOutOfOrder = "U2402" // payout for a payday earlier than one already issued
	CodeNotPayday        = "U2403" // date is not a payday of any settlement period
	CodePayoutNotFound   = "U2404" // no payout for that merchant and payday
	CodePayoutMarked     = "U2405" // payout already has its bank outcome, or was not transferred

	// Bank transfer file (U4xxx).
	CodeBankFileChars = "U4001" // a name holds characters a Zengin bank file cannot carry

	// Store (U3xxx).
	CodeConcurrency    = "U3001" // expected revision did not hold
	CodeRequestReused  = "U3002" // request id reused with different content
	CodeStoreFailure   = "U3003" // the storage engine failed
	CodeSecretNotFound = "U3004" // secret store has no such secret
	CodeStreamNotFound = "U3005" // no such stream
)

// Manual codes the ledger names. The manual's in-app messages (Axx) have no
// code of their own: their ids are assigned in the manual's order (see
// codes_table.go) and, like U-codes, never renumbered.
const (
	CodeSearchOverflow = "A25" // transaction search matched more than 50 results
)

// LookupCode finds a code: an exact entry first, else the pattern that
// matches it (P0199 -> P01xx).
func LookupCode(code string) (Code, bool) {
	if c, ok := codeIndex[code]; ok {
		return c, true
	}
	for _, c := range catalogue {
		if isPattern(c.Code) && matchPattern(c.Code, code) {
			return c, true
		}
	}
	return Code{}, false
}

// Catalogue returns every entry, sorted by code.
func Catalogue() []Code {
	out := append([]Code(nil), catalogue...)
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

func isPattern(p string) bool { return strings.HasSuffix(p, "xx") }

func matchPattern(pattern, code string) bool {
	if len(pattern) != len(code) {
		return false
	}
	for i := range len(pattern) {
		switch pattern[i] {
		case 'x':
			if code[i] < '0' || code[i] > '9' {
				return false
			}
		default:
			if pattern[i] != code[i] {
				return false
			}
		}
	}
	return true
}

var codeIndex = func() map[string]Code {
	m := make(map[string]Code, len(catalogue))
	for _, c := range catalogue {
		m[c.Code] = c
	}
	return m
}()
