// Package ingest reads terminal commands as JSON Lines (docs/ingest.md),
// turns each line into a domain command or a coded error naming the line,
// and feeds accepted lines to the ledger in batches.
//
// A line is decoded in isolation: a bad line is reported with its number
// and code and nothing of it is appended, and the ingest goes on with the
// next line. The full card number is read here, turned into a CardRef
// (last four + keyed fingerprint) at once and goes no further.
package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"upay/domain"
)

// MaxLine is the longest line accepted (64 KiB, without the newline).
const MaxLine = 64 << 10

// line is the wire form of every command type; which fields are required
// depends on the type.
type line struct {
	Type            string   `json:"type"`
	RequestID       string   `json:"request_id"`
	At              string   `json:"at"`
	Payment         string   `json:"payment"`
	Merchant        string   `json:"merchant"`
	Brand           string   `json:"brand"`
	Amount          *integer `json:"amount"`
	Installments    *integer `json:"installments"`
	Card            string   `json:"card"`
	Terminal        string   `json:"terminal"`
	Result          string   `json:"result"`
	CardCompanyCode string   `json:"card_company_code"`
	BalanceBefore   *integer `json:"balance_before"`
	Outcome         string   `json:"outcome"`
	Training        bool     `json:"training"`
}

// integer is a JSON number that must be written as a whole number: 5000,
// not 5000.0, 5e3 or "5000".
type integer struct {
	v   int64
	big bool // beyond int64
	neg bool
}

func (n *integer) UnmarshalJSON(b []byte) error {
	s := string(b)
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return errInteger{raw: s}
	}
	n.neg = strings.HasPrefix(s, "-")
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		n.big = true
		return nil
	}
	n.v = v
	return nil
}

type errInteger struct{ raw string }

func (e errInteger) Error() string { return fmt.Sprintf("%s is not a whole number", e.raw) }

// Decoder turns lines into commands. Key is the card fingerprint key.
type Decoder struct {
	Key []byte
}

// Decode reads one line (without its newline).
func (d Decoder) Decode(b []byte) (domain.Command, error) {
	if len(b) > MaxLine {
		return nil, domain.Err(domain.CodeLineTooLong, "line of %d bytes exceeds 64 KiB", len(b))
	}
	if !utf8.Valid(b) {
		return nil, domain.Err(domain.CodeInvalidUTF8, "line is not valid UTF-8")
	}
	var l line
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, jsonError(err)
	}
	if dec.More() {
		return nil, domain.Err(domain.CodeMalformed, "more than one JSON value on the line")
	}
	if tok, err := dec.Token(); err == nil || tok != nil {
		return nil, domain.Err(domain.CodeMalformed, "trailing data after the JSON object")
	}
	return d.command(l)
}

func jsonError(err error) error {
	var ie errInteger
	if errors.As(err, &ie) {
		return domain.Err(domain.CodeInvalidAmount, "%v", ie)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Value == "string" && (te.Field == "amount" || te.Field == "installments" || te.Field == "balance_before") {
			return domain.Err(domain.CodeInvalidAmount, "%s must be a JSON number, not a string", te.Field)
		}
		return domain.Err(domain.CodeInvalidField, "field %s must not be a JSON %s", te.Field, te.Value)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return domain.Err(domain.CodeInvalidField, "unknown key %s", strings.TrimPrefix(msg, "json: unknown field "))
	}
	return domain.Wrap(domain.CodeMalformed, err, "malformed JSON")
}

// required lists, per type, the fields a line must carry.
var required = map[string][]string{
	domain.CmdAuthorize:     {"payment", "merchant", "brand", "amount", "card", "result"},
	domain.CmdCapture:       {"payment"},
	domain.CmdVoid:          {"payment"},
	domain.CmdRefund:        {"payment", "amount", "card"},
	domain.CmdEmoneyDebit:   {"payment", "merchant", "amount", "card", "balance_before", "outcome"},
	domain.CmdEmoneyResolve: {"payment", "outcome"},
}

// allowed lists, per type, the fields a line may carry besides type,
// request_id and at; any other non-empty field is an error, so a typo never
// passes silently.
var allowed = map[string][]string{
	domain.CmdAuthorize:     {"payment", "merchant", "brand", "amount", "card", "result", "installments", "terminal", "card_company_code"},
	domain.CmdCapture:       {"payment", "amount"},
	domain.CmdVoid:          {"payment", "card"},
	domain.CmdRefund:        {"payment", "amount", "card"},
	domain.CmdEmoneyDebit:   {"payment", "merchant", "amount", "card", "balance_before", "outcome", "training", "terminal"},
	domain.CmdEmoneyResolve: {"payment", "outcome"},
}

func (l line) present() map[string]bool {
	return map[string]bool{
		"payment": l.Payment != "", "merchant": l.Merchant != "", "brand": l.Brand != "",
		"amount": l.Amount != nil, "installments": l.Installments != nil, "card": l.Card != "",
		"terminal": l.Terminal != "", "result": l.Result != "", "card_company_code": l.CardCompanyCode != "",
		"balance_before": l.BalanceBefore != nil, "outcome": l.Outcome != "", "training": l.Training,
	}
}

func (d Decoder) command(l line) (domain.Command, error) {
	if l.Type == "" {
		return nil, domain.Err(domain.CodeMissingField, "type is required")
	}
	req, ok := required[l.Type]
	if !ok {
		return nil, domain.Err(domain.CodeUnknownType, "unknown command type %q (authorize, capture, void, refund, emoney_debit, emoney_resolve)", l.Type)
	}
	if l.RequestID == "" {
		return nil, domain.Err(domain.CodeMissingField, "request_id is required")
	}
	if len(l.RequestID) > 128 {
		return nil, domain.Err(domain.CodeInvalidField, "request_id longer than 128 bytes")
	}
	has := l.present()
	for _, f := range req {
		if !has[f] {
			return nil, domain.Err(domain.CodeMissingField, "%s needs %s", l.Type, f)
		}
	}
	ok2 := map[string]bool{}
	for _, f := range allowed[l.Type] {
		ok2[f] = true
	}
	for f, p := range has {
		if p && !ok2[f] {
			return nil, domain.Err(domain.CodeInvalidField, "%s does not take %s", l.Type, f)
		}
	}
	meta := domain.CommandMeta{RequestID: l.RequestID}
	if l.At != "" {
		at, err := time.Parse(time.RFC3339Nano, l.At)
		if err != nil {
			return nil, domain.Err(domain.CodeInvalidField, "at %q is not an RFC 3339 time with an offset", l.At)
		}
		meta.At = at.UTC()
	}
	pid, err := domain.ParsePaymentID(l.Payment)
	if err != nil {
		return nil, err
	}
	var amount domain.Yen
	if l.Amount != nil {
		if amount, err = checkAmount("amount", l.Amount); err != nil {
			return nil, err
		}
	}
	switch l.Type {
	case domain.CmdAuthorize:
		m, err := domain.ParseMerchantID(l.Merchant)
		if err != nil {
			return nil, err
		}
		b, err := domain.ParseBrand(l.Brand)
		if err != nil {
			return nil, err
		}
		inst := 1
		if l.Installments != nil {
			if l.Installments.big || l.Installments.v < 1 || l.Installments.v > domain.MaxInstallments {
				return nil, domain.Err(domain.CodeInvalidField, "installments must be 1..%d", domain.MaxInstallments)
			}
			inst = int(l.Installments.v)
		}
		if err := checkCardNumber(l.Card); err != nil {
			return nil, err
		}
		if l.Result != domain.ResultApproved && !domain.IsDeclineResult(l.Result) {
			return nil, domain.Err(domain.CodeInvalidField, "result %q must be ok-01 or ng-01..ng-08", l.Result)
		}
		if err := checkTerminal(l.Terminal); err != nil {
			return nil, err
		}
		return domain.Authorize{CommandMeta: meta, Payment: pid, Merchant: m, Brand: b, Amount: amount,
			Installments: inst, Card: domain.NewCardRef(d.Key, l.Card), Terminal: l.Terminal,
			Result: l.Result, CardCompanyCode: l.CardCompanyCode}, nil
	case domain.CmdCapture:
		return domain.Capture{CommandMeta: meta, Payment: pid, Amount: amount}, nil
	case domain.CmdVoid:
		v := domain.Void{CommandMeta: meta, Payment: pid}
		if l.Card != "" {
			if err := checkCardNumber(l.Card); err != nil {
				return nil, err
			}
			ref := domain.NewCardRef(d.Key, l.Card)
			v.Card = &ref
		}
		return v, nil
	case domain.CmdRefund:
		if err := checkCardNumber(l.Card); err != nil {
			return nil, err
		}
		return domain.Refund{CommandMeta: meta, Payment: pid, Amount: amount, Card: domain.NewCardRef(d.Key, l.Card)}, nil
	case domain.CmdEmoneyDebit:
		m, err := domain.ParseMerchantID(l.Merchant)
		if err != nil {
			return nil, err
		}
		if l.BalanceBefore.big || l.BalanceBefore.v < 0 {
			return nil, domain.Err(domain.CodeInvalidAmount, "balance_before must be 0 or more")
		}
		if len(l.Card) > 64 {
			return nil, domain.Err(domain.CodeInvalidField, "e-money card id longer than 64 bytes")
		}
		if err := checkTerminal(l.Terminal); err != nil {
			return nil, err
		}
		return domain.EmoneyDebitCmd{CommandMeta: meta, Payment: pid, Merchant: m, Amount: amount,
			Card: domain.NewCardRef(d.Key, l.Card), BalanceBefore: l.BalanceBefore.v, Outcome: l.Outcome,
			Training: l.Training, Terminal: l.Terminal}, nil
	default: // emoney_resolve
		return domain.EmoneyResolve{CommandMeta: meta, Payment: pid, Outcome: l.Outcome}, nil
	}
}

func checkAmount(field string, n *integer) (domain.Yen, error) {
	if n.big {
		if n.neg {
			return 0, domain.Err(domain.CodeInvalidAmount, "%s must be positive", field)
		}
		return 0, domain.Err(domain.CodeAmountTooBig, "%s exceeds 9,999,999,999 yen", field)
	}
	return n.v, domain.CheckAmount(field, n.v)
}

func checkCardNumber(s string) error {
	if len(s) < 12 || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return domain.Err(domain.CodeInvalidField, "card must be the card number, 12 to 19 digits")
	}
	return nil
}

func checkTerminal(s string) error {
	if len(s) > 64 {
		return domain.Err(domain.CodeInvalidField, "terminal id longer than 64 bytes")
	}
	return nil
}
