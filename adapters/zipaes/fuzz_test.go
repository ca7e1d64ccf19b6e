package zipaes

import (
	"errors"
	"os"
	"testing"
)

// FuzzOpen feeds arbitrary archives and passwords to Open, which must never
// panic and must return either files with valid names or an error, never
// both. The seed corpus in testdata/fuzz/FuzzOpen holds archives of this
// package (AES-256, ZipCrypto, truncated, a flipped MAC byte), an AE-1
// AES-128 archive and the 7-Zip archive of testdata, each with the right
// or a wrong password. Run longer with
//
//	go test ./adapters/zipaes -run '^$' -fuzz FuzzOpen -fuzztime 60s
func FuzzOpen(f *testing.F) {
	if z, err := os.ReadFile("testdata/sevenzip-aes256.zip"); err == nil {
		f.Add(z, []byte("fixture-pass"))
	}
	f.Add(buildArchive(f, "pw", []testFile{{"a.txt", []byte("hello hello hello")}, {"空.txt", nil}}), []byte("pw"))
	f.Add([]byte{}, []byte("pw"))

	f.Fuzz(func(t *testing.T, data, password []byte) {
		files, err := Open(data, password)
		if err != nil {
			if files != nil {
				t.Fatalf("Open returned %d files and error %v", len(files), err)
			}
			if len(password) == 0 && !errors.Is(err, ErrEmptyPassword) {
				t.Fatalf("empty password: %v, want ErrEmptyPassword", err)
			}
			return
		}
		for name := range files {
			if err := validName(name); err != nil {
				t.Fatalf("Open returned an unsafe name: %v", err)
			}
		}
	})
}
