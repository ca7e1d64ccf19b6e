package secretfile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"upay/domain"
)

func TestPutGet(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "notice-password-270212122"); domain.CodeOf(err) != domain.CodeSecretNotFound {
		t.Fatalf("missing secret: %v", err)
	}
	if err := s.Put(ctx, "notice-password-270212122", []byte("123456789")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "notice-password-270212122", []byte("987654321")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "notice-password-270212122")
	if err != nil || string(got) != "987654321" {
		t.Fatalf("got %q, %v", got, err)
	}
	fi, err := os.Stat(filepath.Join(s.dir, "notice-password-270212122"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v, %v; want 0600", fi.Mode(), err)
	}
	for _, bad := range []string{"", "../x", "a/b", ".hidden"} {
		if err := s.Put(ctx, bad, []byte("x")); domain.CodeOf(err) != domain.CodeInvalidField {
			t.Errorf("name %q: %v", bad, err)
		}
	}
}

// Racing first uses must agree on one key, or "same card" checks would
// differ between processes.
func TestFingerprintKeyCreatedOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	keys := make([][]byte, 16)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(dir)
			if err != nil {
				t.Error(err)
				return
			}
			keys[i], err = FingerprintKey(context.Background(), s)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, k := range keys {
		if len(k) != 32 || !bytes.Equal(k, keys[0]) {
			t.Fatalf("key %d = %x, want the same 32 bytes as key 0 %x", i, k, keys[0])
		}
	}
}
