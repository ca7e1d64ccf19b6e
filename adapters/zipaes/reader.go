package zipaes

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

// Open decrypts every file of a WinZip AES archive (AE-2 as this package
// writes it, or AE-1; AES-128, -192 or -256; stored or deflated) and
// returns the contents by name. It is meant for tests, audits and the
// command line, and holds the whole archive in memory.
//
// Each entry's password verification value is checked first (a mismatch
// gives ErrWrongPassword), then its HMAC-SHA1 authentication code over the
// ciphertext before anything is decrypted (ErrAuthentication), then the
// uncompressed size and, for AE-1, the CRC-32 (ErrFormat). An archive with
// any entry that is not AES encrypted, plaintext or ZipCrypto, is refused
// with ErrNotAES, so that an audit notices a downgraded archive. Directory
// entries without data are skipped. File names are checked as Writer.Add
// checks them (ErrName).
func Open(zipBytes []byte, password []byte) (map[string][]byte, error) {
	if len(password) == 0 {
		return nil, ErrEmptyPassword
	}
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	files := make(map[string][]byte, min(len(zr.File), 1024))
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") && f.CompressedSize64 == 0 && f.UncompressedSize64 == 0 {
			if err := validName(strings.TrimSuffix(f.Name, "/")); err != nil {
				return nil, err
			}
			continue
		}
		if err := validName(f.Name); err != nil {
			return nil, err
		}
		if _, dup := files[f.Name]; dup {
			return nil, fmt.Errorf("%w: %q appears twice", ErrFormat, f.Name)
		}
		data, err := openEntry(f, int64(len(zipBytes)), password)
		if err != nil {
			return nil, fmt.Errorf("zipaes: %q: %w", f.Name, err)
		}
		files[f.Name] = data
	}
	return files, nil
}

// aesField is the parsed 0x9901 extra field.
type aesField struct {
	vendor   uint16
	strength byte
	method   uint16
}

// findAESField walks the extra fields (APPNOTE 4.5.1: ID, size, data).
func findAESField(extra []byte) (aesField, bool, error) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return aesField{}, false, fmt.Errorf("%w: extra field 0x%04x overruns", ErrFormat, id)
		}
		if id == aesExtraID {
			if size != aesExtraDataLen {
				return aesField{}, false, fmt.Errorf("%w: AES extra field of %d bytes, want %d", ErrFormat, size, aesExtraDataLen)
			}
			d := extra[:size]
			if d[2] != 'A' || d[3] != 'E' {
				return aesField{}, false, fmt.Errorf("%w: AES extra field vendor %q, want \"AE\"", ErrFormat, d[2:4])
			}
			return aesField{
				vendor:   binary.LittleEndian.Uint16(d),
				strength: d[4],
				method:   binary.LittleEndian.Uint16(d[5:]),
			}, true, nil
		}
		extra = extra[size:]
	}
	return aesField{}, false, nil
}

func openEntry(f *zip.File, archiveLen int64, password []byte) ([]byte, error) {
	if f.Flags&flagEncrypted == 0 || f.Method != methodAES {
		return nil, fmt.Errorf("%w (method %d, flags 0x%04x)", ErrNotAES, f.Method, f.Flags)
	}
	af, ok, err := findAESField(f.Extra)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: method 99 without AES extra field", ErrFormat)
	}
	if af.vendor != vendorAE1 && af.vendor != vendorAE2 {
		return nil, fmt.Errorf("%w: AES vendor version %d", ErrFormat, af.vendor)
	}
	keyLen, saltLen, ok := strengthSizes(af.strength)
	if !ok {
		return nil, fmt.Errorf("%w: AES strength %d", ErrFormat, af.strength)
	}
	if af.method != zip.Store && af.method != zip.Deflate {
		return nil, fmt.Errorf("%w: compression method %d not supported", ErrFormat, af.method)
	}
	overhead := uint64(saltLen + pvLen + macLen)
	if f.CompressedSize64 < overhead || f.CompressedSize64 > uint64(archiveLen) {
		return nil, fmt.Errorf("%w: stored size %d", ErrFormat, f.CompressedSize64)
	}
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	stored := make([]byte, f.CompressedSize64)
	if _, err := io.ReadFull(raw, stored); err != nil {
		return nil, fmt.Errorf("%w: truncated entry: %w", ErrFormat, err)
	}

	salt := stored[:saltLen]
	pv := stored[saltLen : saltLen+pvLen]
	ct := stored[saltLen+pvLen : len(stored)-macLen]
	tag := stored[len(stored)-macLen:]

	k, err := deriveKeys(password, salt, keyLen)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(pv, k.pv) != 1 {
		return nil, ErrWrongPassword
	}
	m := hmac.New(sha1.New, k.mac)
	m.Write(ct)
	if !hmac.Equal(m.Sum(nil)[:macLen], tag) {
		return nil, ErrAuthentication
	}
	block, err := aes.NewCipher(k.enc)
	if err != nil {
		return nil, err
	}
	plain := ct // decrypt in place: stored is ours
	newCTRLE(block).XORKeyStream(plain, ct)

	var data []byte
	switch af.method {
	case zip.Store:
		data = plain
	case zip.Deflate:
		// Read at most one byte more than declared, so a lying header
		// cannot make us inflate without bound.
		fr := flate.NewReader(bytes.NewReader(plain))
		var buf bytes.Buffer
		_, err := buf.ReadFrom(io.LimitReader(fr, int64(min(f.UncompressedSize64, 1<<62))+1))
		if err != nil {
			return nil, fmt.Errorf("%w: inflate: %w", ErrFormat, err)
		}
		data = buf.Bytes()
	}
	if uint64(len(data)) != f.UncompressedSize64 {
		return nil, fmt.Errorf("%w: %d bytes, header says %d", ErrFormat, len(data), f.UncompressedSize64)
	}
	if af.vendor == vendorAE1 && crc32.ChecksumIEEE(data) != f.CRC32 {
		return nil, fmt.Errorf("%w: CRC-32 mismatch", ErrFormat)
	}
	return data, nil
}
