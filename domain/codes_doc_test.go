package domain

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite ../docs/codes.md from CodesMarkdown")

var codesDoc = filepath.Join("..", "docs", "codes.md")

// TestCodesMarkdown keeps docs/codes.md equal to CodesMarkdown(); run with
// -update to rewrite it.
func TestCodesMarkdown(t *testing.T) {
	want := CodesMarkdown()
	if *update {
		if err := os.WriteFile(codesDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(codesDoc)
	if err != nil {
		t.Fatalf("%v (run go test ./domain -run TestCodesMarkdown -update)", err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with the catalogue: run go test ./domain -run TestCodesMarkdown -update", codesDoc)
	}
}

// TestCodesMarkdownTables checks that every catalogue entry is one table row
// with the right number of cells, whatever its text holds.
func TestCodesMarkdownTables(t *testing.T) {
	md := CodesMarkdown()
	rows := 0
	for line := range strings.SplitSeq(md, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		rows++
		pipes := strings.Count(line, "|") - strings.Count(line, `\|`)
		if pipes != 4 && pipes != 5 {
			t.Errorf("row with %d unescaped pipes: %s", pipes, line)
		}
	}
	if rows != len(catalogue) {
		t.Errorf("%d table rows, want one per entry (%d)", rows, len(catalogue))
	}
	for _, c := range catalogue {
		if !strings.Contains(md, "| `"+c.Code+"` |") {
			t.Errorf("%s missing from the Markdown", c.Code)
		}
	}
}

func TestMdCell(t *testing.T) {
	for in, want := range map[string]string{
		"a|b":                   `a\|b`,
		"（除く ` ^ ` { } ~ & < >": "（除く \\` ^ \\` { } \\~ & \\< >",
		"x\ny":                  "x y",
		`a\b`:                   `a\\b`,
	} {
		if got := mdCell(in); got != want {
			t.Errorf("mdCell(%q) = %q, want %q", in, got, want)
		}
	}
}
