package memmodels

import (
	"context"
	"math"
	"os"
	"testing"
	"time"

	"github.com/rickb777/date"

	"upay/adapters/readmodeltest"
	"upay/domain"
	"upay/projections"
)

func TestMain(m *testing.M) {
	code := m.Run()
	readmodeltest.RemoveBenchStore()
	os.Exit(code)
}

// TestConformance runs the read-model suite that the SQLite and PostgreSQL
// read models pass.
func TestConformance(t *testing.T) {
	readmodeltest.Run(t, func(t *testing.T) readmodeltest.Store { return New(nil) })
}

// commit writes one batch in its own transaction.
func commit(t *testing.T, m *Models, b *projections.Batch) error {
	t.Helper()
	tx, err := m.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Write(b); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// A batch that cannot be applied is refused by Write, before Commit takes
// the lock, and the models stay usable: a panic under the lock would have
// left every later reader waiting.
func TestNilRowsRefusedBeforeCommit(t *testing.T) {
	m := New(nil)
	for name, b := range map[string]*projections.Batch{
		"row":    {Transactions: []*projections.Transaction{nil}},
		"payout": {Payouts: []*projections.Payout{nil}},
		"notice": {Notices: []*projections.Notice{nil}},
	} {
		if err := commit(t, m, b); domain.CodeOf(err) != domain.CodeStoreFailure {
			t.Fatalf("nil %s: %v, want U3003", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tx, err := m.Begin(ctx)
	if err != nil {
		t.Fatalf("a write transaction after the refusals: %v", err)
	}
	_ = tx.Rollback()
	if _, err := m.Checkpoints(ctx); err != nil {
		t.Fatal(err)
	}
}

// Readers get their own copy of a payout's lines: changing what one read
// returned changes neither the models nor the next read, nor does the
// writer's batch after its commit.
func TestPayoutLinesAreNotShared(t *testing.T) {
	m := New(nil)
	day := date.New(2019, 10, 31)
	p := &projections.Payout{NoticeNo: "N1", Merchant: "270000001", Payday: day, Lines: []domain.PayoutLine{{Group: domain.GroupEmoney, Sales: 100}}}
	if err := commit(t, m, &projections.Batch{Payouts: []*projections.Payout{p}}); err != nil {
		t.Fatal(err)
	}
	p.Lines[0].Sales = 1
	ctx := context.Background()
	first, err := m.PayoutsOn(ctx, day)
	if err != nil || len(first) != 1 || first[0].Lines[0].Sales != 100 {
		t.Fatalf("after the batch changed: %+v %v", first, err)
	}
	first[0].Lines[0].Sales = 2
	again, err := m.Payouts(ctx, "270000001", day, day)
	if err != nil || len(again) != 1 || again[0].Lines[0].Sales != 100 {
		t.Fatalf("after a reader changed its copy: %+v %v", again, err)
	}
}

// A journal position beyond what the SQL stores hold is refused as they
// refuse it (U1009), not answered with nothing.
func TestJournalPositionOutOfRange(t *testing.T) {
	_, err := New(nil).Journal(context.Background(), domain.Position{Commit: math.MaxUint64, Prepare: 0}, 10)
	if domain.CodeOf(err) != domain.CodeInvalidField {
		t.Fatalf("got %v, want U1009", err)
	}
}
