package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	stdin := ""
	if len(args) > 0 && strings.HasPrefix(args[len(args)-1], "stdin=") {
		stdin, args = strings.TrimPrefix(args[len(args)-1], "stdin="), args[:len(args)-1]
	}
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestMerchantCommands(t *testing.T) {
	store := filepath.Join(t.TempDir(), "upay.db")
	add := []string{"--store", store, "merchant", "add", "--id", "270212122", "--name", "テスト商店", "--contact", "平 次郎",
		"--email", "owner@example.jp", "--bank-code", "0010", "--bank-name", "りそな銀行", "--branch-code", "101", "--branch-name", "本店",
		"--account-number", "1234567", "--holder", "ﾃｽﾄｼﾖｳﾃﾝ", "--rate-visa-master", "3.24", "--rate-jcb-other", "3.24", "--rate-emoney", "3.24"}
	if code, _, errs := runCLI(t, append(add, "--notice-password-file", "-", "stdin=1234\n")...); code == 0 || !strings.Contains(errs, "U1009") {
		t.Fatalf("short password: %d %s", code, errs)
	}
	if code, out, errs := runCLI(t, append(add, "--notice-password-file", "-", "stdin=123456789\n")...); code != 0 || !strings.Contains(out, "registered merchant 270212122") {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, append(add, "--notice-password-file", "-", "stdin=123456789\n")...); code == 0 || !strings.Contains(errs, "U2301") {
		t.Fatalf("second add: %d %s", code, errs)
	}
	bad := append([]string{}, add...)
	for i, a := range bad {
		if a == "ﾃｽﾄｼﾖｳﾃﾝ" {
			bad[i] = "ﾃｽﾄｼｮｳﾃﾝ"
		}
		if a == "270212122" {
			bad[i] = "270212123"
		}
	}
	if code, _, errs := runCLI(t, append(bad, "--notice-password-file", "-", "stdin=123456789\n")...); code == 0 || !strings.Contains(errs, "U4001") {
		t.Fatalf("small kana holder: %d %s", code, errs)
	}
	if code, out, _ := runCLI(t, "--store", store, "merchant", "list"); code != 0 || !strings.Contains(out, "270212122") || strings.Contains(out, "270212123") {
		t.Fatalf("list: %s", out)
	}
	if code, _, errs := runCLI(t, "--store", store, "merchant", "set-rates", "270212122", "--visa-master", "101", "--effective", "2099-01-16"); code == 0 || !strings.Contains(errs, "U2303") {
		t.Fatalf("rate 101: %s", errs)
	}
	if code, _, errs := runCLI(t, "--store", store, "merchant", "set-rates", "270212122", "--visa-master", "3", "--effective", "2019-01-16"); code == 0 || !strings.Contains(errs, "U2304") {
		t.Fatalf("closed period: %s", errs)
	}
	if code, _, errs := runCLI(t, "--store", store, "merchant", "set-rates", "270212122", "--visa-master", "3.00", "--effective", "2099-01-16"); code != 0 {
		t.Fatalf("set-rates: %s", errs)
	}
	if code, out, _ := runCLI(t, "--store", store, "merchant", "show", "270212122", "--json"); code != 0 || !strings.Contains(out, `"effective":"2099-01-16"`) || strings.Contains(out, "123456789") {
		t.Fatalf("show: %s", out)
	}
	if code, _, errs := runCLI(t, "--store", store, "merchant", "show", "270000000"); code == 0 || !strings.Contains(errs, "U2302") {
		t.Fatalf("unknown merchant: %s", errs)
	}
}
