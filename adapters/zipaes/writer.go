package zipaes

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors returned by Writer and Open. Open wraps them with the entry name.
var (
	ErrEmptyPassword = errors.New("zipaes: empty password")
	ErrClosed        = errors.New("zipaes: writer closed")
	// ErrWrongPassword: the password verification value does not match.
	ErrWrongPassword = errors.New("zipaes: wrong password")
	// ErrAuthentication: the HMAC does not match: the data was altered or,
	// with a chance of 1 in 65536 that the verifier still matched, the
	// password is wrong.
	ErrAuthentication = errors.New("zipaes: authentication failed: data altered or wrong password")
	// ErrNotAES: an entry is stored in clear or with another encryption
	// (ZipCrypto included); Open refuses the whole archive.
	ErrNotAES = errors.New("zipaes: entry is not WinZip AES encrypted")
	// ErrFormat: the archive or one entry is malformed.
	ErrFormat = errors.New("zipaes: malformed archive")
	// ErrName: a file name is empty, not UTF-8, absolute or escapes the
	// extraction directory.
	ErrName = errors.New("zipaes: invalid file name")
)

const (
	flagEncrypted = 0x1
	flagUTF8      = 0x800 // APPNOTE 4.4.4 bit 11: name is UTF-8

	versionAES     = 51 // APPNOTE 4.4.3.2: 5.1, AES encryption
	versionDeflate = 20 // APPNOTE 4.4.3.2: 2.0, deflate and ZipCrypto
	creatorUnix    = 3  // "version made by" upper byte, APPNOTE 4.4.2.2

	extTimeID = 0x5455 // Info-ZIP extended timestamp
)

// Option configures a Writer.
type Option func(*config)

type config struct {
	legacy bool
	level  int
}

// WithLegacyZipCrypto makes the Writer use the traditional PKWARE
// encryption ("ZipCrypto", APPNOTE 6.1) instead of AES-256.
//
// ZipCrypto is WEAK: its keys can be recovered from about 12 bytes of known
// plaintext (Biham and Kocher, 1994), which a PDF header readily provides,
// and it authenticates nothing. Use it only for a recipient who cannot open
// AES archives and has accepted that risk; a caller must opt in explicitly.
func WithLegacyZipCrypto() Option {
	return func(c *config) { c.legacy = true }
}

// WithCompressionLevel sets the deflate level (compress/flate constants,
// flate.HuffmanOnly to flate.BestCompression); the default is
// flate.DefaultCompression.
func WithCompressionLevel(level int) Option {
	return func(c *config) { c.level = level }
}

// Writer writes an encrypted ZIP archive. Every entry is deflated and then
// encrypted under the Writer's password, with a fresh random salt (AES) or
// header (ZipCrypto) per entry. A Writer is not safe for concurrent use.
type Writer struct {
	zw       *zip.Writer
	password []byte
	cfg      config
	names    map[string]bool
	fw       *flate.Writer
	buf      bytes.Buffer
	err      error // sticky: the archive is unusable after a failed write
	closed   bool
}

// NewWriter starts an archive written to w. The password bytes are used
// as given; how strong it must be is the caller's rule, only an empty
// password is refused. Non-ASCII passwords should be UTF-8: 7-Zip 26 opens
// such archives (tested), but it refuses to create AES ZIPs with non-ASCII
// passwords itself and other tools may encode them differently, so
// generated passwords are best kept ASCII. The Writer keeps a copy of password and clears it
// on Close.
func NewWriter(w io.Writer, password []byte, opts ...Option) (*Writer, error) {
	if len(password) == 0 {
		return nil, ErrEmptyPassword
	}
	cfg := config{level: flate.DefaultCompression}
	for _, o := range opts {
		o(&cfg)
	}
	fw, err := flate.NewWriter(nil, cfg.level)
	if err != nil {
		return nil, fmt.Errorf("zipaes: %w", err)
	}
	return &Writer{
		zw:       zip.NewWriter(w),
		password: bytes.Clone(password),
		cfg:      cfg,
		names:    make(map[string]bool),
		fw:       fw,
	}, nil
}

// Add deflates data, encrypts it and writes it as the file name, with the
// modification time modified (the MS-DOS fields in modified's own time
// zone, plus Unix seconds in an extended timestamp; a zero time is written
// as 1980-01-01, the MS-DOS epoch). name is a slash-separated relative path
// in UTF-8; names that are absolute, contain "..", "." or empty elements,
// backslashes or control characters, or repeat an earlier name are
// refused. Entries are limited to 4 GiB (no ZIP64).
func (w *Writer) Add(name string, modified time.Time, data []byte) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := validName(name); err != nil {
		return err
	}
	if w.names[name] {
		return fmt.Errorf("%w: %q added twice", ErrName, name)
	}
	if uint64(len(data)) >= math.MaxUint32-64 {
		return fmt.Errorf("zipaes: %q: %d bytes is too large (no ZIP64 support)", name, len(data))
	}

	deflated, err := w.deflate(data)
	if err != nil {
		return err
	}
	fh := &zip.FileHeader{
		Name:               name,
		Flags:              flagEncrypted,
		UncompressedSize64: uint64(len(data)),
		Modified:           modified,
	}
	if !isASCII(name) {
		fh.Flags |= flagUTF8
	}
	fh.ModifiedDate, fh.ModifiedTime = msDosTime(modified)
	fh.SetMode(0o644) // Unix "made by" and rw-r--r--, so extractors make readable files

	var payload []byte
	if w.cfg.legacy {
		fh.Method = zip.Deflate
		fh.ReaderVersion = versionDeflate
		crc := crc32.ChecksumIEEE(data)
		fh.CRC32 = crc
		var header [zipCryptoHeaderLen]byte
		rand.Read(header[:]) // never fails (crypto/rand, Go >= 1.24)
		payload = sealZipCrypto(w.password, &header, crc, deflated)
	} else {
		fh.Method = methodAES
		fh.ReaderVersion = versionAES
		fh.CRC32 = 0 // AE-2: no CRC, the MAC authenticates the data
		fh.Extra = aesExtra(vendorAE2, strength256, zip.Deflate)
		salt := make([]byte, 16)
		rand.Read(salt)
		payload, err = sealAES(w.password, salt, deflated)
		if err != nil {
			return err
		}
	}
	fh.Extra = append(fh.Extra, extTimeExtra(modified)...)
	fh.CreatorVersion = creatorUnix<<8 | fh.ReaderVersion
	fh.CompressedSize64 = uint64(len(payload))
	if fh.CompressedSize64 >= math.MaxUint32 {
		return fmt.Errorf("zipaes: %q: compressed entry is too large (no ZIP64 support)", name)
	}

	// Flags bit 3 is clear, so CreateRaw writes CRC and sizes into the
	// local header and no data descriptor follows the data.
	out, err := w.zw.CreateRaw(fh)
	if err != nil {
		w.err = fmt.Errorf("zipaes: %q: %w", name, err)
		return w.err
	}
	if _, err := out.Write(payload); err != nil {
		w.err = fmt.Errorf("zipaes: %q: %w", name, err)
		return w.err
	}
	w.names[name] = true
	return nil
}

// Close writes the central directory and clears the Writer's copy of the
// password. It does not close the underlying io.Writer.
func (w *Writer) Close() error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	clear(w.password)
	if w.err != nil {
		return w.err
	}
	if err := w.zw.Close(); err != nil {
		return fmt.Errorf("zipaes: %w", err)
	}
	return nil
}

func (w *Writer) deflate(data []byte) ([]byte, error) {
	w.buf.Reset()
	w.fw.Reset(&w.buf)
	if _, err := w.fw.Write(data); err != nil {
		return nil, fmt.Errorf("zipaes: deflate: %w", err)
	}
	if err := w.fw.Close(); err != nil {
		return nil, fmt.Errorf("zipaes: deflate: %w", err)
	}
	return w.buf.Bytes(), nil
}

// aesExtra is the 11-byte AES extra field (header ID, size, 7 data bytes).
func aesExtra(vendor uint16, strength byte, method uint16) []byte {
	b := make([]byte, 0, 4+aesExtraDataLen)
	b = binary.LittleEndian.AppendUint16(b, aesExtraID)
	b = binary.LittleEndian.AppendUint16(b, aesExtraDataLen)
	b = binary.LittleEndian.AppendUint16(b, vendor)
	b = append(b, 'A', 'E', strength)
	return binary.LittleEndian.AppendUint16(b, method)
}

// extTimeExtra is the Info-ZIP extended timestamp with the modification
// time only (same in local and central header), or nothing when the time
// does not fit its unsigned 32-bit seconds.
func extTimeExtra(t time.Time) []byte {
	if t.IsZero() || t.Unix() < 0 || t.Unix() > math.MaxUint32 {
		return nil
	}
	b := make([]byte, 0, 9)
	b = binary.LittleEndian.AppendUint16(b, extTimeID)
	b = binary.LittleEndian.AppendUint16(b, 5)
	b = append(b, 1) // flags: modification time present
	return binary.LittleEndian.AppendUint32(b, uint32(t.Unix()))
}

// msDosTime encodes t in MS-DOS date and time fields (2-second resolution,
// years 1980 to 2107), clamping times outside that range.
func msDosTime(t time.Time) (date, tm uint16) {
	switch {
	case t.IsZero() || t.Year() < 1980:
		return 1<<5 | 1, 0 // 1980-01-01 00:00:00
	case t.Year() > 2107:
		return 127<<9 | 12<<5 | 31, 23<<11 | 59<<5 | 29
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, tm
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// validName accepts slash-separated relative paths of valid UTF-8 whose
// elements are neither empty, "." nor "..", without backslashes, control
// characters or a drive-letter prefix, so that an extractor cannot be made
// to write outside its target directory.
func validName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrName, name, why) }
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrName)
	case len(name) > math.MaxUint16:
		return bad("longer than 65535 bytes")
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	case strings.HasPrefix(name, "/"):
		return bad("absolute path")
	case len(name) >= 2 && name[1] == ':':
		return bad("drive letter")
	case strings.ContainsRune(name, '\\'):
		return bad("backslash")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return bad("control character")
		}
	}
	for elem := range strings.SplitSeq(name, "/") {
		switch elem {
		case "":
			return bad("empty path element or trailing slash")
		case ".", "..":
			return bad("relative path element " + elem)
		}
	}
	return nil
}
