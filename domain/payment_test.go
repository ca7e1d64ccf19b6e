package domain

import (
	"errors"
	"testing"
	"time"
)

var (
	key   = []byte("test-fingerprint-key")
	visa  = NewCardRef(key, "4111111111111111")
	other = NewCardRef(key, "4242424242424242")
	t0    = time.Date(2019, 10, 1, 1, 0, 0, 0, time.UTC) // 10:00 JST
)

// fold replays events as the ledger would, each one second apart.
func fold(t *testing.T, cmds ...Command) (Payment, time.Time) {
	t.Helper()
	var p Payment
	at := t0
	for i, c := range cmds {
		evs, err := p.Decide(c, at)
		if err != nil {
			t.Fatalf("setup command %d (%s): %v", i, c.Name(), err)
		}
		for _, e := range evs {
			p.Evolve(e, at)
		}
		at = at.Add(time.Second)
	}
	return p, at
}

func auth(amount Yen) Authorize {
	return Authorize{Payment: "p1", Merchant: "270212122", Brand: Visa, Amount: amount, Installments: 1, Card: visa, Result: ResultApproved}
}

func TestDecideRules(t *testing.T) {
	declined := auth(500)
	declined.Result = "ng-02"
	declined.CardCompanyCode = "G12"
	debit := func(amount, balance Yen, outcome string) EmoneyDebitCmd {
		return EmoneyDebitCmd{Payment: "e1", Merchant: "270212122", Amount: amount, Card: visa, BalanceBefore: balance, Outcome: outcome}
	}
	tests := []struct {
		name  string
		setup []Command
		cmd   Command
		after time.Duration // added to the time after setup
		code  string        // "" = accepted
		want  string        // accepted: event type
	}{
		{"authorize approved", nil, auth(5000), 0, "", TypeCardAuthorized},
		{"authorize declined is recorded", nil, declined, 0, "", TypeCardDeclined},
		{"authorize twice", []Command{auth(5000)}, auth(5000), 0, CodePaymentExists, ""},
		{"authorize zero", nil, auth(0), 0, CodeInvalidAmount, ""},
		{"authorize too big", nil, auth(MaxAmount + 1), 0, CodeAmountTooBig, ""},
		{"authorize at limit", nil, auth(MaxAmount), 0, "", TypeCardAuthorized},
		{"authorize bad result", nil, Authorize{Payment: "p1", Merchant: "270212122", Brand: Visa, Amount: 1, Installments: 1, Result: "ng-09"}, 0, CodeInvalidField, ""},
		{"authorize G code on approval", nil, Authorize{Payment: "p1", Merchant: "270212122", Brand: Visa, Amount: 1, Installments: 1, Result: "ok-01", CardCompanyCode: "G12"}, 0, CodeInvalidField, ""},
		{"authorize installments 0", nil, Authorize{Payment: "p1", Merchant: "270212122", Brand: Visa, Amount: 1, Result: "ok-01"}, 0, CodeInvalidField, ""},
		{"capture default amount", []Command{auth(5000)}, Capture{Payment: "p1"}, 0, "", TypeCardCaptured},
		{"capture partial", []Command{auth(5000)}, Capture{Payment: "p1", Amount: 4000}, 0, "", TypeCardCaptured},
		{"capture above authorized", []Command{auth(5000)}, Capture{Payment: "p1", Amount: 5001}, 0, CodeCaptureTooBig, ""},
		{"capture twice", []Command{auth(5000), Capture{Payment: "p1"}}, Capture{Payment: "p1"}, 0, CodeNotCapturable, ""},
		{"capture declined", []Command{declined}, Capture{Payment: "p1"}, 0, CodeNotCapturable, ""},
		{"capture voided", []Command{auth(5000), Void{Payment: "p1"}}, Capture{Payment: "p1"}, 0, CodeNotCapturable, ""},
		{"capture unknown payment", nil, Capture{Payment: "p9"}, 0, CodePaymentNotFound, ""},
		{"capture e-money", []Command{debit(300, 1000, OutcomeSucceeded)}, Capture{Payment: "e1"}, 0, CodeWrongKind, ""},
		{"void", []Command{auth(5000)}, Void{Payment: "p1"}, 0, "", TypeCardVoided},
		{"void with same card", []Command{auth(5000)}, Void{Payment: "p1", Card: &visa}, 0, "", TypeCardVoided},
		{"void with other card", []Command{auth(5000)}, Void{Payment: "p1", Card: &other}, 0, CodeOtherCard, ""},
		{"void after capture", []Command{auth(5000), Capture{Payment: "p1"}}, Void{Payment: "p1"}, 0, CodeAlreadyDone, ""},
		{"void twice", []Command{auth(5000), Void{Payment: "p1"}}, Void{Payment: "p1"}, 0, CodeAlreadyDone, ""},
		{"void declined", []Command{declined}, Void{Payment: "p1"}, 0, CodeVoidImpossible, ""},
		{"void 59 days later", []Command{auth(5000)}, Void{Payment: "p1"}, 59 * 24 * time.Hour, "", TypeCardVoided},
		{"void 60 days later", []Command{auth(5000)}, Void{Payment: "p1"}, 60 * 24 * time.Hour, CodeVoidImpossible, ""},
		{"void e-money", []Command{debit(300, 1000, OutcomeSucceeded)}, Void{Payment: "e1"}, 0, CodeRefundImpossible, ""},
		{"refund part", []Command{auth(5000), Capture{Payment: "p1"}}, Refund{Payment: "p1", Amount: 1000, Card: visa}, 0, "", TypeCardRefunded},
		{"refund all in two", []Command{auth(5000), Capture{Payment: "p1"}, Refund{Payment: "p1", Amount: 1000, Card: visa}}, Refund{Payment: "p1", Amount: 4000, Card: visa}, 0, "", TypeCardRefunded},
		{"refund beyond left", []Command{auth(5000), Capture{Payment: "p1"}, Refund{Payment: "p1", Amount: 1000, Card: visa}}, Refund{Payment: "p1", Amount: 4001, Card: visa}, 0, CodeRefundTooBig, ""},
		{"refund fully refunded", []Command{auth(5000), Capture{Payment: "p1"}, Refund{Payment: "p1", Amount: 5000, Card: visa}}, Refund{Payment: "p1", Amount: 1, Card: visa}, 0, CodeRefundImpossible, ""},
		{"refund never captured", []Command{auth(5000)}, Refund{Payment: "p1", Amount: 1, Card: visa}, 0, CodeRefundImpossible, ""},
		{"refund other card", []Command{auth(5000), Capture{Payment: "p1"}}, Refund{Payment: "p1", Amount: 1, Card: other}, 0, CodeOtherCard, ""},
		{"refund e-money", []Command{debit(300, 1000, OutcomeSucceeded)}, Refund{Payment: "e1", Amount: 300, Card: visa}, 0, CodeRefundImpossible, ""},
		{"refund zero", []Command{auth(5000), Capture{Payment: "p1"}}, Refund{Payment: "p1", Amount: 0, Card: visa}, 0, CodeInvalidAmount, ""},
		{"debit succeeded", nil, debit(300, 1000, OutcomeSucceeded), 0, "", TypeEmoneySucceeded},
		{"debit failed", nil, debit(300, 1000, OutcomeFailed), 0, "", TypeEmoneyFailed},
		{"debit unknown", nil, debit(300, 1000, OutcomeUnknown), 0, "", TypeEmoneyUnknown},
		{"debit whole balance", nil, debit(1000, 1000, OutcomeSucceeded), 0, "", TypeEmoneySucceeded},
		{"debit above balance", nil, debit(1001, 1000, OutcomeSucceeded), 0, CodeEmoneyOverBal, ""},
		{"debit above card limit", nil, debit(20001, 20000, OutcomeSucceeded), 0, CodeEmoneyOverLimit, ""},
		{"debit balance above limit", nil, debit(100, 20001, OutcomeSucceeded), 0, CodeEmoneyOverLimit, ""},
		{"debit bad outcome", nil, debit(100, 200, "maybe"), 0, CodeInvalidField, ""},
		{"debit twice", []Command{debit(300, 1000, OutcomeSucceeded)}, debit(300, 1000, OutcomeSucceeded), 0, CodePaymentExists, ""},
		{"training debit", nil, EmoneyDebitCmd{Payment: "e1", Merchant: "270212122", Amount: 500, Card: visa, BalanceBefore: TrainingBalance, Outcome: OutcomeSucceeded, Training: true}, 0, "", TypeEmoneyTrainingOK},
		{"resolve succeeded", []Command{debit(300, 1000, OutcomeUnknown)}, EmoneyResolve{Payment: "e1", Outcome: OutcomeSucceeded}, 0, "", TypeEmoneyResolved},
		{"resolve failed", []Command{debit(300, 1000, OutcomeUnknown)}, EmoneyResolve{Payment: "e1", Outcome: OutcomeFailed}, 0, "", TypeEmoneyResolved},
		{"resolve to unknown", []Command{debit(300, 1000, OutcomeUnknown)}, EmoneyResolve{Payment: "e1", Outcome: OutcomeUnknown}, 0, CodeInvalidField, ""},
		{"resolve known", []Command{debit(300, 1000, OutcomeSucceeded)}, EmoneyResolve{Payment: "e1", Outcome: OutcomeFailed}, 0, CodeNotUnknown, ""},
		{"resolve twice", []Command{debit(300, 1000, OutcomeUnknown), EmoneyResolve{Payment: "e1", Outcome: OutcomeFailed}}, EmoneyResolve{Payment: "e1", Outcome: OutcomeSucceeded}, 0, CodeNotUnknown, ""},
		{"resolve card", []Command{auth(5000)}, EmoneyResolve{Payment: "p1", Outcome: OutcomeFailed}, 0, CodeWrongKind, ""},
		{"resolve unknown payment", nil, EmoneyResolve{Payment: "e9", Outcome: OutcomeFailed}, 0, CodePaymentNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, at := fold(t, tc.setup...)
			before := p
			evs, err := p.Decide(tc.cmd, at.Add(tc.after))
			if p != before {
				t.Fatal("Decide changed the state")
			}
			if tc.code != "" {
				if CodeOf(err) != tc.code {
					t.Fatalf("got %v (events %v), want code %s", err, evs, tc.code)
				}
				if evs != nil {
					t.Fatalf("rejected command returned events %v", evs)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if len(evs) != 1 || evs[0].EventType() != tc.want {
				t.Fatalf("events %v, want one %s", evs, tc.want)
			}
		})
	}
}

func TestCaptureAmountsAndBalances(t *testing.T) {
	p, at := fold(t, auth(5000))
	evs, err := p.Decide(Capture{Payment: "p1"}, at)
	if err != nil || evs[0].(CardCaptured).Amount != 5000 {
		t.Fatalf("default capture = %v, %v; want 5000", evs, err)
	}
	var e Payment
	at = t0
	for _, c := range []Command{
		EmoneyDebitCmd{Payment: "e1", Merchant: "270212122", Amount: 300, Card: visa, BalanceBefore: 1000, Outcome: OutcomeUnknown},
	} {
		evs, err := e.Decide(c, at)
		if err != nil {
			t.Fatal(err)
		}
		if evs[0].(EmoneyDebit).BalanceAfter != nil {
			t.Fatal("unknown debit must not claim a balance after")
		}
		e.Evolve(evs[0], at)
	}
	evs, err = e.Decide(EmoneyResolve{Payment: "e1", Outcome: OutcomeSucceeded}, at)
	if err != nil || evs[0].(EmoneyResolved).BalanceAfter != 700 {
		t.Fatalf("resolve = %v, %v; want balance after 700", evs, err)
	}
}

func TestBusinessDateIsTokyo(t *testing.T) {
	// domain.md: a capture recorded at 2019-10-15T15:30:00Z is on 2019-10-16.
	if got := BusinessDate(time.Date(2019, 10, 15, 15, 30, 0, 0, time.UTC)).String(); got != "2019-10-16" {
		t.Fatalf("business date = %s, want 2019-10-16", got)
	}
	if got := BusinessDate(time.Date(2019, 10, 15, 14, 59, 59, 0, time.UTC)).String(); got != "2019-10-15" {
		t.Fatalf("business date = %s, want 2019-10-15", got)
	}
}

func TestCardRefKeepsNoNumber(t *testing.T) {
	r := NewCardRef(key, "4111111111111111")
	if r.Last4 != "1111" || len(r.Fingerprint) != 64 {
		t.Fatalf("card ref %+v", r)
	}
	if NewCardRef([]byte("other key"), "4111111111111111").Fingerprint == r.Fingerprint {
		t.Fatal("fingerprint must depend on the key")
	}
	if NewCardRef(key, "4111111111111112").Fingerprint == r.Fingerprint {
		t.Fatal("fingerprint must depend on the number")
	}
}

func TestEventsRoundTrip(t *testing.T) {
	after := Yen(700)
	for _, e := range []Event{
		CardAuthorized{Payment: "p1", Merchant: "270212122", Brand: Visa, Amount: 5000, Installments: 1, CardLast4: "1111", CardFingerprint: "ab", Result: "ok-01"},
		CardDeclined{Payment: "p1", Merchant: "270212122", Brand: JCB, Amount: 5000, Installments: 3, CardLast4: "1111", CardFingerprint: "ab", Result: "ng-02", CardCompanyCode: "G12"},
		CardCaptured{Payment: "p1", Merchant: "270212122", Brand: Visa, Amount: 5000},
		CardVoided{Payment: "p1", Merchant: "270212122", Brand: Visa, Amount: 5000, Result: "ok-90"},
		CardRefunded{Payment: "p1", Merchant: "270212122", Brand: Visa, Amount: 100, Result: "ok-40"},
		EmoneyDebit{Payment: "e1", Merchant: "270212122", Amount: 300, BalanceBefore: 1000, BalanceAfter: &after, Outcome: OutcomeSucceeded},
		EmoneyDebit{Payment: "e1", Merchant: "270212122", Amount: 300, BalanceBefore: 1000, Outcome: OutcomeUnknown},
		EmoneyResolved{Payment: "e1", Merchant: "270212122", Amount: 300, Outcome: OutcomeSucceeded, BalanceAfter: 700},
	} {
		data, err := EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeEvent(e.EventType(), e.EventVersion(), data)
		if err != nil {
			t.Fatalf("%s: %v", e.EventType(), err)
		}
		again, _ := EncodeEvent(back)
		if string(again) != string(data) {
			t.Fatalf("%s: %s != %s", e.EventType(), again, data)
		}
	}
	if _, err := DecodeEvent(TypeCardCaptured, 1, []byte(`{"payment":"p1","extra":1}`)); CodeOf(err) != CodeMalformed {
		t.Fatalf("unknown field: %v", err)
	}
	if _, err := DecodeEvent("card.teleported", 1, []byte(`{}`)); CodeOf(err) != CodeUnknownType {
		t.Fatalf("unknown type: %v", err)
	}
}

func TestErrorsMatchByCode(t *testing.T) {
	err := Wrap(CodeConcurrency, errors.New("engine said no"), "stream pay-p1 at 3, expected 2")
	if !errors.Is(err, ErrConcurrency) || errors.Is(err, ErrRequestReused) {
		t.Fatal("errors.Is must match by code")
	}
	if CodeOf(err) != CodeConcurrency || CodeOf(errors.New("x")) != "" {
		t.Fatal("CodeOf")
	}
}

func TestChainHashDetectsTampering(t *testing.T) {
	mk := func(prev Hash, rev uint64, data string) RecordedEvent {
		at := t0.Add(time.Duration(rev) * time.Second)
		h := ChainHash(prev, "pay-p1", rev, TypeCardCaptured, 1, at.UnixNano(), "r", []byte(data))
		return RecordedEvent{Stream: "pay-p1", Revision: rev, Type: TypeCardCaptured, Version: 1, Time: at, RequestID: "r", Data: []byte(data), PrevHash: prev, Hash: h}
	}
	a := mk(Hash{}, 0, `{"a":1}`)
	b := mk(a.Hash, 1, `{"a":2}`)
	if i := VerifyChain(Hash{}, []RecordedEvent{a, b}); i != -1 {
		t.Fatalf("valid chain fails at %d", i)
	}
	b.Data = []byte(`{"a":3}`)
	if i := VerifyChain(Hash{}, []RecordedEvent{a, b}); i != 1 {
		t.Fatalf("tampered data not found: %d", i)
	}
	// Field boundaries are length-prefixed: moving bytes between fields changes the hash.
	if ChainHash(Hash{}, "ab", 0, "c", 1, 0, "", nil) == ChainHash(Hash{}, "a", 0, "bc", 1, 0, "", nil) {
		t.Fatal("field boundaries must count")
	}
}
