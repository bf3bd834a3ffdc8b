package jobs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/core/archive"
	"github.com/migrate-chat/migrate/core/container"
)

func TestConvertArchiveToArchive(t *testing.T) {
	q := openQueue(t, testConfig(t, t.TempDir()))
	ctx := context.Background()
	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive"}, nil, stage(t, q, "sample.tar.gz", packSample(t)))
	if err != nil {
		t.Fatal(err)
	}
	if j.State != StateQueued || j.Owner != "alice" || len(j.Inputs) != 1 || j.Inputs[0].Name != "sample.tar.gz" {
		t.Fatalf("submitted job: %+v", j)
	}
	j = waitFinal(t, q, j.ID, 60*time.Second)
	if j.State != StateSucceeded {
		t.Fatalf("state %s, error %q", j.State, j.Error)
	}
	out, err := q.Output(ctx, "alice", j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if out.Name != "converted-archive.tar.gz" {
		t.Fatalf("output name %q", out.Name)
	}
	// The output is a canonical archive that verifies, with the sample's
	// messages.
	u, err := container.Unwrap(ctx, out.Path, container.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	r, err := archive.Open(u.Dir, archive.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	src, err := archive.Open(sampleArchive, archive.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Counts(), src.Counts(); len(got) == 0 || got["message"] != want["message"] {
		t.Fatalf("counts %v, want %v", got, want)
	}
	for _, f := range []string{"report.json", "report.html", "report.txt", "job.log"} {
		if _, err := os.Stat(filepath.Join(q.jobDir(j.ID), f)); err != nil {
			t.Error(err)
		}
	}
	if j.Progress == nil || j.Progress.Steps < 2 {
		t.Errorf("progress %+v: want the steps the run went through", j.Progress)
	}
	// Another owner sees nothing.
	if _, err := q.Get(ctx, "mallory", j.ID); err != ErrNotFound {
		t.Fatalf("another owner's Get: %v", err)
	}
	if _, err := q.Output(ctx, "mallory", j.ID); err != ErrNotFound {
		t.Fatalf("another owner's Output: %v", err)
	}
}

func TestEncryptedInputWithPassphrase(t *testing.T) {
	q := openQueue(t, testConfig(t, t.TempDir()))
	ctx := context.Background()
	enc := encrypt(t, packSample(t), "s3cret pass")
	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive", OutputName: "copy.tar.gz.aes"},
		&Secrets{Passphrase: []byte("s3cret pass")}, stage(t, q, "export.tar.gz.aes", enc))
	if err != nil {
		t.Fatal(err)
	}
	// The passphrase is sealed at rest: the row holds no plain copy.
	r, err := q.st.get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.secret == "" || strings.Contains(r.secret, "s3cret") {
		t.Fatalf("secret column %q: want a sealed value", r.secret)
	}
	j = waitFinal(t, q, j.ID, 60*time.Second)
	if j.State != StateSucceeded {
		t.Fatalf("state %s: %s", j.State, j.Error)
	}
	// The output is encrypted with the same passphrase (no output
	// passphrase was given).
	out, err := q.Output(ctx, "alice", j.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, err := container.Unwrap(ctx, out.Path, container.Options{TempDir: t.TempDir(), Passphrase: func() ([]byte, error) { return []byte("s3cret pass"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	u.Close()
	// Once the run is over the sealed passphrase is gone from the row,
	// and the log never saw it.
	r, _ = q.st.get(ctx, j.ID)
	if r.secret != "" {
		t.Fatalf("secret left in the row after the run: %q", r.secret)
	}
	for _, f := range []string{"job.log", "report.json", "report.txt", "report.html"} {
		b, _ := os.ReadFile(filepath.Join(q.jobDir(j.ID), f))
		if bytes.Contains(b, []byte("s3cret")) {
			t.Errorf("%s contains the passphrase", f)
		}
	}
}

func TestWrongPassphraseFails(t *testing.T) {
	q := openQueue(t, testConfig(t, t.TempDir()))
	ctx := context.Background()
	enc := encrypt(t, packSample(t), "right")
	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive"}, &Secrets{Passphrase: []byte("wrong")}, stage(t, q, "export.tar.gz.aes", enc))
	if err != nil {
		t.Fatal(err)
	}
	j = waitFinal(t, q, j.ID, 60*time.Second)
	if j.State != StateFailed || !strings.Contains(j.Error, "Couldn't decrypt the archive file") {
		t.Fatalf("state %s, error %q: want failed with HipChat's wrong-password message", j.State, j.Error)
	}
	if j.Attempts != 1 {
		t.Errorf("attempts %d: a wrong passphrase is not retried", j.Attempts)
	}
	assertNoLeftovers(t, q, j.ID)

	// Without any passphrase the job says how to fix it.
	j, err = q.Submit(ctx, "alice", Spec{From: "archive", To: "archive"}, nil, stage(t, q, "export.tar.gz.aes", enc))
	if err != nil {
		t.Fatal(err)
	}
	j = waitFinal(t, q, j.ID, 60*time.Second)
	if j.State != StateFailed || !strings.Contains(j.Error, "submitted without a passphrase") {
		t.Fatalf("state %s, error %q", j.State, j.Error)
	}
}

// assertNoLeftovers checks that a finished job left no scratch space, no
// partial download and no output that could pass for complete.
func assertNoLeftovers(t *testing.T, q *Queue, id string) {
	t.Helper()
	j, err := q.Get(context.Background(), "", id)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range listDir(t, q.jobDir(id)) {
		switch {
		case strings.HasPrefix(f, "work-"), strings.HasSuffix(f, ".part"), strings.Contains(f, ".tmp"):
			t.Errorf("job %s left %s behind", id, f)
		case strings.HasPrefix(f, "output"+string(filepath.Separator)) && (j.State == StateFailed || j.State == StateCancelled):
			t.Errorf("job %s is %s but has an output %s", id, j.State, f)
		}
	}
	staged, _ := os.ReadDir(filepath.Join(q.cfg.DataDir, "staging"))
	if len(staged) != 0 {
		t.Errorf("staging directory not empty: %d entries", len(staged))
	}
}

func TestSubmitRefusesBadSpecs(t *testing.T) {
	q := openQueue(t, testConfig(t, t.TempDir()))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"unknown source", Spec{From: "slack", To: "archive", URLs: []string{"http://127.0.0.1/x"}}, `unknown source "slack"`},
		{"no input", Spec{From: "archive", To: "archive"}, "no input"},
		{"ftp URL", Spec{From: "archive", To: "archive", URLs: []string{"ftp://127.0.0.1/x"}}, "only http:// and https://"},
		{"file URL", Spec{From: "archive", To: "archive", URLs: []string{"file:///etc/passwd"}}, "only http:// and https://"},
		{"bad output name", Spec{From: "archive", To: "archive", URLs: []string{"http://127.0.0.1/x"}, OutputName: "../x.tar.gz"}, "plain file name"},
		{"directory output", Spec{From: "archive", To: "archive", URLs: []string{"http://127.0.0.1/x"}, OutputName: "out"}, "so that it downloads as one file"},
		{"bad address", Spec{From: "archive", To: "archive", URLs: []string{"http://127.0.0.1/x"}, Notify: []string{"not an address"}}, "notify address"},
		{"unknown option", Spec{From: "archive", To: "archive", URLs: []string{"http://127.0.0.1/x"}, SourceOptions: map[string]any{"x": 1}}, `no source option "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := q.Submit(ctx, "alice", tc.spec, nil, nil)
			var se *SpecError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v: want a SpecError saying %q", err, tc.want)
			}
		})
	}
	if l, _ := q.List(ctx, "", 10); len(l) != 0 {
		t.Fatalf("refused submissions left %d jobs", len(l))
	}
}

func TestUploadLimit(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.MaxInputBytes = 1000
	q := openQueue(t, cfg)
	st, err := q.NewStaging()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	if err := st.Add("a.json", bytes.NewReader(make([]byte, 600))); err != nil {
		t.Fatal(err)
	}
	err = st.Add("b.json", bytes.NewReader(make([]byte, 600)))
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("second file: %v, want a LimitError", err)
	}
}

func TestURLInputs(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.FetchTimeout = 1500 * time.Millisecond
	q := openQueue(t, cfg)
	ctx := context.Background()
	body := packSample(t)
	srv := newSlowServer(t, body)

	j, err := q.Submit(ctx, "alice", Spec{From: "archive", To: "archive", URLs: []string{srv.URL + "/file"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	j = waitFinal(t, q, j.ID, 60*time.Second)
	if j.State != StateSucceeded || j.Inputs[0].Size != int64(len(body)) || j.Inputs[0].URL == "" {
		t.Fatalf("fetched job: %s %q %+v", j.State, j.Error, j.Inputs)
	}

	j, err = q.Submit(ctx, "alice", Spec{From: "archive", To: "archive", URLs: []string{srv.URL + "/missing?sig=SECRET"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	j = waitFinal(t, q, j.ID, 60*time.Second)
	if j.State != StateFailed || !strings.Contains(j.Error, "404") || strings.Contains(j.Error, "SECRET") {
		t.Fatalf("404: state %s, error %q: want failed, naming the status but not the query", j.State, j.Error)
	}
	assertNoLeftovers(t, q, j.ID)

	srv.slow.Store(true)
	start := time.Now()
	j, err = q.Submit(ctx, "alice", Spec{From: "archive", To: "archive", URLs: []string{srv.URL + "/file"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	j = waitFinal(t, q, j.ID, 60*time.Second)
	if j.State != StateFailed || !strings.Contains(j.Error, "took longer than 1.5s") {
		t.Fatalf("slow URL: state %s, error %q", j.State, j.Error)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the fetch timeout took %s to act", d)
	}
	assertNoLeftovers(t, q, j.ID)

	cfg2 := testConfig(t, t.TempDir())
	cfg2.MaxInputBytes = 500
	q2 := openQueue(t, cfg2)
	srv.slow.Store(false)
	j, err = q2.Submit(ctx, "alice", Spec{From: "archive", To: "archive", URLs: []string{srv.URL + "/file"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	j = waitFinal(t, q2, j.ID, 60*time.Second)
	if j.State != StateFailed || !strings.Contains(j.Error, "more than this server accepts") {
		t.Fatalf("oversized URL: state %s, error %q", j.State, j.Error)
	}
	assertNoLeftovers(t, q2, j.ID)
}

func TestPurge(t *testing.T) {
	q := openQueue(t, testConfig(t, t.TempDir()))
	ctx := context.Background()
	var ids []string
	for _, owner := range []string{"alice", "bob"} {
		j, err := q.Submit(ctx, owner, Spec{From: "archive", To: "archive"}, nil, stage(t, q, "s.tar.gz", packSample(t)))
		if err != nil {
			t.Fatal(err)
		}
		waitFinal(t, q, j.ID, 60*time.Second)
		ids = append(ids, j.ID)
	}
	// A fresh job is not older than a day.
	if got, err := q.Purge(ctx, "", 24*time.Hour); err != nil || len(got) != 0 {
		t.Fatalf("purge older than 1d: %v %v", got, err)
	}
	// An owner purges only their own jobs.
	got, err := q.Purge(ctx, "bob", 0)
	if err != nil || len(got) != 1 || got[0] != ids[1] {
		t.Fatalf("bob's purge: %v %v", got, err)
	}
	if _, err := os.Stat(q.jobDir(ids[1])); !os.IsNotExist(err) {
		t.Fatalf("bob's job directory is still there: %v", err)
	}
	if _, err := os.Stat(q.jobDir(ids[0])); err != nil {
		t.Fatalf("alice's job directory went: %v", err)
	}
	j, err := q.Get(ctx, "bob", ids[1])
	if err != nil || j.Purged == nil {
		t.Fatalf("purged job: %+v %v", j, err)
	}
	if _, err := q.Output(ctx, "bob", ids[1]); !errors.Is(err, ErrPurged) {
		t.Fatalf("output of a purged job: %v", err)
	}
}

func TestParseAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"7", 7 * 24 * time.Hour, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"36h", 36 * time.Hour, false},
		{"0", 0, false},
		{"1.5d", 36 * time.Hour, false},
		{"-1", 0, true},
		{"seven", 0, true},
		{"", 0, true},
		{"7y", 0, true},
		{"NaN", 0, true},
		{"Inf", 0, true},
	} {
		got, err := ParseAge(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("ParseAge(%q) = %v, %v", tc.in, got, err)
		}
	}
}
