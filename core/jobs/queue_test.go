package jobs

import (
	"context"
	"os"
	"path/filepath"
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
