package jobs

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

// workerProc is a worker process running this test binary.
type workerProc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
}

// startWorker starts a worker process on dataDir (and database, when not
// empty) and waits until it is ready.
func startWorker(t *testing.T, dataDir, database string, cfg Config) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"=1",
		"MIGRATE_JOBS_TEST_DATA="+dataDir, "MIGRATE_JOBS_TEST_DATABASE="+database,
		"MIGRATE_JOBS_TEST_LEASE="+cfg.Lease.String(), "MIGRATE_JOBS_TEST_HEARTBEAT="+cfg.Heartbeat.String())
	var errBuf bytes.Buffer
	cmd.Stderr = &lockedWriter{w: &errBuf}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProc{cmd: cmd, stderr: &errBuf}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(25 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}
		if t.Failed() {
			t.Logf("worker %d stderr:\n%s", cmd.Process.Pid, errBuf.String())
		}
	})
	ready := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		n, err := out.Read(buf)
		if err == nil && !strings.Contains(string(buf[:n]), "worker ready") {
			err = fmt.Errorf("worker said %q", buf[:n])
		}
		ready <- err
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("worker did not start: %v\n%s", err, errBuf.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("worker did not start within 30s:\n%s", errBuf.String())
	}
	return w
}

// kill stops the worker with SIGKILL: no clean-up of any kind runs.
func (w *workerProc) kill(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = w.cmd.Wait()
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// slowServer serves body on /file; while slow is set it sends the first
// 1 KiB and then stalls until the client goes away (at most 60 s).
type slowServer struct {
	*httptest.Server
	slow     atomic.Bool
	requests atomic.Int32
}

func newSlowServer(t *testing.T, body []byte) *slowServer {
	s := &slowServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		switch r.URL.Path {
		case "/file":
		case "/missing":
			http.Error(w, "gone", http.StatusNotFound)
			return
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if !s.slow.Load() {
			_, _ = w.Write(body)
			return
		}
		_, _ = w.Write(body[:1024])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(60 * time.Second):
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func mustRead(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type mimeDecoder struct{ mime.WordDecoder }

func (d *mimeDecoder) decode(s string) (string, error) { return d.DecodeHeader(s) }

// cancelWhileRunning waits (up to startWithin) until the job runs a step
// for which atStep holds, lets it get into that step, cancels it, and
// fails the test unless the run ends cancelled within limit of the cancel.
// It returns the final job.
func cancelWhileRunning(t testing.TB, q *Queue, id string, startWithin time.Duration, atStep func(step string) bool, limit time.Duration) *Job {
	t.Helper()
	ctx := context.Background()
	waitFor(t, startWithin, "the run to reach the step to cancel", func() bool {
		j, _ := q.Get(ctx, "", id)
		return j != nil && j.State == StateRunning && j.Progress != nil && atStep(j.Progress.Step)
	})
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if _, err := q.Cancel(ctx, "alice", id); err != nil {
		t.Fatal(err)
	}
	j := waitFinal(t, q, id, 20*time.Second)
	took := time.Since(start)
	if j.State != StateCancelled {
		t.Fatalf("state %s (%q), want cancelled", j.State, j.Error)
	}
	if took > limit {
		t.Errorf("the cancel took %s to stop the run", took)
	}
	t.Logf("cancel stopped the run in %s", took.Round(time.Millisecond))
	return j
}
