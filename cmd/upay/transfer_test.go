package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"upay/adapters/zengin"
)

// The transfer file carries one data record per transferred payout, with the
// payout's net, and round-trips through the parser.
func TestTransferFile(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "upay.db")
	month := filepath.Join(dir, "m.jsonl")
	if code, _, errs := runIn(t, "", "gen", "--merchants", "2", "--days", "15", "--per-day", "20", "-o", month); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runIn(t, "", "--store", store, "ingest", "-q", "--import", month); code != 0 {
		t.Fatal(errs)
	}
	for i, bank := range []string{"0010", "0001"} {
		id := []string{"270000001", "270000002"}[i]
		if code, _, errs := runIn(t, "12345678"+id[8:]+"\n", "--store", store, "merchant", "add", "--id", id, "--name", "店", "--contact", "担当",
			"--email", "a@example.jp", "--bank-code", bank, "--bank-name", "銀行", "--branch-code", "101", "--branch-name", "本店",
			"--account-number", "123456"+id[8:], "--holder", "ﾃｽﾄ", "--rate-visa-master", "3.24", "--rate-jcb-other", "3.24",
			"--rate-emoney", "3.24", "--notice-password-file", "-"); code != 0 {
			t.Fatal(errs)
		}
	}
	out := filepath.Join(dir, "t.txt")
	rem := filepath.Join(dir, "remitter.json")
	os.WriteFile(rem, []byte(`{"code":"1234567890","name":"ﾕ-ｾﾝ","bank_code":"0001","bank_name":"ﾐｽﾞﾎ","branch_code":"001","branch_name":"ﾄｳｷﾖｳ","account_type":"ordinary","account_number":"7654321"}`), 0o600)
	if code, _, errs := runIn(t, "", "--store", store, "payout", "transfer-file", "--payday", "2019-10-31", "--remitter", rem, "--out", out); code == 0 || !strings.Contains(errs, "U2404") {
		t.Fatalf("before the batch: %d %s", code, errs)
	}
	if code, _, errs := runIn(t, "", "--store", store, "payout", "run", "-q", "--payday", "2019-10-31"); code != 0 {
		t.Fatal(errs)
	}
	code, stdout, errs := runIn(t, "", "--store", store, "payout", "transfer-file", "--payday", "2019-10-31", "--remitter", rem, "--out", out)
	if code != 0 || !strings.Contains(stdout, "2 transfers") {
		t.Fatalf("transfer-file: %d %s %s", code, stdout, errs)
	}
	data, err := os.ReadFile(out)
	if err != nil || len(data) != 5*122 { // header, 2 data, trailer, end
		t.Fatalf("%d bytes, %v", len(data), err)
	}
	f, err := zengin.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range f.Transfers {
		_, show, _ := runIn(t, "", "--store", store, "payout", "show", tr.CustomerCode1[1:], "2019-10-31", "--json")
		if !strings.Contains(show, `"net": `+itoa(tr.Amount)+",") {
			t.Fatalf("transfer %+v does not carry the payout's net:\n%s", tr, show)
		}
	}
	if code, events, _ := runIn(t, "", "--store", store, "events", "--stream", "transfer-files-2019-10-31", "--json"); code != 0 || !strings.Contains(events, "payout.transfer_file_created") {
		t.Fatalf("no transfer_file_created event: %s", events)
	}
	if entries, _ := os.ReadDir(dir); len(entries) == 0 {
		t.Fatal("no files")
	} else {
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Fatalf("temporary file left: %s", e.Name())
			}
		}
	}
}

func itoa(v int64) string {
	return strings.TrimSpace(strings.Replace(strings.Replace(yen(v), "¥", "", 1), ",", "", -1))
}
