package zipaes

import (
	"bytes"
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"testing"
)

// Known answers for the primitives. The expected values come from tools
// outside Go (OpenSSL 3.0) or from published vectors, and the reference
// implementations below are written independently of the package code
// (math/big counter, textbook PBKDF2 loop), so a shared mistake is unlikely.

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refPBKDF2SHA1 is RFC 2898 section 5.2 written out: T_i = U_1 ^ ... ^ U_c,
// U_1 = PRF(P, S || INT(i)), U_j = PRF(P, U_{j-1}).
func refPBKDF2SHA1(password, salt []byte, iter, keyLen int) []byte {
	var out []byte
	for i := uint32(1); len(out) < keyLen; i++ {
		prf := hmac.New(sha1.New, password)
		prf.Write(salt)
		prf.Write(binary.BigEndian.AppendUint32(nil, i))
		u := prf.Sum(nil)
		t := bytes.Clone(u)
		for j := 1; j < iter; j++ {
			prf = hmac.New(sha1.New, password)
			prf.Write(u)
			u = prf.Sum(nil)
			for k := range t {
				t[k] ^= u[k]
			}
		}
		out = append(out, t...)
	}
	return out[:keyLen]
}

// refKeystream computes n bytes of the WinZip keystream block by block:
// block j (from 0) is AES_k(LE128(j+1)), the counter built with math/big.
func refKeystream(t testing.TB, key []byte, n int) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for j := int64(1); len(out) < n; j++ {
		be := new(big.Int).SetInt64(j).FillBytes(make([]byte, 16))
		le := make([]byte, 16)
		for i := range be {
			le[i] = be[15-i]
		}
		ks := make([]byte, 16)
		block.Encrypt(ks, le)
		out = append(out, ks...)
	}
	return out[:n]
}

// RFC 6070 vectors validate the reference PBKDF2 first.
func TestRefPBKDF2AgainstRFC6070(t *testing.T) {
	cases := []struct {
		p, s   string
		c, len int
		want   string
	}{
		{"password", "salt", 1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"},
		{"password", "salt", 2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
		{"password", "salt", 4096, 20, "4b007901b765489abead49d926f721d065a429c1"},
		{"passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25,
			"3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"},
	}
	for _, c := range cases {
		got := refPBKDF2SHA1([]byte(c.p), []byte(c.s), c.c, c.len)
		if hex.EncodeToString(got) != c.want {
			t.Errorf("PBKDF2(%q, %q, %d) = %x, want %s", c.p, c.s, c.c, got, c.want)
		}
	}
}

// The WinZip derivation: 1000 iterations, 66 bytes for AES-256, split
// 32/32/2. Expected bytes from
//
//	openssl kdf -keylen 66 -kdfopt digest:SHA1 -kdfopt pass:payout-notice-pw \
//	  -kdfopt hexsalt:000102030405060708090a0b0c0d0e0f -kdfopt iter:1000 PBKDF2
func TestDeriveKeysKnownAnswer(t *testing.T) {
	password := []byte("payout-notice-pw")
	salt := mustHex(t, "000102030405060708090a0b0c0d0e0f")
	want := mustHex(t, "7955e134a3671b4a69d545312a39a1adaf0f8ed1210b1382b5db86ce2276c18e"+
		"d4cdaacc67137be08a3f69bc92ad88f57d061ed5e7645d2f06b8b0877b46d3a4"+"8210")
	if ref := refPBKDF2SHA1(password, salt, 1000, 66); !bytes.Equal(ref, want) {
		t.Fatalf("reference PBKDF2 disagrees with OpenSSL: %x", ref)
	}
	k, err := deriveKeys(password, salt, 32)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.enc, want[:32]) {
		t.Errorf("AES key = %x, want %x", k.enc, want[:32])
	}
	if !bytes.Equal(k.mac, want[32:64]) {
		t.Errorf("HMAC key = %x, want %x", k.mac, want[32:64])
	}
	if !bytes.Equal(k.pv, want[64:]) {
		t.Errorf("verifier = %x, want %x", k.pv, want[64:])
	}
	// AES-128 and -192 (read side): 34 and 50 bytes, same layout.
	for _, keyLen := range []int{16, 24} {
		k, err := deriveKeys(password, salt[:keyLen/2], keyLen)
		if err != nil {
			t.Fatal(err)
		}
		ref := refPBKDF2SHA1(password, salt[:keyLen/2], 1000, 2*keyLen+2)
		got := append(append(bytes.Clone(k.enc), k.mac...), k.pv...)
		if !bytes.Equal(got, ref) || len(k.enc) != keyLen || len(k.pv) != 2 {
			t.Errorf("keyLen %d: derived %x, want %x", keyLen, got, ref)
		}
	}
}

// Keystream blocks for key 00 01 .. 1f and little-endian counters 1, 2,
// 256 (bytes 00 01 00 ..) and 257, from
//
//	printf <counter block> | openssl enc -aes-256-ecb -K 0001..1f -nopad
//
// (the same command gives the FIPS-197 C.3 answer 8ea2b7ca...4b496089 for
// plaintext 00112233..ff, which the test checks as well).
func TestCTRLittleEndianKnownAnswer(t *testing.T) {
	key := mustHex(t, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	fips := make([]byte, 16)
	block.Encrypt(fips, mustHex(t, "00112233445566778899aabbccddeeff"))
	if hex.EncodeToString(fips) != "8ea2b7ca516745bfeafc49904b496089" {
		t.Fatalf("AES-256 FIPS-197 C.3: %x", fips)
	}

	ks := make([]byte, 257*16)
	newCTRLE(block).XORKeyStream(ks, ks) // keystream XOR zeros, in place
	for _, c := range []struct {
		block int // 0-based; its counter is block+1
		want  string
	}{
		{0, "c7b519846a11411cd6ac07cb03f801a8"},   // counter 1
		{1, "4ef4b88bebd54953c37ffaf66efaca7b"},   // counter 2
		{255, "05d9592cefc7834bf69776614868a151"}, // counter 256: carry into byte 1
		{256, "7ab7df3fef9b90c7503292e0204741a7"}, // counter 257
	} {
		got := hex.EncodeToString(ks[c.block*16 : c.block*16+16])
		if got != c.want {
			t.Errorf("keystream block %d (counter %d) = %s, want %s", c.block, c.block+1, got, c.want)
		}
	}
	if ref := refKeystream(t, key, len(ks)); !bytes.Equal(ks, ref) {
		t.Error("keystream differs from the math/big reference")
	}
}

// Calls with odd lengths must continue the keystream where the last call
// stopped, mid-block included.
func TestCTRChunkedCallsContinueKeystream(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 32)
	block, _ := aes.NewCipher(key)
	want := refKeystream(t, key, 1000)
	got := make([]byte, 0, 1000)
	s := newCTRLE(block)
	for _, n := range []int{1, 15, 17, 0, 16, 31, 33, 3, 884} {
		chunk := make([]byte, n)
		s.XORKeyStream(chunk, chunk)
		got = append(got, chunk...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("chunked keystream differs from one-shot reference")
	}
}

func TestIncLECarries(t *testing.T) {
	cases := []struct{ in, want string }{
		{"00000000000000000000000000000000", "01000000000000000000000000000000"},
		{"ff000000000000000000000000000000", "00010000000000000000000000000000"},
		{"ffffffffffffffff0000000000000000", "00000000000000000100000000000000"},
		{"ffffffffffffffffffffffffffffffff", "00000000000000000000000000000000"},
	}
	for _, c := range cases {
		var ctr [16]byte
		copy(ctr[:], mustHex(t, c.in))
		incLE(&ctr)
		if got := hex.EncodeToString(ctr[:]); got != c.want {
			t.Errorf("incLE(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// A whole AES-256 entry body with a fixed salt: salt, verifier, ciphertext
// and MAC computed outside Go with OpenSSL (kdf as above, aes-256-ecb over
// counter blocks 1..3, dgst -sha1 -mac HMAC over the ciphertext).
func TestSealAESKnownAnswer(t *testing.T) {
	salt := mustHex(t, "000102030405060708090a0b0c0d0e0f")
	plain := []byte("payout notice for merchant m001, 2024-03\n")
	want := mustHex(t, "000102030405060708090a0b0c0d0e0f"+ // salt
		"8210"+ // password verification value
		"ad56fccf83dbe5587cc0b7ffe8d39da60a935a214e67af361b37f9394a3e99bac29a9fa6c9ec85b750"+ // AES-CTR-LE
		"797253ecbe25be3c5d46") // HMAC-SHA1, first 10 of 20 bytes
	got, err := sealAES([]byte("payout-notice-pw"), salt, plain)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("sealAES =\n %x\nwant\n %x", got, want)
	}
	if string(plain) != "payout notice for merchant m001, 2024-03\n" {
		t.Fatal("sealAES modified its input")
	}
}

func TestSealAESRejectsOddSalt(t *testing.T) {
	if _, err := sealAES([]byte("pw"), make([]byte, 10), nil); err == nil {
		t.Fatal("a 10-byte salt was accepted")
	}
}
