package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/migrate-chat/migrate/internal/gen"
)

// Options configures a benchmark run.
type Options struct {
	Scale     string
	Messages  int64   // overrides Scale's size
	Sizes     []int64 // sizes for the scaling scale
	Pipelines []string
	Seed      uint64
	// Users and Rooms fix the generated workspace's size (0: it grows
	// with the number of messages, as real exports do). Fixing them
	// isolates what memory does with the number of messages alone.
	Users, Rooms int
	Out          string
	Compare      string
	CacheDir     string
	WorkDir      string
	Migrate      string
	Quiet        bool
	Log          io.Writer
}

// Pipeline is one conversion measured by the suite.
type Pipeline struct {
	Name     string
	From, To string
	// Format is the generator format of the input.
	Format string
	// Output is the name of the output inside the run's directory; its
	// suffix chooses the output form.
	Output string
	// Floor is how the input's floor is measured: "openssl" or "json".
	Floor string
}

var pipelines = []Pipeline{
	{Name: "gitter-pixtoome", From: "gitter", To: "pixtoome", Format: "gitter-rest", Output: "out", Floor: "json"},
	{Name: "hipchat-server-pixtoome", From: "hipchat-server", To: "pixtoome", Format: "hipchat-server", Output: "out", Floor: "openssl"},
	{Name: "hipchat-cloud-hipchat-server", From: "hipchat-cloud", To: "hipchat-server", Format: "hipchat-cloud", Output: "out.tar.gz.aes", Floor: "openssl"},
	{Name: "canonical-pixtoome", From: "archive", To: "pixtoome", Format: "canonical", Output: "out", Floor: "json"},
	// The Gitter source alone, into a canonical archive: its output is
	// about the input's size, so it scales to 10M messages on one disk
	// where a Pixtoome directory (25 KB a message) cannot.
	{Name: "gitter-canonical", From: "gitter", To: "archive", Format: "gitter-rest", Output: "out", Floor: "json"},
}

func pipelineNames() []string {
	var n []string
	for _, p := range pipelines {
		n = append(n, p.Name)
	}
	return n
}

// benchPassphrase encrypts generated archives and is handed to migrate in
// MIGRATE_PASSPHRASE.
const benchPassphrase = "migrate-bench"

// Result is one pipeline at one size.
type Result struct {
	Pipeline string `json:"pipeline"`
	From     string `json:"from"`
	To       string `json:"to"`
	Messages int64  `json:"messages"`
	// Status is "ok", "unavailable" (the binary lacks an adapter) or
	// "failed"; Reason says why when it is not ok.
	Status       string  `json:"status"`
	Reason       string  `json:"reason,omitempty"`
	ExitCode     int     `json:"exit_code"`
	Seconds      float64 `json:"seconds,omitempty"`
	MsgPerSec    float64 `json:"messages_per_second,omitempty"`
	PeakRSSMiB   float64 `json:"peak_rss_mib,omitempty"`
	InputBytes   int64   `json:"input_bytes,omitempty"`
	OutputBytes  int64   `json:"output_bytes,omitempty"`
	Floor        string  `json:"floor,omitempty"`
	FloorSeconds float64 `json:"floor_seconds,omitempty"`
	Ratio        float64 `json:"ratio_to_floor,omitempty"`
	// WriteFloorSeconds is the time to write OutputBytes into one file on
	// the same disk: the least any converter producing this output needs,
	// whatever its input. WriteRatio is Seconds over it.
	WriteFloorSeconds float64 `json:"write_floor_seconds,omitempty"`
	WriteRatio        float64 `json:"ratio_to_write_floor,omitempty"`
}

// GenResult is the generator's throughput on one input it produced.
type GenResult struct {
	Format    string  `json:"format"`
	Messages  int64   `json:"messages"`
	Bytes     int64   `json:"bytes"`
	Seconds   float64 `json:"seconds"`
	MsgPerSec float64 `json:"messages_per_second"`
	MBPerSec  float64 `json:"mb_per_second"`
}

// Scaling is the verdict of a scaling run.
type Scaling struct {
	Pipeline string `json:"pipeline"`
	// MemoryRatio is peak RSS at the largest size over the next largest;
	// flat means at most 1.2.
	MemoryRatio float64 `json:"memory_ratio"`
	MemoryFlat  bool    `json:"memory_flat"`
	// TimePerMessageRatio compares seconds per message at the largest size
	// with the next largest; linear means between 0.8 and 1.25.
	TimePerMessageRatio float64 `json:"time_per_message_ratio"`
	TimeLinear          bool    `json:"time_linear"`
}

// Report is everything a run measured; it is what --out writes and
// --compare reads.
type Report struct {
	Version int       `json:"version"`
	Started time.Time `json:"started"`
	Scale   string    `json:"scale"`
	// Users and Rooms are the fixed workspace size, when one was asked.
	Users     int         `json:"users,omitempty"`
	Rooms     int         `json:"rooms,omitempty"`
	GoVersion string      `json:"go_version"`
	OS        string      `json:"os"`
	Arch      string      `json:"arch"`
	CPUs      int         `json:"cpus"`
	Commit    string      `json:"commit,omitempty"`
	Results   []Result    `json:"results"`
	Generator []GenResult `json:"generator,omitempty"`
	Scaling   *Scaling    `json:"scaling,omitempty"`
}

// Save writes the report as indented JSON.
func (r *Report) Save(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadReport reads a report written by Save.
func LoadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a migrate-bench result file: %w", path, err)
	}
	return &r, nil
}

type bench struct {
	o        Options
	rep      *Report
	bin      string
	work     string
	adapters map[string]bool
	// adaptersErr says why the adapter list could not be read.
	adaptersErr string
}

func (b *bench) logf(format string, args ...any) {
	if !b.o.Quiet && b.o.Log != nil {
		fmt.Fprintf(b.o.Log, "migrate-bench: "+format+"\n", args...)
	}
}

// Run executes the suite.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	sizes, err := scaleSizes(o)
	if err != nil {
		return nil, err
	}
	sel, err := selectPipelines(o)
	if err != nil {
		return nil, err
	}
	if o.Scale == "scaling" {
		sel = sel[:1]
	}
	b := &bench{o: o, rep: &Report{Version: 1, Started: time.Now().UTC(), Scale: o.Scale, Users: o.Users, Rooms: o.Rooms, GoVersion: runtime.Version(),
		OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}}
	if b.o.CacheDir == "" {
		b.o.CacheDir = filepath.Join(os.TempDir(), "migrate-bench-cache")
	}
	if b.o.WorkDir == "" {
		d, err := os.MkdirTemp("", "migrate-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		b.work = d
	} else {
		b.work = b.o.WorkDir
		if err := os.MkdirAll(b.work, 0o755); err != nil {
			return nil, err
		}
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	b.rep.Commit = gitCommit(ctx, root)
	if err := b.build(ctx, root); err != nil {
		return nil, err
	}
	b.listAdapters(ctx)
	for _, n := range sizes {
		for _, p := range sel {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r := b.runPipeline(ctx, p, n)
			b.rep.Results = append(b.rep.Results, r)
			b.logf("%s at %d messages: %s %s", p.Name, n, r.Status, r.Reason)
		}
	}
	if o.Scale == "scaling" {
		b.rep.Scaling = scalingVerdict(b.rep.Results)
	}
	return b.rep, nil
}

func scaleSizes(o Options) ([]int64, error) {
	switch {
	case o.Messages > 0 && o.Scale != "scaling":
		return []int64{o.Messages}, nil
	case o.Scale == "small" || o.Scale == "":
		return []int64{100_000}, nil
	case o.Scale == "1m":
		return []int64{1_000_000}, nil
	case o.Scale == "scaling":
		if len(o.Sizes) > 0 {
			return o.Sizes, nil
		}
		return []int64{100_000, 1_000_000, 10_000_000}, nil
	}
	return nil, fmt.Errorf("unknown --scale %q: use small, 1m or scaling", o.Scale)
}

func selectPipelines(o Options) ([]Pipeline, error) {
	if len(o.Pipelines) == 0 {
		if o.Scale == "scaling" {
			// One pipeline: the heaviest common case.
			return []Pipeline{pipelines[1]}, nil
		}
		return pipelines, nil
	}
	var out []Pipeline
	for _, name := range o.Pipelines {
		name = strings.TrimSpace(name)
		found := false
		for _, p := range pipelines {
			if p.Name == name {
				out = append(out, p)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown pipeline %q; known: %s", name, strings.Join(pipelineNames(), ", "))
		}
	}
	return out, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run migrate-bench inside the migrate module (go env GOMOD is empty)")
	}
	return filepath.Dir(mod), nil
}

func gitCommit(ctx context.Context, root string) string {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func (b *bench) build(ctx context.Context, root string) error {
	if b.o.Migrate != "" {
		b.bin = b.o.Migrate
		return nil
	}
	b.bin = filepath.Join(b.work, "migrate")
	b.logf("building %s", b.bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "./cmd/migrate")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/migrate: %w\n%s", err, out)
	}
	return nil
}

// listAdapters reads "migrate adapters" to learn which systems the binary
// can read and write.
func (b *bench) listAdapters(ctx context.Context) {
	out, err := exec.CommandContext(ctx, b.bin, "adapters").CombinedOutput()
	if err != nil {
		b.adaptersErr = fmt.Sprintf("'migrate adapters' failed: %v: %s", err, firstLine(out))
		return
	}
	b.adapters = map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] == "NAME" {
			continue
		}
		for _, role := range strings.Split(f[1], ",") {
			b.adapters[f[0]+"/"+role] = true
		}
	}
}

func (b *bench) unavailable(p Pipeline) string {
	if b.adaptersErr != "" {
		return b.adaptersErr
	}
	var missing []string
	if !b.adapters[p.From+"/source"] {
		missing = append(missing, "no source adapter "+p.From)
	}
	if !b.adapters[p.To+"/target"] {
		missing = append(missing, "no target adapter "+p.To)
	}
	if len(missing) == 0 {
		return ""
	}
	return strings.Join(missing, ", ") + " in the migrate binary"
}

// input returns the cached input for a format and size, generating it
// first when needed. Generation writes to a temporary name and renames,
// so an interrupted run never leaves a half input in the cache.
func (b *bench) input(ctx context.Context, format string, n int64) (string, error) {
	key := fmt.Sprintf("%s-%d-seed%d", format, n, b.o.Seed)
	if b.o.Users > 0 || b.o.Rooms > 0 {
		key += fmt.Sprintf("-users%d-rooms%d", b.o.Users, b.o.Rooms)
	}
	dir := filepath.Join(b.o.CacheDir, key)
	// The cache entry records where inside it the input is.
	if rel, err := os.ReadFile(filepath.Join(dir, cacheIndex)); err == nil {
		p := filepath.Join(dir, strings.TrimSpace(string(rel)))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if err := os.MkdirAll(b.o.CacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(b.o.CacheDir, ".gen-"+key+"-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	b.logf("generating %s with %d messages", format, n)
	cfg := gen.Config{Messages: n, Seed: b.o.Seed, Passphrase: benchPassphrase, Users: b.o.Users, Rooms: b.o.Rooms}
	if !b.o.Quiet {
		cfg.Progress = func(done, total int64) {
			if total >= 1_000_000 {
				b.logf("  %s: %d/%d messages", format, done, total)
			}
		}
	}
	// A trailing separator lets file formats choose their own file name
	// inside "input"; directory formats fill "input" itself.
	st, err := gen.Generate(ctx, format, cfg, filepath.Join(tmp, "input")+string(os.PathSeparator))
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(tmp, filepath.Clean(st.Path))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, cacheIndex), []byte(rel+"\n"), 0o644); err != nil {
		return "", err
	}
	sec := st.Duration.Seconds()
	b.rep.Generator = append(b.rep.Generator, GenResult{Format: format, Messages: n, Bytes: st.Bytes, Seconds: sec,
		MsgPerSec: float64(n) / sec, MBPerSec: float64(st.Bytes) / 1e6 / sec})
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return filepath.Join(dir, rel), nil
}

// cacheIndex names the file in a cache entry that holds the input's path.
const cacheIndex = "input-path.txt"

func (b *bench) runPipeline(ctx context.Context, p Pipeline, n int64) Result {
	r := Result{Pipeline: p.Name, From: p.From, To: p.To, Messages: n, Floor: p.Floor}
	if why := b.unavailable(p); why != "" {
		r.Status, r.Reason = "unavailable", why
		return r
	}
	in, err := b.input(ctx, p.Format, n)
	if err != nil {
		r.Status, r.Reason = "failed", "generating the input: "+err.Error()
		return r
	}
	r.InputBytes, _ = treeSize(in)

	runDir, err := os.MkdirTemp(b.work, p.Name+"-")
	if err != nil {
		r.Status, r.Reason = "failed", err.Error()
		return r
	}
	defer os.RemoveAll(runDir)
	out := filepath.Join(runDir, p.Output)
	b.logf("running migrate --from %s --to %s (%d messages)", p.From, p.To, n)
	cmd := exec.CommandContext(ctx, b.bin, "--from", p.From, "--to", p.To, in, "-o", out)
	cmd.Env = append(os.Environ(), "MIGRATE_PASSPHRASE="+benchPassphrase)
	cmd.Dir = runDir
	var stderr tailBuffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	r.Seconds = time.Since(start).Seconds()
	if cmd.ProcessState != nil {
		r.ExitCode = cmd.ProcessState.ExitCode()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.PeakRSSMiB = float64(ru.Maxrss) / 1024 // KiB on Linux
		}
	}
	// Exit code 1 is success with warnings.
	if err != nil && r.ExitCode != 1 {
		r.Status = "failed"
		r.Reason = fmt.Sprintf("migrate exited with %v: %s", err, stderr.last())
		return r
	}
	r.Status = "ok"
	r.MsgPerSec = float64(n) / r.Seconds
	r.OutputBytes, _ = treeSize(out)
	// The output goes first: a Pixtoome directory for a million messages
	// fills tens of gigabytes, and the write floor needs as much again.
	os.RemoveAll(out)
	if wf, err := writeFloor(filepath.Join(runDir, "write-floor"), r.OutputBytes); err == nil && wf > 0 {
		r.WriteFloorSeconds, r.WriteRatio = wf, r.Seconds/wf
	}

	floor, err := b.floor(ctx, p, in, runDir)
	if err != nil {
		r.Reason = "floor not measured: " + err.Error()
		return r
	}
	r.FloorSeconds = floor
	if floor > 0 {
		r.Ratio = r.Seconds / floor
	}
	return r
}

func (b *bench) floor(ctx context.Context, p Pipeline, in, runDir string) (float64, error) {
	switch p.Floor {
	case "openssl":
		dir := filepath.Join(runDir, "floor")
		if err := os.Mkdir(dir, 0o755); err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		return opensslFloor(ctx, in, benchPassphrase, dir)
	case "json":
		return jsonFloor(ctx, in)
	}
	return 0, fmt.Errorf("unknown floor %q", p.Floor)
}

// opensslFloor times decrypting and unpacking an archive with the real
// tools, which is the least any converter must do with it.
func opensslFloor(ctx context.Context, file, pass, dir string) (float64, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", `openssl enc -d -aes-256-cbc -md md5 -pass env:P -in "$F" | tar xz -C "$D"`)
	cmd.Env = append(os.Environ(), "P="+pass, "F="+file, "D="+dir)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("openssl | tar: %v: %s", err, firstLine(out))
	}
	return time.Since(start).Seconds(), nil
}

// writeFloor times writing n bytes of incompressible data to a new file,
// without fsync (migrate does not sync directory outputs either), and
// removes it.
func writeFloor(path string, n int64) (float64, error) {
	buf := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(buf); i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], rng.Uint64())
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	start := time.Now()
	for n > 0 {
		chunk := buf[:min(int64(len(buf)), n)]
		if _, err := f.Write(chunk); err != nil {
			return 0, err
		}
		n -= int64(len(chunk))
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

func treeSize(path string) (int64, error) {
	var n int64
	err := filepath.WalkDir(path, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n, err
}

// tailBuffer keeps the end of a subprocess's stderr for error messages.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 8<<10 {
		t.b = append(t.b[:0], t.b[len(t.b)-4<<10:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) last() string {
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	// migrate logs progress as JSON lines; the error is the plain line.
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "{") {
			return l
		}
	}
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func scalingVerdict(rs []Result) *Scaling {
	var ok []Result
	for _, r := range rs {
		if r.Status == "ok" {
			ok = append(ok, r)
		}
	}
	if len(ok) < 2 {
		return nil
	}
	a, z := ok[len(ok)-2], ok[len(ok)-1]
	s := &Scaling{Pipeline: z.Pipeline}
	if a.PeakRSSMiB > 0 {
		s.MemoryRatio = z.PeakRSSMiB / a.PeakRSSMiB
		s.MemoryFlat = s.MemoryRatio <= 1.2
	}
	if a.Seconds > 0 && a.Messages > 0 {
		s.TimePerMessageRatio = (z.Seconds / float64(z.Messages)) / (a.Seconds / float64(a.Messages))
		s.TimeLinear = s.TimePerMessageRatio >= 0.8 && s.TimePerMessageRatio <= 1.25
	}
	return s
}
