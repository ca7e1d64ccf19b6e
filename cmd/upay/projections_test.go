package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"upay/domain"
	"upay/projections"
)

func TestProjectionsStatusCatchUpRebuild(t *testing.T) {
	store := txFixture(t) // 129 events, not yet applied
	status := func() []statusJSON {
		t.Helper()
		code, out, errs := runUpay(t, "", "--store", store, "projections", "status", "--json")
		var st []statusJSON
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil || len(st) != len(projections.Names) {
			t.Fatalf("status: %d %s %s", code, out, errs)
		}
		return st
	}
	for _, s := range status() {
		if s.Lag != 129 || s.Position != "0" {
			t.Fatalf("before any catch-up: %+v, want lag 129 at 0", s)
		}
	}
	code, out, errs := runUpay(t, "", "--store", store, "projections", "catch-up")
	if code != 0 || !strings.HasPrefix(out, "applied 129 events") || !strings.Contains(errs, "100%") {
		t.Fatalf("catch-up: %d %q %q", code, out, errs)
	}
	for _, s := range status() {
		if s.Lag != 0 || s.Position != "129" {
			t.Fatalf("after catch-up: %+v", s)
		}
	}
	code, out, _ = runUpay(t, "", "--store", store, "projections", "status")
	if code != 0 || !strings.Contains(out, "PROJECTION") || !strings.Contains(out, "period_totals  129       0") {
		t.Fatalf("status table:\n%s", out)
	}
	if code, out, _ := runUpay(t, "", "--store", store, "projections", "catch-up"); code != 0 || !strings.HasPrefix(out, "applied 0 events") {
		t.Fatalf("second catch-up: %s", out)
	}
	code, out, errs = runUpay(t, "", "--store", store, "projections", "rebuild", "journal")
	if code != 0 || !strings.HasPrefix(out, "rebuilt journal from 129 events") || !strings.Contains(errs, "[==============================] 100% 129/129 events") {
		t.Fatalf("rebuild journal: %d %q %q", code, out, errs)
	}
	if strings.Contains(errs, "search indexes") {
		t.Fatalf("rebuild journal announces index builds it does not do: %q", errs)
	}
	code, out, errs = runUpay(t, "", "--store", store, "projections", "rebuild")
	if code != 0 || !strings.HasPrefix(out, "rebuilt transactions, period_totals, journal, payouts, notices from 129 events") ||
		!strings.Contains(errs, "\nevery event applied; building the listing's search indexes... done\n") {
		t.Fatalf("rebuild: %d %q %q", code, out, errs)
	}
	code, _, errs = runUpay(t, "", "--store", store, "projections", "rebuild", "nope")
	if code == 0 || !strings.Contains(errs, "error "+domain.CodeInvalidField) || !strings.Contains(errs, `"nope"`) {
		t.Fatalf("rebuild nope: %d %s", code, errs)
	}
	// The readers catch up by themselves: a new payment is found at once.
	line := `{"type":"authorize","request_id":"late","at":"2019-10-21T10:00:00+09:00","payment":"late1","merchant":"270212122","brand":"visa","amount":123,"card":"4111111111111111","result":"ok-01"}`
	if code, _, errs := runUpay(t, line, "--store", store, "ingest", "-q", "--import", "-"); code != 0 {
		t.Fatalf("ingest: %s", errs)
	}
	if code, out, _ := runUpay(t, "", "--store", store, "tx", "search", "--min", "123", "--max", "123"); code != 0 || !strings.Contains(out, "late1") {
		t.Fatalf("search after a new event: %d %s", code, out)
	}
}

func TestBalanceCommand(t *testing.T) {
	store := txFixture(t)
	// As of the last event (2019-10-20): October's period A (payday 10/31)
	// and B (payday 11/15) and the October e-money (payday 11/29).
	code, out, errs := runUpay(t, "", "--store", store, "balance", "270212122")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"merchant 270212122, unsettled as of 2019-10-20",
		"card    10/01-15", "2019-10-31", "61     66770  VISA/MASTER",
		"card    10/16-31", "2019-11-15", "1      -1200  VISA/MASTER",
		"emoney  10/01-31", "2019-11-29", "電子マネー", "400",
		"unsettled card 65570, e-money 400, total 65970",
		"unknown e-money debits awaiting resolution: 1 (300 yen",
		"e1  2019-10-18 10:00:00  300",
		"payouts: none",
		"scheduled 0, paid 0, returned 0 (owed again)",
		"carried forward 0",
		"owed 65970 (unsettled + carried forward + returned)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("balance lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runUpay(t, "", "--store", store, "balance", "270212122", "--as-of", "2019-10-31", "--json")
	var b balanceOutJSON
	if code != 0 || json.Unmarshal([]byte(out), &b) != nil {
		t.Fatalf("--json: %d %s", code, out)
	}
	if b.AsOf != "2019-10-31" || len(b.Card) != 1 || b.Card[0].Start != "2019-10-16" || b.Card[0].Payday != "2019-11-15" ||
		b.CardTotal != -1200 || b.EmoneyTotal != 400 || b.Total != -800 || b.UnknownAmount != 300 || len(b.Unknown) != 1 || b.Unknown[0].Payment != "e1" {
		t.Fatalf("as of 10/31: %+v", b)
	}
	for _, args := range [][]string{{"balance", "12345"}, {"balance", "270212122", "--as-of", "31/10/2019"}, {"balance"}} {
		code, _, errs := runUpay(t, "", append([]string{"--store", store}, args...)...)
		if code == 0 || (len(args) > 1 && !strings.Contains(errs, "error "+domain.CodeInvalidField)) {
			t.Errorf("%v: exit %d, %s", args, code, errs)
		}
	}
}

// After a payout batch the balance lists the payout, scheduled until the
// bank reports on it, then returned (owed again).
func TestBalanceCommandWithPayouts(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "upay.db")
	month := filepath.Join(dir, "m.jsonl")
	if code, _, errs := runIn(t, "", "gen", "--merchants", "1", "--days", "15", "--per-day", "5", "-o", month); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runIn(t, "", "--store", store, "ingest", "-q", "--import", month); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runIn(t, "123456781\n", "--store", store, "merchant", "add", "--id", "270000001", "--name", "店", "--contact", "担当",
		"--email", "a@example.jp", "--bank-code", "0010", "--bank-name", "銀行", "--branch-code", "101", "--branch-name", "本店",
		"--account-number", "1234561", "--holder", "ﾃｽﾄ", "--rate-visa-master", "3.24", "--rate-jcb-other", "3.24",
		"--rate-emoney", "3.24", "--notice-password-file", "-"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runIn(t, "", "--store", store, "payout", "run", "-q", "--payday", "2019-10-31"); code != 0 {
		t.Fatal(errs)
	}
	// As of the last event (the batch, run today): the payout is scheduled.
	balanceJSON := func() balanceOutJSON {
		t.Helper()
		code, out, errs := runIn(t, "", "--store", store, "balance", "270000001", "--json")
		var b balanceOutJSON
		if code != 0 || json.Unmarshal([]byte(out), &b) != nil {
			t.Fatalf("balance: %d %s %s", code, out, errs)
		}
		return b
	}
	b := balanceJSON()
	if len(b.Payouts) != 1 || b.Payouts[0].NoticeNo != "270000001-001-20191031" || b.Payouts[0].Status != "issued" || !b.Payouts[0].Transferred ||
		b.Scheduled != b.Payouts[0].Net || b.Scheduled <= 0 || b.Returned != 0 || b.Owed != b.Total {
		t.Fatalf("after the batch: %+v", b)
	}
	if code, _, errs := runIn(t, "", "--store", store, "payout", "mark-returned", "270000001", "2019-10-31", "--reason", "口座解約"); code != 0 {
		t.Fatal(errs)
	}
	b = balanceJSON()
	if b.Scheduled != 0 || b.Returned != b.Payouts[0].Net || b.Payouts[0].Status != "returned" || b.Payouts[0].Reason != "口座解約" || b.Owed != b.Total+b.Returned {
		t.Fatalf("after the return: %+v", b)
	}
	code, out, _ := runIn(t, "", "--store", store, "balance", "270000001")
	if code != 0 || !strings.Contains(out, "2019-10-31  270000001-001-20191031") || !strings.Contains(out, "returned: 口座解約") ||
		!strings.Contains(out, "scheduled 0, paid 0, returned "+fmt.Sprint(b.Returned)+" (owed again)") {
		t.Fatalf("balance text: %d\n%s", code, out)
	}
}
