package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// cliEnv makes the test binary run the migrate command line instead of
// the tests, so that tests can start real 'migrate serve' processes.
const cliEnv = "MIGRATE_TEST_RUN_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		env := func(k string) string { return os.Getenv(k) }
		ctx, stop := signalContext()
		code := runJobsCLI(ctx, env, os.Stdout, os.Stderr, os.Args[1:]...)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// runJobsCLI runs the command line in-process, as the binary would.
func runJobsCLI(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, args ...string) int {
	return newApp(strings.NewReader(""), stdout, stderr, getenv).run(ctx, append([]string{"--log-format", "json"}, args...))
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func jobsCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	// Workers of a local queue log from their own goroutines while the
	// command prints: the writers must take turns, as an *os.File does.
	var out, errb syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	code := runJobsCLI(ctx, func(k string) string { return env[k] }, &out, &errb, args...)
	return result{code, out.String(), errb.String()}
}

var addrRE = regexp.MustCompile(`"addr":"(http://[^"]+)"`)

// startServe runs 'migrate serve' in this process and returns its URL.
func startServe(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runJobsCLI(ctx, func(k string) string { return env[k] }, io.Discard, &errb, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s")
		}
		if t.Failed() {
			t.Logf("serve log:\n%s", errb.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(errb.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not listen:\n%s", errb.String())
	return ""
}

func TestJobsLocal(t *testing.T) {
	data := t.TempDir()
	r := jobsCLI(t, nil, "jobs", "--data-dir", data, "submit", "--from", "archive", "--to", "archive", sampleArchive)
	if r.code != 0 {
		t.Fatalf("submit: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	id := strings.Fields(r.stdout)[0]
	if !strings.Contains(r.stdout, "succeeded") {
		t.Errorf("submit output:\n%s", r.stdout)
	}
	// HipChat's spelling: --check without an ID shows the latest job.
	r = jobsCLI(t, nil, "jobs", "--data-dir", data, "--check")
	if r.code != 0 || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "succeeded") {
		t.Fatalf("--check: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	out := filepath.Join(t.TempDir(), "out.tar.gz")
	r = jobsCLI(t, nil, "jobs", "--data-dir", data, "download", id, "-o", out)
	if r.code != 0 {
		t.Fatalf("download: %d %s", r.code, r.stderr)
	}
	if err := exec.Command("tar", "-tzf", out, "manifest.json").Run(); err != nil {
		t.Errorf("the download is not a tar.gz with a manifest: %v", err)
	}
	r = jobsCLI(t, nil, "jobs", "--data-dir", data, "list")
	if r.code != 0 || !strings.Contains(r.stdout, id) {
		t.Fatalf("list: %d\n%s", r.code, r.stdout)
	}
	r = jobsCLI(t, nil, "jobs", "--data-dir", data, "--cancel", id)
	if r.code != exitFailed || !strings.Contains(r.stderr, "already ended") {
		t.Errorf("cancel of an ended job: %d %s", r.code, r.stderr)
	}
	r = jobsCLI(t, nil, "jobs", "--data-dir", data, "--purge-older-than", "7")
	if r.code != 0 || !strings.Contains(r.stdout, "Purged 0 jobs") {
		t.Errorf("purge older than 7 days: %d %s", r.code, r.stdout)
	}
	r = jobsCLI(t, nil, "jobs", "--data-dir", data, "purge", "--older-than", "0d")
	if r.code != 0 || !strings.Contains(r.stdout, id) {
		t.Errorf("purge: %d %s", r.code, r.stdout)
	}
	r = jobsCLI(t, nil, "jobs", "--data-dir", data, "purge", "--older-than", "soon")
	if r.code != exitUsage {
		t.Errorf("purge with a bad age: %d", r.code)
	}
}

func TestServeAndJobsOverHTTP(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	r := jobsCLI(t, nil, "serve", "--token-file", tokens, "--new-token", "support")
	if r.code != 0 {
		t.Fatalf("--new-token: %d %s", r.code, r.stderr)
	}
	tokFile := filepath.Join(dir, "tok")
	if err := os.WriteFile(tokFile, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	url := startServe(t, nil, "--data-dir", filepath.Join(dir, "data"), "--token-file", tokens, "--workers", "2", "--lease", "1500ms", "--heartbeat", "200ms")

	pass := filepath.Join(dir, "pw")
	_ = os.WriteFile(pass, []byte("not needed\n"), 0o600)
	r = jobsCLI(t, nil, "--passphrase-file", pass, "jobs", "--server", url, "--token-file", tokFile, "submit", "--from", "archive", "--to", "archive", "--wait", sampleArchive)
	if r.code != 0 {
		t.Fatalf("submit --wait: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	id := strings.Fields(r.stdout)[0]
	r = jobsCLI(t, nil, "jobs", "--server", url, "--token-file", tokFile, "--json", "check", id)
	if r.code != 0 || !strings.Contains(r.stdout, `"state": "succeeded"`) {
		t.Fatalf("check --json: %d\n%s", r.code, r.stdout)
	}
	out := filepath.Join(dir, "report.txt")
	r = jobsCLI(t, nil, "jobs", "--server", url, "--token-file", tokFile, "download", id, "--what", "report.txt", "-o", out)
	if b, _ := os.ReadFile(out); r.code != 0 || !strings.Contains(string(b), "succeeded") {
		t.Fatalf("download report: %d %s\n%s", r.code, r.stderr, b)
	}
	// A wrong token is refused; a wrong source is the caller's mistake.
	bad := filepath.Join(dir, "bad")
	_ = os.WriteFile(bad, []byte("mgt_wrong"), 0o600)
	if r = jobsCLI(t, nil, "jobs", "--server", url, "--token-file", bad, "list"); r.code != exitFailed || !strings.Contains(r.stderr, "401") {
		t.Errorf("wrong token: %d %s", r.code, r.stderr)
	}
	if r = jobsCLI(t, nil, "jobs", "--server", url, "--token-file", tokFile, "submit", "--from", "nope", "--to", "archive", "--url", "http://127.0.0.1:1/x"); r.code != exitUsage {
		t.Errorf("unknown source: %d %s", r.code, r.stderr)
	}
	// Without a token file serve refuses to listen beyond loopback.
	if r = jobsCLI(t, nil, "serve", "--data-dir", filepath.Join(dir, "d2"), "--listen", "0.0.0.0:0"); r.code != exitUsage {
		t.Errorf("open listen without tokens: %d %s", r.code, r.stderr)
	}
}

// TestServeWorkerOnlyProcessesSharePostgres runs two 'migrate serve
// --worker-only' processes and an HTTP-only 'migrate serve --no-workers'
// on one PostgreSQL queue, and submits through the HTTP one.
func TestServeWorkerOnlyProcessesSharePostgres(t *testing.T) {
	dsn := os.Getenv("MIGRATE_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MIGRATE_TEST_POSTGRES_DSN is unset in CI: .ci/run must source .ci/services.sh")
		}
		t.Skip("MIGRATE_TEST_POSTGRES_DSN is unset; `source .ci/services.sh` starts a PostgreSQL server and sets it")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("migrate_cli_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), dsn); err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	// The database URL travels in the environment, as the docs advise.
	env := map[string]string{databaseEnv: dsn + sep + "search_path=" + schema}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")

	var procs []*exec.Cmd
	for i := range 2 {
		cmd := exec.Command(os.Args[0], "serve", "--worker-only", "--data-dir", data, "--workers", "1", "--lease", "1500ms", "--heartbeat", "200ms")
		cmd.Env = append(os.Environ(), cliEnv+"=1", databaseEnv+"="+env[databaseEnv])
		var errb syncBuffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
		t.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			ch := make(chan struct{})
			go func() { _ = cmd.Wait(); close(ch) }()
			select {
			case <-ch:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-ch
			}
			if t.Failed() {
				t.Logf("worker %d:\n%s", i, errb.String())
			}
		})
	}
	tokens := filepath.Join(dir, "tokens")
	r := jobsCLI(t, nil, "serve", "--token-file", tokens, "--new-token", "support")
	tokFile := filepath.Join(dir, "tok")
	_ = os.WriteFile(tokFile, []byte(r.stdout), 0o600)
	url := startServe(t, env, "--no-workers", "--data-dir", data, "--token-file", tokens, "--lease", "1500ms", "--heartbeat", "200ms")

	var ids []string
	for range 6 {
		r := jobsCLI(t, nil, "jobs", "--server", url, "--token-file", tokFile, "submit", "--from", "archive", "--to", "archive", sampleArchive)
		if r.code != 0 {
			t.Fatalf("submit: %d %s", r.code, r.stderr)
		}
		ids = append(ids, strings.Fields(r.stdout)[0])
	}
	workers := map[string]bool{}
	workerRE := regexp.MustCompile(`"worker":"([^"]+)"`)
	for _, id := range ids {
		r := jobsCLI(t, nil, "jobs", "--server", url, "--token-file", tokFile, "check", "--wait", id)
		if r.code != 0 {
			t.Fatalf("job %s: %d\n%s\n%s", id, r.code, r.stdout, r.stderr)
		}
		b, _ := os.ReadFile(filepath.Join(data, "jobs", id, "job.log"))
		for _, m := range workerRE.FindAllStringSubmatch(string(b), -1) {
			workers[m[1]] = true
		}
	}
	if len(workers) != 2 {
		t.Errorf("the jobs ran on %d processes (%v), want both workers", len(workers), workers)
	}
	for _, p := range procs {
		if p.ProcessState != nil {
			t.Errorf("worker %d exited early", p.Process.Pid)
		}
	}
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
