package pixtoome

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

type recordingFile struct {
	bytes.Buffer
	failAfter int // writes allowed before failing; -1 for never
	closed    bool
}

func (f *recordingFile) Write(p []byte) (int, error) {
	if f.failAfter == 0 {
		return 0, errors.New("no space left on device")
	}
	f.failAfter--
	return f.Buffer.Write(p)
}

func (f *recordingFile) Close() error { f.closed = true; return nil }

// Bytes handed over whole and bytes copied through file() land in the
// order they were written, across files, and closes happen after them.
func TestAsyncOutKeepsOrder(t *testing.T) {
	a := newAsyncOut(8)
	f1, f2 := &recordingFile{failAfter: -1}, &recordingFile{failAfter: -1}
	w1 := a.file(f1)
	buf := a.buffer()
	var want1, want2 strings.Builder
	for i := range 100 {
		s := strings.Repeat(string(rune('a'+i%26)), i%13+1)
		if i%2 == 0 {
			w1.Write([]byte(s))
		} else {
			buf = append(buf, s...)
			var err error
			if buf, err = a.write(f1, buf); err != nil {
				t.Fatal(err)
			}
		}
		want1.WriteString(s)
		w2 := a.file(f2)
		w2.Write([]byte(s[:1]))
		want2.WriteString(s[:1])
	}
	w1.Close()
	if err := a.finish(); err != nil {
		t.Fatal(err)
	}
	if f1.String() != want1.String() || f2.String() != want2.String() || !f1.closed {
		t.Errorf("got %q / %q (closed %v), want %q / %q", f1.String(), f2.String(), f1.closed, want1.String(), want2.String())
	}
}

// A write that fails is reported by the calls after it and by finish; no
// call blocks once it has failed.
func TestAsyncOutReportsWriteErrors(t *testing.T) {
	a := newAsyncOut(16)
	f := &recordingFile{failAfter: 2}
	w := a.file(f)
	for range 50 {
		w.Write([]byte("0123456789abcdefXYZ"))
	}
	err := a.finish()
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("finish returned %v, want the write error", err)
	}
}
