package container

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestWriteOutputRealTools writes every output form and reads it back with
// the real tools, comparing the extracted tree with the source.
func TestWriteOutputRealTools(t *testing.T) {
	need(t, "tar", "gzip", "openssl", "zstd")
	src := t.TempDir()
	writeSampleTree(t, src)
	work := t.TempDir()
	mtime := time.Date(2018, 8, 8, 14, 23, 54, 0, time.UTC)

	type tc struct {
		name    string
		opt     OutputOptions
		extract string // shell script; $F is the output, $D the directory to extract into
		list    string // shell script printing the entry names
	}
	cases := []tc{
		{"out.tar", OutputOptions{}, `tar xf "$F" -C "$D"`, `tar tf "$F"`},
		{"out.tar.gz", OutputOptions{}, `gzip -d -c "$F" > "$F.raw" && tar xf "$F.raw" -C "$D"`, `tar tzf "$F"`},
		{"out.tgz", OutputOptions{}, `tar xzf "$F" -C "$D"`, `tar tzf "$F"`},
		{"out.tar.zst", OutputOptions{}, `zstd -q -d -c "$F" | tar xf - -C "$D"`, `zstd -q -d -c "$F" | tar tf -`},
	}
	for _, k := range opensslKDFs {
		md := strings.Join(k.args, " ")
		dec := `openssl enc -d -aes-256-cbc ` + md + ` -pass pass:s3cret -in "$F"`
		cases = append(cases,
			tc{"hipchat-" + k.name + ".tar.gz.aes", OutputOptions{Passphrase: []byte("s3cret"), KDF: k.kdf, Iter: k.iter},
				dec + ` | tar xzf - -C "$D"`, dec + ` | tar tzf -`})
	}
	cases = append(cases,
		tc{"default-kdf.tgz.aes", OutputOptions{Passphrase: []byte("s3cret")},
			`openssl enc -d -aes-256-cbc -md md5 -pass pass:s3cret -in "$F" | tar xzf - -C "$D"`, ""},
		tc{"bare.aes", OutputOptions{Passphrase: []byte("s3cret")},
			`openssl enc -d -aes-256-cbc -md md5 -pass pass:s3cret -in "$F" | gzip -d | tar xf - -C "$D"`, ""},
		tc{"z.tar.zst.aes", OutputOptions{Passphrase: []byte("s3cret")},
			`openssl enc -d -aes-256-cbc -md md5 -pass pass:s3cret -in "$F" | zstd -q -d | tar xf - -C "$D"`, ""},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(work, c.name)
			c.opt.Mtime = mtime
			if err := WriteOutput(context.Background(), src, out, c.opt); err != nil {
				t.Fatal(err)
			}
			d := t.TempDir()
			env := `F='` + out + `'; D='` + d + `'; `
			shell(t, env+c.extract)
			sameTree(t, src, d)
			if c.list != "" {
				names := strings.Split(strings.TrimSpace(string(shell(t, env+c.list))), "\n")
				if !slices.IsSorted(names) || !slices.Contains(names, "users.json") || !slices.Contains(names, "rooms/1/files/abc/photo.png") {
					t.Errorf("listing not sorted or incomplete: %q", names)
				}
			}
			// Nothing but the output in its directory: no temp files left.
			ents, _ := os.ReadDir(work)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".") {
					t.Errorf("temporary %s left behind", e.Name())
				}
			}
			// And our own Unwrap reads it back.
			if c.opt.Iter == 0 || c.opt.KDF != KDFPBKDF2 {
				u, err := Unwrap(context.Background(), out, Options{TempDir: t.TempDir(), Passphrase: fixedPass("s3cret")})
				if err != nil {
					t.Fatal(err)
				}
				sameTree(t, src, u.Dir)
				u.Close()
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		// A directory output takes the source over (renames it) when it
		// can, so each call gets its own copy of the sample tree.
		fresh := func() string {
			d := filepath.Join(t.TempDir(), "src")
			os.Mkdir(d, 0o755)
			writeSampleTree(t, d)
			return d
		}
		out := filepath.Join(work, "converted")
		s1 := fresh()
		if err := WriteOutput(context.Background(), s1, out, OutputOptions{}); err != nil {
			t.Fatal(err)
		}
		sameTree(t, src, out)
		if _, err := os.Stat(s1); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("source on the same file system was not moved: %v", err)
		}
		if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("output mode %v, %v", fi.Mode(), err)
		}
		s2 := fresh()
		if err := WriteOutput(context.Background(), s2, out, OutputOptions{}); !errors.Is(err, ErrOutputExists) {
			t.Fatalf("second write without Overwrite: %v", err)
		}
		sameTree(t, src, s2) // a refused output leaves the source alone
		if err := WriteOutput(context.Background(), s2, out, OutputOptions{Overwrite: true}); err != nil {
			t.Fatal(err)
		}
		sameTree(t, src, out)
		// copyTree is the path taken across file systems.
		d := t.TempDir()
		if err := copyTree(context.Background(), src, d); err != nil {
			t.Fatal(err)
		}
		sameTree(t, src, d)
		ents, _ := os.ReadDir(work)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("temporary %s left behind", e.Name())
			}
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, c := range []struct {
			out  string
			opt  OutputOptions
			want string
		}{
			{filepath.Join(work, "nopass.tar.gz.aes"), OutputOptions{}, "needs a passphrase"},
			{filepath.Join(work, "badkdf.tar.gz.aes"), OutputOptions{Passphrase: []byte("x"), KDF: "sha1"}, "unknown key derivation"},
			{filepath.Join(src, "inside.tar.gz"), OutputOptions{}, "inside the tree"},
			{filepath.Dir(src), OutputOptions{Overwrite: true}, "contains the tree"},
			{filepath.Join(work, "out.tar"), OutputOptions{}, "already exists"},
		} {
			err := WriteOutput(context.Background(), src, c.out, c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: got %v, want %q", c.out, err, c.want)
			}
		}
		if _, err := os.Stat(filepath.Join(src, "inside.tar.gz")); err == nil {
			t.Error("output written inside the source")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		out := filepath.Join(work, "cancelled.tar.gz.aes")
		err := WriteOutput(ctx, src, out, OutputOptions{Passphrase: []byte("x")})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("cancelled output exists")
		}
	})
}

// TestPackTarDeterministic: the same tree gives the same bytes, whatever the
// files' own times, modes and owners.
func TestPackTarDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeSampleTree(t, a)
	writeSampleTree(t, b)
	os.Chmod(filepath.Join(b, "users.json"), 0o600)
	os.Chtimes(filepath.Join(b, "rooms.json"), time.Now(), time.Unix(12345, 0))
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	var ba, bb bytes.Buffer
	if err := PackTar(context.Background(), a, &ba, mtime); err != nil {
		t.Fatal(err)
	}
	if err := PackTar(context.Background(), b, &bb, mtime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ba.Bytes(), bb.Bytes()) {
		t.Fatal("PackTar output differs for equal trees")
	}
	tr := tar.NewReader(&ba)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		wantMode := int64(0o644)
		if h.Typeflag == tar.TypeDir {
			wantMode = 0o755
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.Mode != wantMode || !h.ModTime.Equal(mtime) {
			t.Errorf("%s: uid %d gid %d %q %q mode %o mtime %v", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, h.Mode, h.ModTime)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("entries not sorted: %q", names)
	}
	// Links are refused rather than followed.
	os.Symlink("/etc", filepath.Join(a, "link"))
	if err := PackTar(context.Background(), a, io.Discard, mtime); err == nil {
		t.Error("PackTar packed a symbolic link")
	}
}

func TestAtomicDir(t *testing.T) {
	parent := t.TempDir()
	final := filepath.Join(parent, "out")

	t.Run("abort leaves nothing", func(t *testing.T) {
		d, err := NewAtomicDir(final, false)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d.Dir(), "f"), []byte("x"), 0o644)
		if err := d.Abort(); err != nil {
			t.Fatal(err)
		}
		d.Abort()
		assertEmptyDir(t, parent)
	})
	t.Run("commit moves into place", func(t *testing.T) {
		d, err := NewAtomicDir(final, false)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(d.Dir()) != parent || !strings.HasPrefix(filepath.Base(d.Dir()), ".") {
			t.Errorf("temporary %s is not a hidden sibling", d.Dir())
		}
		if _, err := os.Stat(final); err == nil {
			t.Fatal("final exists before Commit")
		}
		os.WriteFile(filepath.Join(d.Dir(), "f"), []byte("x"), 0o644)
		if err := d.Commit(); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(final, "f")); err != nil || string(b) != "x" {
			t.Fatal("content not in place")
		}
		if err := d.Abort(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(final); err != nil {
			t.Fatal("Abort after Commit removed the output")
		}
		if err := d.Commit(); err == nil {
			t.Fatal("second Commit succeeded")
		}
	})
	t.Run("refuses non-empty without overwrite", func(t *testing.T) {
		if _, err := NewAtomicDir(final, false); !errors.Is(err, ErrOutputExists) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("overwrite replaces", func(t *testing.T) {
		d, err := NewAtomicDir(final, true)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d.Dir(), "g"), []byte("y"), 0o644)
		if err := d.Commit(); err != nil {
			t.Fatal(err)
		}
		got := treeListing(t, final)
		if len(got) != 1 || got["g"] != "y" {
			t.Fatalf("got %v", got)
		}
		ents, _ := os.ReadDir(parent)
		if len(ents) != 1 {
			t.Fatalf("leftovers: %v", ents)
		}
	})
	t.Run("empty directory is replaced", func(t *testing.T) {
		empty := filepath.Join(parent, "empty")
		os.Mkdir(empty, 0o755)
		d, err := NewAtomicDir(empty, false)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d.Dir(), "h"), nil, 0o644)
		if err := d.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(empty, "h")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("non-empty appears meanwhile", func(t *testing.T) {
		late := filepath.Join(parent, "late")
		d, err := NewAtomicDir(late, false)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(late, "x"), 0o755)
		if err := d.Commit(); !errors.Is(err, ErrOutputExists) {
			t.Fatalf("got %v", err)
		}
		d.Abort()
	})
}

func TestAtomicFile(t *testing.T) {
	parent := t.TempDir()
	final := filepath.Join(parent, "out.tar.gz.aes")

	f, err := NewAtomicFile(final, false)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "partial")
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	assertEmptyDir(t, parent)

	f, err = NewAtomicFile(final, false)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "first")
	if _, err := os.Stat(final); err == nil {
		t.Fatal("final exists before Commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if f.Abort() != nil {
		t.Fatal("Abort after Commit failed")
	}
	if b, _ := os.ReadFile(final); string(b) != "first" {
		t.Fatalf("content %q", b)
	}
	if _, err := f.Write([]byte("x")); err == nil {
		t.Fatal("Write after Commit succeeded")
	}

	if _, err := NewAtomicFile(final, false); !errors.Is(err, ErrOutputExists) {
		t.Fatalf("got %v", err)
	}
	// Appearing while we write: Commit must not clobber it.
	other := filepath.Join(parent, "other")
	g, err := NewAtomicFile(other, false)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(g, "ours")
	os.WriteFile(other, []byte("theirs"), 0o644)
	if err := g.Commit(); !errors.Is(err, ErrOutputExists) {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(other); string(b) != "theirs" {
		t.Fatal("clobbered")
	}

	h, err := NewAtomicFile(final, true)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(h, "second")
	if err := h.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(final); string(b) != "second" {
		t.Fatalf("content %q", b)
	}
	ents, _ := os.ReadDir(parent)
	if len(ents) != 2 {
		t.Fatalf("leftovers: %v", ents)
	}
}
