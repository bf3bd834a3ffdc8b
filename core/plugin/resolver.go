package plugin

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/migrate-chat/migrate/core/pipeline"
	"github.com/migrate-chat/migrate/sdk"
	sdkplugin "github.com/migrate-chat/migrate/sdk/plugin"
	"github.com/migrate-chat/migrate/sdk/wasm"
)

// Transports.
const (
	Native  = "native"
	WASM    = "wasm"
	Process = "process"
)

// Config says where plugins are and how they run.
type Config struct {
	// Dirs are the plugin directories, searched in order.
	Dirs []string
	// Transport is how shipped adapters run: "" or Native in this
	// process, WASM or Process through their builds in Dirs.
	Transport string
	// Checksums pin plugins' SHA-256, by adapter name or file name; a
	// pinned plugin whose file does not match is refused.
	Checksums map[string][]byte
	// MemoryLimit caps a WebAssembly instance's memory, in bytes; 0 means
	// 1 GiB.
	MemoryLimit int64
	// Timeout bounds each read or write a plugin does; 0 means none.
	Timeout time.Duration
	// CacheDir holds compiled modules and manifests; "" means
	// os.UserCacheDir()/migrate.
	CacheDir string
	// ScratchDir is where WebAssembly instances get their scratch
	// directories; "" means the system's temporary directory.
	ScratchDir string
	// InProcess runs WebAssembly instances in this process instead of a
	// worker. A guest stuck in a loop is then stopped through wazero's
	// cancellation checks, which slow Go guests several-fold.
	InProcess bool
	// Log receives what plugins log while they are loaded.
	Log *slog.Logger
}

// DefaultDirs returns the plugin directories used when none are given:
// those in $MIGRATE_PLUGIN_PATH (colon-separated), then the user's own,
// $XDG_DATA_HOME/migrate/plugins or ~/.local/share/migrate/plugins.
func DefaultDirs(getenv func(string) string) []string {
	var dirs []string
	for _, d := range filepath.SplitList(getenv("MIGRATE_PLUGIN_PATH")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	if x := getenv("XDG_DATA_HOME"); x != "" {
		dirs = append(dirs, filepath.Join(x, "migrate", "plugins"))
	} else if h := getenv("HOME"); h != "" {
		dirs = append(dirs, filepath.Join(h, ".local", "share", "migrate", "plugins"))
	}
	return dirs
}

// Resolver implements pipeline.Resolver over the shipped adapters and the
// plugins it finds.
type Resolver struct {
	cfg Config

	mu    sync.Mutex
	found []candidate // plugins found in Dirs, loaded lazily
	done  bool
}

var _ pipeline.Resolver = (*Resolver)(nil)

// New returns a Resolver.
func New(cfg Config) (*Resolver, error) {
	switch cfg.Transport {
	case "", Native, WASM, Process:
	default:
		return nil, fmt.Errorf("unknown transport %q: use native, wasm or process", cfg.Transport)
	}
	if cfg.CacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cfg.CacheDir = filepath.Join(d, "migrate")
		}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Resolver{cfg: cfg}, nil
}

func (r *Resolver) pages() uint32 {
	if r.cfg.MemoryLimit <= 0 {
		return wasm.DefaultMemoryLimitPages
	}
	return uint32(max(r.cfg.MemoryLimit>>16, 32))
}

func (r *Resolver) wazeroCache() string {
	if r.cfg.CacheDir == "" {
		return ""
	}
	return filepath.Join(r.cfg.CacheDir, "wazero")
}

// candidate is a plugin file in a plugin directory.
type candidate struct {
	path      string
	transport string
	sum       []byte
	manifest  *sdk.Manifest
	err       error
}

// Resolve implements pipeline.Resolver. A name with a path separator or a
// .wasm suffix names a plugin file; any other name is an adapter's name.
func (r *Resolver) Resolve(ctx context.Context, name string) (*pipeline.Resolved, error) {
	if isPath(name) {
		return r.open(ctx, name, transportOf(name))
	}
	if r.cfg.Transport == "" || r.cfg.Transport == Native {
		if a, ok := sdk.Lookup(name); ok {
			return &pipeline.Resolved{Adapter: a, Info: pipeline.AdapterInfo{Manifest: a.Manifest(), Transport: Native, Origin: "built-in"}}, nil
		}
	}
	cands := r.discover(ctx)
	for _, c := range cands {
		if c.manifest == nil || c.manifest.Name != name {
			continue
		}
		if r.cfg.Transport != "" && r.cfg.Transport != Native && c.transport != r.cfg.Transport {
			continue
		}
		return r.open(ctx, c.path, c.transport)
	}
	if r.cfg.Transport == WASM || r.cfg.Transport == Process {
		if _, ok := sdk.Lookup(name); ok {
			return nil, fmt.Errorf("no %s build of %s in the plugin directories (%s): build the shipped adapters with 'go run ./cmd/migrate-plugins -o DIR' and pass --plugin-dir DIR", r.cfg.Transport, name, strings.Join(r.cfg.Dirs, ", "))
		}
	}
	for _, c := range cands {
		if c.err != nil {
			r.cfg.Log.Warn("a plugin could not be loaded", "plugin", c.path, "error", c.err)
		}
	}
	return nil, fmt.Errorf("unknown adapter %q: run 'migrate adapters' to list them", name)
}

func isPath(name string) bool {
	return strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator) || strings.HasSuffix(name, ".wasm")
}

func transportOf(path string) string {
	if strings.HasSuffix(path, ".wasm") {
		return WASM
	}
	return Process
}

// open loads the plugin at path and returns it ready to run.
func (r *Resolver) open(ctx context.Context, path, transport string) (*pipeline.Resolved, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("plugin %s is a directory: name a .wasm file or a plugin executable (or pass the directory with --plugin-dir)", path)
	}
	_, sum, err := fileSum(abs)
	if err != nil {
		return nil, err
	}
	if err := r.checkPin(filepath.Base(abs), "", sum); err != nil {
		return nil, err
	}
	var (
		m       sdk.Manifest
		adapter sdk.Adapter
		closeFn func() error
	)
	switch transport {
	case WASM:
		p, err := r.openWASM(ctx, abs, sum)
		if err != nil {
			return nil, err
		}
		m, adapter, closeFn = p.Manifest(), p.Adapter(), p.Close
	default:
		if st.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("plugin %s is neither a .wasm module nor an executable", path)
		}
		p, err := sdkplugin.Open(ctx, abs, sdkplugin.Options{Checksum: sum}, r.cfg.Log)
		if err != nil {
			return nil, err
		}
		m, adapter, closeFn = p.Manifest(), p.Adapter(), p.Close
	}
	if err := r.checkPin(filepath.Base(abs), m.Name, sum); err != nil {
		closeFn()
		return nil, err
	}
	r.remember(sum, transport, m)
	if r.cfg.Timeout > 0 {
		adapter = withTimeout(adapter, r.cfg.Timeout)
	}
	return &pipeline.Resolved{
		Adapter: adapter,
		Info:    pipeline.AdapterInfo{Manifest: m, Transport: transport, Origin: abs},
		Close:   closeFn,
	}, nil
}

func (r *Resolver) openWASM(ctx context.Context, path string, sum []byte) (*wasm.Plugin, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !sameSum(sumOf(bin), sum) {
		return nil, fmt.Errorf("plugin %s changed while it was being loaded", filepath.Base(path))
	}
	if err := wasm.CheckProtocol(filepath.Base(path), bin); err != nil {
		return nil, err
	}
	if r.cfg.InProcess {
		return wasm.Open(ctx, path, wasm.Options{
			MemoryLimitPages: r.pages(), CacheDir: r.wazeroCache(), ScratchDir: r.cfg.ScratchDir,
			CloseOnContextDone: true,
		}, r.cfg.Log)
	}
	return wasm.NewPlugin(ctx, filepath.Base(path), r.workerLauncher(path, sum), r.cfg.Log)
}

// checkPin refuses a plugin whose checksum is pinned, by file or adapter
// name, to another value.
func (r *Resolver) checkPin(file, adapter string, sum []byte) error {
	for _, key := range []string{file, adapter} {
		want, ok := r.cfg.Checksums[key]
		if key == "" || !ok {
			continue
		}
		if !sameSum(want, sum) {
			return fmt.Errorf("plugin %s has SHA-256 %s, but --plugin-checksum pins %s=%s: it is not the file you trusted; refusing to run it",
				file, hex.EncodeToString(sum), key, hex.EncodeToString(want))
		}
	}
	return nil
}

// List implements pipeline.Resolver: the shipped adapters, then every
// plugin found, by name.
func (r *Resolver) List(ctx context.Context) ([]pipeline.AdapterInfo, error) {
	out, _ := pipeline.Builtin{}.List(ctx)
	var errs []error
	for _, c := range r.discover(ctx) {
		if c.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.path, c.err))
			continue
		}
		out = append(out, pipeline.AdapterInfo{Manifest: *c.manifest, Transport: c.transport, Origin: c.path})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Manifest.Name < out[j].Manifest.Name })
	return out, errors.Join(errs...)
}

// discover lists the plugin directories once and learns each plugin's
// manifest, from the cache when the file is unchanged.
func (r *Resolver) discover(ctx context.Context) []candidate {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return r.found
	}
	r.done = true
	seen := map[string]bool{}
	for _, dir := range r.cfg.Dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				r.cfg.Log.Warn("cannot read a plugin directory", "dir", dir, "error", err)
			}
			continue
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			abs, err := filepath.Abs(p)
			if err != nil || seen[abs] {
				continue
			}
			info, err := os.Stat(abs)
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			c := candidate{path: abs}
			switch {
			case strings.HasSuffix(e.Name(), ".wasm"):
				c.transport = WASM
			case info.Mode()&0o111 != 0:
				c.transport = Process
			default:
				continue
			}
			seen[abs] = true
			_, c.sum, c.err = fileSum(abs)
			if c.err == nil {
				c.manifest, c.err = r.manifest(ctx, c)
			}
			r.found = append(r.found, c)
		}
	}
	return r.found
}

// manifest returns a plugin's manifest, loading the plugin only when the
// cache does not know the file.
func (r *Resolver) manifest(ctx context.Context, c candidate) (*sdk.Manifest, error) {
	if m, ok := r.cached(c.sum, c.transport); ok {
		return m, nil
	}
	if err := r.checkPin(filepath.Base(c.path), "", c.sum); err != nil {
		return nil, err
	}
	res, err := r.open(ctx, c.path, c.transport)
	if err != nil {
		return nil, err
	}
	if res.Close != nil {
		res.Close()
	}
	m := res.Info.Manifest
	return &m, nil
}

func (r *Resolver) cachePath(sum []byte, transport string) string {
	if r.cfg.CacheDir == "" {
		return ""
	}
	return filepath.Join(r.cfg.CacheDir, "manifests", hex.EncodeToString(sum)+"."+transport+".json")
}

func (r *Resolver) cached(sum []byte, transport string) (*sdk.Manifest, bool) {
	p := r.cachePath(sum, transport)
	if p == "" {
		return nil, false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	var m sdk.Manifest
	if json.Unmarshal(b, &m) != nil || m.Name == "" {
		return nil, false
	}
	return &m, true
}

func (r *Resolver) remember(sum []byte, transport string, m sdk.Manifest) {
	p := r.cachePath(sum, transport)
	if p == "" {
		return
	}
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	tmp := p + ".tmp" + fmt.Sprint(os.Getpid())
	if os.WriteFile(tmp, b, 0o644) == nil {
		_ = os.Rename(tmp, p)
	}
}
