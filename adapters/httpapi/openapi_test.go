package httpapi

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// openAPI is what a line scan of docs/openapi.yaml finds: each path's
// lines, and the location (in:) of each shared parameter. The file is
// written in block style with two-space indents, which is all the scan
// needs; no YAML module.
type openAPI struct {
	paths  map[string][]string
	params map[string]string // component parameter name -> in
}

func readOpenAPI(t *testing.T) openAPI {
	t.Helper()
	b, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := openAPI{paths: map[string][]string{}, params: map[string]string{}}
	section, cur, param := "", "", ""
	for _, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		text := strings.TrimSpace(line)
		switch {
		case indent == 0:
			section, cur = strings.TrimSuffix(text, ":"), ""
		case section == "paths" && indent == 2:
			cur = strings.TrimSuffix(text, ":")
			doc.paths[cur] = nil
		case section == "paths" && cur != "":
			doc.paths[cur] = append(doc.paths[cur], text)
		case section == "components" && indent == 2:
			cur = strings.TrimSuffix(text, ":")
		case section == "components" && cur == "parameters" && indent == 4:
			param = strings.TrimSuffix(text, ":")
		case section == "components" && cur == "parameters" && indent == 6 && strings.HasPrefix(text, "in: "):
			doc.params[param] = strings.TrimPrefix(text, "in: ")
		}
	}
	if len(doc.paths) == 0 {
		t.Fatal("no paths found in docs/openapi.yaml")
	}
	return doc
}

// documents reports whether a path's lines declare parameter name in
// location in, inline or by $ref to a shared parameter.
func (d openAPI) documents(lines []string, name, in string) bool {
	for i, l := range lines {
		if l == "- name: "+name || l == "name: "+name {
			for _, n := range lines[i+1 : min(i+4, len(lines))] {
				if n == "in: "+in {
					return true
				}
			}
		}
		if l == `- $ref: "#/components/parameters/`+name+`"` && d.params[name] == in {
			return true
		}
	}
	return false
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// TestOpenAPIListsEveryRoute: every route served is in docs/openapi.yaml
// with GET, its path and query parameters and its error responses, and
// the file documents no route that is not served.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	doc := readOpenAPI(t)
	served := map[string]bool{}
	for _, rt := range routes {
		served[rt.Path] = true
		lines, ok := doc.paths[rt.Path]
		if !ok {
			t.Errorf("%s: not in docs/openapi.yaml", rt.Path)
			continue
		}
		if !slices.Contains(lines, "get:") {
			t.Errorf("%s: no get operation", rt.Path)
		}
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			if !doc.documents(lines, m[1], "path") {
				t.Errorf("%s: path parameter %s not documented", rt.Path, m[1])
			}
		}
		for _, k := range rt.Query {
			if !doc.documents(lines, k, "query") {
				t.Errorf("%s: query parameter %s not documented", rt.Path, k)
			}
		}
		// No undocumented query parameter: every in: query is one served.
		for i, l := range lines {
			if l == "in: query" {
				name := strings.TrimPrefix(strings.TrimPrefix(lines[i-1], "- "), "name: ")
				if !slices.Contains(rt.Query, name) {
					t.Errorf("%s: documents query parameter %q the route does not take", rt.Path, name)
				}
			}
			if p, ok := strings.CutPrefix(l, `- $ref: "#/components/parameters/`); ok {
				name := strings.TrimSuffix(p, `"`)
				if doc.params[name] == "query" && !slices.Contains(rt.Query, name) {
					t.Errorf("%s: documents query parameter %q the route does not take", rt.Path, name)
				}
			}
		}
		want := []string{"400", "405"}
		if rt.Public {
			if !slices.Contains(lines, "security: []") {
				t.Errorf("%s: public route without security: []", rt.Path)
			}
		} else {
			want = append(want, "401", "404", "414", "500", "503")
		}
		for _, code := range want {
			if !slices.Contains(lines, `"`+code+`":`) {
				t.Errorf("%s: response %s not documented", rt.Path, code)
			}
		}
	}
	for p := range doc.paths {
		if !served[p] {
			t.Errorf("docs/openapi.yaml documents %s, which is not served", p)
		}
	}
}

// TestOpenAPIErrorCodes: every code the package defines is named in the
// OpenAPI file and in docs/http-api.md.
func TestOpenAPIErrorCodes(t *testing.T) {
	for _, f := range []string{"../../docs/openapi.yaml", "../../docs/http-api.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for code := range httpCodes {
			if !strings.Contains(string(b), code) {
				t.Errorf("%s does not name %s", f, code)
			}
		}
	}
}
