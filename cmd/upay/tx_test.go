package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"upay/domain"
)

func runUpay(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// txFixture is a store with known payments: 60 sales of merchant 270212122
// on 2019-10-01, a declined authorization and a refunded sale, e-money
// debits (one unknown, one resolved), and one sale of another merchant.
func txFixture(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	n := 0
	line := func(format string, args ...any) {
		n++
		fmt.Fprintf(&b, `{"request_id":"r%d",`+format+"}\n", append([]any{n}, args...)...)
	}
	for i := range 60 {
		at := fmt.Sprintf("2019-10-01T%02d:%02d:00+09:00", 9+i/60, i%60)
		line(`"type":"authorize","at":%q,"payment":"s%02d","merchant":"270212122","brand":"visa","amount":%d,"card":"4111111111111111","terminal":"T1","result":"ok-01"`, at, i, 1000+i)
		line(`"type":"capture","at":%q,"payment":"s%02d"`, at, i)
	}
	line(`"type":"authorize","at":"2019-10-02T10:00:00+09:00","payment":"d1","merchant":"270212122","brand":"jcb","amount":3000,"card":"3530111333300000","result":"ng-02","card_company_code":"G12"`)
	line(`"type":"authorize","at":"2019-10-03T10:00:00+09:00","payment":"p1","merchant":"270212122","brand":"mastercard","amount":5000,"card":"5500000000000004","result":"ok-01"`)
	line(`"type":"capture","at":"2019-10-03T10:00:00+09:00","payment":"p1"`)
	line(`"type":"refund","at":"2019-10-17T10:00:00+09:00","payment":"p1","amount":1200,"card":"5500000000000004"`)
	line(`"type":"emoney_debit","at":"2019-10-18T10:00:00+09:00","payment":"e1","merchant":"270212122","amount":300,"card":"JE0001","balance_before":1000,"outcome":"unknown"`)
	line(`"type":"emoney_debit","at":"2019-10-18T11:00:00+09:00","payment":"e2","merchant":"270212122","amount":400,"card":"JE0002","balance_before":2000,"outcome":"unknown"`)
	line(`"type":"emoney_resolve","at":"2019-10-19T10:00:00+09:00","payment":"e2","outcome":"succeeded"`)
	line(`"type":"authorize","at":"2019-10-20T10:00:00+09:00","payment":"o1","merchant":"270000009","brand":"amex","amount":700,"card":"371449635398431","result":"ok-01"`)
	line(`"type":"capture","at":"2019-10-20T10:00:00+09:00","payment":"o1"`)
	store := filepath.Join(t.TempDir(), "upay.db")
	if code, out, errs := runUpay(t, b.String(), "--store", store, "ingest", "-q", "--import", "-"); code != 0 || !strings.Contains(out, "rejected 0") {
		t.Fatalf("ingest: %d\n%s\n%s", code, out, errs)
	}
	return store
}

func TestTxSearch(t *testing.T) {
	store := txFixture(t)
	overflow, _ := domain.LookupCode(domain.CodeSearchOverflow)

	// No condition: newest first, 50 rows, then the manual's message and
	// the cursor of the next page.
	code, out, errs := runUpay(t, "", "--store", store, "tx", "search")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "PAYMENT") || !strings.HasPrefix(lines[1], "o1 ") || len(lines) != 1+50+2 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	if lines[51] != overflow.Code+" "+overflow.Message || !strings.HasPrefix(lines[52], "next page: --after ") {
		t.Fatalf("overflow lines:\n%s\n%s", lines[51], lines[52])
	}
	cursor := strings.TrimPrefix(lines[52], "next page: --after ")
	code, out, _ = runUpay(t, "", "--store", store, "tx", "search", "--after", cursor, "--json")
	var page searchJSON
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil {
		t.Fatalf("second page: %d %s", code, out)
	}
	// 65 payments: 50 on the first page, 15 on the second, ending with the
	// oldest sale.
	if page.Count != 15 || page.More || page.Code != "" || page.Rows[14].Payment != "s00" {
		t.Fatalf("second page: %+v", page)
	}

	// Filters.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--merchant", "270000009"}, "o1"},
		{[]string{"--merchant", "270212122", "--from", "2019-10-17", "--to", "2019-10-19"}, "e2,e1,p1"},
		{[]string{"--status", "partially-refunded"}, "p1"},
		{[]string{"--status", "DECLINED"}, "d1"},
		{[]string{"--brand", "JCB"}, "d1"},
		{[]string{"--brand", "emoney", "--status", "unknown"}, "e1"},
		{[]string{"--min", "1058", "--max", "1059"}, "s59,s58"},
		{[]string{"--from", "2019-10-01", "--to", "2019-10-01", "--limit", "2"}, "s59,s58"},
	} {
		code, out, errs := runUpay(t, "", append([]string{"--store", store, "tx", "search", "--json"}, tc.args...)...)
		var p searchJSON
		if code != 0 || json.Unmarshal([]byte(out), &p) != nil {
			t.Fatalf("%v: exit %d %s %s", tc.args, code, out, errs)
		}
		var got []string
		for _, r := range p.Rows {
			got = append(got, r.Payment)
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%v: %v, want %s", tc.args, got, tc.want)
		}
	}
	code, out, _ = runUpay(t, "", "--store", store, "tx", "search", "--json", "--merchant", "270212122", "--from", "2019-10-01", "--to", "2019-10-01")
	if err := json.Unmarshal([]byte(out), &page); err != nil || code != 0 || !page.More || page.Code != domain.CodeSearchOverflow || page.Message != overflow.Message || page.Count != 50 {
		t.Fatalf("60 matches in JSON: %d more=%v code=%q count=%d", code, page.More, page.Code, page.Count)
	}
	if r := page.Rows[0]; r.Status != "captured" || r.SalesDate == nil || *r.SalesDate != "2019-10-01" || r.MaskedCard != "************1111" || r.ResultCode != "ok-01" {
		t.Fatalf("row: %+v", r)
	}
}

func TestTxSearchBadInput(t *testing.T) {
	store := txFixture(t)
	for _, tc := range []struct {
		args []string
		code string
		says string
	}{
		{[]string{"--from", "2019-13-01"}, domain.CodeInvalidField, "--from"},
		{[]string{"--to", "2019/10/01"}, domain.CodeInvalidField, "--to"},
		{[]string{"--to", "2019-02-30"}, domain.CodeInvalidField, "--to"},
		{[]string{"--from", "2019-10-05", "--to", "2019-10-04"}, domain.CodeInvalidField, "after"},
		{[]string{"--min", "12.5"}, domain.CodeInvalidAmount, "--min"},
		{[]string{"--max", "1e3"}, domain.CodeInvalidAmount, "--max"},
		{[]string{"--min", "-1"}, domain.CodeInvalidAmount, "--min"},
		{[]string{"--min", "10", "--max", "9"}, domain.CodeInvalidField, "min amount"},
		{[]string{"--status", "settled"}, domain.CodeInvalidField, "--status"},
		{[]string{"--brand", "unionpay"}, domain.CodeInvalidField, "--brand"},
		{[]string{"--merchant", "12"}, domain.CodeInvalidField, "merchant"},
		{[]string{"--limit", "5000"}, domain.CodeInvalidField, "limit"},
		{[]string{"--after", "garbage!"}, domain.CodeInvalidField, "cursor"},
	} {
		code, out, errs := runUpay(t, "", append([]string{"--store", store, "tx", "search"}, tc.args...)...)
		if code == 0 || out != "" || !strings.Contains(errs, "error "+tc.code) || !strings.Contains(errs, tc.says) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %s naming %q", tc.args, code, out, errs, tc.code, tc.says)
		}
	}
}

func TestTxShow(t *testing.T) {
	store := txFixture(t)
	code, out, errs := runUpay(t, "", "--store", store, "tx", "show", "p1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	ok01, _ := domain.LookupCode("ok-01")
	ok40, _ := domain.LookupCode("ok-40")
	for _, want := range []string{
		"status:", "partially refunded", "refunded:", "1200", "sales date:", "2019-10-03", "return date:", "2019-10-17",
		"0  2019-10-03 10:00:00  card.authorized", "ok-01 " + ok01.Message, "remedy: " + ok01.Remedy,
		"1  2019-10-03 10:00:00  card.captured", "(no result code)",
		"2  2019-10-17 10:00:00  card.refunded", "ok-40 " + ok40.Message, "remedy: " + ok40.Remedy,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tx show p1 lacks %q:\n%s", want, out)
		}
	}
	// A decline shows both codes with their catalogue texts.
	code, out, _ = runUpay(t, "", "--store", store, "tx", "show", "d1", "--json")
	var show txShowJSON
	if code != 0 || json.Unmarshal([]byte(out), &show) != nil {
		t.Fatalf("show d1 --json: %d %s", code, out)
	}
	ng02, _ := domain.LookupCode("ng-02")
	g12, _ := domain.LookupCode("G12")
	if show.Transaction.Status != "declined" || len(show.Events) != 1 || len(show.Events[0].Codes) != 2 ||
		show.Events[0].Codes[0].Remedy != ng02.Remedy || show.Events[0].Codes[1].Code != "G12" || show.Events[0].Codes[1].Message != g12.Message {
		t.Fatalf("show d1: %+v", show)
	}
	// E-money: balances and the resolution.
	code, out, _ = runUpay(t, "", "--store", store, "tx", "show", "e2")
	if code != 0 || !strings.Contains(out, "balance after:") || !strings.Contains(out, "1600") || !strings.Contains(out, "emoney.debit_resolved") {
		t.Fatalf("show e2: %d\n%s", code, out)
	}
	code, _, errs = runUpay(t, "", "--store", store, "tx", "show", "nope")
	if code == 0 || !strings.Contains(errs, "error "+domain.CodePaymentNotFound) {
		t.Fatalf("unknown payment: %d %s", code, errs)
	}
	code, _, errs = runUpay(t, "", "--store", store, "tx", "show", "bad id!")
	if code == 0 || !strings.Contains(errs, "error "+domain.CodeInvalidField) {
		t.Fatalf("bad payment id: %d %s", code, errs)
	}
}
