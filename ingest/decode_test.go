package ingest

import (
	"strings"
	"testing"
	"time"

	"upay/domain"
)

var dec = Decoder{Key: []byte("k")}

func TestDecodeCommands(t *testing.T) {
	c, err := dec.Decode([]byte(`{"type":"authorize","request_id":"r1","at":"2019-10-01T10:00:00+09:00","payment":"p1","merchant":"270212122","brand":"VISA","amount":5000,"card":"4111111111111111","installments":3,"terminal":"T1","result":"ok-01"}`))
	if err != nil {
		t.Fatal(err)
	}
	a := c.(domain.Authorize)
	if a.Amount != 5000 || a.Brand != domain.Visa || a.Installments != 3 || a.Card.Last4 != "1111" || a.Merchant != "270212122" {
		t.Fatalf("authorize decoded as %+v", a)
	}
	if !a.At.Equal(time.Date(2019, 10, 1, 1, 0, 0, 0, time.UTC)) || a.At.Location() != time.UTC {
		t.Fatalf("at = %v, want 01:00 UTC", a.At)
	}
	if strings.Contains(a.Card.Fingerprint, "4111") {
		t.Fatal("fingerprint leaks the number")
	}
	c, err = dec.Decode([]byte(`{"type":"capture","request_id":"r2","payment":"p1"}`))
	if err != nil || c.(domain.Capture).Amount != 0 {
		t.Fatalf("capture without amount: %+v %v", c, err)
	}
	c, err = dec.Decode([]byte(`{"type":"void","request_id":"r3","payment":"p1","card":"4111111111111111"}`))
	if err != nil || c.(domain.Void).Card == nil {
		t.Fatalf("void with card: %+v %v", c, err)
	}
	c, err = dec.Decode([]byte(`{"type":"emoney_debit","request_id":"r4","payment":"e1","merchant":"270212122","amount":300,"card":"JE0001","balance_before":1000,"outcome":"unknown","training":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.(domain.EmoneyDebitCmd); d.BalanceBefore != 1000 || !d.Training || d.Outcome != "unknown" {
		t.Fatalf("debit %+v", d)
	}
	if _, err := dec.Decode([]byte(`{"type":"emoney_resolve","request_id":"r5","payment":"e1","outcome":"succeeded"}`)); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeRejects(t *testing.T) {
	auth := `"type":"authorize","request_id":"r","payment":"p1","merchant":"270212122","brand":"visa","card":"4111111111111111","result":"ok-01"`
	long := `{"type":"capture","request_id":"r","payment":"p1","terminal":"` + strings.Repeat("x", MaxLine) + `"}`
	tests := []struct {
		line, code string
	}{
		{`{"type":"capture"`, domain.CodeMalformed},
		{`not json`, domain.CodeMalformed},
		{`{"type":"capture","request_id":"r","payment":"p1"} {}`, domain.CodeMalformed},
		{`[1,2]`, domain.CodeInvalidField},
		{`{"type":"teleport","request_id":"r","payment":"p1"}`, domain.CodeUnknownType},
		{`{"request_id":"r","payment":"p1"}`, domain.CodeMissingField},
		{`{"type":"capture","payment":"p1"}`, domain.CodeMissingField},
		{`{"type":"refund","request_id":"r","payment":"p1","card":"4111111111111111"}`, domain.CodeMissingField},
		{`{` + auth + `}`, domain.CodeMissingField},
		{`{` + auth + `,"amount":0}`, domain.CodeInvalidAmount},
		{`{` + auth + `,"amount":-5}`, domain.CodeInvalidAmount},
		{`{` + auth + `,"amount":12.5}`, domain.CodeInvalidAmount},
		{`{` + auth + `,"amount":5e3}`, domain.CodeInvalidAmount},
		{`{` + auth + `,"amount":"5000"}`, domain.CodeInvalidAmount},
		{`{` + auth + `,"amount":10000000000}`, domain.CodeAmountTooBig},
		{`{` + auth + `,"amount":99999999999999999999999}`, domain.CodeAmountTooBig},
		{`{` + auth + `,"amount":-99999999999999999999999}`, domain.CodeInvalidAmount},
		{`{` + strings.Replace(auth, `"visa"`, `"unionpay"`, 1) + `,"amount":100}`, domain.CodeUnknownBrand},
		{`{` + strings.Replace(auth, `"270212122"`, `"27021212"`, 1) + `,"amount":100}`, domain.CodeInvalidField},
		{`{` + strings.Replace(auth, `"4111111111111111"`, `"4111-1111"`, 1) + `,"amount":100}`, domain.CodeInvalidField},
		{`{` + strings.Replace(auth, `"ok-01"`, `"ok-02"`, 1) + `,"amount":100}`, domain.CodeInvalidField},
		{`{` + auth + `,"amount":100,"installments":0}`, domain.CodeInvalidField},
		{`{` + auth + `,"amount":100,"colour":"red"}`, domain.CodeInvalidField},
		{`{` + auth + `,"amount":100,"outcome":"failed"}`, domain.CodeInvalidField},
		{`{` + auth + `,"amount":100,"at":"2019-10-01 10:00"}`, domain.CodeInvalidField},
		{`{"type":"capture","request_id":"r","payment":"p 1"}`, domain.CodeInvalidField},
		{`{"type":"capture","request_id":"r","payment":"p1","amount":true}`, domain.CodeInvalidAmount},
		{`{"type":"emoney_debit","request_id":"r","payment":"e1","merchant":"270212122","amount":300,"card":"JE1","balance_before":-1,"outcome":"succeeded"}`, domain.CodeInvalidAmount},
		{"{\"type\":\"capture\",\"request_id\":\"r\xff\",\"payment\":\"p1\"}", domain.CodeInvalidUTF8},
		{long, domain.CodeLineTooLong},
	}
	for _, tc := range tests {
		c, err := dec.Decode([]byte(tc.line))
		if domain.CodeOf(err) != tc.code {
			name := tc.line
			if len(name) > 80 {
				name = name[:80] + "..."
			}
			t.Errorf("%s: got %v (%v), want %s", name, err, c, tc.code)
		}
		if err != nil && c != nil {
			t.Errorf("%s: a rejected line returned a command", tc.line)
		}
	}
}

// FuzzDecode: no input may panic the decoder, and whatever it accepts is a
// command with a valid payment id and request id; whatever it rejects
// carries a catalogue code.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"authorize","request_id":"r1","payment":"p1","merchant":"270212122","brand":"visa","amount":5000,"card":"4111111111111111","result":"ok-01"}`,
		`{"type":"capture","request_id":"r2","payment":"p1","amount":5000}`,
		`{"type":"refund","request_id":"r3","payment":"p1","amount":1,"card":"4111111111111111"}`,
		`{"type":"emoney_debit","request_id":"r4","payment":"e1","merchant":"270212122","amount":300,"card":"JE0001","balance_before":1000,"outcome":"unknown"}`,
		`{"type":"emoney_resolve","request_id":"r5","payment":"e1","outcome":"failed"}`,
		`{"amount":1e400}`, `{"type":null}`, `{}`, ``, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := dec.Decode(b)
		if err != nil {
			if c != nil {
				t.Fatal("rejected input returned a command")
			}
			if code := domain.CodeOf(err); code == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if _, err := domain.ParsePaymentID(string(c.PaymentID())); err != nil || c.Meta().RequestID == "" {
			t.Fatalf("accepted a command without valid ids: %+v", c)
		}
	})
}
