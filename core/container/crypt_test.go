package container

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// opensslKDFs are the openssl enc key derivations we must agree with.
var opensslKDFs = []struct {
	name string
	args []string // openssl enc flags
	kdf  KDF
	iter int
}{
	{"md5", []string{"-md", "md5"}, KDFMD5, 0},
	{"sha256", []string{"-md", "sha256"}, KDFSHA256, 0},
	{"pbkdf2", []string{"-pbkdf2"}, KDFPBKDF2, 0},
	{"pbkdf2-iter2000", []string{"-pbkdf2", "-iter", "2000"}, KDFPBKDF2, 2000},
}

func opensslEnc(t testing.TB, decrypt bool, kdfArgs []string, pass, in, out string) {
	t.Helper()
	args := []string{"enc", "-aes-256-cbc"}
	if decrypt {
		args = append(args, "-d")
	} else {
		args = append(args, "-salt")
	}
	args = append(args, kdfArgs...)
	args = append(args, "-pass", "pass:"+pass, "-in", in, "-out", out)
	run(t, "openssl", args...)
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestKeyDerivationMatchesOpenSSL compares key and IV with what
// "openssl enc -P" prints for a fixed salt.
func TestKeyDerivationMatchesOpenSSL(t *testing.T) {
	salt := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for _, k := range opensslKDFs {
		for _, pass := range []string{"x", "correct horse battery staple", "pässwörd"} {
			t.Run(k.name+"/"+pass, func(t *testing.T) {
				args := append([]string{"enc", "-aes-256-cbc", "-P", "-S", hex.EncodeToString(salt), "-pass", "pass:" + pass}, k.args...)
				out := string(run(t, "openssl", args...))
				var wantKey, wantIV string
				for _, line := range strings.Split(out, "\n") {
					if v, ok := strings.CutPrefix(line, "key="); ok {
						wantKey = strings.ToLower(strings.TrimSpace(v))
					}
					if v, ok := strings.CutPrefix(line, "iv ="); ok {
						wantIV = strings.ToLower(strings.TrimSpace(v))
					}
				}
				kdf, iter, err := normalizeKDF(k.kdf, k.iter, "")
				if err != nil {
					t.Fatal(err)
				}
				key, iv, err := deriveKeyIV([]byte(pass), salt, kdf, iter)
				if err != nil {
					t.Fatal(err)
				}
				if hex.EncodeToString(key) != wantKey || hex.EncodeToString(iv) != wantIV {
					t.Fatalf("got key=%x iv=%x, openssl says key=%s iv=%s", key, iv, wantKey, wantIV)
				}
			})
		}
	}
}

// TestDecryptOpenSSLFiles decrypts files made by openssl enc, at sizes
// around the block size and across the 1 MiB chunk boundary.
func TestDecryptOpenSSLFiles(t *testing.T) {
	dir := t.TempDir()
	sizes := []int{0, 1, 15, 16, 17, 511, 512, 513, cryptChunk - 1, cryptChunk, cryptChunk + 1, 3*cryptChunk + 7}
	for _, k := range opensslKDFs {
		for _, size := range sizes {
			plain := randomBytes(size, uint64(size))
			in := filepath.Join(dir, "plain")
			enc := filepath.Join(dir, "enc")
			if err := os.WriteFile(in, plain, 0o600); err != nil {
				t.Fatal(err)
			}
			opensslEnc(t, false, k.args, "s3cret", in, enc)
			f, err := os.Open(enc)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewDecryptReader(f, []byte("s3cret"), k.kdf, k.iter)
			if err != nil {
				t.Fatalf("%s size %d: %v", k.name, size, err)
			}
			got, err := io.ReadAll(r)
			f.Close()
			if err != nil {
				t.Fatalf("%s size %d: %v", k.name, size, err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("%s size %d: plaintext differs (got %d bytes)", k.name, size, len(got))
			}
		}
	}
}

// TestEncryptOpenSSLDecrypts checks that openssl enc -d opens what
// NewEncryptWriter writes, for every KDF and at awkward sizes, including
// writes in odd-sized pieces.
func TestEncryptOpenSSLDecrypts(t *testing.T) {
	dir := t.TempDir()
	for _, k := range opensslKDFs {
		for _, size := range []int{0, 1, 16, 4095, cryptChunk, 2*cryptChunk + 3} {
			plain := randomBytes(size, uint64(size)+7)
			enc := filepath.Join(dir, "enc")
			out := filepath.Join(dir, "out")
			f, err := os.Create(enc)
			if err != nil {
				t.Fatal(err)
			}
			w, err := NewEncryptWriter(f, []byte("s3cret"), k.kdf, k.iter)
			if err != nil {
				t.Fatal(err)
			}
			for rest := plain; len(rest) > 0; {
				n := min(len(rest), 1+len(rest)%70001)
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			f.Close()
			opensslEnc(t, true, k.args, "s3cret", enc, out)
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("%s size %d: openssl's plaintext differs", k.name, size)
			}
		}
	}
}

// TestDecryptAutoDetect: with kdf "" the KDF is found from the plaintext's
// first bytes.
func TestDecryptAutoDetect(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	plain := bytes.Repeat([]byte(`{"a": "b"}`+"\n"), 10000)
	if err := os.WriteFile(in, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range opensslKDFs {
		t.Run(k.name, func(t *testing.T) {
			enc := filepath.Join(dir, k.name+".aes")
			opensslEnc(t, false, k.args, "pw", in, enc)
			f, err := os.Open(enc)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			// The iteration count is not recorded in the file, so a
			// non-default one has to be given.
			d, kdf, it, err := openDecrypt(f, []byte("pw"), "", k.iter, plausiblePlaintext)
			if err != nil {
				t.Fatal(err)
			}
			if kdf != k.kdf {
				t.Fatalf("detected %s, want %s", kdf, k.kdf)
			}
			wantIter := k.iter
			if kdf == KDFPBKDF2 && wantIter == 0 {
				wantIter = DefaultPBKDF2Iter
			}
			if it != wantIter {
				t.Fatalf("iteration count %d, want %d", it, wantIter)
			}
			got, err := io.ReadAll(d)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatal("plaintext differs")
			}
		})
	}
}

func TestDecryptErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, bytes.Repeat([]byte("[1,2,3]\n"), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	enc := filepath.Join(dir, "enc")
	opensslEnc(t, false, []string{"-md", "md5"}, "right", in, enc)
	good, err := os.ReadFile(enc)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		data   []byte
		pass   string
		kdf    KDF
		want   error
		substr string
	}{
		{"wrong passphrase, auto", good, "wrong", "", ErrWrongPassphrase, "correct password"},
		{"wrong passphrase, forced md5", good, "wrong", KDFMD5, ErrWrongPassphrase, "padding"},
		{"wrong kdf", good, "right", KDFSHA256, ErrWrongPassphrase, ""},
		{"truncated mid-block", good[:len(good)-5], "right", KDFMD5, ErrTruncated, "16-byte"},
		{"truncated mid-block, auto", good[:100], "right", "", ErrTruncated, ""},
		{"header only", good[:16], "right", KDFMD5, ErrTruncated, "no data"},
		{"header only, auto", good[:16], "right", "", ErrTruncated, ""},
		{"cut in header", good[:11], "right", "", ErrTruncated, "header"},
		{"not salted", []byte("hello world, this is not encrypted at all"), "right", "", nil, "Salted__"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewDecryptReader(bytes.NewReader(tc.data), []byte(tc.pass), tc.kdf, 0)
			if err == nil {
				_, err = io.ReadAll(r)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %q is not %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Fatalf("error %q does not mention %q", err, tc.substr)
			}
		})
	}
	if got := ErrWrongPassphrase.Error(); got != "Couldn't decrypt the archive file. Make sure you're entering the correct password." {
		t.Fatalf("ErrWrongPassphrase text changed: %q", got)
	}
}

func TestKDFArguments(t *testing.T) {
	for _, tc := range []struct {
		kdf  KDF
		iter int
		ok   bool
	}{
		{"", 0, true}, {KDFMD5, 0, true}, {KDFPBKDF2, 5, true},
		{KDFMD5, 5, false}, {KDFSHA256, 1, false}, {KDFPBKDF2, -1, false}, {"sha1", 0, false},
	} {
		_, err := NewEncryptWriter(io.Discard, []byte("x"), tc.kdf, tc.iter)
		if (err == nil) != tc.ok {
			t.Errorf("NewEncryptWriter(%q, %d): err = %v", tc.kdf, tc.iter, err)
		}
	}
	for in, want := range map[string]KDF{"MD5": KDFMD5, " sha256": KDFSHA256, "SHA-256": KDFSHA256, "pbkdf2": KDFPBKDF2, "": ""} {
		if got, err := ParseKDF(in); err != nil || got != want {
			t.Errorf("ParseKDF(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseKDF("sha1"); err == nil {
		t.Error("ParseKDF(sha1) should fail")
	}
}

// TestDecryptParallelParts decrypts the same ciphertext with every split of
// the chunks into parts, against a plain one-goroutine CBC decryption.
func TestDecryptParallelParts(t *testing.T) {
	plain := randomBytes(5*cryptChunk+123, 5)
	var ct bytes.Buffer
	w, err := NewEncryptWriter(&ct, []byte("pw"), KDFSHA256, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	w.Close()
	for par := 1; par <= maxParallelParts; par++ {
		d, _, _, err := openDecrypt(bytes.NewReader(ct.Bytes()), []byte("pw"), KDFSHA256, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.par = par
		got, err := io.ReadAll(d)
		if err != nil {
			t.Fatalf("par %d: %v", par, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("par %d: plaintext differs", par)
		}
	}
}
