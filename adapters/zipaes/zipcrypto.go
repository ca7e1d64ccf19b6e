package zipaes

import "hash/crc32"

// Traditional PKWARE encryption ("ZipCrypto"), APPNOTE.TXT 6.3 section 6.1.
// It is weak and here only behind WithLegacyZipCrypto.

const zipCryptoHeaderLen = 12 // APPNOTE 6.1.3: the encryption header

var crcTable = crc32.MakeTable(crc32.IEEE)

// crc32Byte is APPNOTE's crc32(crc, b): one table step of the raw CRC,
// without the pre- and post-inversion that crc32.Update adds.
func crc32Byte(crc uint32, b byte) uint32 {
	return crcTable[byte(crc)^b] ^ crc>>8
}

// zipCryptoKeys is the three-key state of APPNOTE 6.1.5.
type zipCryptoKeys [3]uint32

func newZipCryptoKeys(password []byte) *zipCryptoKeys {
	k := &zipCryptoKeys{0x12345678, 0x23456789, 0x34567890}
	for _, c := range password {
		k.update(c)
	}
	return k
}

func (k *zipCryptoKeys) update(c byte) {
	k[0] = crc32Byte(k[0], c)
	k[1] = (k[1]+k[0]&0xff)*134775813 + 1
	k[2] = crc32Byte(k[2], byte(k[1]>>24))
}

// streamByte is APPNOTE's decrypt_byte().
func (k *zipCryptoKeys) streamByte() byte {
	t := uint16(k[2] | 2)
	return byte((uint32(t) * uint32(t^1)) >> 8)
}

// encrypt enciphers buf in place (APPNOTE 6.1.6, the encrypting side).
func (k *zipCryptoKeys) encrypt(buf []byte) {
	for i, p := range buf {
		buf[i] = p ^ k.streamByte()
		k.update(p)
	}
}

// sealZipCrypto returns the 12-byte encryption header followed by the
// enciphered data. header holds 11 random bytes on entry; its last byte
// becomes the check byte, the high byte of the entry's CRC-32 (APPNOTE
// 6.1.3, as no data descriptor is written).
func sealZipCrypto(password []byte, header *[zipCryptoHeaderLen]byte, crc uint32, data []byte) []byte {
	out := make([]byte, zipCryptoHeaderLen+len(data))
	copy(out, header[:])
	out[zipCryptoHeaderLen-1] = byte(crc >> 24)
	copy(out[zipCryptoHeaderLen:], data)
	newZipCryptoKeys(password).encrypt(out)
	return out
}
