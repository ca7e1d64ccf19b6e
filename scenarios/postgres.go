package scenarios

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"upay/adapters/pgconfig"
	"upay/adapters/pgmodels"
	"upay/adapters/postgres"
	"upay/domain"
)

// Postgres runs scenarios on a PostgreSQL database: each scenario gets a
// schema of its own in the database of URL (named after its temporary
// directory), migrated from empty and dropped when the scenario ends, so
// runs never see each other's events and leave nothing behind.
type Postgres struct {
	URL string
}

// schema names dir's schema: "upay_" and the directory's base name, which
// os.MkdirTemp made unique.
func schema(dir string) string {
	var b strings.Builder
	b.WriteString("upay_")
	for _, r := range strings.ToLower(filepath.Base(dir)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// schemaURL is p.URL with its search_path set to the scenario's schema.
func (p Postgres) schemaURL(dir string) (string, error) {
	u, err := url.Parse(p.URL)
	if err != nil {
		return "", domain.Err(domain.CodeInvalidField, "--store: not a valid PostgreSQL URL")
	}
	q := u.Query()
	q.Set("search_path", schema(dir))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (p Postgres) admin(ctx context.Context, sql string) error {
	cfg, err := pgconfig.Parse(p.URL)
	if err != nil {
		return err
	}
	c, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return pgconfig.ConnectError(cfg, p.URL, err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, sql); err != nil {
		return domain.Wrap(domain.CodeStoreFailure, err, "postgres: %s", sql)
	}
	return nil
}

// Store is an OpenStore: a new schema, migrated, and the event store in it.
func (p Postgres) Store(ctx context.Context, dir string) (domain.EventStore, func() error, error) {
	u, err := p.schemaURL(dir)
	if err != nil {
		return nil, nil, err
	}
	name := schema(dir)
	if err := p.admin(ctx, "CREATE SCHEMA "+name); err != nil {
		return nil, nil, err
	}
	drop := func() error { return p.admin(context.Background(), "DROP SCHEMA IF EXISTS "+name+" CASCADE") }
	s, err := postgres.Open(ctx, u, postgres.Options{Migrate: true})
	if err != nil {
		return nil, nil, errors.Join(err, drop())
	}
	return s, func() error { return errors.Join(s.Close(), drop()) }, nil
}

// Totals is an OpenTotals: the PostgreSQL read models in the scenario's
// schema, caught up by a projections.Runner as upay payout run does.
func (p Postgres) Totals(ctx context.Context, store domain.EventStore, dir string) (Totals, func() error, error) {
	u, err := p.schemaURL(dir)
	if err != nil {
		return nil, nil, err
	}
	m, err := pgmodels.Open(ctx, u, pgmodels.Options{Events: store})
	if err != nil {
		return nil, nil, fmt.Errorf("read models in schema %s: %w", schema(dir), err)
	}
	return follow(store, m), func() error { return m.Close() }, nil
}
