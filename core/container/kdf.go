package container

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"fmt"
	"hash"
	"strings"
)

// KDF names how an openssl enc key was derived from the passphrase and salt.
type KDF string

const (
	// KDFMD5 is EVP_BytesToKey with MD5 and one round: the default of
	// OpenSSL before 1.1.0 and what HipChat exports use ("-md md5").
	KDFMD5 KDF = "md5"
	// KDFSHA256 is EVP_BytesToKey with SHA-256 and one round: the default of
	// "openssl enc" since OpenSSL 1.1.0 when -pbkdf2 is not given.
	KDFSHA256 KDF = "sha256"
	// KDFPBKDF2 is PBKDF2-HMAC-SHA256 ("openssl enc -pbkdf2 [-iter N]").
	KDFPBKDF2 KDF = "pbkdf2"
)

// DefaultPBKDF2Iter is the iteration count "openssl enc -pbkdf2" uses when
// -iter is not given.
const DefaultPBKDF2Iter = 10000

// ParseKDF turns a user's spelling of a KDF ("md5", "SHA256", "pbkdf2", or
// "" for auto-detect) into a KDF.
func ParseKDF(s string) (KDF, error) {
	switch k := KDF(strings.ToLower(strings.TrimSpace(s))); k {
	case "", KDFMD5, KDFSHA256, KDFPBKDF2:
		return k, nil
	case "sha-256":
		return KDFSHA256, nil
	}
	return "", fmt.Errorf("unknown key derivation %q (want md5, sha256 or pbkdf2)", s)
}

// label is how the KDF appears in Unwrapped.Layers.
func (k KDF) label(iter int) string {
	if k == KDFPBKDF2 {
		return fmt.Sprintf("openssl-enc(pbkdf2,iter=%d)", iter)
	}
	return fmt.Sprintf("openssl-enc(%s)", k)
}

// normalizeKDF applies the defaults and rejects combinations openssl would
// interpret differently from what the caller probably means: with openssl,
// "-md md5 -iter N" selects PBKDF2-HMAC-MD5, which no HipChat export uses, so
// an iteration count is only accepted together with pbkdf2.
func normalizeKDF(kdf KDF, iter int, dflt KDF) (KDF, int, error) {
	if iter < 0 {
		return "", 0, fmt.Errorf("iteration count %d is negative", iter)
	}
	if kdf == "" {
		kdf = dflt
	}
	switch kdf {
	case KDFMD5, KDFSHA256:
		if iter != 0 {
			return "", 0, fmt.Errorf("an iteration count only applies to the pbkdf2 key derivation, not %s", kdf)
		}
	case KDFPBKDF2:
		if iter == 0 {
			iter = DefaultPBKDF2Iter
		}
	default:
		return "", 0, fmt.Errorf("unknown key derivation %q (want md5, sha256 or pbkdf2)", string(kdf))
	}
	return kdf, iter, nil
}

// keyIVLen is what AES-256-CBC needs: a 32-byte key followed by a 16-byte IV.
// openssl derives both in one go from the passphrase and salt.
const keyIVLen = 32 + 16

// deriveKeyIV returns the 32-byte key and 16-byte IV for kdf. kdf and iter
// must have been through normalizeKDF.
func deriveKeyIV(pass, salt []byte, kdf KDF, iter int) (key, iv []byte, err error) {
	var out []byte
	switch kdf {
	case KDFMD5:
		out = evpBytesToKey(md5.New(), pass, salt, keyIVLen)
	case KDFSHA256:
		out = evpBytesToKey(sha256.New(), pass, salt, keyIVLen)
	case KDFPBKDF2:
		out, err = pbkdf2.Key(sha256.New, string(pass), salt, iter, keyIVLen)
		if err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("unknown key derivation %q", string(kdf))
	}
	return out[:32], out[32:], nil
}

// evpBytesToKey is OpenSSL's EVP_BytesToKey with a count of one, which is all
// "openssl enc" ever used: D1 = H(pass||salt), Di = H(Di-1||pass||salt), and
// the output is D1||D2||... cut to n bytes.
func evpBytesToKey(h hash.Hash, pass, salt []byte, n int) []byte {
	out := make([]byte, 0, n+h.Size())
	var prev []byte
	for len(out) < n {
		h.Reset()
		h.Write(prev)
		h.Write(pass)
		h.Write(salt)
		prev = h.Sum(nil)
		out = append(out, prev...)
	}
	return out[:n]
}
