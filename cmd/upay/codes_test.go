package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"upay/domain"
)

func runCodes(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"codes"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCodesList(t *testing.T) {
	code, out, errs := runCodes(t)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	all := domain.Catalogue()
	if len(lines) != len(all)+1 {
		t.Fatalf("%d lines, want a header and %d codes", len(lines), len(all))
	}
	col := strings.Index(lines[0], "MESSAGE")
	if !strings.HasPrefix(lines[0], "CODE") || !strings.Contains(lines[0], "SOURCE") || col < 0 {
		t.Fatalf("header %q", lines[0])
	}
	for i, c := range all {
		line := lines[i+1]
		// Codes and sources are ASCII: the message column starts at the same byte.
		if !strings.HasPrefix(line, c.Code+" ") || line[col:] != c.Message || !strings.Contains(line[:col], " "+c.Source+" ") {
			t.Errorf("line %d = %q, want %s, %s and the message aligned at column %d", i+1, line, c.Code, c.Source, col)
		}
	}
	for _, want := range []string{"P1245", "T0xxxx", "ng-91", "G99", "A25", "U3001"} {
		if !strings.Contains(out, "\n"+want+" ") {
			t.Errorf("list lacks %s", want)
		}
	}
}

func TestCodesOne(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want []string
		not  []string
	}{
		{"P0199", []string{
			"code:     P01xx (matches P0199)\n",
			"category: P01xx ~ P04xx\n",
			"source:   manual\n",
			"message:  決済センターAPIの呼出しに失敗しました。\n",
			"remedy:   USEN決済サポートセンターにお問い合わせください。\n",
		}, []string{"note:"}},
		{"P1245", []string{
			"code:     P1245\n",
			"message:  取消処理に失敗しました。\n",
			"remedy:   取消処理は、対象の取引と同一のカードで実施する必要があります。",
		}, []string{"matches"}},
		{"T01234", []string{"code:     T0xxxx (matches T01234)\n"}, nil},
		{"ng-91", []string{"code:     ng-91\n", "category: ng-xx (与信取消)\n", "与信照会から60日以上経過している"}, nil},
		{"U1004", []string{
			"code:     U1004\n",
			"category: ledger: input\n",
			"source:   ledger\n",
			"message:  金額が不正です。\n",
			"note:     amount not a positive whole number of yen\n",
		}, nil},
		{domain.CodeSearchOverflow, []string{"message:  検索結果が50件を超過しました（検索結果最大表示件数50件） 条件を絞り込んで、再検索を実施してください\n"}, nil},
		{"p1245", []string{"code:     P1245\n"}, []string{"matches"}},
	} {
		code, out, errs := runCodes(t, tc.arg)
		if code != 0 {
			t.Errorf("codes %s: exit %d, stderr %q", tc.arg, code, errs)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("codes %s: output lacks %q:\n%s", tc.arg, w, out)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out, w) {
				t.Errorf("codes %s: output has %q:\n%s", tc.arg, w, out)
			}
		}
	}
}

func TestCodesJSON(t *testing.T) {
	code, out, errs := runCodes(t, "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var all []codeJSON
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != len(domain.Catalogue()) {
		t.Errorf("%d entries, want %d", len(all), len(domain.Catalogue()))
	}

	code, out, errs = runCodes(t, "P0199", "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var one map[string]string
	if err := json.Unmarshal([]byte(out), &one); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"code": "P01xx", "query": "P0199", "category": "P01xx ~ P04xx", "source": "manual",
		"message": "決済センターAPIの呼出しに失敗しました。", "remedy": "USEN決済サポートセンターにお問い合わせください。",
	}
	if len(one) != len(want) {
		t.Errorf("got %v, want %v", one, want)
	}
	for k, v := range want {
		if one[k] != v {
			t.Errorf("%s = %q, want %q", k, one[k], v)
		}
	}

	code, out, _ = runCodes(t, "--json", "U3001")
	if code != 0 || !strings.Contains(out, `"note": "expected revision did not hold"`) || strings.Contains(out, `"query"`) {
		t.Errorf("codes --json U3001: exit %d\n%s", code, out)
	}
}

func TestCodesUnknown(t *testing.T) {
	for _, arg := range []string{"P0299", "G13", "nope"} {
		code, out, errs := runCodes(t, arg)
		if code == 0 {
			t.Errorf("codes %s: exit 0", arg)
		}
		if out != "" {
			t.Errorf("codes %s: stdout %q", arg, out)
		}
		if !strings.Contains(errs, domain.CodeInvalidField) || !strings.Contains(errs, `unknown code "`+arg+`"`) {
			t.Errorf("codes %s: stderr %q", arg, errs)
		}
	}
	if code, _, _ := runCodes(t, "P1245", "P1241"); code == 0 {
		t.Error("codes with two arguments: exit 0")
	}
}
