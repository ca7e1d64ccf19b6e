package scenarios_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"upay/domain"
	"upay/scenarios"
)

// FuzzParse: whatever the bytes, Parse returns a scenario or an *Error with
// a parser code, the file name and a line inside the file, never panics;
// and a scenario it returns is consistent (steps numbered from 1 in time
// order, payment steps as valid JSON lines, rejections of existing steps).
// Seeds: the shipped scenarios, plus testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("*.yaml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenarios.Parse("f.yaml", data)
		if err != nil {
			var se *scenarios.Error
			if !errors.As(err, &se) {
				t.Fatalf("not a *scenarios.Error: %T %v", err, err)
			}
			switch se.Code {
			case domain.CodeMalformed, domain.CodeMissingField, domain.CodeInvalidField:
			default:
				t.Fatalf("code %s: %v", se.Code, err)
			}
			if lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1; se.Line < 0 || se.Line > lines+1 {
				t.Fatalf("line %d of a %d-line file: %v", se.Line, lines, err)
			}
			if !strings.HasPrefix(err.Error(), "f.yaml") || se.Msg == "" {
				t.Fatalf("error %q", err)
			}
			return
		}
		if s.Name == "" || len(s.Steps) == 0 {
			t.Fatalf("accepted without a name or steps: %+v", s)
		}
		for i, st := range s.Steps {
			if st.N != i+1 || (i > 0 && st.At.Before(s.Steps[i-1].At)) {
				t.Fatalf("step %d: n %d at %s", i+1, st.N, st.At)
			}
			if st.Line != nil && !json.Valid(st.Line) {
				t.Fatalf("step %d: line %q", st.N, st.Line)
			}
		}
		for _, r := range s.Expect.Rejections {
			if r.Step < 1 || r.Step > len(s.Steps) {
				t.Fatalf("rejection of step %d", r.Step)
			}
		}
	})
}
