package domain

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// manualRow is one row of testdata/manual_codes.tsv.
type manualRow struct {
	line                  int
	code, message, remedy string
}

func readManualRows(t *testing.T) []manualRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "manual_codes.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []manualRow
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			t.Fatalf("manual_codes.tsv:%d: %d fields, want 3 (code, message, remedy)", n, len(fields))
		}
		rows = append(rows, manualRow{n, fields[0], fields[1], fields[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestCatalogueMatchesManual checks every row of the manual's tables against
// the catalogue, and that the catalogue has no manual entry the tables lack.
func TestCatalogueMatchesManual(t *testing.T) {
	rows := readManualRows(t)
	if len(rows) < 130 {
		t.Fatalf("manual_codes.tsv has %d rows, want the manual's 131", len(rows))
	}
	inManual := map[string]bool{}
	for _, r := range rows {
		inManual[r.code] = true
		c, ok := codeIndex[r.code]
		if !ok {
			t.Errorf("manual_codes.tsv:%d: %s is not in the catalogue", r.line, r.code)
			continue
		}
		if c.Source != "manual" {
			t.Errorf("%s: source %q, want manual", r.code, c.Source)
		}
		if c.Category == "" {
			t.Errorf("%s: no category", r.code)
		}
		if c.Remedy != r.remedy {
			t.Errorf("%s: remedy\n got %q\nwant %q", r.code, c.Remedy, r.remedy)
		}
		switch {
		case r.message != "" && c.Message != r.message:
			t.Errorf("%s: message\n got %q\nwant %q", r.code, c.Message, r.message)
		case r.message == "" && c.Message == "":
			t.Errorf("%s: the manual prints no message: the catalogue needs a summary", r.code)
		}
	}
	for _, c := range catalogue {
		if c.Source == "manual" && !inManual[c.Code] {
			t.Errorf("%s: source manual but not in the manual's tables", c.Code)
		}
		if c.Source != "manual" && c.Source != "ledger" {
			t.Errorf("%s: source %q, want manual or ledger", c.Code, c.Source)
		}
	}
}

func TestCatalogueCodesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range catalogue {
		if c.Code == "" {
			t.Errorf("entry without a code: %+v", c)
		}
		if seen[c.Code] {
			t.Errorf("%s: listed twice", c.Code)
		}
		seen[c.Code] = true
	}
	if len(codeIndex) != len(catalogue) {
		t.Errorf("index has %d codes, catalogue %d entries", len(codeIndex), len(catalogue))
	}
	if got := Catalogue(); len(got) != len(catalogue) {
		t.Errorf("Catalogue() returns %d entries, want %d", len(got), len(catalogue))
	}
}

func TestLookupCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"P0199", "P01xx"},
		{"P0100", "P01xx"},
		{"P01xx", "P01xx"},
		{"T01234", "T0xxxx"},
		{"T09999", "T0xxxx"},
		{"P1245", "P1245"}, // exact beats P12xx
		{"P1241", "P1241"},
		{"P1299", "P12xx"},
		{"P0331", "P0331"},
		{"P0330", "P03xx"},
		{"P1441", "P1441"},
		{"E0116", "E0116"},
		{"ng-91", "ng-91"},
		{"ok-01", "ok-01"},
		{"G99", "G99"},
		{"U1004", "U1004"},
		{CodeSearchOverflow, "A25"},
		{"P0299", ""},   // the manual has no P02xx
		{"P1499", ""},   // only P1441 of P14xx
		{"T1234", ""},   // T1 is not T0
		{"T012345", ""}, // too long
		{"T0123", ""},   // too short
		{"P01ab", ""},   // x is a digit
		{"G13", ""},     // no Gxx pattern
		{"U9999", ""},
		{"p0199", ""},
		{"", ""},
	} {
		c, ok := LookupCode(tc.in)
		if ok != (tc.want != "") || c.Code != tc.want {
			t.Errorf("LookupCode(%q) = %q, %v; want %q", tc.in, c.Code, ok, tc.want)
		}
	}
	c, _ := LookupCode(CodeSearchOverflow)
	if want := "検索結果が50件を超過しました（検索結果最大表示件数50件） 条件を絞り込んで、再検索を実施してください"; c.Message != want {
		t.Errorf("%s: message %q, want %q", CodeSearchOverflow, c.Message, want)
	}
}

// codeConst is a Code* string constant declared in the package.
type codeConst struct {
	name, value, comment string
}

func packageCodeConsts(t *testing.T) []codeConst {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []codeConst
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Code") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, codeConst{id.Name, v, strings.TrimSpace(vs.Comment.Text())})
				}
			}
		}
	}
	return out
}

// TestLedgerCodesDocumented checks that every U-constant has a complete entry
// whose Note is the constant's comment, and that every Code* constant of the
// package names a catalogue entry.
func TestLedgerCodesDocumented(t *testing.T) {
	consts := packageCodeConsts(t)
	declared := map[string]bool{}
	nU := 0
	for _, k := range consts {
		c, ok := codeIndex[k.value]
		if !ok {
			t.Errorf("%s = %q is not in the catalogue", k.name, k.value)
			continue
		}
		if !strings.HasPrefix(k.value, "U") {
			continue
		}
		nU++
		declared[k.value] = true
		if c.Source != "ledger" || !strings.HasPrefix(c.Category, "ledger: ") {
			t.Errorf("%s: source %q, category %q; want ledger, ledger: ...", k.value, c.Source, c.Category)
		}
		if c.Message == "" || c.Remedy == "" || c.Note == "" {
			t.Errorf("%s (%s): message, remedy and note must all be set: %+v", k.value, k.name, c)
		}
		if c.Note != k.comment {
			t.Errorf("%s (%s): note %q, want the constant's comment %q", k.value, k.name, c.Note, k.comment)
		}
	}
	if nU < 25 {
		t.Errorf("found %d U-constants, want at least 25", nU)
	}
	for _, c := range catalogue {
		if c.Source == "ledger" && !declared[c.Code] {
			t.Errorf("%s: ledger entry without a constant in codes.go", c.Code)
		}
	}
}

// TestErrorCarriesMessage checks that an Error prints its catalogue message.
func TestErrorCarriesMessage(t *testing.T) {
	got := Err(CodeOtherCard, "payment p1").Error()
	if want := "P1245 取消処理に失敗しました。: payment p1"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
