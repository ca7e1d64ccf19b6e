package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Hash is a SHA-256 digest.
type Hash [32]byte

// IsZero reports whether h is the zero hash (no previous event).
func (h Hash) IsZero() bool { return h == Hash{} }

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ChainHash computes an event's hash: SHA-256 over the previous event's hash
// followed by the canonical encoding of the event's identity and content.
// Each variable-length field is length-prefixed (uint32, big endian) so that
// no two different events encode alike. The global position is left out on
// purpose: it is assigned by the engine and differs between stores, while
// the chain must verify the same on every store.
func ChainHash(prev Hash, stream StreamID, revision uint64, typ string, version int, timeUnixNano int64, requestID string, data []byte) Hash {
	h := sha256.New()
	var b [8]byte
	h.Write(prev[:])
	field := func(p []byte) {
		binary.BigEndian.PutUint32(b[:4], uint32(len(p)))
		h.Write(b[:4])
		h.Write(p)
	}
	field([]byte(stream))
	binary.BigEndian.PutUint64(b[:], revision)
	h.Write(b[:])
	field([]byte(typ))
	binary.BigEndian.PutUint64(b[:], uint64(version))
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(timeUnixNano))
	h.Write(b[:])
	field([]byte(requestID))
	field(data)
	var out Hash
	h.Sum(out[:0])
	return out
}

// VerifyChain checks that events (one stream, in revision order from 0 or
// from a known previous hash) are chained; it returns the index of the first
// event that does not verify, or -1.
func VerifyChain(prev Hash, events []RecordedEvent) int {
	for i, e := range events {
		if e.PrevHash != prev || ChainHash(prev, e.Stream, e.Revision, e.Type, e.Version, e.Time.UnixNano(), e.RequestID, e.Data) != e.Hash {
			return i
		}
		prev = e.Hash
	}
	return -1
}
