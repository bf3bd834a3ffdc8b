package jobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresDSN returns a DSN for a fresh schema of the test server, dropped
// at the end. Without MIGRATE_TEST_POSTGRES_DSN the test is skipped, except
// in CI, where .ci/services.sh must have set it.
func postgresDSN(t *testing.T) string {
	t.Helper()
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
		t.Fatalf("MIGRATE_TEST_POSTGRES_DSN: %v", err)
	}
	defer conn.Close(ctx)
	schema := "migrate_test_" + randomID(6)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

var workerRE = regexp.MustCompile(`"worker":"([^"]+)"`)

// runWorkers reads which workers started runs of a job, from its log.
func runWorkers(t *testing.T, q *Queue, id string) []string {
	var out []string
	for _, m := range workerRE.FindAllStringSubmatch(mustRead(t, filepath.Join(q.jobDir(id), "job.log")), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestPostgresTwoWorkerProcesses runs jobs on two worker processes that
// share one PostgreSQL queue and one data directory, submitted from a
// third process that runs no workers.
func TestPostgresTwoWorkerProcesses(t *testing.T) {
	dsn := postgresDSN(t)
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Database, cfg.Workers = dsn, 0
	q := openQueue(t, cfg)
	startWorker(t, dir, dsn, cfg)
	startWorker(t, dir, dsn, cfg)
	ctx := context.Background()
	sample := packSample(t)
	var ids []string
	for i := range 8 {
		j, err := q.Submit(ctx, fmt.Sprintf("owner%d", i%2), Spec{From: "archive", To: "archive"}, nil, stage(t, q, "s.tar.gz", sample))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	workers := map[string]int{}
	for _, id := range ids {
		j := waitFinal(t, q, id, 90*time.Second)
		if j.State != StateSucceeded || j.Attempts != 1 {
			t.Errorf("job %s: %s after %d attempts: %q", id, j.State, j.Attempts, j.Error)
		}
		ws := runWorkers(t, q, id)
		if len(ws) != 1 {
			t.Errorf("job %s ran %d times: %v", id, len(ws), ws)
		}
		for _, w := range ws {
			workers[w]++
		}
	}
	if len(workers) != 2 {
		t.Errorf("the jobs ran on %d worker processes (%v); want both", len(workers), workers)
	}
	t.Logf("jobs per worker: %v", workers)
}

// TestPostgresKillAndCancelAcrossProcesses kills the worker process that
// holds a job (the other process takes it over), then cancels a job that
// runs in another process.
func TestPostgresKillAndCancelAcrossProcesses(t *testing.T) {
	dsn := postgresDSN(t)
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Database, cfg.Workers = dsn, 0
	q := openQueue(t, cfg)
	procs := []*workerProc{startWorker(t, dir, dsn, cfg), startWorker(t, dir, dsn, cfg)}
	ctx := context.Background()
	srv := newSlowServer(t, packSample(t))
	srv.slow.Store(true)

	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive", URLs: []string{srv.URL + "/file"}}, &Secrets{Passphrase: []byte("pw")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var holder string
	waitFor(t, 30*time.Second, "a worker to be fetching", func() bool {
		r, _ := q.st.get(ctx, j.ID)
		holder = r.leaseOwner
		return r.state == StateRunning && r.progress != nil && r.progress.Done > 0
	})
	var survivor *workerProc
	for _, p := range procs {
		if strings.Contains(holder, fmt.Sprintf("/%d/", p.cmd.Process.Pid)) {
			p.kill(t)
		} else {
			survivor = p
		}
	}
	if survivor == nil || len(procs) == 0 {
		t.Fatalf("the lease holder %q is neither worker", holder)
	}
	srv.slow.Store(false)
	j = waitFinal(t, q, j.ID, 60*time.Second)
	if j.State != StateSucceeded || j.Attempts != 2 {
		t.Fatalf("after the kill: %s, %d attempts, %q", j.State, j.Attempts, j.Error)
	}
	if ws := runWorkers(t, q, j.ID); len(ws) != 2 || ws[0] == ws[1] {
		t.Errorf("runs by %v: want one by each worker", ws)
	}
	assertNoLeftovers(t, q, j.ID)

	// Cancel from this process a job that runs in the survivor.
	srv.slow.Store(true)
	j, err = q.Submit(ctx, "alice", Spec{From: "archive", To: "archive", URLs: []string{srv.URL + "/file"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the survivor to be fetching", func() bool {
		j, _ = q.Get(ctx, "", j.ID)
		return j.State == StateRunning && j.Progress != nil && j.Progress.Done > 0
	})
	start := time.Now()
	if _, err := q.Cancel(ctx, "alice", j.ID); err != nil {
		t.Fatal(err)
	}
	j = waitFinal(t, q, j.ID, 20*time.Second)
	if j.State != StateCancelled {
		t.Fatalf("state %s, want cancelled", j.State)
	}
	t.Logf("cancel across processes took %s", time.Since(start).Round(time.Millisecond))
	assertNoLeftovers(t, q, j.ID)
}
