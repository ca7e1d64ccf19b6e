package pgschema_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"upay/adapters/pgschema"
	"upay/adapters/pgtest"
	"upay/domain"
)

func pool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(t.Context(), pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func tables(t *testing.T, p *pgxpool.Pool) map[string]bool {
	t.Helper()
	rows, err := p.Query(t.Context(), "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[n] = true
	}
	return out
}

func TestMigrationsAreNumberedFromOne(t *testing.T) {
	ms := pgschema.Migrations()
	if len(ms) == 0 || ms[len(ms)-1].Version != pgschema.Latest {
		t.Fatalf("Latest = %d, migrations %v", pgschema.Latest, ms)
	}
	for i, m := range ms {
		if m.Version != i+1 || m.Name == "" || strings.TrimSpace(m.SQL) == "" {
			t.Errorf("migration %d: %+v", i, m)
		}
	}
}

func TestFromEmpty(t *testing.T) {
	ctx := t.Context()
	p := pool(t)
	if lv, err := pgschema.Level(ctx, p); err != nil || lv != 0 {
		t.Fatalf("Level of an empty database = %d, %v; want 0", lv, err)
	}
	err := pgschema.Check(ctx, p)
	if !errors.Is(err, domain.ErrStoreFailure) || !strings.Contains(err.Error(), "upay migrate") {
		t.Fatalf("Check before migrating = %v, want U3003 telling to run upay migrate", err)
	}
	from, to, err := pgschema.Migrate(ctx, p, 0)
	if err != nil || from != 0 || to != pgschema.Latest {
		t.Fatalf("Migrate = %d→%d, %v; want 0→%d", from, to, err, pgschema.Latest)
	}
	if err := pgschema.Check(ctx, p); err != nil {
		t.Fatalf("Check after migrating: %v", err)
	}
	for _, want := range []string{"schema_migrations", "events", "requests", "transactions", "checkpoints"} {
		if !tables(t, p)[want] {
			t.Errorf("table %s missing after migrating", want)
		}
	}
	// A second run changes nothing.
	from, to, err = pgschema.Migrate(ctx, p, 0)
	if err != nil || from != pgschema.Latest || to != pgschema.Latest {
		t.Fatalf("second Migrate = %d→%d, %v", from, to, err)
	}
}

// TestFromPreviousVersion migrates a database left at each earlier level by
// an older binary.
func TestFromPreviousVersion(t *testing.T) {
	for level := 1; level < pgschema.Latest; level++ {
		ctx := t.Context()
		p := pool(t)
		if _, to, err := pgschema.Migrate(ctx, p, level); err != nil || to != level {
			t.Fatalf("Migrate to %d = %d, %v", level, to, err)
		}
		if err := pgschema.Check(ctx, p); err == nil {
			t.Fatalf("Check at level %d passed, want a refusal", level)
		}
		from, to, err := pgschema.Migrate(ctx, p, 0)
		if err != nil || from != level || to != pgschema.Latest {
			t.Fatalf("Migrate from %d = %d→%d, %v", level, from, to, err)
		}
		if err := pgschema.Check(ctx, p); err != nil {
			t.Fatalf("Check: %v", err)
		}
	}
}

func TestNewerLevelRefused(t *testing.T) {
	ctx := t.Context()
	p := pool(t)
	if _, _, err := pgschema.Migrate(ctx, p, 0); err != nil {
		t.Fatal(err)
	}
	newer := pgschema.Latest + 1
	if _, err := p.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", newer); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"Check":   pgschema.Check(ctx, p),
		"Migrate": func() error { _, _, err := pgschema.Migrate(ctx, p, 0); return err }(),
	} {
		if !errors.Is(err, domain.ErrStoreFailure) || !strings.Contains(err.Error(), "newer than this binary") {
			t.Errorf("%s at level %d = %v, want U3003 newer than this binary", what, newer, err)
		}
	}
	if _, _, err := pgschema.Migrate(ctx, p, pgschema.Latest+5); !errors.Is(err, domain.Error{Code: domain.CodeInvalidField}) {
		t.Errorf("Migrate to an unknown level = %v, want U1009", err)
	}
}

// TestConcurrentMigrate: two migrators at once apply each step once.
func TestConcurrentMigrate(t *testing.T) {
	ctx := context.Background()
	p := pool(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = pgschema.Migrate(ctx, p, 0)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	var n int
	if err := p.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != pgschema.Latest {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, pgschema.Latest)
	}
}
