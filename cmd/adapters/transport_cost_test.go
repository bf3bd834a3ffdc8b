package adapters_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/core/pipeline"
	"github.com/migrate-chat/migrate/core/plugin"
	"github.com/migrate-chat/migrate/sdk/conformance"

	_ "github.com/migrate-chat/migrate/plugins/gitter"
)

// TestTransportCosts measures the Gitter source over a large export in
// each transport, in one run, and logs times as ratios to native, plus
// start-up times with a cold and a warm compilation cache. It needs an
// export: MIGRATE_PLUGIN_BENCH=gitter_data.json (make one with
// go run ./cmd/migrate-gen --format gitter-rest --messages 100000 -o FILE).
func TestTransportCosts(t *testing.T) {
	export := os.Getenv("MIGRATE_PLUGIN_BENCH")
	if export == "" {
		t.Skip("set MIGRATE_PLUGIN_BENCH to a Gitter export to measure")
	}
	wasmPath := conformance.Build(t, "github.com/migrate-chat/migrate/cmd/adapters/gitter", true)
	exe := conformance.Build(t, "github.com/migrate-chat/migrate/cmd/adapters/gitter", false)
	ctx := context.Background()

	// Start-up: resolving a plugin starts it and reads its manifest.
	cold := t.TempDir()
	for _, tc := range []struct {
		name, path, cache string
		inProcess         bool
	}{
		{"wasm worker, cold cache", wasmPath, cold, false},
		{"wasm worker, warm cache", wasmPath, cold, false},
		{"wasm in-process, cold cache", wasmPath, t.TempDir(), true},
		{"process", exe, cold, false},
	} {
		r := newResolver(t, plugin.Config{CacheDir: tc.cache, InProcess: tc.inProcess})
		start := time.Now()
		res, err := r.Resolve(ctx, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("start-up, %s: %v", tc.name, time.Since(start).Round(time.Millisecond))
		res.Close()
	}

	var native time.Duration
	for _, tc := range []struct {
		name, from string
		cfg        plugin.Config
	}{
		{"native", "gitter", plugin.Config{}},
		{"wasm worker", wasmPath, plugin.Config{CacheDir: cold}},
		{"wasm in-process (cancellable loops)", wasmPath, plugin.Config{CacheDir: cold, InProcess: true}},
		{"process", exe, plugin.Config{CacheDir: cold}},
	} {
		r := newResolver(t, tc.cfg)
		out := filepath.Join(t.TempDir(), "out")
		start := time.Now()
		res, err := pipeline.Run(ctx, pipeline.Request{From: tc.from, To: pipeline.ArchiveName, Inputs: []string{export},
			Output: out, Resolver: r, TempDir: t.TempDir(), Validate: true})
		d := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if native == 0 {
			native = d
		}
		var self, kids syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &self)
		syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
		t.Logf("%-38s %8v  %.2f× native  messages=%d  peak RSS: host so far %d MiB, largest child so far %d MiB",
			tc.name, d.Round(time.Millisecond), float64(d)/float64(native), res.Counts["message"], self.Maxrss>>10, kids.Maxrss>>10)
	}
}

func newResolver(t *testing.T, cfg plugin.Config) *plugin.Resolver {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = conformance.CacheDir("test-cache")
	}
	r, err := plugin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
