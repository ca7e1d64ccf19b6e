package zipaes

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/subtle"
	"fmt"
)

// WinZip AES constants (WinZip AE-1/AE-2 specification).
const (
	methodAES       = 99     // compression method that marks a WinZip AES entry
	aesExtraID      = 0x9901 // AES extra field header ID
	aesExtraDataLen = 7      // its data size
	vendorAE1       = 0x0001
	vendorAE2       = 0x0002
	strength256     = 0x03
	pbkdf2Iter      = 1000 // fixed by the spec
	pvLen           = 2    // password verification value
	macLen          = 10   // HMAC-SHA1 truncated to 80 bits
)

// strengthSizes maps the AES strength byte to key and salt lengths.
func strengthSizes(strength byte) (keyLen, saltLen int, ok bool) {
	switch strength {
	case 0x01:
		return 16, 8, true
	case 0x02:
		return 24, 12, true
	case 0x03:
		return 32, 16, true
	}
	return 0, 0, false
}

// aesKeys is what PBKDF2 derives for one entry.
type aesKeys struct {
	enc []byte // AES key
	mac []byte // HMAC-SHA1 key, same length
	pv  []byte // 2-byte password verification value
}

// deriveKeys runs PBKDF2-HMAC-SHA1 with 1000 iterations and splits its
// 2*keyLen+2 bytes into AES key, HMAC key and verifier, in that order.
func deriveKeys(password, salt []byte, keyLen int) (aesKeys, error) {
	dk, err := pbkdf2.Key(sha1.New, string(password), salt, pbkdf2Iter, 2*keyLen+pvLen)
	if err != nil {
		return aesKeys{}, fmt.Errorf("zipaes: key derivation: %w", err)
	}
	return aesKeys{enc: dk[:keyLen], mac: dk[keyLen : 2*keyLen], pv: dk[2*keyLen:]}, nil
}

// ctrLE is AES in counter mode with the counter as a 16-byte little-endian
// integer that starts at 0 and is incremented before each block, so the
// first keystream block is AES(1). This is the mode of Gladman's fileenc.c
// that WinZip AES uses; crypto/cipher.NewCTR counts big-endian and cannot
// be used.
type ctrLE struct {
	block cipher.Block
	ctr   [aes.BlockSize]byte
	ks    [aes.BlockSize]byte
	used  int // bytes of ks already consumed
}

var _ cipher.Stream = (*ctrLE)(nil)

func newCTRLE(block cipher.Block) *ctrLE {
	return &ctrLE{block: block, used: aes.BlockSize}
}

// incLE adds 1 to a little-endian counter, carrying across all 16 bytes.
func incLE(c *[aes.BlockSize]byte) {
	for i := range c {
		c[i]++
		if c[i] != 0 {
			return
		}
	}
}

// XORKeyStream implements cipher.Stream. dst and src may overlap entirely.
func (s *ctrLE) XORKeyStream(dst, src []byte) {
	if len(dst) < len(src) {
		panic("zipaes: output smaller than input")
	}
	for len(src) > 0 {
		if s.used == aes.BlockSize {
			incLE(&s.ctr)
			s.block.Encrypt(s.ks[:], s.ctr[:])
			s.used = 0
		}
		n := subtle.XORBytes(dst, src, s.ks[s.used:])
		s.used += n
		dst, src = dst[n:], src[n:]
	}
}

// sealAES returns the stored form of one AE-x entry: salt, password
// verification value, plaintext encrypted in place of a copy, and the
// 10-byte authentication code. plain is the already compressed data.
func sealAES(password, salt, plain []byte) ([]byte, error) {
	var keyLen int
	switch len(salt) {
	case 8, 12, 16: // AES-128, -192, -256: the salt is half the key
		keyLen = 2 * len(salt)
	default:
		return nil, fmt.Errorf("zipaes: salt of %d bytes", len(salt))
	}
	k, err := deriveKeys(password, salt, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k.enc)
	if err != nil {
		return nil, err
	}
	head := len(salt) + pvLen
	out := make([]byte, head+len(plain), head+len(plain)+macLen)
	copy(out, salt)
	copy(out[len(salt):], k.pv)
	ct := out[head:]
	newCTRLE(block).XORKeyStream(ct, plain)
	m := hmac.New(sha1.New, k.mac)
	m.Write(ct)
	return append(out, m.Sum(nil)[:macLen]...), nil
}
