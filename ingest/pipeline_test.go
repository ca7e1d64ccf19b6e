package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"upay/adapters/sqlite"
	"upay/domain"
	"upay/ingest"
	"upay/ledger"
	"upay/workload"
)

var key = []byte("k")

// outcome is what an ingest run leaves: its summary, its report and error,
// and the store's whole log.
type outcome struct {
	sum     ingest.Summary
	rejects string
	err     string
	log     []event
}

// event is a recorded event without its position (an engine's detail).
type event struct {
	Stream    domain.StreamID
	Revision  uint64
	Type      string
	Version   int
	Time      time.Time
	RequestID string
	Data      string
	Hash      domain.Hash
}

func openStore(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "upay.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// ingestInto ingests input in import mode through l, or a new ledger (a
// new process) when l is nil.
func ingestInto(t *testing.T, store domain.EventStore, l *ledger.Ledger, input []byte, opt ingest.Options) outcome {
	t.Helper()
	ctx := context.Background()
	var err error
	if l == nil {
		if l, err = ledger.New(ctx, store, ledger.Options{Import: true}); err != nil {
			t.Fatal(err)
		}
	}
	var rejects bytes.Buffer
	opt.Rejects = &rejects
	var o outcome
	o.sum, err = ingest.Run(ctx, bytes.NewReader(input), l, ingest.Decoder{Key: key}, opt)
	o.sum.Elapsed = 0
	o.rejects = rejects.String()
	if err != nil {
		o.err = err.Error()
	}
	evs, err := store.ReadAll(ctx, domain.Start, domain.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		o.log = append(o.log, event{e.Stream, e.Revision, e.Type, e.Version, e.Time, e.RequestID, string(e.Data), e.Hash})
	}
	return o
}

func same(t *testing.T, what string, pipelined, sequential outcome) {
	t.Helper()
	if !reflect.DeepEqual(pipelined.sum, sequential.sum) {
		t.Errorf("%s: summary\npipelined  %+v\nsequential %+v", what, pipelined.sum, sequential.sum)
	}
	if pipelined.rejects != sequential.rejects {
		t.Errorf("%s: rejections differ\npipelined:\n%s\nsequential:\n%s", what, pipelined.rejects, sequential.rejects)
	}
	if pipelined.err != sequential.err {
		t.Errorf("%s: error %q, sequential %q", what, pipelined.err, sequential.err)
	}
	if len(pipelined.log) != len(sequential.log) {
		t.Errorf("%s: %d events recorded, sequential %d", what, len(pipelined.log), len(sequential.log))
		return
	}
	for i := range pipelined.log {
		if !reflect.DeepEqual(pipelined.log[i], sequential.log[i]) {
			t.Errorf("%s: event %d\npipelined  %+v\nsequential %+v", what, i, pipelined.log[i], sequential.log[i])
			return
		}
	}
}

var atField = regexp.MustCompile(`"at":"([^"]+)"`)
var paymentField = regexp.MustCompile(`"payment":"([^"]+)"`)

// spoil mixes into a generated workload what a real file holds besides
// clean commands: times going backwards (U1010, which also makes the
// payment's later commands fail), retries, malformed lines, commands on
// unknown payments, and request ids reused on another payment (which the
// store refuses inside a batch, so the batch falls back to one by one).
func spoil(month []byte) []byte {
	var out bytes.Buffer
	for i, line := range strings.Split(strings.TrimSpace(string(month)), "\n") {
		n := i + 1
		if n%53 == 0 {
			line = atField.ReplaceAllStringFunc(line, func(m string) string {
				at, _ := time.Parse(time.RFC3339, atField.FindStringSubmatch(m)[1])
				return fmt.Sprintf(`"at":%q`, at.Add(-2*time.Hour).Format(time.RFC3339))
			})
		}
		out.WriteString(line + "\n")
		if n%71 == 0 {
			out.WriteString(line + "\n")
		}
		if n%97 == 0 {
			out.WriteString(`{"type":"capture",` + "\n")
		}
		if n%89 == 0 {
			m := atField.FindString(line)
			fmt.Fprintf(&out, `{"type":"capture","request_id":"ghost-%d",%s,"payment":"ghost-%d"}`+"\n", n, m, n)
		}
		if n%211 == 0 {
			out.WriteString(paymentField.ReplaceAllString(line, `"payment":"${1}-reused"`) + "\n")
		}
	}
	return out.Bytes()
}

// Pipelined ingest gives what deciding each batch after the previous one
// was recorded gives: same summary, same report, same log, also when the
// file is run again (all duplicates) and when it is full of rejections,
// U1010 among them, and batches that fall back to one by one.
func TestPipelineMatchesSequential(t *testing.T) {
	var month bytes.Buffer
	cfg := workload.Config{Merchants: 2, Days: 3, PaymentsPerDay: 120, Seed: 7, Start: time.Date(2019, 10, 1, 0, 0, 0, 0, domain.Tokyo)}
	if _, err := workload.Write(&month, cfg); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		input []byte
		batch int
	}{
		{"clean", month.Bytes(), 64},
		{"spoiled", spoil(month.Bytes()), 50},
		{"spoiled-one-batch-per-line", spoil(month.Bytes())[:20000], 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pipeStore, _ := openStore(t)
			seqStore, _ := openStore(t)
			for run := 1; run <= 2; run++ {
				p := ingestInto(t, pipeStore, nil, tc.input, ingest.Options{BatchSize: tc.batch})
				s := ingestInto(t, seqStore, nil, tc.input, ingest.Options{BatchSize: tc.batch, Sequential: true})
				same(t, fmt.Sprintf("run %d", run), p, s)
				if p.err != "" || p.sum.Lines == 0 {
					t.Fatalf("run %d: %s %+v", run, p.err, p.sum)
				}
				if run == 2 && (p.sum.Accepted != 0 || p.sum.Duplicates == 0) {
					t.Errorf("run again: %+v", p.sum)
				}
				if run == 1 && tc.name == "spoiled" {
					for _, code := range []string{domain.CodeTimeBackwards, domain.CodeRequestReused, domain.CodePaymentNotFound, domain.CodeMalformed} {
						if p.sum.Rejected[code] == 0 {
							t.Errorf("the spoiled file has no %s: %+v", code, p.sum)
						}
					}
					if p.sum.Duplicates == 0 {
						t.Errorf("the spoiled file has no retries: %+v", p.sum)
					}
				}
			}
		})
	}
}

// faulty wraps a store: its AppendBatch number fault (1-based) first runs
// before (another writer, or an error to return instead). In pipelined runs
// it also holds each AppendBatch until the next batch has been decided,
// which the probe line ending every batch shows (deciding a capture of an
// unknown payment reads that payment's stream), so the fault always hits a
// batch with a speculation on top of it.
type faulty struct {
	domain.EventStore
	t       *testing.T
	fault   int
	before  func() error
	hold    bool
	batches int // the last one has nothing decided on top of it

	mu     sync.Mutex
	calls  int
	probes map[domain.StreamID]chan struct{}
}

func (f *faulty) probe(s domain.StreamID) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.probes == nil {
		f.probes = map[domain.StreamID]chan struct{}{}
	}
	ch, ok := f.probes[s]
	if !ok {
		ch = make(chan struct{})
		f.probes[s] = ch
	}
	return ch
}

func (f *faulty) ReadStream(ctx context.Context, s domain.StreamID, from uint64, opt domain.ReadOptions) ([]domain.RecordedEvent, error) {
	if strings.HasPrefix(string(s), "pay-probe-") {
		ch := f.probe(s)
		select {
		case <-ch:
		default:
			close(ch)
		}
	}
	return f.EventStore.ReadStream(ctx, s, from, opt)
}

func (f *faulty) AppendBatch(ctx context.Context, reqs []domain.AppendRequest) ([]domain.AppendResult, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	if f.hold && n < f.batches {
		// Batch n ends with the probe of batch n; batch n+1's shows that
		// it was decided while this one waits.
		select {
		case <-f.probe(domain.StreamID(fmt.Sprintf("pay-probe-%d", n+1))):
		case <-time.After(10 * time.Second):
			f.t.Errorf("batch %d was not decided while batch %d was being recorded", n+1, n)
		}
	}
	if n == f.fault && f.before != nil {
		if err := f.before(); err != nil {
			return nil, err
		}
	}
	return f.EventStore.AppendBatch(ctx, reqs)
}

// script is a file of batches of commands, import mode; each batch ends
// with a probe line (a capture of an unknown payment: U2002).
func script(batches ...[]string) ([]byte, int) {
	var b bytes.Buffer
	size := 0
	for i, batch := range batches {
		for _, l := range batch {
			b.WriteString(l + "\n")
		}
		fmt.Fprintf(&b, `{"type":"capture","request_id":"probe-%d","at":"2019-10-01T10:00:59+09:00","payment":"probe-%d"}`+"\n", i+1, i+1)
		size = max(size, len(batch)+1)
	}
	for _, batch := range batches {
		if len(batch)+1 != size {
			panic("batches of unequal size")
		}
	}
	return b.Bytes(), size
}

func ts(s int) string { return fmt.Sprintf("2019-10-01T10:00:%02d+09:00", s) }

func auth(rid, pid string, s int) string {
	return fmt.Sprintf(`{"type":"authorize","request_id":%q,"at":%q,"payment":%q,"merchant":"270212122","brand":"visa","amount":5000,"card":"4111111111111111","result":"ok-01"}`, rid, ts(s), pid)
}

func capt(rid, pid string, s int) string {
	return fmt.Sprintf(`{"type":"capture","request_id":%q,"at":%q,"payment":%q}`, rid, ts(s), pid)
}

func void(rid, pid string, s int) string {
	return fmt.Sprintf(`{"type":"void","request_id":%q,"at":%q,"payment":%q}`, rid, ts(s), pid)
}

// another is a second process writing to the same store file.
func another(path, line string) func() error {
	return func() error {
		ctx := context.Background()
		s, err := sqlite.Open(path)
		if err != nil {
			return err
		}
		defer s.Close()
		l, err := ledger.New(ctx, s, ledger.Options{Import: true})
		if err != nil {
			return err
		}
		c, err := ingest.Decoder{Key: key}.Decode([]byte(line))
		if err != nil {
			return err
		}
		res, err := l.Handle(ctx, c)
		if err == nil && !res.Accepted {
			err = res.Err
		}
		return err
	}
}

// A fault while batch N is recorded and N+1 was decided on top of it: the
// outcome is the one of sequential ingest under the same fault.
func TestPipelineFaults(t *testing.T) {
	base := [][]string{
		{auth("r1", "p1", 1), auth("r2", "p2", 1), auth("r5", "p5", 1), auth("r6", "p6", 1)},
		// The capture of p1 has the batch's latest time.
		{auth("r4", "p3", 3), capt("r7", "p5", 4), capt("r8", "p6", 4), capt("r3", "p1", 5)},
		// Decided on batch 2 as planned: p4 at 4 s is U1010 (5 s), the
		// retry of r3 a duplicate, the void of p1 refused (captured).
		{auth("r9", "p4", 4), capt("r3", "p1", 5), void("r10", "p1", 6), capt("r11", "p2", 6)},
		{capt("r12", "p4", 8), capt("r13", "p3", 8), auth("r14", "p7", 8), capt("r15", "p7", 9)},
	}
	input, size := script(base...)
	for _, tc := range []struct {
		name   string
		before func(path string) func() error
		check  func(t *testing.T, o, again outcome)
	}{{
		// Another process voids p1 before batch 2 lands: its capture of p1
		// conflicts, the batch falls back to one by one and the capture is
		// rejected; batch 3 must see that (p4 accepted, the retry of r3
		// decided and rejected), not what batch 2 planned.
		name:   "another writer on batch 2",
		before: func(path string) func() error { return another(path, void("x1", "p1", 2)) },
		check: func(t *testing.T, o, _ outcome) {
			for _, want := range []string{"line 9: rejected U2101", "line 12: rejected U2101", "line 13: rejected"} {
				if !strings.Contains(o.rejects, want) {
					t.Errorf("no %q in\n%s", want, o.rejects)
				}
			}
			if strings.Contains(o.rejects, "U1010") || o.sum.Duplicates != 0 {
				t.Errorf("batch 3 decided on batch 2's plan: %+v\n%s", o.sum, o.rejects)
			}
		},
	}, {
		// Another process captures p2, which only batch 3 touches: batch 2
		// is recorded as planned, batch 3's capture of p2 (decided on the
		// cached state) conflicts and is decided again: rejected.
		name:   "another writer on batch 3's payment",
		before: func(path string) func() error { return another(path, capt("x2", "p2", 2)) },
		check: func(t *testing.T, o, _ outcome) {
			if !strings.Contains(o.rejects, "line 14: rejected U2101") {
				t.Errorf("capture of p2 captured by another process:\n%s", o.rejects)
			}
		},
	}, {
		// A conflict the store reports without another writer: every
		// command is handled again and the outcome is as without a fault.
		name: "spurious conflict",
		before: func(string) func() error {
			return func() error { return &domain.BatchError{Index: 1, Err: domain.ErrConcurrency} }
		},
		check: func(t *testing.T, o, _ outcome) {
			if o.sum.Accepted != 12 || o.sum.Duplicates != 1 {
				t.Errorf("%+v\n%s", o.sum, o.rejects)
			}
		},
	}, {
		// The store fails: ingest stops after batch 1 with batch 2's lines,
		// and batch 2's and 3's decisions leave nothing behind: run again
		// on the same ledger, batch 2 is recorded, not refused as earlier
		// than the times they planned.
		name: "store failure",
		before: func(string) func() error {
			return func() error { return domain.Err(domain.CodeStoreFailure, "disk on fire") }
		},
		check: func(t *testing.T, o, again outcome) {
			if !strings.Contains(o.err, "lines 6..10: ") || o.sum.Lines != 5 || len(o.log) != 4 {
				t.Errorf("%q %+v, %d events", o.err, o.sum, len(o.log))
			}
			if again.sum.Accepted != 8 || again.sum.Duplicates != 5 || strings.Contains(again.rejects, "line 6:") {
				t.Errorf("run again: %+v\n%s", again.sum, again.rejects)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var runs, agains [2]outcome
			for i, sequential := range []bool{false, true} {
				s, path := openStore(t)
				f := &faulty{EventStore: s, t: t, fault: 2, before: tc.before(path), hold: !sequential, batches: len(base)}
				l, err := ledger.New(context.Background(), f, ledger.Options{Import: true})
				if err != nil {
					t.Fatal(err)
				}
				runs[i] = ingestInto(t, f, l, input, ingest.Options{BatchSize: size, Sequential: sequential})
				// Again without the fault, on the same ledger: what was left
				// out is recorded now, and on time (the discarded decisions
				// did not move the import clock).
				f.before, f.hold = nil, false
				agains[i] = ingestInto(t, f, l, input, ingest.Options{BatchSize: size, Sequential: sequential})
				if agains[i].err != "" {
					t.Errorf("sequential %v, run again: %s", sequential, agains[i].err)
				}
			}
			tc.check(t, runs[0], agains[0])
			same(t, tc.name, runs[0], runs[1])
			same(t, tc.name+", run again", agains[0], agains[1])
		})
	}
}
