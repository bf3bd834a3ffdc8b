package jobs

import (
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/migrate-chat/migrate/core/archive"
	"github.com/migrate-chat/migrate/core/container"
	"github.com/migrate-chat/migrate/core/pipeline"
	"github.com/migrate-chat/migrate/sdk"
)

// BenchmarkJobsPerHour measures how many small conversions (the sample
// archive, archive to archive) the embedded queue completes with one and
// with two workers: b.N jobs are queued at once and drained.
func BenchmarkJobsPerHour(b *testing.B) {
	sample := packSample(b)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			cfg := testConfig(b, b.TempDir())
			cfg.Workers = workers
			cfg.Log = zerolog.Nop()
			q := openQueue(b, cfg)
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			var ids []string
			for range b.N {
				j, err := q.Submit(ctx, "bench", Spec{From: "archive", To: "archive"}, nil, stage(b, q, "s.tar.gz", sample))
				if err != nil {
					b.Fatal(err)
				}
				ids = append(ids, j.ID)
			}
			for _, id := range ids {
				if j := waitFinal(b, q, id, 10*time.Minute); j.State != StateSucceeded {
					b.Fatalf("%s: %s", j.State, j.Error)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Hours(), "jobs/hour")
		})
	}
}

// BenchmarkServiceOverhead converts one larger canonical archive (100,000
// messages, packed as .tar.gz) to a .tar.gz, once by calling the pipeline
// as the command line does and once as a job through the queue (upload
// staging, queueing, heartbeats, reports on disk).
func BenchmarkServiceOverhead(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	writeCanonical(b, src, 100000)
	in := filepath.Join(dir, "in.tar.gz")
	f, err := os.Create(in)
	if err != nil {
		b.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if err := container.PackTar(context.Background(), src, zw, time.Time{}); err != nil {
		b.Fatal(err)
	}
	zw.Close()
	f.Close()

	b.Run("cli", func(b *testing.B) {
		for range b.N {
			res, err := pipeline.Run(context.Background(), pipeline.Request{From: "archive", To: "archive", Inputs: []string{in},
				Output: filepath.Join(dir, "cli.tar.gz"), Overwrite: true, Validate: true, TempDir: dir})
			if err != nil {
				b.Fatal(err)
			}
			res.Report.Close()
		}
	})
	b.Run("job", func(b *testing.B) {
		cfg := testConfig(b, b.TempDir())
		cfg.Workers = 1
		cfg.Log = zerolog.Nop()
		q := openQueue(b, cfg)
		ctx := context.Background()
		b.ResetTimer()
		for range b.N {
			fh, err := os.Open(in)
			if err != nil {
				b.Fatal(err)
			}
			st := stage(b, q, "in.tar.gz", fh)
			fh.Close()
			j, err := q.Submit(ctx, "bench", Spec{From: "archive", To: "archive"}, nil, st)
			if err != nil {
				b.Fatal(err)
			}
			// The generated workspace draws warnings (renamed users and
			// the like), as real ones do.
			if j := waitFinal(b, q, j.ID, 10*time.Minute); j.State != StateSucceeded && j.State != StateWithWarnings {
				b.Fatalf("%s: %s", j.State, j.Error)
			}
		}
	})
}

// writeCanonical writes a plain canonical archive of n messages from 1,000
// users in 20 rooms. (The realistic generator lives with the commands,
// which core may not import.)
func writeCanonical(b *testing.B, dir string, n int) {
	w, err := archive.Create(dir, archive.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	emit := func(r sdk.Record) {
		if err := w.Emit(r); err != nil {
			b.Fatal(err)
		}
	}
	emit(&sdk.Workspace{ID: "bench", Name: "Bench", SourceSystem: "gitter"})
	for u := range 1000 {
		emit(&sdk.User{ID: fmt.Sprint("u", u), Username: fmt.Sprint("user", u), Role: sdk.RoleMember})
	}
	for r := range 20 {
		emit(&sdk.Room{ID: fmt.Sprint("r", r), Name: fmt.Sprint("room ", r)})
	}
	start := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		emit(&sdk.Message{ID: fmt.Sprint("m", i), Kind: sdk.MessageNormal, Room: fmt.Sprint("r", i%20),
			Sender: fmt.Sprint("u", (i*7)%1000), SentAt: start.Add(time.Duration(i) * time.Second),
			Body: fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog", i)})
	}
	if _, err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
