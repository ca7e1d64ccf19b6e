package scenarios_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"upay/domain"
	"upay/scenarios"
)

func foldRunner(t *testing.T) *scenarios.Runner {
	return &scenarios.Runner{Totals: openFold, TempDir: t.TempDir()}
}

func runFile(t *testing.T, r *scenarios.Runner, file string) *scenarios.Result {
	t.Helper()
	s, err := scenarios.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func runSource(t *testing.T, src string) *scenarios.Result {
	t.Helper()
	s, err := scenarios.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res, err := foldRunner(t).Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func shipped(t *testing.T) []string {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) < 15 {
		t.Fatalf("want at least 15 scenario files, found %d (%v)", len(files), err)
	}
	return files
}

// Every scenario shipped under scenarios/ passes, with the period totals
// folded from the events (the reference) and with the embedded read models
// the CLI uses.
func TestShippedScenarios(t *testing.T) {
	for _, f := range shipped(t) {
		t.Run(f, func(t *testing.T) {
			for _, d := range runFile(t, foldRunner(t), f).Diffs {
				t.Error(d)
			}
		})
	}
}

func TestShippedScenariosOnReadModels(t *testing.T) {
	for _, f := range shipped(t) {
		t.Run(f, func(t *testing.T) {
			r := &scenarios.Runner{TempDir: t.TempDir()} // nil Totals: scenarios.ReadModels
			for _, d := range runFile(t, r, f).Diffs {
				t.Error(d)
			}
		})
	}
}

func readExample(t *testing.T) string {
	b, err := os.ReadFile("issue-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A wrong expectation fails with a diff naming the payout and the field.
func TestWrongExpectationDiff(t *testing.T) {
	src := readExample(t)
	src = strings.Replace(src, "net: 3661", "net: 3671", 1)
	src = strings.Replace(src, "fee: 129,", "fee: 128,", 1)
	src = strings.Replace(src, `notice_date: "2019-10-29"`, `notice_date: "2019-10-30"`, 1)
	src = strings.Replace(src, `rate: "3.24"`, `rate: "3.240"`, 1) // the same number: no diff
	res := runSource(t, src)
	want := []string{
		"payouts[0] 270212122 2019-10-31: notice_date: want 2019-10-30, got 2019-10-29",
		"payouts[0] 270212122 2019-10-31: lines[0] VISA/MASTER 2019-10-01..2019-10-15: fee: want 128, got 129",
		"payouts[0] 270212122 2019-10-31: net: want 3671, got 3661",
	}
	if res.Passed() || !slices.Equal(res.Diffs, want) {
		t.Fatalf("diffs:\n%s\nwant:\n%s", strings.Join(res.Diffs, "\n"), strings.Join(want, "\n"))
	}
}

// A rejection the file does not list fails; so does a listed one that did
// not happen, or happened with another code.
func TestRejectionDiffs(t *testing.T) {
	src := strings.Replace(readExample(t), "rejections: [{step: 4, code: P1241}]", "rejections: [{step: 5, code: P1245}]", 1)
	res := runSource(t, src)
	if len(res.Diffs) != 2 ||
		!strings.HasPrefix(res.Diffs[0], "step 4 (void p1): rejected P1241, not listed in expect.rejections (P1241 ") ||
		!strings.Contains(res.Diffs[0], "already captured") ||
		res.Diffs[1] != "step 5 (refund p1): want rejection P1245, but the step was accepted" {
		t.Fatalf("diffs:\n%s", strings.Join(res.Diffs, "\n"))
	}
	src = strings.Replace(readExample(t), "code: P1241", "code: P1441", 1)
	res = runSource(t, src)
	if len(res.Diffs) != 1 || !strings.HasPrefix(res.Diffs[0], "step 4 (void p1): rejection: want P1441, got P1241 (") {
		t.Fatalf("diffs:\n%s", strings.Join(res.Diffs, "\n"))
	}
}

// An issued payout the file does not list fails; a listed payout that is
// not issued fails; fields left out are not compared.
func TestPayoutListing(t *testing.T) {
	ex := readExample(t)
	head := ex[:strings.Index(ex, "expect:")]
	res := runSource(t, head+"expect:\n  rejections: [{step: 4, code: P1241}]\n")
	if len(res.Diffs) != 1 || res.Diffs[0] != "payout 270212122 2019-10-31 (270212122-001-20191031, net 3661, carried forward 0) issued by step 9, not listed in expect.payouts" {
		t.Fatalf("diffs:\n%s", strings.Join(res.Diffs, "\n"))
	}
	res = runSource(t, head+`expect:
  rejections: [{step: 4, code: P1241}]
  payouts:
    - {merchant: "270212122", payday: "2019-10-31"}
    - {merchant: "270212122", payday: "2019-11-29", net: 1}
`)
	if len(res.Diffs) != 1 || res.Diffs[0] != "payouts[1] 270212122 2019-11-29: not issued" {
		t.Fatalf("diffs:\n%s", strings.Join(res.Diffs, "\n"))
	}
	res = runSource(t, head+`expect:
  rejections: [{step: 4, code: P1241}]
  payouts:
    - merchant: "270212122"
      payday: "2019-10-31"
      lines: []
`)
	if len(res.Diffs) != 1 || res.Diffs[0] != "payouts[0] 270212122 2019-10-31: lines: want 0, got 1 [VISA/MASTER 2019-10-01..2019-10-15]" {
		t.Fatalf("diffs:\n%s", strings.Join(res.Diffs, "\n"))
	}
}

// The actual outcome marshals in the shape of expect: pasted into the file
// as its expect, the scenario passes.
func TestOutcomeIsAnExpect(t *testing.T) {
	for _, f := range []string{"issue-example.yaml", "payout-batch-rules.yaml", "rejections-card.yaml"} {
		res := runFile(t, foldRunner(t), f)
		b, err := json.Marshal(res.Actual)
		if err != nil {
			t.Fatal(err)
		}
		src, _ := os.ReadFile(f)
		head := string(src)[:strings.Index(string(src), "\nexpect:")]
		again := runSource(t, head+"\nexpect: "+string(b)+"\n")
		if !again.Passed() {
			t.Fatalf("%s: its own outcome as expect fails:\n%s\n%s", f, b, strings.Join(again.Diffs, "\n"))
		}
	}
}

// A merchant the domain refuses to register makes the scenario malformed,
// with the merchant's line.
func TestRegistrationRefused(t *testing.T) {
	src := strings.Replace(readExample(t), `code: "0010"`, `code: "10"`, 1)
	s, err := scenarios.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = foldRunner(t).Run(context.Background(), s)
	var se *scenarios.Error
	if !errors.As(err, &se) || se.Code != domain.CodeInvalidField || se.Path != "merchants[0]" || se.Line != 20 || !strings.Contains(se.Msg, "bank code") {
		t.Fatalf("%#v", err)
	}
}

// A notice password that is not 9 digits is refused when the merchant is
// set up: a malformed scenario naming the merchant.
func TestNoticePasswordRefused(t *testing.T) {
	src := strings.Replace(readExample(t), `notice_password: "123456789"`, `notice_password: "1234"`, 1)
	s, err := scenarios.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = foldRunner(t).Run(context.Background(), s)
	var se *scenarios.Error
	if !errors.As(err, &se) || se.Code != domain.CodeInvalidField || se.Path != "merchants[0]" || !strings.Contains(se.Msg, "9 digits") {
		t.Fatalf("%#v", err)
	}
}
