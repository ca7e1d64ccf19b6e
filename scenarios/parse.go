package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	yparser "github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"github.com/rickb777/date"
	"github.com/shopspring/decimal"

	"upay/domain"
)

// MaxFileSize bounds a scenario file (1 MiB).
const MaxFileSize = 1 << 20

// ParseFile reads and parses a scenario file.
func ParseFile(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Code: domain.CodeMalformed, Msg: err.Error()}
	}
	return Parse(path, b)
}

// Parse reads a scenario; file names it in errors. Every error is an *Error.
func Parse(file string, data []byte) (*Scenario, error) {
	p := &parser{file: file, t: tree{nodes: map[string]ast.Node{}, paths: map[*token.Token]string{}}}
	s, err := p.parse(data)
	if err != nil {
		return nil, err
	}
	return s, nil
}

type parser struct {
	file string
	t    tree
}

func (p *parser) parse(data []byte) (*Scenario, *Error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: p.file, Code: domain.CodeMalformed, Msg: fmt.Sprintf("file of %d bytes exceeds %d", len(data), MaxFileSize)}
	}
	if !utf8.Valid(data) {
		return nil, &Error{File: p.file, Code: domain.CodeMalformed, Msg: "the file is not valid UTF-8"}
	}
	f, err := yparser.ParseBytes(data, 0)
	if err != nil {
		var se *yaml.SyntaxError
		if errors.As(err, &se) && se.Token != nil {
			return nil, &Error{File: p.file, Line: se.Token.Position.Line, Column: se.Token.Position.Column,
				Code: domain.CodeMalformed, Msg: "malformed YAML: " + se.Message}
		}
		return nil, &Error{File: p.file, Code: domain.CodeMalformed, Msg: "malformed YAML: " + firstLine(err.Error())}
	}
	var body ast.Node
	for i, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		if _, ok := d.Body.(*ast.CommentGroupNode); ok {
			continue
		}
		if body != nil {
			return nil, p.fail(d.Body.GetToken(), "", domain.CodeMalformed, "a file holds one scenario: found a second YAML document (document %d)", i+1)
		}
		body = d.Body
	}
	if body == nil {
		return nil, &Error{File: p.file, Code: domain.CodeMissingField, Msg: "the file is empty: a scenario needs name and steps"}
	}
	if body.Type() != ast.MappingType {
		return nil, p.fail(body.GetToken(), "", domain.CodeInvalidField, "a scenario is a mapping with the keys name, merchants, steps and expect, not %s", kind(body))
	}
	if err := p.t.walk(body, ""); err != nil {
		return nil, p.decodeError(err)
	}
	var raw fileYAML
	if err := yaml.NodeToValue(body, &raw, yaml.Strict()); err != nil {
		return nil, p.decodeError(err)
	}
	return p.check(&raw)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// need reports the first of keys missing under path.
func (p *parser) need(path string, keys ...string) *Error {
	for _, k := range keys {
		if path == "" && !p.t.has(k) {
			return &Error{File: p.file, Code: domain.CodeMissingField, Msg: fmt.Sprintf("the scenario needs %s", k)}
		}
		if path != "" && !p.t.has(path+"."+k) {
			return p.fail(nil, path, domain.CodeMissingField, "%s is required", k)
		}
	}
	return nil
}

func (p *parser) check(raw *fileYAML) (*Scenario, *Error) {
	s := &Scenario{File: p.file}
	if err := p.need("", "name", "steps"); err != nil {
		return nil, err
	}
	s.Name = raw.Name.Value
	if strings.TrimSpace(s.Name) == "" {
		return nil, p.fail(raw.Name.tok, "name", domain.CodeMissingField, "the scenario needs a name")
	}
	merchants := map[domain.MerchantID]bool{}
	for i, m := range raw.Merchants {
		path := fmt.Sprintf("merchants[%d]", i)
		if err := p.need(path, "id", "name", "contact", "email", "bank", "rates"); err != nil {
			return nil, err
		}
		id, err := domain.ParseMerchantID(m.ID.Value)
		if err != nil {
			return nil, p.fail(m.ID.tok, path+".id", domain.CodeInvalidField, "%s", detail(err))
		}
		if merchants[id] {
			return nil, p.fail(m.ID.tok, path+".id", domain.CodeInvalidField, "merchant %s is listed twice", id)
		}
		merchants[id] = true
		if err := p.need(path+".bank", bankKeys...); err != nil {
			return nil, err
		}
		if err := p.need(path+".rates", rateKeys...); err != nil {
			return nil, err
		}
		s.Merchants = append(s.Merchants, Merchant{
			Registration: domain.MerchantRegistered{Merchant: id, Name: m.Name.Value, Contact: m.Contact.Value, Email: m.Email.Value,
				Bank: bank(m.Bank), Rates: rates(m.Rates), FeeTaxRate: m.FeeTaxRate.Value},
			NoticePassword: m.NoticePassword.Value, path: path, pos: position{p.t.nodes[path].GetToken()},
		})
	}
	if len(raw.Steps) == 0 {
		return nil, p.fail(nil, "steps", domain.CodeMissingField, "a scenario needs at least one step")
	}
	introduced := map[string]bool{}        // payments an earlier step creates
	requests := map[string]requestOrigin{} // request id -> first step that used it
	var prev time.Time
	for i := range raw.Steps {
		st, err := p.step(&raw.Steps[i], i, prev, merchants, introduced, requests)
		if err != nil {
			return nil, err
		}
		s.Steps = append(s.Steps, st)
		prev = st.At
	}
	exp, err := p.expect(&raw.Expect, len(s.Steps), merchants)
	if err != nil {
		return nil, err
	}
	s.Expect = exp
	return s, nil
}

type requestOrigin struct {
	payment domain.PaymentID
	at      time.Time
}

func bank(b bankYAML) domain.BankAccount {
	return domain.BankAccount{BankCode: b.Code.Value, BankName: b.Name.Value, BranchCode: b.BranchCode.Value,
		BranchName: b.BranchName.Value, Type: b.Type.Value, Number: b.Number.Value, Holder: b.Holder.Value}
}

func rates(r ratesYAML) domain.Rates {
	return domain.Rates{VisaMaster: r.VisaMaster.Value, JCBOther: r.JCBOther.Value, Emoney: r.Emoney.Value}
}

// detail is a domain error's message without its code and catalogue text.
func detail(err error) string {
	var de domain.Error
	if errors.As(err, &de) {
		return de.Detail
	}
	return err.Error()
}

// wire is a payment step as a line of the ingest format (ingest.Decoder
// checks it exactly as it checks a terminal's line).
type wire struct {
	Type            string `json:"type"`
	RequestID       string `json:"request_id"`
	At              string `json:"at"`
	Payment         string `json:"payment,omitempty"`
	Merchant        string `json:"merchant,omitempty"`
	Brand           string `json:"brand,omitempty"`
	Amount          *int64 `json:"amount,omitempty"`
	Installments    *int64 `json:"installments,omitempty"`
	Card            string `json:"card,omitempty"`
	Terminal        string `json:"terminal,omitempty"`
	Result          string `json:"result,omitempty"`
	CardCompanyCode string `json:"card_company_code,omitempty"`
	BalanceBefore   *int64 `json:"balance_before,omitempty"`
	Outcome         string `json:"outcome,omitempty"`
	Training        bool   `json:"training,omitempty"`
}

func (p *parser) step(raw *stepYAML, i int, prev time.Time, merchants map[domain.MerchantID]bool,
	introduced map[string]bool, requests map[string]requestOrigin) (Step, *Error) {
	path := fmt.Sprintf("steps[%d]", i)
	st := Step{N: i + 1}
	var kinds []string
	for _, k := range stepKinds {
		if p.t.has(path + "." + k) {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		return st, p.fail(nil, path, domain.CodeMissingField, "step %d needs one action: %s", st.N, strings.Join(stepKinds, ", "))
	case 1:
	default:
		return st, p.fail(nil, path, domain.CodeInvalidField, "step %d has %s: a step takes exactly one action", st.N, strings.Join(kinds, " and "))
	}
	st.Kind = kinds[0]
	ap := path + "." + st.Kind
	if p.t.nodes[ap].Type() != ast.MappingType {
		return st, p.fail(nil, ap, domain.CodeInvalidField, "must be a mapping, not %s", kind(p.t.nodes[ap]))
	}
	if err := p.need(ap, stepRequired[st.Kind]...); err != nil {
		return st, err
	}
	// Processing time.
	switch {
	case raw.At.tok != nil:
		at, err := time.Parse(time.RFC3339Nano, raw.At.Value)
		if err != nil {
			return st, p.fail(raw.At.tok, path+".at", domain.CodeInvalidField, "%q is not an RFC 3339 time with an offset (2019-10-01T10:00:00+09:00)", raw.At.Value)
		}
		if at.Before(prev) {
			return st, p.fail(raw.At.tok, path+".at", domain.CodeInvalidField, "%s is earlier than step %d's time %s: steps run in time order",
				raw.At.Value, st.N-1, prev.In(domain.Tokyo).Format(time.RFC3339))
		}
		st.At = at.UTC()
	case i == 0:
		return st, p.fail(nil, path, domain.CodeMissingField, "at is required on the first step (later steps default to 1 s after the previous one)")
	default:
		st.At = prev.Add(time.Second)
	}
	payment := func(s yamlString, creates bool) *Error {
		if creates {
			introduced[s.Value] = true
			return nil
		}
		if !introduced[s.Value] {
			return p.fail(s.tok, ap+".payment", domain.CodeInvalidField, "payment %q is unknown: no earlier authorize or emoney_debit step names it", s.Value)
		}
		return nil
	}
	merchant := func(s yamlString) *Error {
		if !merchants[domain.MerchantID(s.Value)] {
			return p.fail(s.tok, ap+".merchant", domain.CodeInvalidField, "merchant %q is not one of the scenario's merchants", s.Value)
		}
		return nil
	}
	w := wire{Type: st.Kind}
	intp := func(v yamlInt) *int64 {
		if v.tok == nil {
			return nil
		}
		x := v.Value
		return &x
	}
	var err *Error
	switch st.Kind {
	case kindAuthorize:
		a := raw.Authorize
		if err = payment(a.Payment, true); err == nil {
			err = merchant(a.Merchant)
		}
		w.Payment, w.Merchant, w.Brand, w.Amount, w.Card = a.Payment.Value, a.Merchant.Value, a.Brand.Value, intp(a.Amount), a.Card.Value
		w.Installments, w.Result, w.CardCompanyCode, w.Terminal = intp(a.Installments), a.Result.Value, a.CardCompanyCode.Value, a.Terminal.Value
		if a.Result.tok == nil {
			w.Result = domain.ResultApproved
		}
	case kindCapture:
		c := raw.Capture
		err = payment(c.Payment, false)
		w.Payment, w.Amount = c.Payment.Value, intp(c.Amount)
	case kindVoid:
		v := raw.Void
		err = payment(v.Payment, false)
		w.Payment, w.Card = v.Payment.Value, v.Card.Value
	case kindRefund:
		r := raw.Refund
		err = payment(r.Payment, false)
		w.Payment, w.Amount, w.Card = r.Payment.Value, intp(r.Amount), r.Card.Value
	case kindEmoneyDebit:
		d := raw.EmoneyDebit
		if err = payment(d.Payment, true); err == nil {
			err = merchant(d.Merchant)
		}
		w.Payment, w.Merchant, w.Amount, w.Card, w.BalanceBefore = d.Payment.Value, d.Merchant.Value, intp(d.Amount), d.Card.Value, intp(d.BalanceBefore)
		w.Outcome, w.Training, w.Terminal = d.Outcome.Value, d.Training.Value, d.Terminal.Value
	case kindEmoneyResolve:
		r := raw.EmoneyResolve
		err = payment(r.Payment, false)
		w.Payment, w.Outcome = r.Payment.Value, r.Outcome.Value
	case kindSetRates:
		r := raw.SetRates
		if err = merchant(r.Merchant); err == nil {
			st.Effective, err = p.date(r.Effective, ap+".effective")
		}
		st.Merchant, st.Rates = domain.MerchantID(r.Merchant.Value), rates(r.Rates)
	case kindSetBank:
		b := raw.SetBank
		if err = merchant(b.Merchant); err == nil {
			err = p.need(ap+".bank", bankKeys...)
		}
		st.Merchant, st.Bank = domain.MerchantID(b.Merchant.Value), bank(b.Bank)
	case kindPayoutRun:
		st.Payday, err = p.date(raw.PayoutRun.Payday, ap+".payday")
	}
	if err != nil {
		return st, err
	}
	if st.Kind == kindSetRates || st.Kind == kindSetBank || st.Kind == kindPayoutRun {
		if raw.RequestID.tok != nil {
			return st, p.fail(raw.RequestID.tok, path+".request_id", domain.CodeInvalidField, "request_id applies to payment steps only (authorize, capture, void, refund, emoney_debit, emoney_resolve)")
		}
		return st, nil
	}
	// Payment step: request id and time, then the ingest line.
	st.Payment = domain.PaymentID(w.Payment)
	st.RequestID = fmt.Sprintf("step-%d", st.N)
	if raw.RequestID.tok != nil {
		if raw.RequestID.Value == "" {
			return st, p.fail(raw.RequestID.tok, path+".request_id", domain.CodeInvalidField, "request_id must not be empty")
		}
		st.RequestID = raw.RequestID.Value
	}
	sent := st.At
	if o, ok := requests[st.RequestID]; ok && o.payment == st.Payment {
		// A retry is the same request: the ledger answers it from the
		// original, whose processing time the import-mode hash includes.
		sent = o.at
	} else if !ok {
		requests[st.RequestID] = requestOrigin{payment: st.Payment, at: st.At}
	}
	w.RequestID, w.At = st.RequestID, sent.Format(time.RFC3339Nano)
	b, jerr := json.Marshal(w)
	if jerr != nil {
		return st, p.fail(nil, path, domain.CodeInvalidField, "%v", jerr)
	}
	st.Line = b
	return st, nil
}

func (p *parser) date(s yamlString, path string) (date.Date, *Error) {
	t, err := time.Parse("2006-01-02", s.Value)
	if err != nil {
		return date.Date{}, p.fail(s.tok, path, domain.CodeInvalidField, "%q is not a date YYYY-MM-DD", s.Value)
	}
	return date.New(t.Year(), t.Month(), t.Day()), nil
}

var groups = map[string]bool{string(domain.GroupVisaMaster): true, string(domain.GroupJCBOther): true, string(domain.GroupEmoney): true}

func (p *parser) expect(raw *expectYAML, steps int, merchants map[domain.MerchantID]bool) (Expect, *Error) {
	var e Expect
	type rkey struct {
		step     int64
		merchant string
	}
	seen := map[rkey]bool{}
	for i, r := range raw.Rejections {
		path := fmt.Sprintf("expect.rejections[%d]", i)
		if err := p.need(path, "step", "code"); err != nil {
			return e, err
		}
		if r.Step.Value < 1 || r.Step.Value > int64(steps) {
			return e, p.fail(r.Step.tok, path+".step", domain.CodeInvalidField, "step %d does not exist: the scenario has steps 1..%d", r.Step.Value, steps)
		}
		k := rkey{r.Step.Value, r.Merchant.Value}
		if seen[k] {
			return e, p.fail(r.Step.tok, path+".step", domain.CodeInvalidField, "step %d is listed twice", r.Step.Value)
		}
		seen[k] = true
		e.Rejections = append(e.Rejections, ExpectRejection{Step: int(r.Step.Value), Code: r.Code.Value, Merchant: r.Merchant.Value})
	}
	type pkey struct{ m, d string }
	seenP := map[pkey]bool{}
	str := func(s yamlString) *string {
		if s.tok == nil {
			return nil
		}
		v := s.Value
		return &v
	}
	num := func(v yamlInt) *int64 {
		if v.tok == nil {
			return nil
		}
		x := v.Value
		return &x
	}
	for i, r := range raw.Payouts {
		path := fmt.Sprintf("expect.payouts[%d]", i)
		if err := p.need(path, "merchant", "payday"); err != nil {
			return e, err
		}
		if !merchants[domain.MerchantID(r.Merchant.Value)] {
			return e, p.fail(r.Merchant.tok, path+".merchant", domain.CodeInvalidField, "merchant %q is not one of the scenario's merchants", r.Merchant.Value)
		}
		for _, d := range []struct {
			s    yamlString
			name string
		}{{r.Payday, "payday"}, {r.NoticeDate, "notice_date"}} {
			if d.s.tok != nil {
				if _, err := p.date(d.s, path+"."+d.name); err != nil {
					return e, err
				}
			}
		}
		k := pkey{r.Merchant.Value, r.Payday.Value}
		if seenP[k] {
			return e, p.fail(r.Payday.tok, path+".payday", domain.CodeInvalidField, "the payout of %s on %s is listed twice", k.m, k.d)
		}
		seenP[k] = true
		ep := ExpectPayout{Merchant: r.Merchant.Value, Payday: r.Payday.Value, NoticeDate: str(r.NoticeDate), NoticeNo: str(r.NoticeNo),
			FeeTax: num(r.FeeTax), PriorPeriod: num(r.PriorPeriod), TransferFee: num(r.TransferFee), TransferFeeTax: num(r.TransferFeeTax),
			Net: num(r.Net), CarriedForward: num(r.CarriedForward)}
		if p.t.has(path + ".lines") {
			lines := []ExpectLine{}
			for j, l := range r.Lines {
				lp := fmt.Sprintf("%s.lines[%d]", path, j)
				el := ExpectLine{Group: str(l.Group), Period: str(l.Period), Count: num(l.Count), Sales: num(l.Sales), Fee: num(l.Fee), Amount: num(l.Amount)}
				if el.Group != nil && !groups[*el.Group] {
					return e, p.fail(l.Group.tok, lp+".group", domain.CodeInvalidField, "group %q is not VISA/MASTER, JCB/その他 or 電子マネー", *el.Group)
				}
				if el.Period != nil {
					from, to, ok := strings.Cut(*el.Period, "..")
					_, e1 := time.Parse("2006-01-02", from)
					_, e2 := time.Parse("2006-01-02", to)
					if !ok || e1 != nil || e2 != nil {
						return e, p.fail(l.Period.tok, lp+".period", domain.CodeInvalidField, "period %q is not YYYY-MM-DD..YYYY-MM-DD", *el.Period)
					}
				}
				if l.Rate.tok != nil {
					v, err := decimal.NewFromString(l.Rate.Value)
					if err != nil || strings.ContainsAny(l.Rate.Value, "eE") {
						return e, p.fail(l.Rate.tok, lp+".rate", domain.CodeInvalidField, "rate %q is not a decimal number of percent", l.Rate.Value)
					}
					el.Rate = &v
				}
				lines = append(lines, el)
			}
			ep.Lines = &lines
		}
		e.Payouts = append(e.Payouts, ep)
	}
	return e, nil
}
