package jobs

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/migrate-chat/migrate/core/container"
)

// sampleArchive is the canonical sample archive of the repository.
const sampleArchive = "../../testdata/sample-archive"

// packSample returns the sample archive as a .tar.gz, the form a user
// uploads a directory in.
func packSample(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := container.PackTar(context.Background(), sampleArchive, zw, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// encrypt wraps plain in an openssl enc envelope, as HipChat exports are.
func encrypt(t testing.TB, plain []byte, pass string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := container.NewEncryptWriter(&b, []byte(pass), container.KDFMD5, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testConfig is a queue configuration with short timings.
func testConfig(t testing.TB, dataDir string) Config {
	return Config{
		DataDir:   dataDir,
		Workers:   2,
		Lease:     1500 * time.Millisecond,
		Heartbeat: 200 * time.Millisecond,
		ServerKey: "",
		Log:       zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
	}
}

func openQueue(t testing.TB, cfg Config) *Queue {
	t.Helper()
	ctx := context.Background()
	q, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = q.Close(ctx)
	})
	return q
}

// stage stages files given as name → content.
func stage(t testing.TB, q *Queue, files ...any) *Staging {
	t.Helper()
	st, err := q.NewStaging()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(files); i += 2 {
		var r io.Reader
		switch c := files[i+1].(type) {
		case []byte:
			r = bytes.NewReader(c)
		case io.Reader:
			r = c
		}
		if err := st.Add(files[i].(string), r); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func waitFinal(t testing.TB, q *Queue, id string, within time.Duration) *Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	j, err := q.Wait(ctx, id, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatalf("job %s did not end within %s: %v (last state %+v)", id, within, err, j)
	}
	return j
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func listDir(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}
