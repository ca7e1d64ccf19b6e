package main

import (
	"context"
	"strings"
	"time"

	"upay/adapters/pgmodels"
	"upay/adapters/postgres"
	"upay/adapters/secretfile"
	"upay/adapters/sqlite"
	"upay/adapters/sqlitemodels"
	"upay/domain"
)

// openTimeout bounds connecting to a store server, so a wrong host fails in
// seconds rather than hanging a payout batch.
const openTimeout = 15 * time.Second

// postgresURL reports whether --store names a PostgreSQL database.
func (a *app) postgresURL() bool {
	return strings.HasPrefix(a.store, "postgres://") || strings.HasPrefix(a.store, "postgresql://")
}

// openStore opens the event store named by --store: a file path (the
// embedded SQLite default), sqlite:// or file:// and a path, or a
// postgres:// URL. A PostgreSQL database must be at this binary's migration
// level (`upay migrate`), unless migrate is set.
func (a *app) openStore() (domain.EventStore, error) {
	if a.postgresURL() {
		ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
		defer cancel()
		return postgres.Open(ctx, a.store, postgres.Options{Migrate: a.migrate})
	}
	if i := strings.Index(a.store, "://"); i > 0 {
		switch scheme := a.store[:i]; scheme {
		case "sqlite", "file":
		default:
			return nil, domain.Err(domain.CodeInvalidField, "--store %s://...: unknown engine %q; use a file path (embedded store) or postgres://", scheme, scheme)
		}
	}
	return sqlite.Open(a.storeFile())
}

// openReadModels opens the read models that follow events: the tables of
// the same PostgreSQL database for a postgres:// store, else the file
// "<store>.read.db" beside the embedded store, created when missing. events
// lets Status report each projection's lag.
func (a *app) openReadModels(events domain.EventStore) (readModels, error) {
	if a.postgresURL() {
		ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
		defer cancel()
		return pgmodels.Open(ctx, a.store, pgmodels.Options{Events: events, Migrate: a.migrate})
	}
	return sqlitemodels.Open(sqlitemodels.PathFor(a.storeFile()), sqlitemodels.Options{Events: events})
}

// storeFile is the embedded store's file path: --store without a sqlite://
// or file:// scheme. The secret directory and the read models sit beside it.
func (a *app) storeFile() string {
	return strings.TrimPrefix(strings.TrimPrefix(a.store, "sqlite://"), "file://")
}

// secrets opens the secret store: --secrets (UPAY_SECRETS), or a directory
// beside the embedded store file. A server store has no "beside": the
// secrets (the card fingerprint key, notice passwords) never go into the
// database, so the operator names their directory.
func (a *app) secrets() (*secretfile.Store, error) {
	dir := a.secretsDir
	if dir == "" {
		if a.postgresURL() {
			return nil, domain.Err(domain.CodeMissingField, "with a PostgreSQL store, give the secret store directory: --secrets DIR (or UPAY_SECRETS); secrets never go into the database")
		}
		dir = secretfile.DirFor(a.storeFile())
	}
	return secretfile.Open(dir)
}

// fingerprintKey returns the card fingerprint key from the secret store.
func (a *app) fingerprintKey(ctx context.Context) ([]byte, error) {
	s, err := a.secrets()
	if err != nil {
		return nil, err
	}
	return secretfile.FingerprintKey(ctx, s)
}
