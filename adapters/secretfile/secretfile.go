// Package secretfile is the embedded secret store: one directory, one file
// per secret, mode 0600 in a 0700 directory, beside the event store file.
// It keeps what must never enter an event stream: the card fingerprint key
// and the merchants' notice passwords.
//
// Writes go to a temporary file that is synced and then linked into place,
// so a reader never sees half a secret. FingerprintKey creates the key at
// most once even when several processes start together: os.Link fails when
// the name exists, and the loser reads the winner's key.
package secretfile

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"upay/domain"
)

// Store is a directory of secrets.
type Store struct{ dir string }

var _ domain.Secrets = (*Store)(nil)

// Open uses (and creates) dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, domain.Wrap(domain.CodeStoreFailure, err, "secret store %s", dir)
	}
	return &Store{dir: dir}, nil
}

// DirFor is the default secret directory of an embedded store file:
// "upay.db" keeps its secrets in "upay.db.secrets".
func DirFor(storePath string) string { return storePath + ".secrets" }

func (s *Store) path(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", domain.Err(domain.CodeInvalidField, "secret name %q is not a plain name", name)
	}
	return filepath.Join(s.dir, name), nil
}

// Get returns a secret; U3004 when it does not exist.
func (s *Store) Get(_ context.Context, name string) ([]byte, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, domain.Err(domain.CodeSecretNotFound, "no secret %q", name)
	}
	if err != nil {
		return nil, domain.Wrap(domain.CodeStoreFailure, err, "reading secret %q", name)
	}
	return b, nil
}

// Put stores a secret, replacing an older value atomically.
func (s *Store) Put(_ context.Context, name string, value []byte) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	tmp, err := s.writeTemp(value)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return domain.Wrap(domain.CodeStoreFailure, err, "storing secret %q", name)
	}
	return nil
}

// create stores value under name only if name does not exist yet; it
// reports whether it did.
func (s *Store) create(name string, value []byte) (bool, error) {
	p, err := s.path(name)
	if err != nil {
		return false, err
	}
	tmp, err := s.writeTemp(value)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, domain.Wrap(domain.CodeStoreFailure, err, "storing secret %q", name)
	}
	return true, nil
}

func (s *Store) writeTemp(value []byte) (string, error) {
	f, err := os.CreateTemp(s.dir, ".tmp-")
	if err != nil {
		return "", domain.Wrap(domain.CodeStoreFailure, err, "secret store %s", s.dir)
	}
	_, werr := f.Write(value)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(f.Name())
		return "", domain.Wrap(domain.CodeStoreFailure, err, "writing secret")
	}
	return f.Name(), nil
}

// FingerprintKeyName is the secret holding the card fingerprint HMAC key.
const FingerprintKeyName = "fingerprint-key"

// FingerprintKey returns the card fingerprint key, creating a random
// 32-byte key on first use. Changing it later would make "same card"
// checks fail for older payments, so it is never replaced here.
func FingerprintKey(ctx context.Context, s *Store) ([]byte, error) {
	k, err := s.Get(ctx, FingerprintKeyName)
	if err == nil {
		return k, nil
	}
	if domain.CodeOf(err) != domain.CodeSecretNotFound {
		return nil, err
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	if _, err := s.create(FingerprintKeyName, fresh); err != nil {
		return nil, err
	}
	return s.Get(ctx, FingerprintKeyName)
}
