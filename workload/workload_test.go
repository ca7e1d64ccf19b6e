package workload

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"upay/domain"
	"upay/ingest"
)

func generate(t *testing.T, seed uint64) ([]byte, Stats) {
	t.Helper()
	var b bytes.Buffer
	st, err := Write(&b, Config{Merchants: 3, Days: 10, PaymentsPerDay: 300, Seed: seed, Start: time.Date(2019, 10, 1, 0, 0, 0, 0, domain.Tokyo)})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), st
}

func TestDeterministic(t *testing.T) {
	a, _ := generate(t, 7)
	b, _ := generate(t, 7)
	c, _ := generate(t, 8)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different output")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different seeds, same output")
	}
}

// Every generated line must decode, times never go backwards (so --import
// accepts the file), and the mix must look like the issue asks.
func TestLinesDecodeInTimeOrderWithRealisticMix(t *testing.T) {
	data, st := generate(t, 1)
	dec := ingest.Decoder{Key: []byte("k")}
	sc := bufio.NewScanner(bytes.NewReader(data))
	var last time.Time
	n := 0
	brands := map[domain.Brand]int{}
	declines, training, unknown, installments := 0, 0, 0, 0
	for sc.Scan() {
		n++
		c, err := dec.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v\n%s", n, err, sc.Text())
		}
		at := c.Meta().At
		if at.Before(last) {
			t.Fatalf("line %d: time %v before %v", n, at, last)
		}
		last = at
		switch c := c.(type) {
		case domain.Authorize:
			brands[c.Brand]++
			if c.Result != domain.ResultApproved {
				declines++
			}
			if c.Installments > 1 {
				installments++
			}
		case domain.EmoneyDebitCmd:
			if c.Training {
				training++
			}
			if c.Outcome == domain.OutcomeUnknown {
				unknown++
			}
		}
	}
	if n != st.Commands {
		t.Fatalf("%d lines, stats say %d", n, st.Commands)
	}
	auths := st.ByType["authorize"]
	if r := float64(declines) / float64(auths); r < 0.01 || r > 0.03 {
		t.Errorf("decline share %.3f, want about 2%%", r)
	}
	for _, b := range domain.Brands {
		if brands[b] == 0 {
			t.Errorf("no %s payments", b)
		}
	}
	for name, v := range map[string]int{"void": st.ByType["void"], "refund": st.ByType["refund"], "resolve": st.ByType["emoney_resolve"], "training": training, "unknown": unknown, "installments": installments} {
		if v == 0 {
			t.Errorf("no %s in the mix", name)
		}
	}
	var first map[string]any
	json.Unmarshal(data[:bytes.IndexByte(data, '\n')], &first)
	if first["at"] == nil {
		t.Error("lines must carry at for --import")
	}
}
