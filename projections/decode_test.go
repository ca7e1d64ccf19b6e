package projections

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"upay/domain"
)

var paymentTypes = []string{domain.TypeCardAuthorized, domain.TypeCardDeclined, domain.TypeCardCaptured, domain.TypeCardVoided,
	domain.TypeCardRefunded, domain.TypeEmoneySucceeded, domain.TypeEmoneyFailed, domain.TypeEmoneyUnknown,
	domain.TypeEmoneyResolved, domain.TypeEmoneyTrainingOK}

// sameDecode checks that Decode gives exactly domain.DecodeEvent's answer.
func sameDecode(t *testing.T, typ string, version int, data []byte) {
	t.Helper()
	got, gerr := Decode(typ, version, data)
	want, werr := domain.DecodeEvent(typ, version, data)
	if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s@%d %q:\n Decode       %#v, %v\n DecodeEvent  %#v, %v", typ, version, data, got, gerr, want, werr)
	}
}

// fastOK reports whether the fast path accepts data (no fallback).
func fastOK(typ string, data []byte) bool {
	switch typ {
	case domain.TypeCardAuthorized:
		_, ok := fastAuthorized(data)
		return ok
	case domain.TypeCardCaptured:
		_, ok := fastCaptured(data)
		return ok
	case domain.TypeEmoneyUnknown:
		_, ok := fastDebit(data)
		return ok
	}
	return false
}

func TestDecodeMatchesDomainOnRecordedEvents(t *testing.T) {
	n := 0
	for seed := uint64(1); seed <= 5; seed++ {
		for _, r := range randomLog(seed, 300) {
			data, err := domain.EncodeEvent(r.e)
			if err != nil {
				t.Fatal(err)
			}
			sameDecode(t, r.e.EventType(), r.e.EventVersion(), data)
			n++
		}
	}
	files, _ := filepath.Glob("../domain/testdata/events/*.json")
	for _, f := range files {
		typ, ver, _ := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".json"), "@")
		v, _ := strconv.Atoi(ver)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sameDecode(t, typ, v, bytes.TrimSpace(data))
		n++
	}
	if n < 500 || len(files) < 10 {
		t.Fatalf("only %d events and %d fixtures compared", n, len(files))
	}
}

// The ledger's own encoding takes the fast path; that is the point of it.
func TestDecodeFastPathTakesCanonicalEncoding(t *testing.T) {
	after := domain.Yen(700)
	for _, e := range []domain.Event{
		domain.CardAuthorized{Payment: "p1", Merchant: "270212122", Brand: domain.Visa, Amount: 5000, Installments: 1, CardLast4: "1111", CardFingerprint: "ab", Terminal: "T1", Result: "ok-01"},
		domain.CardCaptured{Payment: "p1", Merchant: "270212122", Brand: domain.JCB, Amount: 5000},
		domain.EmoneyDebit{Payment: "e1", Merchant: "270212122", Amount: 300, BalanceBefore: 1000, BalanceAfter: &after, Outcome: "unknown"},
		domain.EmoneyDebit{Payment: "e1", Merchant: "270212122", Amount: 300, BalanceBefore: 1000, Outcome: "unknown"},
	} {
		data, _ := domain.EncodeEvent(e)
		typ := e.EventType()
		if typ == domain.TypeEmoneySucceeded {
			typ = domain.TypeEmoneyUnknown
		}
		if !fastOK(typ, data) {
			t.Errorf("%s %s: fast path refused the canonical encoding", typ, data)
		}
		sameDecode(t, e.EventType(), 1, data)
	}
}

// decodeEdgeCases are inputs where encoding/json's rules are subtle; each
// must decode exactly as domain.DecodeEvent does, through the fast path or
// around it.
var decodeEdgeCases = []struct {
	typ  string
	data string
}{
	{domain.TypeCardCaptured, `{"payment":"p1","merchant":"270212122","brand":"visa","amount":5000}`},
	{domain.TypeCardCaptured, ` {"payment" : "p1" , "amount":5000 } `},
	{domain.TypeCardCaptured, `{}`},
	{domain.TypeCardCaptured, `{"PAYMENT":"p1"}`},                 // case-insensitive key in encoding/json
	{domain.TypeCardCaptured, `{"payment":"p\u0031"}`},            // escape
	{domain.TypeCardCaptured, `{"payment":"pé"}`},                 // non-ASCII
	{domain.TypeCardCaptured, "{\"payment\":\"p\xff\"}"},          // invalid UTF-8
	{domain.TypeCardCaptured, "{\"payment\":\"p\x01\"}"},          // control character
	{domain.TypeCardCaptured, `{"amount":1.5}`},                   // fraction
	{domain.TypeCardCaptured, `{"amount":1e3}`},                   // exponent
	{domain.TypeCardCaptured, `{"amount":01}`},                    // leading zero
	{domain.TypeCardCaptured, `{"amount":-0}`},                    // minus zero
	{domain.TypeCardCaptured, `{"amount":-12}`},                   // negative
	{domain.TypeCardCaptured, `{"amount":9223372036854775807}`},   // max int64, 19 digits
	{domain.TypeCardCaptured, `{"amount":9223372036854775808}`},   // overflow
	{domain.TypeCardCaptured, `{"amount":"5000"}`},                // string for a number
	{domain.TypeCardCaptured, `{"amount":null}`},                  // null for a number
	{domain.TypeCardCaptured, `{"amount":5,"amount":6}`},          // duplicate key
	{domain.TypeCardCaptured, `{"payment":"p1","extra":1}`},       // unknown field
	{domain.TypeCardCaptured, `{"payment":"p1"} trailing`},        // trailing data, ignored by a Decoder
	{domain.TypeCardCaptured, `{"payment":"p1"}{"payment":"p2"}`}, // a second value
	{domain.TypeCardCaptured, `{"payment":"p1",}`},                // trailing comma
	{domain.TypeCardCaptured, `{"payment":"p1"`},                  // truncated
	{domain.TypeCardCaptured, `[]`},                               // not an object
	{domain.TypeCardCaptured, ``},                                 // empty
	{domain.TypeCardCaptured, `{"amount":12x}`},                   // junk after a number
	{domain.TypeEmoneyUnknown, `{"balance_after":null}`},          // null pointer
	{domain.TypeEmoneyUnknown, `{"balance_after":5,"balance_after":null}`},
	{domain.TypeEmoneyUnknown, `{"balance_after":null,"balance_after":7}`},
	{domain.TypeEmoneyUnknown, `{"training":true}`},
	{domain.TypeEmoneyUnknown, `{"training":truex}`},
	{domain.TypeEmoneyUnknown, `{"training":1}`},
	{domain.TypeEmoneyUnknown, `{"training":null}`},
	{domain.TypeEmoneyResolved, `{"balance_after":null}`}, // null for a non-pointer
	{domain.TypeCardAuthorized, `{"installments":2,"terminal":""}`},
	{domain.TypeCardDeclined, `{"card_company_code":"G12","result":"ng-02"}`},
}

func TestDecodeEdgeCasesMatchDomain(t *testing.T) {
	for _, tc := range decodeEdgeCases {
		sameDecode(t, tc.typ, 1, []byte(tc.data))
	}
	// A version or type the fast path does not know goes to the domain.
	sameDecode(t, domain.TypeCardCaptured, 2, []byte(`{"payment":"p1"}`))
	sameDecode(t, "card.unknown", 1, []byte(`{"payment":"p1"}`))
}

func FuzzDecode(f *testing.F) {
	for i, tc := range decodeEdgeCases {
		f.Add(uint8(i), []byte(tc.data))
	}
	for i, r := range randomLog(1, 100) {
		data, _ := domain.EncodeEvent(r.e)
		f.Add(uint8(i), data)
	}
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		sameDecode(t, paymentTypes[int(k)%len(paymentTypes)], 1, data)
	})
}

func BenchmarkDecode(b *testing.B) {
	var evs [][]byte
	var types []string
	for _, r := range randomLog(1, 400) {
		data, _ := domain.EncodeEvent(r.e)
		evs = append(evs, data)
		types = append(types, r.e.EventType())
	}
	b.Run("fast", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := Decode(types[i%len(evs)], 1, evs[i%len(evs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("domain", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := domain.DecodeEvent(types[i%len(evs)], 1, evs[i%len(evs)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
