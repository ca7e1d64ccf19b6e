// Package zipaes writes password-protected ZIP archives in the WinZip AES
// format (AE-2, AES-256) on top of the standard library, and reads them back
// for tests, audits and the command line.
//
// # Why AE-2 with AES-256
//
// The payout notices hold merchants' figures. The traditional PKWARE
// ("ZipCrypto") scheme is broken (known-plaintext attacks recover the keys
// from a dozen bytes) and does not authenticate anything. WinZip AES
// encrypts with AES in counter mode under a key stretched from the password
// with PBKDF2, and appends an HMAC-SHA1 tag over the ciphertext, so a wrong
// password or a tampered archive is detected before any byte is used.
//
// Of the two vendor versions, AE-1 stores the CRC-32 of the plaintext in the
// clear; AE-2 stores 0 there. A plaintext CRC lets an attacker confirm a
// guessed document offline without running PBKDF2 (and leaks a checksum of
// short files), and it is redundant with the authentication code. This
// package therefore always writes AE-2; the reader accepts AE-1 too and then
// checks the CRC.
//
// ZipCrypto is still available behind [WithLegacyZipCrypto] for recipients
// whose tools cannot open AES archives; it must be asked for explicitly.
//
// # Format (WinZip "AES Encryption Information: Encryption Specification AE-1
// and AE-2", document version 1.04, and PKWARE APPNOTE.TXT 6.3)
//
// Local file header and central directory header of an AES entry
// (APPNOTE 4.3.7 and 4.3.12; all integers little-endian):
//
//	version needed to extract  51 (5.1, "AES encryption", APPNOTE 4.4.3.2;
//	                           WinZip leaves it unchanged, 7-Zip writes 51)
//	general purpose flags      bit 0 set (encrypted), bit 11 set when the
//	                           name is non-ASCII UTF-8 (APPNOTE 4.4.4);
//	                           bit 3 clear: no data descriptor, the sizes
//	                           are in the headers
//	compression method         99 (AES, WinZip spec "Compression method")
//	CRC-32                     0 for AE-2
//	compressed size            salt + 2 + encrypted data + 10
//	uncompressed size          size of the original file
//
// AES extra field (WinZip spec "AES Extra Data Field", present in both the
// local and the central header):
//
//	offset size  content
//	0      2     header ID 0x9901
//	2      2     data size 7
//	4      2     vendor version: 0x0001 AE-1, 0x0002 AE-2
//	6      2     vendor ID, the ASCII characters "AE"
//	8      1     strength: 0x01 AES-128, 0x02 AES-192, 0x03 AES-256
//	9      2     actual compression method (8, deflate)
//
// An extended timestamp field 0x5455 (Info-ZIP, APPNOTE 4.6.1 "third party
// mappings") with the modification time in Unix seconds follows it.
//
// File data (WinZip spec "Encrypted file storage format"):
//
//	size      content
//	8/12/16   salt (random; 16 bytes for AES-256)
//	2         password verification value
//	variable  encrypted data (same length as the deflated data)
//	10        authentication code
//
// Keys (WinZip spec "Key Generation"): PBKDF2 (RFC 2898) with HMAC-SHA1,
// 1000 iterations, over the password and salt, gives 2*keylen+2 bytes: the
// AES key, then the HMAC key (same length), then the 2-byte password
// verification value.
//
// Encryption: AES in CTR mode as in Brian Gladman's fileenc.c, which WinZip
// uses: a 16-byte counter stored LITTLE-endian, starting at 1 for the first
// block and incremented before each block. This differs from NIST CTR as
// crypto/cipher implements it (big-endian), so the keystream is made here
// directly from AES block encryptions.
//
// Authentication code: the first 10 bytes of HMAC-SHA1, keyed with the
// derived HMAC key, over the encrypted data only (not salt or verifier).
//
// Data is deflated (compress/flate) before it is encrypted. Archives are
// written with [archive/zip.Writer.CreateRaw], which puts the sizes and CRC
// given to it in the local header and writes no data descriptor unless flag
// bit 3 is set; ZIP64 is not supported, so one entry is below 4 GiB.
package zipaes
