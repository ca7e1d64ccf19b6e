package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"upay/domain"
	"upay/scenarios"
)

func runScenario(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"scenario", "run"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

const exampleFile = "../../scenarios/issue-example.yaml"

// writeVariant writes the example with replacements into a temp file.
func writeVariant(t *testing.T, name string, pairs ...string) string {
	t.Helper()
	b, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(src, pairs[i]) {
			t.Fatalf("%q is not in the example", pairs[i])
		}
		src = strings.Replace(src, pairs[i], pairs[i+1], 1)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every shipped scenario passes through the CLI, on the embedded read models.
func TestScenarioRunShipped(t *testing.T) {
	code, out, errs := runScenario(t, "../../scenarios")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "PASS card sales around the 15th (../../scenarios/issue-example.yaml)\n") ||
		!strings.Contains(out, " scenarios: ") || strings.Contains(out, "FAIL") {
		t.Fatalf("%s", out)
	}
}

func TestScenarioRunFailure(t *testing.T) {
	bad := writeVariant(t, "bad.yaml", "net: 3661", "net: 3671", "rejections: [{step: 4, code: P1241}]", "rejections: []")
	code, out, _ := runScenario(t, exampleFile, bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	want := "FAIL card sales around the 15th (" + bad + ")\n" +
		"    step 4 (void p1): rejected P1241, not listed in expect.rejections (P1241 "
	if !strings.Contains(out, "PASS card sales around the 15th") || !strings.Contains(out, want) ||
		!strings.Contains(out, "    payouts[0] 270212122 2019-10-31: net: want 3671, got 3661\n") ||
		!strings.HasSuffix(out, "2 scenarios: 1 passed, 1 failed\n") {
		t.Fatalf("%s", out)
	}
}

func TestScenarioRunMalformed(t *testing.T) {
	bad := writeVariant(t, "typo.yaml", "capture: {payment: p1}", "capture: {payment: p1, amout: 5}")
	failing := writeVariant(t, "fail.yaml", "net: 3661", "net: 1")
	code, out, errs := runScenario(t, failing, bad)
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s\n%s", code, out, errs)
	}
	if want := bad + `:31:28: U1009 steps[1].capture.amout: unknown key "amout"`; !strings.Contains(errs, want) {
		t.Fatalf("stderr %q, want %q", errs, want)
	}
	if !strings.Contains(out, "FAIL") || !strings.HasSuffix(out, "2 scenarios: 0 passed, 1 failed, 1 malformed\n") {
		t.Fatalf("%s", out)
	}
	if code, _, errs := runScenario(t, filepath.Join(t.TempDir(), "missing.yaml")); code != 2 || !strings.Contains(errs, "U1001") {
		t.Fatalf("missing file: %d %s", code, errs)
	}
	if code, _, errs := runScenario(t); code == 0 || !strings.Contains(errs, "arg") {
		t.Fatalf("no file: %d %s", code, errs)
	}
}

func TestScenarioRunJSON(t *testing.T) {
	bad := writeVariant(t, "typo.yaml", "net: 3661", "net: three")
	code, out, errs := runScenario(t, "--json", exampleFile, bad)
	if code != 2 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	var reps []struct {
		File   string          `json:"file"`
		Name   string          `json:"name"`
		Pass   bool            `json:"pass"`
		Diffs  []string        `json:"diffs"`
		Actual json.RawMessage `json:"actual"`
		Error  *struct {
			Code string `json:"code"`
			Line int    `json:"line"`
			Path string `json:"path"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &reps); err != nil || len(reps) != 2 {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reps[0].Pass || reps[0].Name != "card sales around the 15th" || reps[0].Error != nil {
		t.Fatalf("%+v", reps[0])
	}
	if e := reps[1].Error; reps[1].Pass || e == nil || e.Code != "U1009" || e.Line != 52 || e.Path != "expect.payouts[0].net" {
		t.Fatalf("%+v %+v", reps[1], reps[1].Error)
	}
	// actual has exactly the keys of expect and the figures.
	var act map[string][]map[string]any
	if err := json.Unmarshal(reps[0].Actual, &act); err != nil || len(act) != 2 {
		t.Fatalf("%v %s", err, reps[0].Actual)
	}
	if r := act["rejections"]; len(r) != 1 || r[0]["step"] != 4.0 || r[0]["code"] != "P1241" {
		t.Fatalf("%v", r)
	}
	p := act["payouts"]
	if len(p) != 1 || p[0]["net"] != 3661.0 || p[0]["notice_no"] != "270212122-001-20191031" || len(p[0]) != 11 {
		t.Fatalf("%v", p)
	}
}

// A failure of the machinery (here the read models) is a failed run, with
// the cause.
func TestScenarioRunTotalsFailure(t *testing.T) {
	saved := scenarioTotals
	t.Cleanup(func() { scenarioTotals = saved })
	scenarioTotals = func(context.Context, domain.EventStore, string) (scenarios.Totals, func() error, error) {
		return nil, nil, errors.New("no read models here")
	}
	code, out, errs := runScenario(t, exampleFile)
	if code != 1 || !strings.Contains(out, "could not run: opening the period totals: no read models here") || !strings.Contains(errs, "no read models here") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}
