// Package conformance checks an adapter the way migrate will run it: over
// its author's sample inputs, in every transport — in-process, as a
// WebAssembly module and as a plugin process — demanding valid records,
// resolved references, deterministic output, and byte-identical canonical
// output from every transport.
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Config{
//			Adapter:        &mychat.Source{},
//			Inputs:         []string{"testdata/small", "testdata/export.json"},
//			WASMPackage:    "example.com/mychat/cmd/mychat-wasm",
//			ProcessPackage: "example.com/mychat/cmd/mychat-plugin",
//		})
//	}
//
// The kit builds the packages itself (once per test binary; the outputs
// are kept in the user's cache directory between runs) or takes
// ready-built files in WASM and Process.
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
	"github.com/migrate-chat/migrate/sdk/plugin"
	"github.com/migrate-chat/migrate/sdk/wasm"
)

// Config says what to check.
type Config struct {
	// Adapter is the adapter in-process: the reference every other
	// transport must match.
	Adapter sdk.Adapter
	// Inputs are sample inputs, files or directories; each is one run.
	Inputs []string
	// Options are passed to every run.
	Options sdk.Options

	// WASM is a built module; WASMPackage a package to build as one
	// (GOOS=wasip1 GOARCH=wasm). Either enables the wasm transport.
	WASM, WASMPackage string
	// Process is a built plugin executable; ProcessPackage a package to
	// build as one. Either enables the process transport.
	Process, ProcessPackage string

	// DataSource reads Inputs into the datasets a target is run over; by
	// default the adapter itself, when it is also a source.
	DataSource sdk.Source

	// Timeout bounds each run; 0 means two minutes.
	Timeout time.Duration
}

// transport is one way of running the adapter.
type transport struct {
	name    string
	adapter sdk.Adapter
}

// Run checks the adapter. It fails t on the first run that goes wrong in
// each transport, naming the input, the transport and the difference.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.Adapter == nil {
		t.Fatal("conformance: Config.Adapter is nil")
	}
	if err := sdk.CheckManifest(cfg.Adapter); err != nil {
		t.Fatalf("conformance: %v", err)
	}
	if len(cfg.Inputs) == 0 {
		t.Fatal("conformance: Config.Inputs is empty: give the kit some sample inputs")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	name := cfg.Adapter.Manifest().Name
	transports := []transport{{"native", cfg.Adapter}}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))

	wasmPath := cfg.WASM
	if wasmPath == "" && cfg.WASMPackage != "" {
		wasmPath = Build(t, cfg.WASMPackage, true)
	}
	if wasmPath != "" {
		p, err := wasm.Open(context.Background(), wasmPath, wasm.Options{CacheDir: CacheDir("wazero"), CloseOnContextDone: true}, log)
		if err != nil {
			t.Fatalf("wasm: %v", err)
		}
		t.Cleanup(func() { p.Close() })
		checkSameManifest(t, "wasm", cfg.Adapter.Manifest(), p.Manifest())
		transports = append(transports, transport{"wasm", p.Adapter()})
	}
	procPath := cfg.Process
	if procPath == "" && cfg.ProcessPackage != "" {
		procPath = Build(t, cfg.ProcessPackage, false)
	}
	if procPath != "" {
		p, err := plugin.Open(context.Background(), procPath, plugin.Options{}, log)
		if err != nil {
			t.Fatalf("process: %v", err)
		}
		t.Cleanup(func() { p.Close() })
		checkSameManifest(t, "process", cfg.Adapter.Manifest(), p.Manifest())
		transports = append(transports, transport{"process", p.Adapter()})
	}

	for _, in := range cfg.Inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			if _, ok := cfg.Adapter.(sdk.Source); ok {
				checkSource(t, cfg, name, in, transports)
			}
			if _, ok := cfg.Adapter.(sdk.Target); ok {
				checkTarget(t, cfg, in, transports)
			}
		})
	}
}

func checkSameManifest(t *testing.T, tr string, want, got sdk.Manifest) {
	t.Helper()
	a, _ := json.Marshal(want)
	b, _ := json.Marshal(got)
	if !bytes.Equal(a, b) {
		t.Fatalf("%s: the built adapter's manifest differs from the in-process one (rebuild it?):\n got  %s\n want %s", tr, b, a)
	}
}

// Canonical is a source's output in canonical form: NDJSON per kind (in
// emit order; messages stably sorted by time, as the host stores them),
// the notices, and the blobs' hashes.
type Canonical map[string][]byte

// Encode returns the canonical form of a source's result.
func Encode(r *adaptertest.Result) Canonical {
	c := Canonical{}
	add := func(name string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // records decoded from JSON encode again
		}
		c[name] = append(append(c[name], b...), '\n')
	}
	if r.Workspace != nil {
		add("workspace", r.Workspace)
	}
	for _, x := range r.Users {
		add("users", x)
	}
	for _, x := range r.Rooms {
		add("rooms", x)
	}
	for _, x := range r.Conversations {
		add("conversations", x)
	}
	for _, x := range r.Emoji {
		add("emoji", x)
	}
	for _, x := range r.Messages {
		add("messages", x)
	}
	for _, x := range r.Attachments {
		add("attachments", x)
	}
	for _, n := range r.Notices {
		add("notices", n)
	}
	sums := make([]string, 0, len(r.Blobs))
	for s := range r.Blobs {
		sums = append(sums, s)
	}
	slices.Sort(sums)
	for _, s := range sums {
		add("blobs", fmt.Sprintf("%s %d", s, len(r.Blobs[s])))
	}
	return c
}

// Diff describes the first difference between two canonical outputs, or
// returns "".
func Diff(want, got Canonical) string {
	var names []string
	for k := range want {
		names = append(names, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		if bytes.Equal(want[k], got[k]) {
			continue
		}
		wl := strings.Split(string(want[k]), "\n")
		gl := strings.Split(string(got[k]), "\n")
		for i := 0; i < max(len(wl), len(gl)); i++ {
			var w, g string
			if i < len(wl) {
				w = wl[i]
			}
			if i < len(gl) {
				g = gl[i]
			}
			if w != g {
				return fmt.Sprintf("%s, line %d:\n want %s\n got  %s", k, i+1, orNone(w), orNone(g))
			}
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(nothing)"
	}
	return s
}

func checkSource(t *testing.T, cfg Config, name, in string, transports []transport) {
	t.Helper()
	run := func(tr transport) (*adaptertest.Result, error) {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
		defer cancel()
		return adaptertest.TryRunSource(ctx, tr.adapter.(sdk.Source), cfg.Options, in)
	}
	ref, err := run(transports[0])
	if err != nil {
		t.Fatalf("native: %s over %s: %v", name, in, err)
	}
	for _, err := range ref.CheckReferences() {
		t.Errorf("native: %v", err)
	}
	want := Encode(ref)
	again, err := run(transports[0])
	if err != nil {
		t.Fatalf("native, second run: %v", err)
	}
	if d := Diff(want, Encode(again)); d != "" {
		t.Errorf("native: two runs over the same input differ (the output must be deterministic): %s", d)
	}
	for _, tr := range transports[1:] {
		res, err := run(tr)
		if err != nil {
			t.Errorf("%s: %s over %s: %v", tr.name, name, in, err)
			continue
		}
		if d := Diff(want, Encode(res)); d != "" {
			t.Errorf("%s: canonical output differs from native: %s", tr.name, d)
		}
	}
}

func checkTarget(t *testing.T, cfg Config, in string, transports []transport) {
	t.Helper()
	src := cfg.DataSource
	if src == nil {
		src, _ = cfg.Adapter.(sdk.Source)
	}
	if src == nil {
		t.Fatal("conformance: a target-only adapter needs Config.DataSource to read the inputs with")
	}
	data, err := adaptertest.TryRunSource(context.Background(), src, cfg.Options, in)
	if err != nil {
		t.Fatalf("reading %s for the target: %v", in, err)
	}
	var want map[string][]byte
	for i, tr := range transports {
		dir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
		_, err := adaptertest.TryRunTarget(ctx, tr.adapter.(sdk.Target), data.Dataset(), cfg.Options, dir)
		cancel()
		if err != nil {
			t.Errorf("%s: target over %s: %v", tr.name, in, err)
			continue
		}
		got := adaptertest.ReadTree(t, dir)
		if i == 0 {
			want = got
			continue
		}
		if d := diffTrees(want, got); d != "" {
			t.Errorf("%s: target output differs from native: %s", tr.name, d)
		}
	}
}

func diffTrees(want, got map[string][]byte) string {
	var names []string
	for k := range want {
		names = append(names, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		w, wok := want[k]
		g, gok := got[k]
		switch {
		case !gok:
			return k + " is missing"
		case !wok:
			return k + " should not be there"
		case !bytes.Equal(w, g):
			i := 0
			for i < min(len(w), len(g)) && w[i] == g[i] {
				i++
			}
			return fmt.Sprintf("%s differs from byte %d", k, i)
		}
	}
	return ""
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}
