//go:build !wasip1

package wasm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/internal/wire"
)

// Options configure how modules are compiled and run.
type Options struct {
	// MemoryLimitPages caps each instance's memory, in 64 KiB pages; 0
	// means DefaultMemoryLimitPages.
	MemoryLimitPages uint32
	// CacheDir keeps compiled modules on disk, so that a module compiles
	// once (about a second for a Go module) and later runs start in tens
	// of milliseconds. "" compiles afresh each time.
	CacheDir string
	// CloseOnContextDone lets a cancelled or expired context stop an
	// instance that is stuck in a loop. It costs: wazero then checks for
	// cancellation on every loop iteration, which slows Go guests several
	// times over. Hosts that run instances in a worker process they can
	// kill leave it off.
	CloseOnContextDone bool
	// ScratchDir is where each instance's private scratch directory is
	// made; "" means the system's temporary directory.
	ScratchDir string
	// ScratchLimit caps the bytes an instance may write into its scratch
	// directory; 0 means DefaultScratchLimit.
	ScratchLimit int64
}

// Defaults for Options.
const (
	DefaultMemoryLimitPages = 16384 // 1 GiB
	DefaultScratchLimit     = 64 << 30
)

// Module is a compiled adapter module, ready to be instantiated any
// number of times.
type Module struct {
	name  string
	opts  Options
	rt    wazero.Runtime
	cache wazero.CompilationCache
	cm    wazero.CompiledModule
}

// Compile reads and compiles the module at path. It refuses a file that
// is not a migrate adapter, or that speaks no protocol version this host
// speaks, before compiling it.
func Compile(ctx context.Context, path string, opts Options) (*Module, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return CompileBytes(ctx, filepath.Base(path), bin, opts)
}

// CompileBytes is Compile for a module already in memory; name is used in
// messages.
func CompileBytes(ctx context.Context, name string, bin []byte, opts Options) (*Module, error) {
	if err := CheckProtocol(name, bin); err != nil {
		return nil, err
	}
	if opts.MemoryLimitPages == 0 {
		opts.MemoryLimitPages = DefaultMemoryLimitPages
	}
	if opts.ScratchLimit == 0 {
		opts.ScratchLimit = DefaultScratchLimit
	}
	cfg := wazero.NewRuntimeConfigCompiler().
		WithMemoryLimitPages(opts.MemoryLimitPages).
		WithCloseOnContextDone(opts.CloseOnContextDone)
	m := &Module{name: name, opts: opts}
	if opts.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", opts.CacheDir, err)
		}
		m.cache = cache
		cfg = cfg.WithCompilationCache(cache)
	}
	m.rt = wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, m.rt); err != nil {
		m.Close(ctx)
		return nil, err
	}
	cctx := experimental.WithCompilationWorkers(ctx, runtime.GOMAXPROCS(0))
	var err error
	m.cm, err = m.rt.CompileModule(cctx, bin)
	if err != nil {
		m.Close(ctx)
		return nil, fmt.Errorf("plugin %s: compiling: %w", name, err)
	}
	return m, nil
}

// CheckProtocol reports whether a module declares a protocol version this
// host speaks, with a message that says which side to upgrade.
func CheckProtocol(name string, bin []byte) error {
	vs, err := ModuleProtocols(bin)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", name, err)
	}
	if len(vs) == 0 {
		return fmt.Errorf("plugin %s is not a migrate adapter: it exports no %sN function (build it with sdk/wasm.Serve)", name, ProtocolExportPrefix)
	}
	if wire.Pick(vs) == 0 {
		return &wire.VersionError{Plugin: name, Theirs: vs}
	}
	return nil
}

// Close releases the module and its runtime.
func (m *Module) Close(ctx context.Context) error {
	var err error
	if m.rt != nil {
		err = m.rt.Close(ctx)
	}
	if m.cache != nil {
		if cerr := m.cache.Close(ctx); err == nil {
			err = cerr
		}
	}
	return err
}

// Run runs one instance of the module to the end, with its standard
// streams connected to stdin, stdout and stderr. It returns nil when the
// module exits with status 0.
func (m *Module) Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	scratch, err := newScratch(m.opts.ScratchDir, m.opts.ScratchLimit)
	if err != nil {
		return err
	}
	defer scratch.remove()
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(strings.TrimSuffix(m.name, ".wasm")).
		WithEnv("TMPDIR", scratchGuestPath).
		WithStdin(stdin).WithStdout(stdout).WithStderr(stderr).
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithRandSource(rand.Reader).
		WithFSConfig(scratch.fsConfig())
	mod, err := m.rt.InstantiateModule(ctx, m.cm, cfg)
	if mod != nil {
		mod.Close(ctx)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		if exit.ExitCode() == 0 {
			return nil
		}
		if ctx.Err() != nil {
			return wire.ErrKilled
		}
		return fmt.Errorf("exit status %d", exit.ExitCode())
	}
	if err != nil && ctx.Err() != nil {
		return wire.ErrKilled
	}
	return err
}

// Launcher starts one instance of an adapter module, wherever it runs,
// with its standard streams connected to the given ones, and returns a
// function that waits for it to end. It must stop the instance when ctx
// ends.
type Launcher func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) (wait func() error, err error)

// Launch returns the Launcher that runs instances of m in this process.
// Unless m was compiled with CloseOnContextDone, an instance stuck in a
// loop cannot be stopped: the session is abandoned and its goroutine
// spins on.
func (m *Module) Launch() Launcher {
	return func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) (func() error, error) {
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx, stdin, stdout, stderr) }()
		return func() error {
			select {
			case err := <-done:
				return err
			case <-ctx.Done():
				// Give a cooperative instance a moment to notice.
				select {
				case err := <-done:
					return err
				case <-time.After(2 * time.Second):
					return wire.ErrKilled
				}
			}
		}, nil
	}
}

// Plugin is an adapter module as the host uses it.
type Plugin struct {
	p        *wire.Plugin
	manifest sdk.Manifest
	adapter  sdk.Adapter
	close    func() error
}

// Open compiles the module at path, runs it once to learn its manifest,
// and returns it as a plugin whose adapter runs each call in a fresh
// instance in this process. log receives what the module logs while its
// manifest is read; calls log to their request's logger.
func Open(ctx context.Context, path string, opts Options, log *slog.Logger) (*Plugin, error) {
	m, err := Compile(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	p, err := NewPlugin(ctx, filepath.Base(path), m.Launch(), log)
	if err != nil {
		m.Close(ctx)
		return nil, err
	}
	p.close = func() error { return m.Close(context.Background()) }
	return p, nil
}

// NewPlugin returns the plugin whose instances launch starts: it runs one
// instance to read the manifest. name is used in messages.
func NewPlugin(ctx context.Context, name string, launch Launcher, log *slog.Logger) (*Plugin, error) {
	wp := &wire.Plugin{Name: name, Start: streamStarter(launch)}
	m, err := wp.Handshake(ctx, log)
	if err != nil {
		return nil, err
	}
	return &Plugin{p: wp, manifest: m, adapter: wire.NewAdapter(wp, m)}, nil
}

// Manifest returns the adapter's manifest.
func (p *Plugin) Manifest() sdk.Manifest { return p.manifest }

// Adapter returns the adapter, an sdk.Source, sdk.Target or both.
func (p *Plugin) Adapter() sdk.Adapter { return p.adapter }

// Close releases the compiled module.
func (p *Plugin) Close() error {
	if p.close != nil {
		return p.close()
	}
	return nil
}

// streamStarter connects sessions to instances over pipes.
func streamStarter(launch Launcher) wire.Starter {
	return func(ctx context.Context, log *slog.Logger) (wire.Conn, func() error, error) {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		logs := wire.NewLogWriter(log)
		wait, err := launch(ctx, inR, outW, logs)
		if err != nil {
			return nil, nil, err
		}
		ended := make(chan error, 1)
		go func() {
			err := wait()
			// The instance is gone: whoever reads its output sees the end.
			outW.CloseWithError(io.EOF)
			inR.CloseWithError(io.ErrClosedPipe)
			ended <- err
		}()
		// Recv must return when ctx ends, even if the instance ignores it.
		stopWatch := context.AfterFunc(ctx, func() { outR.CloseWithError(context.Cause(ctx)) })
		conn := wire.NewStreamConn(outR, inW)
		var once sync.Once
		var result error
		stop := func() error {
			once.Do(func() {
				stopWatch()
				inW.Close()
				result = <-ended
				logs.Flush()
				if result != nil && !errors.Is(result, wire.ErrKilled) {
					if tail := logs.Tail(); tail != "" {
						result = fmt.Errorf("%w; it said:\n%s", result, tail)
					}
				}
			})
			return result
		}
		return conn, stop, nil
	}
}

// ErrKilled is what a Launcher's wait function returns when it stopped
// the instance because the context ended; the host does not blame the
// adapter for it.
var ErrKilled = wire.ErrKilled
