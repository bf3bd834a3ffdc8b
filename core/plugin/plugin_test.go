package plugin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/core/pipeline"
	"github.com/migrate-chat/migrate/core/plugin"
	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
	"github.com/migrate-chat/migrate/sdk/conformance"
)

const irclogCmd = "github.com/migrate-chat/migrate/examples/irclog/cmd/"

// run converts inputs with the adapter the resolver finds for from, into
// the canonical archive, and returns the output directory (which must
// not exist after a failure) and the error.
func run(t *testing.T, r pipeline.Resolver, from string, opts sdk.Options, inputs ...string) (string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	_, err := pipeline.Run(context.Background(), pipeline.Request{
		From: from, To: pipeline.ArchiveName, Inputs: inputs, Output: out,
		SourceOptions: opts, Resolver: r, TempDir: t.TempDir(),
		Slog: func(string) *slog.Logger {
			if os.Getenv("MIGRATE_TEST_LOG") != "" {
				return slog.New(slog.NewTextHandler(os.Stderr, nil))
			}
			return slog.New(slog.DiscardHandler)
		},
	})
	return out, err
}

// MIGRATE_TEST_LOG=1 shows what plugins log.

func newResolver(t *testing.T, cfg plugin.Config) *plugin.Resolver {
	t.Helper()
	if os.Getenv("MIGRATE_TEST_LOG") != "" {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = conformance.CacheDir("test-cache")
	}
	r, err := plugin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPipelineRunsPluginsInEachTransport(t *testing.T) {
	wasmPath := conformance.Build(t, irclogCmd+"irclog-wasm", true)
	exe := conformance.Build(t, irclogCmd+"irclog-plugin", false)
	in := "../../examples/irclog/testdata/network"
	var trees []map[string][]byte
	for _, tc := range []struct {
		name string
		cfg  plugin.Config
		from string
	}{
		{"wasm in a worker", plugin.Config{}, wasmPath},
		{"wasm in-process", plugin.Config{InProcess: true}, wasmPath},
		{"process", plugin.Config{}, exe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, newResolver(t, tc.cfg), tc.from, nil, in)
			if err != nil {
				t.Fatal(err)
			}
			tree := adaptertest.ReadTree(t, out)
			if len(tree["messages.ndjson"]) == 0 {
				t.Fatalf("no messages in the archive: %v", keys(tree))
			}
			trees = append(trees, tree)
		})
	}
	for i := 1; i < len(trees); i++ {
		for name, b := range trees[0] {
			if name == "manifest.json" {
				continue // names the adapter's origin
			}
			if !bytes.Equal(b, trees[i][name]) {
				t.Errorf("archive file %s differs between transports", name)
			}
		}
	}
}

func keys(m map[string][]byte) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}

// TestHostilePlugins runs adapters that misbehave; each must be stopped
// with an error that says what happened, leave no output, and leave the
// host able to go on.
func TestHostilePlugins(t *testing.T) {
	wasmPath := conformance.Build(t, "./testdata/hostile", true)
	exe := conformance.Build(t, "./testdata/hostile", false)

	input := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("TOP-SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(input, secret)
	if err := os.Symlink(rel, filepath.Join(input, "link-relative")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(input, "link-absolute")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(input, "data.txt"), []byte("x"), 0o644)

	cfg := plugin.Config{Timeout: 3 * time.Second, MemoryLimit: 64 << 20}
	for _, tc := range []struct {
		name, from, mode string
		want             []string
		not              []string
		// timeout overrides the 3 s limit where the memory cap, not the
		// clock, must be what stops the plugin, however loaded the machine.
		timeout time.Duration
	}{
		{"wasm loops forever", wasmPath, "loop", []string{"hostile.wasm stopped", "ran longer than the 3s limit"}, nil, 0},
		{"process loops forever", exe, "loop", []string{"stopped", "ran longer than the 3s limit"}, nil, 0},
		{"wasm allocates without bound", wasmPath, "alloc", []string{"out of memory"}, nil, 2 * time.Minute},
		{"wasm panics", wasmPath, "panic", []string{"the adapter panicked: boom from the plugin"}, nil, 0},
		{"process panics", exe, "panic", []string{"the adapter panicked: boom from the plugin"}, nil, 0},
		{"wasm emits an invalid record", wasmPath, "invalid", []string{"message", "m1"}, nil, 0},
		{"process emits an invalid record", exe, "invalid", []string{"message", "m1"}, nil, 0},
		{"wasm tries to escape", wasmPath, "escape", []string{
			"blocked host path", "blocked planted relative symlink", "blocked planted absolute symlink",
			"blocked symlink made in scratch", "blocked dot-dot from scratch",
		}, []string{"ESCAPED", "TOP-SECRET", "root:", "SCRATCH BROKEN"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			c := cfg
			if tc.timeout > 0 {
				c.Timeout = tc.timeout
			}
			out, err := run(t, newResolver(t, c), tc.from, sdk.Options{"mode": tc.mode}, input)
			if err == nil {
				t.Fatal("the run succeeded")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(msg, n) {
					t.Errorf("error contains %q:\n%s", n, msg)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output %s was left behind (%v)", out, err)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %s to stop", d)
			}
		})
	}
	// The host goes on: the same plugins still convert when they behave.
	for _, from := range []string{wasmPath, exe} {
		if _, err := run(t, newResolver(t, cfg), from, sdk.Options{"mode": "ok"}, input); err != nil {
			t.Errorf("%s after the hostile runs: %v", filepath.Base(from), err)
		}
	}
}

func TestProtocolVersionMismatch(t *testing.T) {
	wasmPath := conformance.Build(t, "./testdata/hostile", true)
	bin, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	// A module from a future SDK: same code, a newer protocol export.
	future := bytes.Replace(bin, []byte("migrate_protocol_1"), []byte("migrate_protocol_9"), 1)
	if bytes.Equal(future, bin) {
		t.Fatal("the module has no migrate_protocol_1 export")
	}
	futurePath := filepath.Join(t.TempDir(), "future.wasm")
	os.WriteFile(futurePath, future, 0o644)
	r := newResolver(t, plugin.Config{})
	_, err = r.Resolve(context.Background(), futurePath)
	want := "plugin future.wasm speaks protocol 9, this migrate speaks 1: upgrade migrate or use an older plugin"
	if err == nil || err.Error() != want {
		t.Errorf("wasm: got %v\nwant %s", err, want)
	}

	exe := conformance.Build(t, "./testdata/newproto", false)
	_, err = r.Resolve(context.Background(), exe)
	want = "plugin newproto speaks protocol 99, this migrate speaks 1: upgrade migrate or use an older plugin"
	if err == nil || err.Error() != want {
		t.Errorf("process: got %v\nwant %s", err, want)
	}

	notPlugin := filepath.Join(t.TempDir(), "empty.wasm")
	os.WriteFile(notPlugin, []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	if _, err := r.Resolve(context.Background(), notPlugin); err == nil || !strings.Contains(err.Error(), "not a migrate adapter") {
		t.Errorf("a module without the export: got %v", err)
	}
}

func TestChecksumPins(t *testing.T) {
	exe := conformance.Build(t, "./testdata/hostile", false)
	b, _ := os.ReadFile(exe)
	good := sha256.Sum256(b)
	bad := sha256.Sum256([]byte("something else"))
	for _, tc := range []struct {
		name string
		pins map[string][]byte
		ok   bool
	}{
		{"pinned by adapter name, matching", map[string][]byte{"hostile": good[:]}, true},
		{"pinned by adapter name, not matching", map[string][]byte{"hostile": bad[:]}, false},
		{"pinned by file name, not matching", map[string][]byte{filepath.Base(exe): bad[:]}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newResolver(t, plugin.Config{Checksums: tc.pins})
			res, err := r.Resolve(context.Background(), exe)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				res.Close()
				return
			}
			if err == nil {
				res.Close()
				t.Fatal("a plugin whose checksum does not match was accepted")
			}
			if !strings.Contains(err.Error(), "refusing to run it") {
				t.Errorf("unclear error: %v", err)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, conformance.Build(t, irclogCmd+"irclog-wasm", true), filepath.Join(dir, "irclog.wasm"))
	copyFile(t, conformance.Build(t, irclogCmd+"irclog-plugin", false), filepath.Join(dir, "migrate-adapter-irclog"))
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a plugin"), 0o644)

	ctx := context.Background()
	for _, tr := range []string{"", plugin.WASM, plugin.Process} {
		r := newResolver(t, plugin.Config{Dirs: []string{dir, filepath.Join(dir, "missing")}, Transport: tr})
		list, err := r.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for _, a := range list {
			if a.Manifest.Name == "irclog" {
				found = append(found, a.Transport)
			}
		}
		if len(found) != 2 {
			t.Errorf("List found irclog as %v, want a wasm and a process plugin", found)
		}
		res, err := r.Resolve(ctx, "irclog")
		if err != nil {
			t.Fatalf("transport %q: %v", tr, err)
		}
		if tr != "" && res.Info.Transport != tr {
			t.Errorf("transport %q: resolved the %s plugin", tr, res.Info.Transport)
		}
		if res.Close != nil {
			res.Close()
		}
	}
	r := newResolver(t, plugin.Config{Dirs: []string{dir}, Transport: plugin.WASM})
	if _, err := r.Resolve(ctx, "nosuch"); err == nil || !strings.Contains(err.Error(), "unknown adapter") {
		t.Errorf("unknown name: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
