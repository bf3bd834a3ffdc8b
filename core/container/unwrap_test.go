package container

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zip"
)

// TestUnwrapRealTools unwraps archives made by the real tar, gzip, zstd,
// zip and openssl binaries and compares the result with the tree they were
// made from. The KDF is always auto-detected.
func TestUnwrapRealTools(t *testing.T) {
	need(t, "tar", "gzip", "openssl", "zstd", "zip")
	src := t.TempDir()
	writeSampleTree(t, src)
	work := t.TempDir()
	p := func(name string) string { return filepath.Join(work, name) }

	shell(t, "tar czf "+p("plain.tar.gz")+" -C "+src+" .")
	shell(t, "tar cf "+p("plain.tar")+" -C "+src+" .")
	// Named entries instead of ".", as an exporter that lists files would.
	shell(t, "cd "+src+" && tar czf "+p("named.tgz")+" users.json rooms.json metadata.json rooms users emoticons empty-dir")
	shell(t, "tar cf - -C "+src+" . | zstd -q -o "+p("plain.tar.zst"))
	shell(t, "cd "+src+" && zip -qr "+p("plain.zip")+" .")
	type tc struct {
		name   string
		file   string
		layers []string
	}
	cases := []tc{
		{"tar", p("plain.tar"), []string{"tar"}},
		{"tar.gz", p("plain.tar.gz"), []string{"gzip", "tar"}},
		{"tgz named entries", p("named.tgz"), []string{"gzip", "tar"}},
		{"tar.zst", p("plain.tar.zst"), []string{"zstd", "tar"}},
		{"zip", p("plain.zip"), []string{"zip"}},
	}
	for _, k := range opensslKDFs {
		out := p("hipchat-" + k.name + ".tar.gz.aes")
		opensslEnc(t, false, k.args, "hunter2", p("plain.tar.gz"), out)
		iter := k.iter
		if k.kdf == KDFPBKDF2 && iter == 0 {
			iter = DefaultPBKDF2Iter
		}
		label := k.kdf.label(iter)
		cases = append(cases, tc{"openssl " + k.name, out, []string{label, "gzip", "tar"}})
	}
	// A zip inside encryption has to be spooled to disk first.
	opensslEnc(t, false, []string{"-md", "md5"}, "hunter2", p("plain.zip"), p("export.zip.aes"))
	cases = append(cases, tc{"zip in openssl", p("export.zip.aes"), []string{"openssl-enc(md5)", "zip"}})
	// openssl enc -a (base64) around a tar.gz.
	shell(t, "openssl enc -aes-256-cbc -salt -a -md md5 -pass pass:hunter2 -in "+p("plain.tar.gz")+" -out "+p("b64.tar.gz.aes"))
	cases = append(cases, tc{"base64 openssl", p("b64.tar.gz.aes"), []string{"base64", "openssl-enc(md5)", "gzip", "tar"}})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			asked := 0
			opt := Options{TempDir: tmp, Passphrase: func() ([]byte, error) { asked++; return []byte("hunter2"), nil }}
			if strings.Contains(c.name, "2000") {
				opt.Iter = 2000 // not recorded in the file; openssl needs it too
			}
			u, err := Unwrap(context.Background(), c.file, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(u.Layers, c.layers) {
				t.Errorf("layers %q, want %q", u.Layers, c.layers)
			}
			if u.Entry != "" {
				t.Errorf("Entry = %q for an archive", u.Entry)
			}
			wantAsked := 0
			if strings.Contains(c.name, "openssl") {
				wantAsked = 1
			}
			if asked != wantAsked {
				t.Errorf("passphrase asked %d times, want %d", asked, wantAsked)
			}
			sameTree(t, src, u.Dir)
			if fi, err := os.Stat(filepath.Dir(u.Dir)); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("temporary directory mode: %v %v", fi.Mode(), err)
			}
			if err := u.Close(); err != nil {
				t.Fatal(err)
			}
			if err := u.Close(); err != nil {
				t.Fatal(err)
			}
			assertEmptyDir(t, tmp)
		})
	}
}

// TestUnwrapSingleFiles covers inputs that come down to one plain file.
func TestUnwrapSingleFiles(t *testing.T) {
	need(t, "gzip", "openssl", "zstd")
	work := t.TempDir()
	json := []byte(`[{"id": 1}, {"id": 2}]` + "\n")
	plain := filepath.Join(work, "gitter_data.json")
	if err := os.WriteFile(plain, json, 0o644); err != nil {
		t.Fatal(err)
	}
	shell(t, "gzip -k -c "+plain+" > "+plain+".gz")
	shell(t, "zstd -q -c "+plain+" > "+plain+".zst")
	opensslEnc(t, false, []string{"-md", "md5"}, "pw", plain, plain+".aes")
	opensslEnc(t, false, []string{"-pbkdf2"}, "pw", plain+".gz", plain+".gz.aes")
	empty := filepath.Join(work, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("plain file is not copied", func(t *testing.T) {
		tmp := t.TempDir()
		u, err := Unwrap(context.Background(), plain, Options{TempDir: tmp})
		if err != nil {
			t.Fatal(err)
		}
		if u.Dir != work || u.Entry != "gitter_data.json" || len(u.Layers) != 0 {
			t.Fatalf("got %+v", u)
		}
		u.Close()
		if _, err := os.Stat(plain); err != nil {
			t.Fatal("Close removed the user's file")
		}
		assertEmptyDir(t, tmp)
	})
	t.Run("empty file", func(t *testing.T) {
		u, err := Unwrap(context.Background(), empty, Options{TempDir: t.TempDir()})
		if err != nil || u.Entry != "empty" {
			t.Fatalf("%+v %v", u, err)
		}
	})
	t.Run("directory is not copied", func(t *testing.T) {
		u, err := Unwrap(context.Background(), work, Options{TempDir: t.TempDir()})
		if err != nil || u.Dir != work || u.Entry != "" {
			t.Fatalf("%+v %v", u, err)
		}
		u.Close()
		if _, err := os.Stat(work); err != nil {
			t.Fatal("Close removed the user's directory")
		}
	})
	for _, c := range []struct {
		file   string
		layers []string
	}{
		{plain + ".gz", []string{"gzip"}},
		{plain + ".zst", []string{"zstd"}},
		{plain + ".aes", []string{"openssl-enc(md5)"}},
		{plain + ".gz.aes", []string{"openssl-enc(pbkdf2,iter=10000)", "gzip"}},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			tmp := t.TempDir()
			u, err := Unwrap(context.Background(), c.file, Options{TempDir: tmp, Passphrase: fixedPass("pw")})
			if err != nil {
				t.Fatal(err)
			}
			if u.Entry != "gitter_data.json" || !slices.Equal(u.Layers, c.layers) {
				t.Fatalf("got entry %q layers %q", u.Entry, u.Layers)
			}
			got, err := os.ReadFile(filepath.Join(u.Dir, u.Entry))
			if err != nil || !bytes.Equal(got, json) {
				t.Fatalf("content %q, %v", got, err)
			}
			u.Close()
			assertEmptyDir(t, tmp)
		})
	}
}

// TestUnwrapPassphraseErrors: wrong or missing passphrases fail cleanly.
func TestUnwrapPassphraseErrors(t *testing.T) {
	need(t, "tar", "openssl")
	src := t.TempDir()
	writeSampleTree(t, src)
	work := t.TempDir()
	tgz := filepath.Join(work, "x.tar.gz")
	shell(t, "tar czf "+tgz+" -C "+src+" .")
	for _, k := range opensslKDFs {
		t.Run(k.name, func(t *testing.T) {
			enc := filepath.Join(work, k.name+".tar.gz.aes")
			opensslEnc(t, false, k.args, "right", tgz, enc)
			for _, opt := range []Options{
				{Passphrase: fixedPass("wrong")},
				{Passphrase: fixedPass("wrong"), KDF: k.kdf, Iter: k.iter},
				{Passphrase: fixedPass("")},
			} {
				tmp := t.TempDir()
				opt.TempDir = tmp
				_, err := Unwrap(context.Background(), enc, opt)
				if !errors.Is(err, ErrWrongPassphrase) {
					t.Fatalf("KDF %q: got %v, want ErrWrongPassphrase", opt.KDF, err)
				}
				if !strings.HasPrefix(err.Error(), enc+": ") {
					t.Errorf("error does not name the input: %v", err)
				}
				assertEmptyDir(t, tmp)
			}
			// The right passphrase with the wrong forced KDF is also a
			// wrong passphrase as far as the user can tell.
			if k.kdf != KDFMD5 {
				tmp := t.TempDir()
				_, err := Unwrap(context.Background(), enc, Options{Passphrase: fixedPass("right"), KDF: KDFMD5, TempDir: tmp})
				if !errors.Is(err, ErrWrongPassphrase) {
					t.Fatalf("forced md5: got %v", err)
				}
				assertEmptyDir(t, tmp)
			}
		})
	}
	t.Run("no passphrase callback", func(t *testing.T) {
		enc := filepath.Join(work, "md5.tar.gz.aes")
		tmp := t.TempDir()
		_, err := Unwrap(context.Background(), enc, Options{TempDir: tmp})
		if !errors.Is(err, ErrNeedPassphrase) || !strings.Contains(err.Error(), "--passphrase-file") || !strings.Contains(err.Error(), "MIGRATE_PASSPHRASE") {
			t.Fatalf("got %v", err)
		}
		assertEmptyDir(t, tmp)
	})
	t.Run("passphrase callback fails", func(t *testing.T) {
		enc := filepath.Join(work, "md5.tar.gz.aes")
		tmp := t.TempDir()
		boom := errors.New("no terminal")
		_, err := Unwrap(context.Background(), enc, Options{TempDir: tmp, Passphrase: func() ([]byte, error) { return nil, boom }})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v", err)
		}
		assertEmptyDir(t, tmp)
	})
}

// tarEntry describes one entry of a crafted tar.
type tarEntry struct {
	name, link string
	typ        byte
	body       []byte
}

func makeTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		size := int64(len(e.body))
		if typ != tar.TypeReg {
			size = 0
		}
		hdr := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: typ, Size: size, Mode: 0o644, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if size > 0 {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encryptBytes(t testing.TB, b []byte, pass string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewEncryptWriter(&buf, []byte(pass), KDFMD5, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zipEntry struct {
	name string
	mode os.FileMode
	body []byte
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zeroBombTarGz streams a tar.gz holding one file of n zero bytes straight
// to disk, so the test never holds the uncompressed data.
func zeroBombTarGz(t testing.TB, path string, n int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "zeros.bin", Typeflag: tar.TypeReg, Size: n, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 1<<20)
	for left := n; left > 0; {
		m := min(left, int64(len(zero)))
		if _, err := tw.Write(zero[:m]); err != nil {
			t.Fatal(err)
		}
		left -= m
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestUnwrapHostile feeds archives built to attack the unpacker. Each must
// fail with a clear error naming the input and entry, and leave nothing
// behind: not in TempDir, and not outside it.
func TestUnwrapHostile(t *testing.T) {
	work := t.TempDir()
	goodTgz := gzipBytes(t, makeTar(t, tarEntry{name: "users.json", body: bytes.Repeat([]byte("[1]"), 50000)}))
	goodAes := encryptBytes(t, goodTgz, "pw")
	manyFiles := []tarEntry{}
	for i := range 50 {
		manyFiles = append(manyFiles, tarEntry{name: "f" + strconv.Itoa(i), body: []byte("x")})
	}
	bombPath := filepath.Join(work, "bomb.tar.gz")
	zeroBombTarGz(t, bombPath, 256<<20)
	bomb, err := os.ReadFile(bombPath)
	if err != nil {
		t.Fatal(err)
	}
	// A gzip'd single file has no declared size, so only the streaming
	// checks can stop it. (Zeros would be taken for an empty tar.)
	singleBomb := gzipBytes(t, bytes.Repeat([]byte("{}\n"), 20<<20))

	tests := []struct {
		name   string
		file   string // input file name
		data   []byte
		limits Limits
		want   error  // errors.Is target
		substr string // must appear in the error text
	}{
		{"dot-dot", "hipchat.tar.gz.aes", encryptBytes(t, gzipBytes(t, makeTar(t, tarEntry{name: "../../etc/passwd", body: []byte("x")})), "pw"),
			Limits{}, ErrUnsafeEntry, `hipchat.tar.gz.aes: entry "../../etc/passwd": path escapes the archive; refusing to unpack`},
		{"dot-dot inside", "a.tar", makeTar(t, tarEntry{name: "a/../../x", body: []byte("x")}),
			Limits{}, ErrUnsafeEntry, `entry "a/../../x": path escapes the archive`},
		{"backslash dot-dot", "a.tar", makeTar(t, tarEntry{name: `..\x`, body: []byte("x")}),
			Limits{}, ErrUnsafeEntry, `path escapes the archive`},
		{"absolute", "a.tar.gz", gzipBytes(t, makeTar(t, tarEntry{name: "/tmp/evil", body: []byte("x")})),
			Limits{}, ErrUnsafeEntry, `entry "/tmp/evil": absolute path`},
		{"drive letter", "a.tar", makeTar(t, tarEntry{name: "C:/evil", body: []byte("x")}),
			Limits{}, ErrUnsafeEntry, `absolute path`},
		{"symlink to /etc", "a.tar", makeTar(t, tarEntry{name: "etc", typ: tar.TypeSymlink, link: "/etc"}),
			Limits{}, ErrUnsafeEntry, `entry "etc": symbolic link to "/etc"`},
		{"symlink then file through it", "a.tar", makeTar(t,
			tarEntry{name: "d", typ: tar.TypeSymlink, link: "../outside"},
			tarEntry{name: "d/evil", body: []byte("x")}),
			Limits{}, ErrUnsafeEntry, `entry "d": symbolic link`},
		{"symlink inside the tree", "a.tar", makeTar(t,
			tarEntry{name: "a", body: []byte("x")},
			tarEntry{name: "b", typ: tar.TypeSymlink, link: "a"}),
			Limits{}, ErrUnsafeEntry, `symbolic link`},
		{"hardlink outside", "a.tar", makeTar(t, tarEntry{name: "pw", typ: tar.TypeLink, link: "../../etc/passwd"}),
			Limits{}, ErrUnsafeEntry, `entry "pw": hard link to "../../etc/passwd" points outside the archive`},
		{"hardlink absolute", "a.tar", makeTar(t, tarEntry{name: "pw", typ: tar.TypeLink, link: "/etc/passwd"}),
			Limits{}, ErrUnsafeEntry, `points outside the archive`},
		{"hardlink to nothing", "a.tar", makeTar(t, tarEntry{name: "pw", typ: tar.TypeLink, link: "etc/passwd"}),
			Limits{}, ErrUnsafeEntry, `not a file unpacked earlier`},
		{"device", "a.tar", makeTar(t, tarEntry{name: "null", typ: tar.TypeChar}),
			Limits{}, ErrUnsafeEntry, `entry "null": device file`},
		{"fifo", "a.tar", makeTar(t, tarEntry{name: "p", typ: tar.TypeFifo}),
			Limits{}, ErrUnsafeEntry, `fifo`},
		{"zip dot-dot", "export.zip", makeZip(t, zipEntry{name: "ok.txt", mode: 0o644, body: []byte("x")}, zipEntry{name: "../evil.txt", mode: 0o644, body: []byte("x")}),
			Limits{}, ErrUnsafeEntry, `export.zip: entry "../evil.txt": path escapes the archive`},
		{"zip absolute", "export.zip", makeZip(t, zipEntry{name: "/evil.txt", mode: 0o644}),
			Limits{}, ErrUnsafeEntry, `absolute path`},
		{"zip symlink", "export.zip", makeZip(t, zipEntry{name: "l", mode: os.ModeSymlink | 0o777, body: []byte("/etc")}),
			Limits{}, ErrUnsafeEntry, `entry "l": symbolic link`},
		{"zip in aes dot-dot", "export.zip.aes", encryptBytes(t, makeZip(t, zipEntry{name: "../evil.txt", mode: 0o644}), "pw"),
			Limits{}, ErrUnsafeEntry, `path escapes the archive`},
		{"gzip bomb, file limit", "bomb.tar.gz", bomb,
			Limits{MaxFileBytes: 8 << 20}, nil, `bomb.tar.gz: entry "zeros.bin": the unpacked size of this entry exceeds the limit of 8 MiB (Limits.MaxFileBytes); if you trust this input, raise it with --max-file-bytes`},
		{"gzip bomb, total limit", "bomb.tar.gz", bomb,
			Limits{MaxTotalBytes: 8 << 20}, nil, `Limits.MaxTotalBytes`},
		{"gzip bomb, ratio", "bomb.tar.gz", bomb,
			Limits{MaxRatio: 50}, nil, `compression ratio`},
		{"gzip bomb, default ratio", "bomb.tar.gz", bomb,
			Limits{}, nil, `--max-ratio`},
		{"single-file gzip bomb", "data.json.gz", singleBomb,
			Limits{MaxFileBytes: 4 << 20}, nil, `entry "data.json": the unpacked size of this entry exceeds`},
		{"bomb after the tar end", "trailing.tar.gz", gzipBytes(t, append(makeTar(t, tarEntry{name: "a", body: []byte("x")}), make([]byte, 64<<20)...)),
			Limits{MaxTotalBytes: 8 << 20}, nil, `trailing.tar.gz: the total unpacked size exceeds`},
		{"zip bomb", "bomb.zip", makeZip(t, zipEntry{name: "zeros", mode: 0o644, body: make([]byte, 32<<20)}),
			Limits{MaxFileBytes: 1 << 20}, nil, `entry "zeros"`},
		{"too many files", "many.tar", makeTar(t, manyFiles...),
			Limits{MaxFiles: 10}, nil, `entry "f10": the number of entries exceeds the limit of 10 (Limits.MaxFiles)`},
		{"too many zip files", "many.zip", makeZip(t, zipEntry{name: "a", mode: 0o644}, zipEntry{name: "b", mode: 0o644}, zipEntry{name: "c", mode: 0o644}),
			Limits{MaxFiles: 2}, nil, `Limits.MaxFiles`},
		{"truncated gzip", "x.tar.gz", goodTgz[:len(goodTgz)/2],
			Limits{}, ErrTruncated, `archive is truncated`},
		{"truncated gzip trailer", "x.tar.gz", goodTgz[:len(goodTgz)-4],
			Limits{}, ErrTruncated, `truncated`},
		{"truncated tar", "x.tar", makeTar(t, tarEntry{name: "users.json", body: make([]byte, 5000)})[:2000],
			Limits{}, ErrTruncated, `entry "users.json": archive is truncated`},
		{"truncated ciphertext", "x.tar.gz.aes", goodAes[:len(goodAes)-5],
			Limits{}, ErrTruncated, `x.tar.gz.aes: archive is truncated`},
		{"truncated at block boundary", "x.tar.gz.aes", goodAes[:len(goodAes)-16],
			Limits{}, ErrWrongPassphrase, `damaged`},
		{"big, truncated at block boundary", "x.tar.gz.aes", encryptBytes(t, gzipBytes(t, makeTar(t, tarEntry{name: "r", body: randomBytes(3<<20, 9)})), "pw")[:2<<20],
			Limits{}, ErrWrongPassphrase, `damaged`},
		{"corrupt gzip", "x.tar.gz", corruptMiddle(goodTgz),
			Limits{}, ErrCorrupt, `corrupt`},
		{"truncated zip", "x.zip", makeZip(t, zipEntry{name: "a", mode: 0o644, body: []byte("hello")})[:40],
			Limits{}, ErrCorrupt, `not a readable zip archive`},
		{"xz", "x.tar.xz", append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, make([]byte, 100)...),
			Limits{}, ErrUnsupported, `xz compression`},
		{"gzip in gzip in ...", "nest.gz", nestGzip(t, 10),
			Limits{}, ErrUnsupported, `nested layers`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			inDir := filepath.Join(dir, "in", "deeper")
			if err := os.MkdirAll(inDir, 0o755); err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(inDir, tc.file)
			if err := os.WriteFile(in, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			tmp := filepath.Join(dir, "tmp")
			if err := os.Mkdir(tmp, 0o755); err != nil {
				t.Fatal(err)
			}
			u, err := Unwrap(context.Background(), in, Options{TempDir: tmp, Passphrase: fixedPass("pw"), Limits: tc.limits})
			if err == nil {
				u.Close()
				t.Fatalf("no error; layers %v", u.Layers)
			}
			t.Log(err)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q is not %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.substr) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.substr)
			}
			if !strings.HasPrefix(err.Error(), in+": ") {
				t.Errorf("error %q does not start with the input name", err)
			}
			var le *LimitError
			if strings.Contains(tc.name, "bomb") || strings.Contains(tc.name, "many") {
				if !errors.As(err, &le) {
					t.Errorf("error %q is not a *LimitError", err)
				}
			}
			assertEmptyDir(t, tmp)
			// Nothing may appear next to the input or above it.
			for _, d := range []string{inDir, filepath.Dir(inDir), dir} {
				ents, _ := os.ReadDir(d)
				for _, e := range ents {
					if n := e.Name(); n != tc.file && n != "deeper" && n != "in" && n != "tmp" {
						t.Errorf("%s appeared in %s", n, d)
					}
				}
			}
		})
	}
}

func corruptMiddle(b []byte) []byte {
	c := bytes.Clone(b)
	for i := len(c) / 3; i < len(c)/3+32; i++ {
		c[i] ^= 0x5a
	}
	return c
}

func nestGzip(t testing.TB, n int) []byte {
	b := []byte(`{"deep": true}`)
	for range n {
		b = gzipBytes(t, b)
	}
	return b
}

// TestUnwrapHardLinkInside: a hard link to a file unpacked earlier is
// unpacked as a copy; duplicate names overwrite like tar does.
func TestUnwrapHardLinkInside(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "a.tar")
	data := makeTar(t,
		tarEntry{name: "./", typ: tar.TypeDir},
		tarEntry{name: "./rooms/1/history.json", body: []byte("[1]")},
		tarEntry{name: "rooms/2/history.json", typ: tar.TypeLink, link: "./rooms/1/history.json"},
		tarEntry{name: "users.json", body: []byte("old")},
		tarEntry{name: "users.json", body: []byte("new")},
	)
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	u, err := Unwrap(context.Background(), in, Options{TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	got := treeListing(t, u.Dir)
	want := map[string]string{"rooms": "<dir>", "rooms/1": "<dir>", "rooms/2": "<dir>",
		"rooms/1/history.json": "[1]", "rooms/2/history.json": "[1]", "users.json": "new"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
}

// TestUnwrapCancel: a cancelled context stops the work and cleans up.
func TestUnwrapCancel(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "big.tar.gz")
	zeroBombTarGz(t, in, 64<<20)
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o700)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Unwrap(ctx, in, Options{TempDir: tmp, Limits: Limits{MaxRatio: -1}, Progress: func(done, total int64) {
		calls++
		cancel()
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if calls == 0 {
		t.Fatal("progress never called")
	}
	assertEmptyDir(t, tmp)
}

// TestUnwrapProgress: progress ends at the input size.
func TestUnwrapProgress(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "x.tar.gz.aes")
	raw := encryptBytes(t, gzipBytes(t, makeTar(t, tarEntry{name: "a", body: randomBytes(3<<20, 1)})), "pw")
	os.WriteFile(in, raw, 0o644)
	var last, total int64
	u, err := Unwrap(context.Background(), in, Options{TempDir: dir, Passphrase: fixedPass("pw"), Progress: func(d, tot int64) {
		if d < last {
			t.Errorf("progress went back from %d to %d", last, d)
		}
		last, total = d, tot
	}})
	if err != nil {
		t.Fatal(err)
	}
	u.Close()
	if last != int64(len(raw)) || total != int64(len(raw)) {
		t.Fatalf("last progress %d/%d, want %d", last, total, len(raw))
	}
}

// TestUnwrapTempDirMissing: an unusable TempDir is reported, not panicked on.
func TestUnwrapTempDirMissing(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "a.tar")
	os.WriteFile(in, makeTar(t, tarEntry{name: "a", body: []byte("x")}), 0o644)
	_, err := Unwrap(context.Background(), in, Options{TempDir: filepath.Join(dir, "nope")})
	if err == nil {
		t.Fatal("no error")
	}
	_, err = Unwrap(context.Background(), filepath.Join(dir, "missing"), Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v", err)
	}
}

func TestCleanEntryName(t *testing.T) {
	for name, want := range map[string]string{
		"a": "a", "./a": "a", "a//b/": "a/b", "./": "", ".": "", `a\b`: "a/b", "a/./b": "a/b",
	} {
		got, err := cleanEntryName(name)
		if err != nil || got != want {
			t.Errorf("cleanEntryName(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"", "..", "../a", "a/..", "a/../b", "/a", `\a`, "c:x", "a\x00b", `..\a`} {
		if _, err := cleanEntryName(name); !errors.Is(err, ErrUnsafeEntry) {
			t.Errorf("cleanEntryName(%q) accepted", name)
		}
	}
}

// TestSniff checks the format detection on the edges that matter: a JSON
// file mentioning "ustar" where a tar has its magic is still JSON.
func TestSniff(t *testing.T) {
	js := []byte(`[{"message": "` + strings.Repeat("x", 231) + `, pass the mustard please` + strings.Repeat(" ", 300) + `"}]`)
	if i := bytes.Index(js, []byte("ustar")); i != 257 {
		t.Fatalf("test data: ustar at %d", i)
	}
	for _, c := range []struct {
		data []byte
		want format
	}{
		{js, fmtPlain},
		{makeTar(t, tarEntry{name: "a", body: []byte("x")}), fmtTar},
		{[]byte("Salted__"), fmtSalted},
		{[]byte{0x1f, 0x8b, 0x08, 0}, fmtGzip},
		{[]byte{0x1f, 0x8b}, fmtPlain},
		{[]byte("PK\x03\x04"), fmtZip},
		{[]byte("BZh91AY&SY"), fmtBzip2},
		{[]byte("{}"), fmtPlain},
		{makeTar(t), fmtTar}, // empty archive: zero blocks only
		{nil, fmtPlain},
	} {
		if got := sniff(c.data); got != c.want {
			t.Errorf("sniff(%.20q) = %d, want %d", c.data, got, c.want)
		}
	}
}

// TestUnwrapEmptyArchive: an archive with no entries gives an empty tree,
// not a plain file of zeros.
func TestUnwrapEmptyArchive(t *testing.T) {
	need(t, "tar")
	dir := t.TempDir()
	in := filepath.Join(dir, "empty.tar.gz")
	shell(t, "tar czf "+in+" -T /dev/null")
	u, err := Unwrap(context.Background(), in, Options{TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if !slices.Equal(u.Layers, []string{"gzip", "tar"}) || u.Entry != "" || len(treeListing(t, u.Dir)) != 0 {
		t.Fatalf("got %+v", u)
	}
}
