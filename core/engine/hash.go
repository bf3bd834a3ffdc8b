package engine

import (
	"encoding/binary"
	"time"
)

// FNV-1a, inline, so that hashing a key made of several strings allocates
// nothing: the merge hashes every message.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// hashID hashes an id for the per-input sets.
func hashID(id string) uint64 { return fnvAdd(fnvOffset, id) }

// hashKey hashes a record's source key (see sourceKey) without building it.
func hashKey(ws, id string, extra map[string]string) uint64 {
	if k := extra[ExtraSourceKey]; k != "" {
		return fnvAdd(fnvOffset, k)
	}
	return fnvAdd(fnvAdd(fnvAdd(fnvOffset, ws), "/"), id)
}

// fingerprint hashes what makes two messages the same message when their
// ids say nothing: the instant, the room or conversation, the sender and
// the text.
func fingerprint(t time.Time, room, conv, sender, body string) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(t.UnixNano()))
	h := fnvOffset
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	for _, s := range [...]string{room, conv, sender, body} {
		h = fnvAdd(h, s)
		h = (h ^ 0xff) * fnvPrime // separator
	}
	return h
}
