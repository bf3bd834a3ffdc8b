package container

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// benchPlain is 64 MiB of incompressible plaintext for BenchmarkDecrypt.
var benchPlain = sync.OnceValue(func() []byte { return randomBytes(64<<20, 42) })

func BenchmarkDecrypt(b *testing.B) {
	var ct bytes.Buffer
	w, err := NewEncryptWriter(&ct, []byte("x"), KDFMD5, 0)
	if err != nil {
		b.Fatal(err)
	}
	w.Write(benchPlain())
	w.Close()
	data := ct.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := NewDecryptReader(bytes.NewReader(data), []byte("x"), KDFMD5, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncrypt(b *testing.B) {
	plain := benchPlain()
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewEncryptWriter(io.Discard, []byte("x"), KDFMD5, 0)
		if err != nil {
			b.Fatal(err)
		}
		w.Write(plain)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchArchive returns a HipChat-shaped .tar.gz.aes of about 64 MiB made
// with the real tar and openssl (md5 KDF, passphrase "x"): 160 rooms of
// JSON history (about 190 MiB of text, which gzip shrinks about 7-fold) and
// 40 MiB of incompressible attachments.
//
// If MIGRATE_BENCH_ARCHIVE names a file, that archive is used instead (it
// must be encrypted with passphrase "x"); if it names a path that does not
// exist yet, the generated archive is kept there, so that the same file can
// be timed with "openssl enc -d ... | tar xz".
func benchArchive(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("MIGRATE_BENCH_ARCHIVE"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		makeBenchArchive(b, p)
		return p
	}
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "container-bench-*")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
		makeBenchArchive(b, filepath.Join(dir, "hipchat.tar.gz.aes"))
	})
	return filepath.Join(benchDir, "hipchat.tar.gz.aes")
}

var (
	benchOnce sync.Once
	benchDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func makeBenchArchive(b *testing.B, out string) {
	need(b, "tar", "openssl")
	tree, err := os.MkdirTemp("", "container-bench-tree-*")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(tree)
	rng := rand.New(rand.NewPCG(7, 7))
	words := strings.Fields("the a deploy build is broken again can you look at it please thanks " +
		"meeting lunch release tomorrow merged PR review staging prod rollback coffee standup " +
		"customer ticket escalated fixed works for me which branch ok sounds good :) @here")
	for room := 1; room <= 160; room++ {
		var sb strings.Builder
		sb.WriteString("[")
		for i := 0; sb.Len() < 1200_000; i++ {
			if i > 0 {
				sb.WriteString(",\n")
			}
			msg := make([]string, 3+rng.IntN(20))
			for j := range msg {
				msg[j] = words[rng.IntN(len(words))]
			}
			fmt.Fprintf(&sb, `{"UserMessage": {"id": "%08x-%04x", "from": {"id": %d, "name": "User %d"}, "message": %q, "timestamp": "2018-08-08T14:%02d:%02dZ %06d"}}`,
				rng.Uint32(), rng.IntN(65536), rng.IntN(500), rng.IntN(500), strings.Join(msg, " "), rng.IntN(60), rng.IntN(60), rng.IntN(1000000))
		}
		sb.WriteString("]")
		p := filepath.Join(tree, "rooms", fmt.Sprint(room), "history.json")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 40 {
		p := filepath.Join(tree, "rooms", fmt.Sprint(1+i%160), "files", fmt.Sprintf("%04x", i), "upload.png")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, randomBytes(1<<20, uint64(i)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(tree, "users.json"), []byte(`[{"User": {"id": 1}}]`), 0o644)
	os.WriteFile(filepath.Join(tree, "rooms.json"), []byte(`[{"Room": {"id": 1}}]`), 0o644)
	tgz := out + ".tgz.tmp"
	shell(b, "tar czf "+tgz+" -C "+tree+" .")
	opensslEnc(b, false, []string{"-md", "md5"}, "x", tgz, out)
	os.Remove(tgz)
}

func BenchmarkUnwrapTarGzAes(b *testing.B) {
	archive := benchArchive(b)
	fi, err := os.Stat(archive)
	if err != nil {
		b.Fatal(err)
	}
	tmp := b.TempDir()
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		u, err := Unwrap(context.Background(), archive, Options{TempDir: tmp, Passphrase: fixedPass("x")})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		u.Close()
		b.StartTimer()
	}
}
