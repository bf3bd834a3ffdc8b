package jobs

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/core/container"
)

// bombInput is an encrypted gzip stream that unpacks to n GiB of zeros:
// 4 MiB on disk, seconds of decryption and decompression.
func bombInput(t *testing.T, gib int, pass string) []byte {
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestSpeed)
	if _, err := zw.Write(make([]byte, 64<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	// Concatenated gzip members are one stream to a reader.
	plain := bytes.Repeat(member.Bytes(), gib*16)
	return encrypt(t, plain, pass)
}

func TestCancelDuringDecryption(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	// The bomb is only a slow input here: let it through the ratio check.
	cfg.Limits = container.Limits{MaxRatio: -1}
	q := openQueue(t, cfg)
	ctx := context.Background()
	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive"}, &Secrets{Passphrase: []byte("pw")},
		stage(t, q, "big.tar.gz.aes", bombInput(t, 8, "pw")))
	if err != nil {
		t.Fatal(err)
	}
	j = cancelWhileRunning(t, q, j.ID, 30*time.Second, func(step string) bool { return strings.HasPrefix(step, "unpacking") }, 3*time.Second)
	assertNoLeftovers(t, q, j.ID)
	r, _ := q.st.get(ctx, j.ID)
	if r.secret != "" {
		t.Error("the sealed passphrase outlived the cancelled run")
	}
	if _, err := q.Cancel(ctx, "alice", j.ID); err != ErrFinal {
		t.Errorf("cancelling again: %v, want ErrFinal", err)
	}
}

func TestCancelQueued(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Workers = 0
	q := openQueue(t, cfg)
	ctx := context.Background()
	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive"}, &Secrets{Passphrase: []byte("pw")}, stage(t, q, "s.tar.gz", packSample(t)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Cancel(ctx, "bob", j.ID); err != ErrNotFound {
		t.Fatalf("another owner's cancel: %v", err)
	}
	j, err = q.Cancel(ctx, "alice", j.ID)
	if err != nil || j.State != StateCancelled {
		t.Fatalf("cancel: %+v %v", j, err)
	}
	if r, _ := q.st.get(ctx, j.ID); r.secret != "" {
		t.Error("the sealed passphrase outlived the cancel")
	}
}

// TestKillWorkerMidJob kills a worker process with SIGKILL while it is
// fetching a job's input. The lease lapses, the job goes back to the
// queue, the next worker runs it from the start, and nothing partial of
// the dead run is left or taken for complete.
func TestKillWorkerMidJob(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Workers = 0
	srv := newSlowServer(t, packSample(t))
	srv.slow.Store(true)

	// The submitting process runs no workers, only the upkeep.
	q := openQueue(t, cfg)
	ctx := context.Background()
	w1 := startWorker(t, dir, "", cfg)
	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive", URLs: []string{srv.URL + "/file"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the worker to be fetching", func() bool {
		j, _ = q.Get(ctx, "", j.ID)
		return j.State == StateRunning && j.Progress != nil && strings.HasPrefix(j.Progress.Step, "fetching") && j.Progress.Done > 0
	})
	w1.kill(t)
	if _, err := os.Stat(filepath.Join(q.jobDir(j.ID), "input", j.Inputs[0].Name+".part")); err != nil {
		t.Fatalf("the killed worker should have left its partial download (which must not be used): %v", err)
	}
	killed := time.Now()
	srv.slow.Store(false)
	startWorker(t, dir, "", cfg)
	j = waitFinal(t, q, j.ID, 60*time.Second)
	if j.State != StateSucceeded || j.Attempts != 2 {
		t.Fatalf("after the kill: state %s, attempts %d, error %q: want succeeded on the 2nd attempt", j.State, j.Attempts, j.Error)
	}
	t.Logf("recovered %s after the kill", time.Since(killed).Round(time.Millisecond))
	if srv.requests.Load() != 2 {
		t.Errorf("%d fetches: want the input fetched again whole", srv.requests.Load())
	}
	assertNoLeftovers(t, q, j.ID)
	log, _ := os.ReadFile(filepath.Join(q.jobDir(j.ID), "job.log"))
	if n := strings.Count(string(log), `"run started"`); n != 2 {
		t.Errorf("job.log shows %d runs, want 2:\n%s", n, log)
	}
}

// TestWorkerDyingEveryTimeFails gives up on a job whose worker dies on
// each of its attempts, and says why.
func TestWorkerDyingEveryTimeFails(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Workers = 0
	cfg.MaxAttempts = 1
	srv := newSlowServer(t, packSample(t))
	srv.slow.Store(true)
	q := openQueue(t, cfg)
	ctx := context.Background()
	w := startWorker(t, dir, "", cfg)
	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive", URLs: []string{srv.URL + "/file"}}, &Secrets{Passphrase: []byte("pw")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the worker to be fetching", func() bool {
		j, _ = q.Get(ctx, "", j.ID)
		return j.State == StateRunning && j.Progress != nil && j.Progress.Done > 0
	})
	w.kill(t)
	j = waitFinal(t, q, j.ID, 30*time.Second)
	if j.State != StateFailed || !strings.Contains(j.Error, "stopped without finishing it, 1 times out of 1") {
		t.Fatalf("state %s, error %q", j.State, j.Error)
	}
	if r, _ := q.st.get(ctx, j.ID); r.secret != "" {
		t.Error("the sealed passphrase outlived the failed job")
	}
	assertNoLeftovers(t, q, j.ID)
}

// TestRestartLosesNoJob stops the service with jobs queued and one
// running; after a restart all of them complete.
func TestRestartLosesNoJob(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := testConfig(t, dir)
	cfg.Workers = 1
	srv := newSlowServer(t, packSample(t))
	srv.slow.Store(true)

	q, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	running, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive", URLs: []string{srv.URL + "/file"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var queued []string
	for range 3 {
		j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive"}, nil, stage(t, q, "s.tar.gz", packSample(t)))
		if err != nil {
			t.Fatal(err)
		}
		queued = append(queued, j.ID)
	}
	waitFor(t, 30*time.Second, "the first job to be fetching", func() bool {
		j, _ := q.Get(ctx, "", running.ID)
		return j.State == StateRunning && j.Progress != nil && j.Progress.Done > 0
	})
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	if err := q.Close(sctx); err != nil {
		t.Fatal(err)
	}
	cancel()

	srv.slow.Store(false)
	q2 := openQueue(t, cfg)
	for _, id := range append(queued, running.ID) {
		j := waitFinal(t, q2, id, 60*time.Second)
		if j.State != StateSucceeded {
			t.Errorf("job %s after the restart: %s %q", id, j.State, j.Error)
		}
		if id == running.ID && j.Attempts != 1 {
			t.Errorf("the interrupted job counts %d attempts: a clean shutdown is not a failed attempt", j.Attempts)
		}
		assertNoLeftovers(t, q2, id)
	}
}
