package jobs

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ServerKeyEnv names the environment variable that may hold the server key
// (32 bytes, base64 or hex). Machines that share a queue must share the
// key, through this variable or a shared data directory.
const ServerKeyEnv = "MIGRATE_SERVER_KEY"

// keyFile is the server key's file in the data directory.
const keyFile = "server.key"

// sealer encrypts job secrets at rest with AES-256-GCM.
type sealer struct {
	aead cipher.AEAD
	// linkKey signs download links; it is derived from the server key so
	// that every machine sharing the key accepts the same links.
	linkKey []byte
}

// loadKey reads the server key from env, or from the data directory,
// making one there on first use.
func loadKey(dataDir, env string) (*sealer, error) {
	var key []byte
	if env != "" {
		k, err := decodeKey(env)
		if err != nil {
			return nil, fmt.Errorf("$%s: %w", ServerKeyEnv, err)
		}
		key = k
	} else {
		path := filepath.Join(dataDir, keyFile)
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			k, err := decodeKey(string(b))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			key = k
		case errors.Is(err, os.ErrNotExist):
			key = make([]byte, 32)
			_, _ = rand.Read(key)
			// O_EXCL: when two processes start at once, one key wins and
			// the other reads it.
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, os.ErrExist) {
				return loadKey(dataDir, env)
			}
			if err != nil {
				return nil, fmt.Errorf("making the server key: %w", err)
			}
			_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				return nil, fmt.Errorf("writing the server key %s: %w", path, werr)
			}
		default:
			return nil, fmt.Errorf("reading the server key: %w", err)
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("migrate download links"))
	return &sealer{aead: aead, linkKey: m.Sum(nil)}, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	if k, err := hex.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	return nil, errors.New("the server key must be 32 bytes written in base64 or hex (make one with: openssl rand -base64 32)")
}

// seal encrypts secrets, bound to the job ID so that a sealed value cannot
// be moved to another job's row.
func (s *sealer) seal(jobID string, sec *Secrets) (string, error) {
	if sec.empty() {
		return "", nil
	}
	plain, err := json.Marshal(sec)
	if err != nil {
		return "", err
	}
	defer clear(plain)
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := s.aead.Seal(nonce, nonce, plain, []byte(jobID))
	return base64.StdEncoding.EncodeToString(out), nil
}

func (s *sealer) open(jobID, sealed string) (*Secrets, error) {
	if sealed == "" {
		return &Secrets{}, nil
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, errors.New("the job's sealed passphrase is damaged")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(jobID))
	if err != nil {
		return nil, errors.New("the job's passphrase cannot be unsealed: this machine's server key differs from the one that queued the job (share it with $" + ServerKeyEnv + " or a shared data directory)")
	}
	defer clear(plain)
	var sec Secrets
	if err := json.Unmarshal(plain, &sec); err != nil {
		return nil, err
	}
	return &sec, nil
}

// SignLink signs a download link's fields; VerifyLink checks a signature.
// A link lets whoever holds it fetch one file of one job until it expires,
// so that a browser can stream a large output to disk without the API
// token appearing in a URL.
func (q *Queue) SignLink(fields ...string) string {
	m := hmac.New(sha256.New, q.seal.linkKey)
	for _, f := range fields {
		m.Write([]byte(f))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// VerifyLink reports whether sig signs fields.
func (q *Queue) VerifyLink(sig string, fields ...string) bool {
	return hmac.Equal([]byte(sig), []byte(q.SignLink(fields...)))
}
