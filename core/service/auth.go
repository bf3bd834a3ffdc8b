package service

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Tokens maps API tokens to their owners. The file holds one line per
// token, "OWNER SHA256-OF-TOKEN" in hex; blank lines and lines starting
// with # are ignored. Only hashes are kept, so a copy of the file lets no
// one in. The file is read again when it changes, so tokens can be added
// and revoked without a restart.
type Tokens struct {
	path string

	mu     sync.Mutex
	mtime  time.Time
	size   int64
	owners map[[32]byte]string
}

var ownerRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$`)

// LoadTokens reads a token file.
func LoadTokens(path string) (*Tokens, error) {
	t := &Tokens{path: path}
	if err := t.reload(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Tokens) reload() error {
	fi, err := os.Stat(t.path)
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	if fi.ModTime().Equal(t.mtime) && fi.Size() == t.size && t.owners != nil {
		return nil
	}
	f, err := os.Open(t.path)
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	owners := map[[32]byte]string{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		fields := strings.Fields(s)
		if len(fields) != 2 || !ownerRE.MatchString(fields[0]) {
			return fmt.Errorf("%s:%d: want \"OWNER SHA256-HEX\" (make lines with 'migrate serve --new-token OWNER')", t.path, line)
		}
		h, err := hex.DecodeString(strings.TrimPrefix(fields[1], "sha256:"))
		if err != nil || len(h) != 32 {
			return fmt.Errorf("%s:%d: the second field must be the token's SHA-256 in hex, not the token itself", t.path, line)
		}
		owners[[32]byte(h)] = fields[0]
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", t.path, err)
	}
	t.owners, t.mtime, t.size = owners, fi.ModTime(), fi.Size()
	return nil
}

// Owner returns the owner of token, or "" when it is not known.
func (t *Tokens) Owner(token string) string {
	if token == "" {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	// A file that fails to parse after an edit keeps the tokens it had.
	_ = t.reload()
	// Looking up the hash in a map takes the same time whatever prefix of
	// a valid token was guessed.
	return t.owners[sha256.Sum256([]byte(token))]
}

// NewToken makes a random API token.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "mgt_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// HashLine is the token file line for token.
func HashLine(owner, token string) string {
	h := sha256.Sum256([]byte(token))
	return owner + " " + hex.EncodeToString(h[:])
}

// AddToken makes a token for owner, appends its hash to the token file
// (creating it, mode 0600) and returns the token, which is shown once.
func AddToken(path, owner string) (string, error) {
	if !ownerRE.MatchString(owner) {
		return "", errors.New("an owner is letters, digits and . _ @ + - (at most 128), such as support or alice@example.com")
	}
	tok := NewToken()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return "", err
	}
	_, err = fmt.Fprintln(f, HashLine(owner, tok))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return tok, err
}
