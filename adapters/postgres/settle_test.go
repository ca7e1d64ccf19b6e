package postgres

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"upay/adapters/pgtest"
	"upay/adapters/sqlitemodels"
	"upay/domain"
	"upay/projections"
)

// TestSettleRefusesAHiddenLog: an append confirmed while an older write
// transaction is open stays out of the global log until that transaction
// ends. Settle (and with it every projection catch-up, such as the one
// before a payout batch) then fails, naming the transaction, instead of
// reporting "caught up" without the event; once the transaction ends it
// succeeds and the event is read.
func TestSettleRefusesAHiddenLog(t *testing.T) {
	ctx := t.Context()
	url := pgtest.DB(t)
	impatient := mustOpen(t, url, Options{Migrate: true, VisibilityWait: 20 * time.Millisecond, SettleWait: 300 * time.Millisecond})
	patient := mustOpen(t, url, Options{})

	if err := impatient.Settle(ctx); err != nil {
		t.Fatalf("Settle on an empty log: %v", err)
	}
	c, err := pgx.Connect(ctx, pgtest.ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var pid int32
	if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	old, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	if _, err := impatient.Append(ctx, domain.AppendRequest{Stream: "pay-1", RequestID: "r1", Events: []domain.ProposedEvent{ev(0)}}); err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, impatient)); n != 0 {
		t.Fatalf("%d events readable while an older transaction is open, want 0", n)
	}
	err = impatient.Settle(ctx)
	if !errors.Is(err, domain.ErrStoreFailure) || !strings.Contains(err.Error(), "1 committed events are not readable yet") ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d", pid)) {
		t.Fatalf("Settle with a hidden event = %v, want U3003 naming backend %d", err, pid)
	}

	// A catch-up refuses too, and applies nothing.
	rm, err := sqlitemodels.Open(filepath.Join(t.TempDir(), "read.db"), sqlitemodels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	if n, err := projections.NewRunner(impatient, rm, projections.RunnerOptions{}).CatchUp(ctx); !errors.Is(err, domain.ErrStoreFailure) || n != 0 {
		t.Fatalf("CatchUp with a hidden event = %d, %v; want 0 and U3003", n, err)
	}

	ended := make(chan error, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		ended <- old.Commit(ctx)
	}()
	err = patient.Settle(ctx)
	if e := <-ended; e != nil {
		t.Fatal(e)
	}
	if err != nil {
		t.Fatalf("Settle while the older transaction ends: %v", err)
	}
	if n := len(readAll(t, patient)); n != 1 {
		t.Fatalf("after Settle: %d events readable, want 1", n)
	}
	if n, err := projections.NewRunner(patient, rm, projections.RunnerOptions{}).CatchUp(ctx); err != nil || n != 1 {
		t.Fatalf("CatchUp = %d, %v; want 1 event", n, err)
	}
}
