package container

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds are valid and broken inputs of every format Unwrap knows, so
// the fuzzer starts from inside each decoder rather than at random bytes.
func fuzzSeeds(t testing.TB) [][]byte {
	tr := makeTar(t,
		tarEntry{name: "./", typ: tar.TypeDir},
		tarEntry{name: "users.json", body: []byte(`[{"User": {"id": 1}}]`)},
		tarEntry{name: "rooms/1/history.json", body: []byte(`[]`)},
		tarEntry{name: "rooms/2/history.json", typ: tar.TypeLink, link: "rooms/1/history.json"},
	)
	tgz := gzipBytes(t, tr)
	zp := makeZip(t, zipEntry{name: "a/b.json", mode: 0o644, body: []byte("{}")}, zipEntry{name: "a/", mode: os.ModeDir | 0o755})
	return [][]byte{
		nil,
		[]byte(`{"a": 1}`),
		[]byte("[1,2,3]\n"),
		tr,
		tgz,
		encryptBytes(t, tgz, "pw"),
		encryptBytes(t, []byte(`{"x": 1}`), "pw"),
		encryptBytes(t, zp, "pw"),
		zp,
		gzipBytes(t, []byte(`{"single": true}`)),
		makeTar(t, tarEntry{name: "../x", body: []byte("x")}),
		makeTar(t, tarEntry{name: "l", typ: tar.TypeSymlink, link: "/etc"}),
		tgz[:len(tgz)/2],
		[]byte("Salted__12345678"),
		[]byte("U2FsdGVkX1" + "8xMjM0NTY3OA=="),
		{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0},
	}
}

// FuzzUnwrap feeds arbitrary bytes to Unwrap as an input file. It must never
// panic, and whatever happens it must leave nothing in TempDir once the
// result is closed.
func FuzzUnwrap(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	// One directory per fuzzing process, reused by every run: creating
	// and removing one per input would dominate the cost of a run.
	dir := f.TempDir()
	in := filepath.Join(dir, "input.bin")
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(in, data, 0o600); err != nil {
			t.Fatal(err)
		}
		opt := Options{
			TempDir:    tmp,
			Passphrase: fixedPass("pw"),
			Iter:       1, // keep the pbkdf2 candidate cheap
			Limits:     Limits{MaxTotalBytes: 16 << 20, MaxFiles: 1000, MaxFileBytes: 8 << 20},
		}
		u, err := Unwrap(context.Background(), in, opt)
		if err == nil {
			if _, serr := os.Stat(u.Dir); serr != nil {
				t.Fatalf("Unwrap succeeded but Dir is missing: %v", serr)
			}
			if u.Entry != "" {
				if _, serr := os.Stat(filepath.Join(u.Dir, u.Entry)); serr != nil {
					t.Fatalf("Unwrap succeeded but Entry is missing: %v", serr)
				}
			}
			if cerr := u.Close(); cerr != nil {
				t.Fatal(cerr)
			}
		}
		assertEmptyDir(t, tmp)
	})
}

// FuzzDecrypt feeds arbitrary bytes to the decrypting reader with each KDF
// (it must not panic), and checks that anything encrypted decrypts back to
// itself.
func FuzzDecrypt(f *testing.F) {
	f.Add([]byte("Salted__12345678"), uint8(0))
	f.Add(encryptBytes(f, []byte("hello"), "pw"), uint8(0))
	f.Add(encryptBytes(f, bytes.Repeat([]byte{7}, 5000), "pw"), uint8(3))
	f.Add([]byte{}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		kdfs := []KDF{KDFMD5, KDFSHA256, KDFPBKDF2, ""}
		kdf := kdfs[int(sel)%len(kdfs)]
		iter := 0
		if kdf == KDFPBKDF2 || kdf == "" {
			iter = 3
		}
		if r, err := NewDecryptReader(bytes.NewReader(data), []byte("pw"), kdf, iter); err == nil {
			io.Copy(io.Discard, r)
		}

		if kdf == "" {
			return
		}
		var ct bytes.Buffer
		w, err := NewEncryptWriter(&ct, data, kdf, iter) // the data doubles as a passphrase
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if ct.Len()%blockSize != 0 || ct.Len() < headerLen+blockSize {
			t.Fatalf("ciphertext length %d", ct.Len())
		}
		r, err := NewDecryptReader(&ct, data, kdf, iter)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("round trip changed %d bytes into %d", len(data), len(got))
		}
	})
}
