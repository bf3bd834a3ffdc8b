package jobs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/core/plugin"
	"github.com/migrate-chat/migrate/sdk/conformance"
)

// TestCancelDuringPluginRun cancels jobs whose source is a plugin stuck in
// a loop that never looks at its context, in each plugin transport: the
// cancel must still end the run promptly and leave nothing behind.
func TestCancelDuringPluginRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		wasm bool
		file string
	}{
		{"wasm", true, "hostile.wasm"},
		{"process", false, "hostile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			built := conformance.Build(t, "../plugin/testdata/hostile", tc.wasm)
			dir := t.TempDir()
			b, err := os.ReadFile(built)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, tc.file), b, 0o755); err != nil {
				t.Fatal(err)
			}
			r, err := plugin.New(plugin.Config{Dirs: []string{dir}, CacheDir: conformance.CacheDir("test-cache")})
			if err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(t, t.TempDir())
			cfg.Resolver = r
			q := openQueue(t, cfg)
			ctx := context.Background()
			j, err := q.Submit(ctx, "alice", Spec{From: "hostile", To: "archive", SourceOptions: map[string]any{"mode": "loop"}},
				nil, stage(t, q, "data.txt", []byte("x")))
			if err != nil {
				t.Fatal(err)
			}
			j = cancelWhileRunning(t, q, j.ID, 60*time.Second, func(step string) bool { return strings.Contains(step, "hostile") }, 5*time.Second)
			assertNoLeftovers(t, q, j.ID)
		})
	}
}
