package domain

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Fixtures of every event type and version stay in testdata/events forever,
// so a change that breaks decoding of recorded events fails here.
func TestEventFixturesDecode(t *testing.T) {
	files, err := filepath.Glob("testdata/events/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		typ, ver, ok := strings.Cut(name, "@")
		v, err := strconv.Atoi(ver)
		if !ok || err != nil {
			t.Fatalf("%s: fixture name must be TYPE@VERSION.json", f)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.TrimSpace(data)
		e, err := DecodeEvent(typ, v, data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if e.EventType() != typ || e.EventVersion() != v {
			t.Fatalf("%s decodes as %s@%d", f, e.EventType(), e.EventVersion())
		}
		again, _ := EncodeEvent(e)
		var a, b any
		json.Unmarshal(data, &a)
		json.Unmarshal(again, &b)
		if !jsonEqual(a, b) {
			t.Fatalf("%s: re-encodes as %s", f, again)
		}
		seen[name] = true
	}
	for key := range decoders {
		if !seen[key] {
			t.Errorf("event %s has no fixture in testdata/events", key)
		}
	}
}

// Every registered event type is described in docs/events.md.
func TestEventCatalogueDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	for key := range decoders {
		typ, ver, _ := strings.Cut(key, "@")
		if !bytes.Contains(doc, []byte(typ)) || !bytes.Contains(doc, []byte("(v"+ver+")")) {
			t.Errorf("docs/events.md does not describe %s version %s", typ, ver)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
