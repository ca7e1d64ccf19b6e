package main

import (
	"context"
	"strings"

	"upay/adapters/secretfile"
	"upay/adapters/sqlite"
	"upay/domain"
)

// openStore opens the event store named by --store: a file path (the
// embedded SQLite default) or a URL of another engine.
func (a *app) openStore() (domain.EventStore, error) {
	s := a.store
	if i := strings.Index(s, "://"); i > 0 {
		scheme := s[:i]
		switch scheme {
		case "sqlite", "file":
			s = s[i+3:]
		default:
			return nil, domain.Err(domain.CodeInvalidField, "--store %s://...: this build has no %s adapter yet; use a file path for the embedded store", scheme, scheme)
		}
	}
	return sqlite.Open(s)
}

// storeFile is the embedded store's file path: --store without a sqlite://
// or file:// scheme. The secret directory and the read models sit beside it.
func (a *app) storeFile() string {
	return strings.TrimPrefix(strings.TrimPrefix(a.store, "sqlite://"), "file://")
}

// secrets opens the secret store: UPAY_SECRETS, or a directory beside the
// embedded store file.
func (a *app) secrets() (*secretfile.Store, error) {
	dir := a.secretsDir
	if dir == "" {
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
