package zipaes

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tests against the real 7-Zip (Debian package 7zip, command 7zz), the
// tool most recipients will open notices with.
//
// The password is passed as a -p argument here only because this is a test
// tool with a test password. Production code never puts a password on a
// command line, where other users can read it from the process list.

// sevenZip returns the path of 7zz. Without it the test is skipped, except
// in CI (CI=true), where a missing 7zz is a broken setup and fails.
func sevenZip(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("7zz")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("7zz not found on PATH but CI=true: install 7-Zip (Debian package 7zip) with `make deps`")
	}
	t.Skip("7zz not found on PATH: the real 7-Zip checks are skipped; install the Debian package 7zip (`make deps`) to run them")
	return ""
}

// run7zz runs 7zz with args and returns its combined output and exit error.
func run7zz(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8") // UTF-8 file names on disk
	cmd.Stdin = nil                                  // never wait for a password prompt
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// sltEntries parses `7zz l -slt` into one map per entry (after the
// "----------" line that ends the archive's own properties).
func sltEntries(out string) []map[string]string {
	_, body, ok := strings.Cut(out, "\n----------\n")
	if !ok {
		return nil
	}
	var entries []map[string]string
	var cur map[string]string
	for line := range strings.SplitSeq(body, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			cur = nil
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			k, v = strings.TrimSuffix(line, " ="), ""
		}
		if cur == nil {
			cur = map[string]string{}
			entries = append(entries, cur)
		}
		cur[k] = v
	}
	return entries
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "notice.zip")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// check7zz runs the 7-Zip checks common to both encryptions: test with the
// right and a wrong password, list with the expected method, extract and
// compare byte for byte.
func check7zz(t *testing.T, archive []byte, files []testFile, wantMethod string) {
	bin := sevenZip(t)
	zipPath := writeTemp(t, archive)

	out, err := run7zz(t, bin, "t", "-p"+testPassword, zipPath)
	if err != nil || !strings.Contains(out, "Everything is Ok") {
		t.Fatalf("7zz t with the right password: %v\n%s", err, out)
	}

	out, err = run7zz(t, bin, "t", "-pnot-the-password", zipPath)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 {
		t.Fatalf("7zz t with a wrong password: err = %v, want a non-zero exit\n%s", err, out)
	}
	if !strings.Contains(out, "Wrong password") {
		t.Errorf("7zz t with a wrong password does not report it:\n%s", out)
	}

	out, err = run7zz(t, bin, "l", "-slt", zipPath)
	if err != nil {
		t.Fatalf("7zz l -slt: %v\n%s", err, out)
	}
	entries := sltEntries(out)
	if len(entries) != len(files) {
		t.Fatalf("7zz lists %d entries, want %d:\n%s", len(entries), len(files), out)
	}
	for i, e := range entries {
		f := files[i]
		if e["Path"] != filepath.FromSlash(f.name) {
			t.Errorf("entry %d: Path = %q, want %q", i, e["Path"], f.name)
		}
		if e["Method"] != wantMethod {
			t.Errorf("%s: Method = %q, want %q", f.name, e["Method"], wantMethod)
		}
		if e["Encrypted"] != "+" {
			t.Errorf("%s: Encrypted = %q, want +", f.name, e["Encrypted"])
		}
		if e["Size"] != strconv.Itoa(len(f.data)) {
			t.Errorf("%s: Size = %q, want %d", f.name, e["Size"], len(f.data))
		}
		if !strings.HasPrefix(e["Modified"], "2024-03-31 ") {
			t.Errorf("%s: Modified = %q, want 2024-03-31", f.name, e["Modified"])
		}
		if utf8 := strings.Contains(e["Characteristics"], "UTF8"); utf8 != !isASCII(f.name) {
			t.Errorf("%s: Characteristics = %q, UTF8 expected %v", f.name, e["Characteristics"], !isASCII(f.name))
		}
	}
	t.Logf("7zz l -slt, first entry: Method = %s; Characteristics = %s", entries[0]["Method"], entries[0]["Characteristics"])

	dir := t.TempDir()
	out, err = run7zz(t, bin, "x", "-p"+testPassword, "-o"+dir, "-y", zipPath)
	if err != nil {
		t.Fatalf("7zz x: %v\n%s", err, out)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.name)))
		if err != nil {
			t.Errorf("extracted %s: %v", f.name, err)
			continue
		}
		if !bytes.Equal(got, f.data) {
			t.Errorf("extracted %s: %d bytes differ from the original %d bytes", f.name, len(got), len(f.data))
		}
	}
}

func TestSevenZipAcceptsAES(t *testing.T) {
	files := noticeFiles()
	check7zz(t, buildArchive(t, testPassword, files), files, "AES-256 Deflate")
}

func TestSevenZipAcceptsLegacyZipCrypto(t *testing.T) {
	files := noticeFiles()
	check7zz(t, buildArchive(t, testPassword, files, WithLegacyZipCrypto()), files, "ZipCrypto Deflate")
}

// TestOpenReadsSevenZipOutput: the other direction, 7-Zip writes and Open
// reads. testdata/sevenzip-aes256.zip was made the same way:
//
//	7zz a -tzip -mem=AES256 -pfixture-pass sevenzip-aes256.zip short.txt notice.csv sub
func TestOpenReadsSevenZipOutput(t *testing.T) {
	bin := sevenZip(t)
	src := t.TempDir()
	files := noticeFiles()
	var names []string
	for _, f := range files {
		p := filepath.Join(src, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, f.name)
	}
	// 7-Zip 26.02 refuses to create an AES ZIP with a non-ASCII password
	// (E_INVALIDARG), though it opens ours made with UTF-8 bytes.
	const asciiPassword = "payout-notice-pw-2024"
	zipPath := filepath.Join(t.TempDir(), "by7zz.zip")
	args := append([]string{"a", "-tzip", "-mem=AES256", "-p" + asciiPassword, zipPath}, names...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("7zz a: %v\n%s", err, out)
	}
	z, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(z, []byte(asciiPassword))
	if err != nil {
		t.Fatalf("Open of a 7-Zip AES archive: %v", err)
	}
	assertSameFiles(t, got, files)
	if _, err := Open(z, []byte("not-the-password")); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password on a 7-Zip archive: %v", err)
	}
}
