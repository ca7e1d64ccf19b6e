package zipaes

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// testPassword is non-ASCII on purpose: UTF-8 passwords must work with
// 7-Zip as well.
const testPassword = "Zahlungsavis-ß-支払-2024"

type testFile struct {
	name string
	data []byte
}

var testModified = time.Date(2024, 3, 31, 23, 59, 58, 0, time.UTC)

// noticeFiles: a binary "PDF" of a few hundred KB (incompressible random
// bytes after a PDF header), a CSV under a Japanese name (UTF-8 flag), an
// empty file, and one in a subfolder.
func noticeFiles() []testFile {
	rng := rand.New(rand.NewPCG(1, 2))
	pdf := make([]byte, 300*1024)
	for i := range pdf {
		pdf[i] = byte(rng.Uint32())
	}
	copy(pdf, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	var csv strings.Builder
	csv.WriteString("merchant,booking_date,amount,currency\n")
	for i := range 200 {
		fmt.Fprintf(&csv, "m%03d,2024-03-%02d,%d.%02d,EUR\n", i%7, i%28+1, i*37%5000, i%100)
	}
	return []testFile{
		{"payout-2024-03.pdf", pdf},
		{"支払通知書_2024年3月.csv", []byte(csv.String())},
		{"empty.txt", nil},
		{"attachments/readme.txt", []byte("Payout notice: see the PDF.\n")},
	}
}

func buildArchive(t testing.TB, password string, files []testFile, opts ...Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, []byte(password), opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := w.Add(f.name, testModified, f.data); err != nil {
			t.Fatalf("Add(%q): %v", f.name, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func assertSameFiles(t *testing.T, got map[string][]byte, want []testFile) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d files, want %d", len(got), len(want))
	}
	for _, f := range want {
		g, ok := got[f.name]
		switch {
		case !ok:
			t.Errorf("%q missing", f.name)
		case !bytes.Equal(g, f.data):
			t.Errorf("%q: %d bytes differ from the original %d bytes", f.name, len(g), len(f.data))
		}
	}
}

func TestRoundTrip(t *testing.T) {
	files := noticeFiles()
	z := buildArchive(t, testPassword, files)
	got, err := Open(z, []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	assertSameFiles(t, got, files)
}

// localHeader is the fixed part of a local file header, APPNOTE 4.3.7.
type localHeader struct {
	flags, method     uint16
	crc, csize, usize uint32
	name              string
	extra             []byte
	dataOffset        int
}

func parseLocalHeader(t *testing.T, z []byte, off int) localHeader {
	t.Helper()
	if off+30 > len(z) || binary.LittleEndian.Uint32(z[off:]) != 0x04034b50 {
		t.Fatalf("no local file header at %d", off)
	}
	h := z[off:]
	n, x := int(binary.LittleEndian.Uint16(h[26:])), int(binary.LittleEndian.Uint16(h[28:]))
	return localHeader{
		flags:      binary.LittleEndian.Uint16(h[6:]),
		method:     binary.LittleEndian.Uint16(h[8:]),
		crc:        binary.LittleEndian.Uint32(h[14:]),
		csize:      binary.LittleEndian.Uint32(h[18:]),
		usize:      binary.LittleEndian.Uint32(h[22:]),
		name:       string(h[30 : 30+n]),
		extra:      h[30+n : 30+n+x],
		dataOffset: off + 30 + n + x,
	}
}

// TestAESHeaders checks the bytes on disk against the WinZip AE-2 layout,
// in the local headers (sizes present, no data descriptor) and in the
// central directory, and decrypts each entry with the reference code of
// kat_test.go instead of the package's own reader.
func TestAESHeaders(t *testing.T) {
	files := noticeFiles()
	pw := []byte(testPassword)
	z := buildArchive(t, testPassword, files)
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(files) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(files))
	}
	wantAESExtra := []byte{0x01, 0x99, 0x07, 0x00, 0x02, 0x00, 'A', 'E', 0x03, 0x08, 0x00}

	off := 0
	for i, f := range zr.File {
		want := files[i]
		lh := parseLocalHeader(t, z, off)
		if lh.name != want.name || f.Name != want.name {
			t.Fatalf("entry %d: local %q, central %q, want %q", i, lh.name, f.Name, want.name)
		}
		for where, v := range map[string]struct {
			flags, method uint16
			crc           uint32
			extra         []byte
		}{
			"local":   {lh.flags, lh.method, lh.crc, lh.extra},
			"central": {f.Flags, f.Method, f.CRC32, f.Extra},
		} {
			if v.method != 99 {
				t.Errorf("%s %q: method %d, want 99", where, want.name, v.method)
			}
			if v.flags&0x1 == 0 {
				t.Errorf("%s %q: encrypted flag bit 0 not set (flags %#x)", where, want.name, v.flags)
			}
			if v.flags&0x8 != 0 {
				t.Errorf("%s %q: data descriptor flag bit 3 set", where, want.name)
			}
			if utf8Flag, nonASCII := v.flags&0x800 != 0, !isASCII(want.name); utf8Flag != nonASCII {
				t.Errorf("%s %q: UTF-8 flag %v, want %v", where, want.name, utf8Flag, nonASCII)
			}
			if v.crc != 0 {
				t.Errorf("%s %q: CRC %#x, want 0 for AE-2", where, want.name, v.crc)
			}
			if !bytes.HasPrefix(v.extra, wantAESExtra) {
				t.Errorf("%s %q: extra % x does not start with the AE-2 AES-256 deflate field", where, want.name, v.extra)
			}
		}
		if uint64(lh.csize) != f.CompressedSize64 || uint64(lh.usize) != f.UncompressedSize64 {
			t.Errorf("%q: local sizes %d/%d, central %d/%d", want.name, lh.csize, lh.usize, f.CompressedSize64, f.UncompressedSize64)
		}
		if f.UncompressedSize64 != uint64(len(want.data)) {
			t.Errorf("%q: uncompressed size %d, want %d", want.name, f.UncompressedSize64, len(want.data))
		}
		if !f.Modified.Equal(testModified) {
			t.Errorf("%q: modified %v, want %v", want.name, f.Modified, testModified)
		}
		if f.Mode().Perm() != 0o644 {
			t.Errorf("%q: mode %v, want -rw-r--r--", want.name, f.Mode())
		}

		// Body: salt(16) pv(2) ciphertext mac(10), decrypted independently.
		body := z[lh.dataOffset : lh.dataOffset+int(lh.csize)]
		salt, pv, ct, mac := body[:16], body[16:18], body[18:len(body)-10], body[len(body)-10:]
		dk := refPBKDF2SHA1(pw, salt, 1000, 66)
		if !bytes.Equal(pv, dk[64:]) {
			t.Errorf("%q: verifier %x, want %x", want.name, pv, dk[64:])
		}
		m := hmac.New(sha1.New, dk[32:64])
		m.Write(ct)
		if !bytes.Equal(mac, m.Sum(nil)[:10]) {
			t.Errorf("%q: authentication code does not match", want.name)
		}
		ks := refKeystream(t, dk[:32], len(ct))
		deflated := make([]byte, len(ct))
		for j := range ct {
			deflated[j] = ct[j] ^ ks[j]
		}
		plain, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflated)))
		if err != nil || !bytes.Equal(plain, want.data) {
			t.Errorf("%q: reference decryption and inflate gave %d bytes, err %v", want.name, len(plain), err)
		}

		// The next record starts right after the data: no data descriptor.
		off = lh.dataOffset + int(lh.csize)
		next := binary.LittleEndian.Uint32(z[off:])
		if next != 0x04034b50 && next != 0x02014b50 {
			t.Fatalf("after %q: signature %#x, want a local or central header", want.name, next)
		}
	}
}

func TestSaltIsFreshPerEntry(t *testing.T) {
	same := []byte("identical content")
	z := buildArchive(t, "pw", []testFile{{"a.txt", same}, {"b.txt", same}})
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	var bodies [][]byte
	for _, f := range zr.File {
		r, err := f.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		bodies = append(bodies, b)
	}
	if bytes.Equal(bodies[0][:16], bodies[1][:16]) {
		t.Error("two entries share a salt")
	}
	if bytes.Equal(bodies[0][18:], bodies[1][18:]) {
		t.Error("identical plaintexts gave identical ciphertexts")
	}
}

func TestWrongPasswordFails(t *testing.T) {
	z := buildArchive(t, testPassword, noticeFiles())
	got, err := Open(z, []byte(testPassword+"x"))
	if !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("Open with a wrong password: err = %v, want ErrWrongPassword", err)
	}
	if got != nil {
		t.Errorf("Open returned %d files with an error", len(got))
	}
	if !strings.Contains(err.Error(), "wrong password") {
		t.Errorf("error %q does not say 'wrong password'", err)
	}
}

func TestTamperingIsDetected(t *testing.T) {
	z := buildArchive(t, "pw", []testFile{{"notice.csv", []byte("merchant,amount\nm001,1234.50\n")}})
	lh := parseLocalHeader(t, z, 0)
	body := lh.dataOffset
	end := body + int(lh.csize)
	for name, pos := range map[string]int{
		"first ciphertext byte":  body + 18,
		"last ciphertext byte":   end - 11,
		"authentication code":    end - 1,
		"first byte of the salt": body,
	} {
		bad := bytes.Clone(z)
		bad[pos] ^= 0x01
		_, err := Open(bad, []byte("pw"))
		// A changed salt changes the derived verifier (ErrWrongPassword),
		// or with chance 1/65536 only the keys (ErrAuthentication).
		if !errors.Is(err, ErrAuthentication) && !(pos == body && errors.Is(err, ErrWrongPassword)) {
			t.Errorf("flipped %s: err = %v, want an authentication failure", name, err)
		}
	}
}

func TestEmptyPasswordRejected(t *testing.T) {
	if _, err := NewWriter(io.Discard, nil); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("NewWriter(nil password): %v", err)
	}
	if _, err := NewWriter(io.Discard, []byte{}, WithLegacyZipCrypto()); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("NewWriter(empty password, legacy): %v", err)
	}
	z := buildArchive(t, "pw", []testFile{{"a", []byte("x")}})
	if _, err := Open(z, nil); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("Open(nil password): %v", err)
	}
}

func TestWriterKeepsItsOwnPasswordCopy(t *testing.T) {
	pw := []byte("secret-pw")
	var buf bytes.Buffer
	w, err := NewWriter(&buf, pw)
	if err != nil {
		t.Fatal(err)
	}
	copy(pw, "XXXXXXXXX") // the caller reuses its buffer
	if err := w.Add("a.txt", testModified, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(buf.Bytes(), []byte("secret-pw")); err != nil {
		t.Fatalf("archive does not open with the password given to NewWriter: %v", err)
	}
	if !bytes.Equal(w.password, make([]byte, len(pw))) {
		t.Error("Close did not clear the Writer's password copy")
	}
}

func TestAddValidatesNames(t *testing.T) {
	bad := []string{
		"", "/etc/passwd", "../escape.txt", "a/../../b", "a//b", "dir/", "./a",
		`a\b.txt`, "C:evil.txt", "tab\tname", "nul\x00", "\xff\xfe.txt",
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range bad {
		if err := w.Add(name, testModified, []byte("x")); !errors.Is(err, ErrName) {
			t.Errorf("Add(%q): err = %v, want ErrName", name, err)
		}
	}
	if err := w.Add("ok/名前.txt", testModified, []byte("x")); err != nil {
		t.Fatalf("valid name refused: %v", err)
	}
	if err := w.Add("ok/名前.txt", testModified, []byte("y")); !errors.Is(err, ErrName) {
		t.Errorf("duplicate name: err = %v, want ErrName", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := Open(buf.Bytes(), []byte("pw"))
	if err != nil || len(got) != 1 || string(got["ok/名前.txt"]) != "x" {
		t.Fatalf("after refused names the archive holds %v (err %v), want just the valid file", got, err)
	}
}

func TestUseAfterClose(t *testing.T) {
	w, err := NewWriter(io.Discard, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add("a", testModified, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

type failingWriter struct{ left int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n := f.left
		f.left = 0
		return n, errors.New("disk full")
	}
	f.left -= len(p)
	return len(p), nil
}

func TestWriteErrorIsSticky(t *testing.T) {
	w, err := NewWriter(&failingWriter{left: 40}, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	// archive/zip buffers 4 KiB, so the entry must be larger to reach the
	// failing writer within Add.
	big := noticeFiles()[0].data
	err = w.Add("a.pdf", testModified, big)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Add on a failing writer: %v", err)
	}
	if err2 := w.Add("b.txt", testModified, []byte("x")); err2 == nil {
		t.Error("Add after a write error succeeded")
	}
	if err3 := w.Close(); err3 == nil {
		t.Error("Close after a write error succeeded")
	}
}

func TestMsDosTimeClamps(t *testing.T) {
	d, tm := msDosTime(time.Time{})
	if d != 0x21 || tm != 0 {
		t.Errorf("zero time: %#x %#x, want 1980-01-01 (0x21, 0)", d, tm)
	}
	d, tm = msDosTime(time.Date(2024, 3, 31, 23, 59, 58, 0, time.UTC))
	if wantD, wantT := uint16(44<<9|3<<5|31), uint16(23<<11|59<<5|29); d != wantD || tm != wantT {
		t.Errorf("2024-03-31 23:59:58: %#x %#x, want %#x %#x", d, tm, wantD, wantT)
	}
	if d, _ = msDosTime(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)); d>>9 != 127 {
		t.Errorf("year 2200 not clamped to 2107: %#x", d)
	}
	// An entry with a zero time still opens, and has no extended timestamp.
	if len(extTimeExtra(time.Time{})) != 0 {
		t.Error("extended timestamp written for a zero time")
	}
}

func TestOpenRefusesNonAESEntries(t *testing.T) {
	// A plain archive/zip archive: stored in clear.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	fw, _ := zw.Create("plain.txt")
	fw.Write([]byte("not encrypted"))
	zw.Close()
	if _, err := Open(buf.Bytes(), []byte("pw")); !errors.Is(err, ErrNotAES) {
		t.Errorf("plaintext archive: err = %v, want ErrNotAES", err)
	}
	// ZipCrypto: weak, refused by the auditing reader.
	z := buildArchive(t, "pw", []testFile{{"a.txt", []byte("x")}}, WithLegacyZipCrypto())
	if _, err := Open(z, []byte("pw")); !errors.Is(err, ErrNotAES) {
		t.Errorf("ZipCrypto archive: err = %v, want ErrNotAES", err)
	}
	if _, err := Open([]byte("PK\x03\x04 not a zip"), []byte("pw")); !errors.Is(err, ErrFormat) {
		t.Errorf("garbage: err = %v, want ErrFormat", err)
	}
}

// writeAESEntry writes an entry the way other tools may: any vendor
// version, strength and inner method, with the given CRC field.
func writeAESEntry(t *testing.T, zw *zip.Writer, name string, vendor uint16, saltLen int, method uint16, crc uint32, data []byte) {
	t.Helper()
	inner := data
	if method == zip.Deflate {
		var b bytes.Buffer
		fw, _ := flate.NewWriter(&b, flate.BestCompression)
		fw.Write(data)
		fw.Close()
		inner = b.Bytes()
	}
	salt := bytes.Repeat([]byte{0x42}, saltLen)
	body, err := sealAES([]byte("pw"), salt, inner)
	if err != nil {
		t.Fatal(err)
	}
	fh := &zip.FileHeader{
		Name: name, Method: methodAES, Flags: flagEncrypted, CRC32: crc,
		CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(len(data)),
		Extra: aesExtra(vendor, byte(saltLen/4-1), method),
	}
	w, err := zw.CreateRaw(fh)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(body)
}

func TestOpenOtherAESVariants(t *testing.T) {
	data := []byte("AE-1 stores the CRC of the plaintext; AE-2 does not.")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	writeAESEntry(t, zw, "ae1-aes128-deflate.txt", vendorAE1, 8, zip.Deflate, crc32.ChecksumIEEE(data), data)
	writeAESEntry(t, zw, "ae2-aes192-store.txt", vendorAE2, 12, zip.Store, 0, data)
	zw.Close()
	got, err := Open(buf.Bytes(), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	for name, g := range got {
		if !bytes.Equal(g, data) {
			t.Errorf("%s: %q", name, g)
		}
	}
	if len(got) != 2 {
		t.Errorf("got %d files, want 2", len(got))
	}

	buf.Reset()
	zw = zip.NewWriter(&buf)
	writeAESEntry(t, zw, "ae1-bad-crc.txt", vendorAE1, 16, zip.Deflate, crc32.ChecksumIEEE(data)^1, data)
	zw.Close()
	if _, err := Open(buf.Bytes(), []byte("pw")); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "CRC") {
		t.Errorf("AE-1 with a wrong CRC: err = %v, want a CRC ErrFormat", err)
	}
}

func TestOpenChecksDeclaredSize(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	data := bytes.Repeat([]byte("a"), 5000)
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	fw.Write(data)
	fw.Close()
	body, _ := sealAES([]byte("pw"), make([]byte, 16), b.Bytes())
	w, _ := zw.CreateRaw(&zip.FileHeader{
		Name: "bomb.txt", Method: methodAES, Flags: flagEncrypted,
		CompressedSize64: uint64(len(body)), UncompressedSize64: 10, // lies
		Extra: aesExtra(vendorAE2, strength256, zip.Deflate),
	})
	w.Write(body)
	zw.Close()
	if _, err := Open(buf.Bytes(), []byte("pw")); !errors.Is(err, ErrFormat) {
		t.Errorf("entry larger than declared: err = %v, want ErrFormat", err)
	}
}

func TestOpenRefusesUnsafeNames(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	writeAESEntry(t, zw, "../../etc/cron.d/x", vendorAE2, 16, zip.Store, 0, []byte("x"))
	zw.Close()
	if _, err := Open(buf.Bytes(), []byte("pw")); !errors.Is(err, ErrName) {
		t.Errorf("path traversal name: err = %v, want ErrName", err)
	}
}

// The archive in testdata was made by 7-Zip 26.02 (see sevenzip_test.go for
// the command): AE-2, AES-256, one file deflated, two stored (7-Zip stores
// tiny files), a directory entry and a UTF-8 name. Reading it checks the
// reader against an independent writer even where 7zz is not installed.
func TestOpenSevenZipArchive(t *testing.T) {
	z, err := os.ReadFile("testdata/sevenzip-aes256.zip")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(z, []byte("fixture-pass"))
	if err != nil {
		t.Fatal(err)
	}
	assertSameFiles(t, got, sevenZipFixtureFiles())
	if _, err := Open(z, []byte("fixture-pasS")); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password on the 7-Zip archive: %v", err)
	}
}

func sevenZipFixtureFiles() []testFile {
	var csv strings.Builder
	csv.WriteString("merchant,amount,currency\n")
	for i := range 60 {
		fmt.Fprintf(&csv, "m%03d,%d.%02d,JPY\n", i, i*137%10000, i%100)
	}
	return []testFile{
		{"short.txt", []byte("short\n")},
		{"notice.csv", []byte(csv.String())},
		{"sub/通知.txt", []byte("支払通知のテスト\n")},
	}
}

// zipCryptoDecrypt is a test-side implementation of APPNOTE 6.1 with a
// bitwise CRC step instead of the package's table, to check the legacy
// writer without 7-Zip.
func zipCryptoDecrypt(password, enc []byte) []byte {
	crcStep := func(crc uint32, b byte) uint32 {
		crc ^= uint32(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xedb88320
			} else {
				crc >>= 1
			}
		}
		return crc
	}
	k0, k1, k2 := uint32(305419896), uint32(591751049), uint32(878082192)
	update := func(c byte) {
		k0 = crcStep(k0, c)
		k1 = (k1+(k0&0xff))*134775813 + 1
		k2 = crcStep(k2, byte(k1>>24))
	}
	for _, c := range password {
		update(c)
	}
	out := make([]byte, len(enc))
	for i, c := range enc {
		t := k2&0xffff | 2
		p := c ^ byte(t*(t^1)>>8)
		update(p)
		out[i] = p
	}
	return out
}

func TestLegacyZipCryptoRoundTrip(t *testing.T) {
	files := noticeFiles()
	z := buildArchive(t, testPassword, files, WithLegacyZipCrypto())
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range zr.File {
		want := files[i]
		if f.Method != zip.Deflate || f.Flags&0x1 == 0 || f.Flags&0x8 != 0 {
			t.Errorf("%q: method %d flags %#x, want deflate, encrypted, no descriptor", f.Name, f.Method, f.Flags)
		}
		if f.CRC32 != crc32.ChecksumIEEE(want.data) {
			t.Errorf("%q: CRC %#x, want the plaintext CRC", f.Name, f.CRC32)
		}
		r, err := f.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		enc, _ := io.ReadAll(r)
		dec := zipCryptoDecrypt([]byte(testPassword), enc)
		if dec[11] != byte(f.CRC32>>24) {
			t.Errorf("%q: check byte %#x, want CRC high byte %#x", f.Name, dec[11], byte(f.CRC32>>24))
		}
		plain, err := io.ReadAll(flate.NewReader(bytes.NewReader(dec[12:])))
		if err != nil || !bytes.Equal(plain, want.data) {
			t.Errorf("%q: decrypted %d bytes (err %v), want the original %d", f.Name, len(plain), err, len(want.data))
		}
		if wrong := zipCryptoDecrypt([]byte("wrong"), enc); wrong[11] == byte(f.CRC32>>24) && bytes.Equal(wrong[12:], dec[12:]) {
			t.Errorf("%q: a wrong password decrypts", f.Name)
		}
	}
}

// Found by FuzzOpen: an AES extra field shorter than its 7 bytes must be
// an error, not an out-of-range slice.
func TestFindAESFieldRejectsBadSizes(t *testing.T) {
	for size := range 12 {
		extra := []byte{0x01, 0x99, byte(size), 0x00}
		extra = append(extra, bytes.Repeat([]byte("AE"), 6)[:size]...)
		_, ok, err := findAESField(extra)
		if size == aesExtraDataLen {
			continue // the valid size, checked below
		}
		if !errors.Is(err, ErrFormat) || ok {
			t.Errorf("AES extra field of %d bytes: ok=%v err=%v, want ErrFormat", size, ok, err)
		}
	}
	if _, _, err := findAESField([]byte{0x01, 0x99, 7, 0, 2, 0, 'X', 'Y', 3, 8, 0}); !errors.Is(err, ErrFormat) {
		t.Errorf("vendor ID XY: err = %v, want ErrFormat", err)
	}
	good := aesExtra(vendorAE2, strength256, 8)
	f, ok, err := findAESField(append([]byte{0x55, 0x54, 0x01, 0x00, 0x01}, good...))
	if err != nil || !ok || f.vendor != vendorAE2 || f.strength != 3 || f.method != 8 {
		t.Errorf("field after another extra: %+v ok=%v err=%v", f, ok, err)
	}
}
