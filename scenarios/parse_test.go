package scenarios_test

import (
	"errors"
	"strings"
	"testing"

	"upay/domain"
	"upay/scenarios"
)

const merchantYAML = `merchants:
  - id: "270212122"
    name: "テスト商店"
    contact: "平 次郎"
    email: "owner@example.jp"
    bank: {code: "0010", name: "りそな銀行", branch_code: "101", branch_name: "本店", type: ordinary, number: "1234567", holder: "ﾃｽﾄｼﾖｳﾃﾝ"}
    rates: {visa_master: "3.24", jcb_other: "3.24", emoney: "3.24"}
`

// scenario builds a file: name, the merchant above (lines 2-8), then steps
// from line 9 on, then extra.
func scenario(steps, extra string) string {
	return "name: t\n" + merchantYAML + "steps:\n" + steps + extra
}

const authorize = `  - at: "2019-10-01T10:00:00+09:00"
    authorize: {payment: p1, merchant: "270212122", brand: visa, amount: 5000, card: "4111111111111111"}
`

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		code string
		line int
		path string // the error's path (field)
		msg  string // part of the message
	}{
		{"malformed YAML", "name: t\nsteps: [\n", domain.CodeMalformed, 2, "", "malformed YAML"},
		{"bad indentation", "name: a\n  b: c\n", domain.CodeMalformed, 1, "", "malformed YAML"},
		{"duplicate key", "name: a\nname: b\n", domain.CodeMalformed, 2, "", "already defined"},
		{"two documents", "name: a\n---\nname: b\n", domain.CodeMalformed, 3, "", "one scenario"},
		{"not UTF-8", "name: \xff\n", domain.CodeMalformed, 0, "", "UTF-8"},
		{"empty", "# nothing\n", domain.CodeMissingField, 0, "", "empty"},
		{"a list", "- a\n", domain.CodeInvalidField, 1, "", "mapping"},
		{"no name", "steps: []\n", domain.CodeMissingField, 0, "", "needs name"},
		{"no steps", "name: t\n" + merchantYAML, domain.CodeMissingField, 0, "", "needs steps"},
		{"empty steps", scenario("", "")[:len(scenario("", ""))-len("steps:\n")] + "steps: []\n", domain.CodeMissingField, 9, "steps", "at least one step"},
		{"unknown top key", "name: t\nstepz: []\n", domain.CodeInvalidField, 2, "stepz", `unknown key "stepz"`},
		{"unknown step key", scenario(authorize+"  - capture: {payment: p1, amout: 5}\n", ""), domain.CodeInvalidField, 12, "steps[1].capture.amout", `unknown key "amout"`},
		{"unknown merchant key", strings.Replace(scenario(authorize, ""), `    email:`, "    mail: x\n    email:", 1), domain.CodeInvalidField, 6, "merchants[0].mail", "unknown key"},
		{"amount as a string", scenario(strings.Replace(authorize, "amount: 5000", `amount: "5000"`, 1), ""), domain.CodeInvalidField, 11, "steps[0].authorize.amount", "whole number"},
		{"amount as a decimal", scenario(strings.Replace(authorize, "amount: 5000", `amount: 5000.5`, 1), ""), domain.CodeInvalidField, 11, "steps[0].authorize.amount", "whole number"},
		{"amount in hex", scenario(strings.Replace(authorize, "amount: 5000", `amount: 0x10`, 1), ""), domain.CodeInvalidField, 11, "steps[0].authorize.amount", "decimal digits"},
		{"unquoted merchant id", scenario(strings.Replace(authorize, `merchant: "270212122"`, `merchant: 270212122`, 1), ""), domain.CodeInvalidField, 11, "steps[0].authorize.merchant", "with quotes"},
		{"unquoted rate", strings.Replace(scenario(authorize, ""), `visa_master: "3.24"`, `visa_master: 3.24`, 1), domain.CodeInvalidField, 8, "merchants[0].rates.visa_master", "with quotes"},
		{"action not a mapping", scenario(authorize+"  - capture: 5\n", ""), domain.CodeInvalidField, 12, "steps[1].capture", "mapping"},
		{"training not a boolean", scenario(`  - at: "2019-10-01T10:00:00+09:00"
    emoney_debit: {payment: e1, merchant: "270212122", amount: 5, card: "JE1", balance_before: 9, outcome: succeeded, training: "yes"}
`, ""), domain.CodeInvalidField, 11, "steps[0].emoney_debit.training", "true or false"},
		{"missing amount", scenario(strings.Replace(authorize, "amount: 5000, ", "", 1), ""), domain.CodeMissingField, 11, "steps[0].authorize", "amount is required"},
		{"missing at on the first step", scenario("  - capture: {payment: p1}\n", ""), domain.CodeMissingField, 10, "steps[0]", "at is required"},
		{"missing bank field", strings.Replace(scenario(authorize, ""), `holder: "ﾃｽﾄｼﾖｳﾃﾝ"`, "", 1), domain.CodeMissingField, 7, "merchants[0].bank", "holder is required"},
		{"null value", scenario(authorize+"  - capture:\n", ""), domain.CodeMissingField, 12, "steps[1].capture", "no value"},
		{"no action", scenario(authorize+"  - at: \"2019-10-02T10:00:00+09:00\"\n", ""), domain.CodeMissingField, 12, "steps[1]", "needs one action"},
		{"two actions", scenario(authorize+"  - capture: {payment: p1}\n    void: {payment: p1}\n", ""), domain.CodeInvalidField, 12, "steps[1]", "capture and void"},
		{"unknown payment", scenario(authorize+"  - capture: {payment: p2}\n", ""), domain.CodeInvalidField, 12, "steps[1].capture.payment", `payment "p2" is unknown`},
		{"payment used before it is created", scenario("  - at: \"2019-10-01T10:00:00+09:00\"\n    capture: {payment: p1}\n"+strings.Replace(authorize, "  - at: \"2019-10-01T10:00:00+09:00\"\n", "  - ", 1), ""), domain.CodeInvalidField, 11, "steps[0].capture.payment", "unknown"},
		{"unknown merchant", scenario(strings.Replace(authorize, `merchant: "270212122"`, `merchant: "270212123"`, 1), ""), domain.CodeInvalidField, 11, "steps[0].authorize.merchant", "not one of the scenario's merchants"},
		{"bad merchant id", strings.Replace(scenario(authorize, ""), `id: "270212122"`, `id: "27021212"`, 1), domain.CodeInvalidField, 3, "merchants[0].id", "9 digits"},
		{"bad time", scenario(strings.Replace(authorize, "2019-10-01T10:00:00+09:00", "2019-10-01 10:00", 1), ""), domain.CodeInvalidField, 10, "steps[0].at", "RFC 3339"},
		{"time without offset", scenario(strings.Replace(authorize, "2019-10-01T10:00:00+09:00", "2019-10-01T10:00:00", 1), ""), domain.CodeInvalidField, 10, "steps[0].at", "RFC 3339"},
		{"time backwards", scenario(authorize+"  - at: \"2019-10-01T09:59:59+09:00\"\n    capture: {payment: p1}\n", ""), domain.CodeInvalidField, 12, "steps[1].at", "earlier than step 1"},
		{"bad payday", scenario(authorize+"  - payout_run: {payday: \"2019-10-32\"}\n", ""), domain.CodeInvalidField, 12, "steps[1].payout_run.payday", "YYYY-MM-DD"},
		{"request_id on a payout run", scenario(authorize+"  - request_id: r1\n    payout_run: {payday: \"2019-10-31\"}\n", ""), domain.CodeInvalidField, 12, "steps[1].request_id", "payment steps only"},
		{"anchor", scenario(authorize, "expect: &e {rejections: []}\n"), domain.CodeInvalidField, 12, "expect", "anchors"},
		{"rejection of a step that does not exist", scenario(authorize, "expect: {rejections: [{step: 2, code: P1241}]}\n"), domain.CodeInvalidField, 12, "expect.rejections[0].step", "does not exist"},
		{"rejection without code", scenario(authorize, "expect: {rejections: [{step: 1}]}\n"), domain.CodeMissingField, 12, "expect.rejections[0]", "code is required"},
		{"payout without payday", scenario(authorize, "expect: {payouts: [{merchant: \"270212122\"}]}\n"), domain.CodeMissingField, 12, "expect.payouts[0]", "payday is required"},
		{"payout listed twice", scenario(authorize, "expect:\n  payouts:\n    - {merchant: \"270212122\", payday: \"2019-10-31\"}\n    - {merchant: \"270212122\", payday: \"2019-10-31\"}\n"), domain.CodeInvalidField, 15, "expect.payouts[1].payday", "listed twice"},
		{"bad group", scenario(authorize, "expect: {payouts: [{merchant: \"270212122\", payday: \"2019-10-31\", lines: [{group: VISA}]}]}\n"), domain.CodeInvalidField, 12, "expect.payouts[0].lines[0].group", "VISA/MASTER"},
		{"bad period", scenario(authorize, "expect: {payouts: [{merchant: \"270212122\", payday: \"2019-10-31\", lines: [{period: \"2019-10-01-2019-10-15\"}]}]}\n"), domain.CodeInvalidField, 12, "expect.payouts[0].lines[0].period", "YYYY-MM-DD..YYYY-MM-DD"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := scenarios.Parse("x.yaml", []byte(c.src))
			var se *scenarios.Error
			if !errors.As(err, &se) {
				t.Fatalf("want a *scenarios.Error, got %v", err)
			}
			if se.Code != c.code || se.Line != c.line || se.Path != c.path || !strings.Contains(se.Msg, c.msg) {
				t.Fatalf("got code %s line %d path %q msg %q\nwant code %s line %d path %q msg containing %q", se.Code, se.Line, se.Path, se.Msg, c.code, c.line, c.path, c.msg)
			}
			if domain.CodeOf(err) != c.code {
				t.Fatalf("domain.CodeOf = %q", domain.CodeOf(err))
			}
			if !strings.HasPrefix(err.Error(), "x.yaml") {
				t.Fatalf("the error does not name the file: %v", err)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	src := scenario(authorize+`  - capture: {payment: p1}
  - request_id: again
    capture: {payment: p1}
  - at: "2019-10-01T10:05:00+09:00"
    request_id: again
    capture: {payment: p1}
`, "")
	s, err := scenarios.Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Steps) != 4 || s.Name != "t" || len(s.Merchants) != 1 || s.Merchants[0].Registration.FeeTaxRate != "" {
		t.Fatalf("%+v", s)
	}
	want := []struct {
		at, rid, line string
	}{
		{"2019-10-01T01:00:00Z", "step-1", `"result":"ok-01"`},
		{"2019-10-01T01:00:01Z", "step-2", `"at":"2019-10-01T01:00:01Z"`},
		{"2019-10-01T01:00:02Z", "again", `"at":"2019-10-01T01:00:02Z"`},
		// A retry of the same request on the same payment is sent with the
		// original's time.
		{"2019-10-01T01:05:00Z", "again", `"at":"2019-10-01T01:00:02Z"`},
	}
	for i, w := range want {
		st := s.Steps[i]
		if st.N != i+1 || st.At.Format("2006-01-02T15:04:05Z07:00") != w.at || st.RequestID != w.rid || !strings.Contains(string(st.Line), w.line) {
			t.Errorf("step %d: n %d at %s request %s line %s", i+1, st.N, st.At, st.RequestID, st.Line)
		}
	}
}
