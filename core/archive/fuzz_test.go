package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadLine checks the bounded line reader on arbitrary input: it never
// panics, returns every byte of lines within the bound, and skips the
// others whole.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("a\nbb\n"), uint8(4))
	f.Add([]byte("no newline"), uint8(3))
	f.Add([]byte("\n\n\nxxxxxxxxxxxxxxxxxxxx\ny"), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		lim := int(max%64) + 1
		// A small buffer makes long lines take the gathering path.
		lr := newLineReader(bytes.NewReader(data), lim, 16)
		var want [][]byte
		for _, l := range bytes.SplitAfter(data, []byte("\n")) {
			if len(l) > 0 {
				want = append(want, bytes.TrimSuffix(l, []byte("\n")))
			}
		}
		for i := 0; ; i++ {
			line, err := lr.readLine()
			if err == io.EOF {
				if i != len(want) {
					t.Fatalf("%d lines, want %d", i, len(want))
				}
				return
			}
			if i >= len(want) {
				t.Fatalf("more lines than the input has")
			}
			if len(want[i]) > lim {
				if !errors.Is(err, errLineTooLong) {
					t.Fatalf("line %d of %d bytes (bound %d): err %v", i+1, len(want[i]), lim, err)
				}
			} else if err != nil || !bytes.Equal(line, want[i]) {
				t.Fatalf("line %d: %q %v, want %q", i+1, line, err, want[i])
			}
			if lr.line != int64(i+1) {
				t.Fatalf("line number %d, want %d", lr.line, i+1)
			}
		}
	})
}

// FuzzOpen replaces one file of the sample archive with fuzz bytes and
// opens, reads, inspects and verifies it: none of that may panic, and an
// archive whose bytes changed must not verify.
func FuzzOpen(f *testing.F) {
	names := append([]string{ManifestName}, fileNames[:]...)
	for i, n := range names {
		b, err := os.ReadFile(filepath.Join(sampleDir, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	f.Add(uint8(6), []byte(`{"id":"x","kind":"normal","room":"10","sender":"1","sent_at":"2017-03-14T09:00:00Z","body":"","thread_root":"x","attachments":["a1","a1"]}`+"\n"))
	f.Add(uint8(7), []byte(`{"id":"a1","message":"m16","name":"n","size":-1,"sha256":"../../../../etc/passwd"}`+"\n"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		dir := copySample(t)
		name := names[int(which)%len(names)]
		orig, _ := os.ReadFile(filepath.Join(dir, name))
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		opt := ReadOptions{MaxLineBytes: 4096, SortMemory: 1}
		r, err := Open(dir, opt)
		if err != nil {
			return
		}
		for _, err := range r.Users() {
			_ = err
		}
		for _, err := range r.Messages() {
			_ = err
		}
		for _, err := range r.Attachments() {
			_ = err
		}
		errs := r.VerifyAll(context.Background())
		if !bytes.Equal(orig, data) && len(errs) == 0 && name != ManifestName {
			t.Fatalf("%s changed but the archive verifies", name)
		}
		for _, e := range errs {
			if e.Error() == "" {
				t.Fatal("empty error")
			}
		}
	})
}
