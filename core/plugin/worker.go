package plugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/migrate-chat/migrate/sdk/wasm"
)

// The worker is started with these variables; the marker's value is not
// something a user would set by accident.
const (
	workerEnv    = "MIGRATE_WASM_WORKER"
	workerMarker = "run-module-v1"
	envModule    = "MIGRATE_WASM_MODULE"
	envSum       = "MIGRATE_WASM_SHA256"
	envPages     = "MIGRATE_WASM_PAGES"
	envCache     = "MIGRATE_WASM_CACHE"
	envScratch   = "MIGRATE_WASM_SCRATCH"
)

// init turns any executable that links this package — migrate itself, or
// a test binary — into a worker when its parent asks for one. It must run
// before main parses flags that the worker was not given; an init in the
// package that needs it is the one place every such binary runs.
func init() {
	if os.Getenv(workerEnv) != workerMarker {
		return
	}
	if err := runWorker(); err != nil {
		fmt.Fprintln(os.Stderr, "migrate wasm worker:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runWorker runs one instance of the module its environment names, with
// this process's standard streams as the module's.
func runWorker() error {
	path := os.Getenv(envModule)
	bin, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// The parent checked this file; make sure it is still that file.
	sum := sha256.Sum256(bin)
	if want := os.Getenv(envSum); want != "" && want != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("%s changed after it was checked (SHA-256 %s, expected %s); refusing to run it", path, hex.EncodeToString(sum[:]), want)
	}
	pages, _ := strconv.ParseUint(os.Getenv(envPages), 10, 32)
	ctx := context.Background()
	m, err := wasm.CompileBytes(ctx, baseName(path), bin, wasm.Options{
		MemoryLimitPages: uint32(pages),
		CacheDir:         os.Getenv(envCache),
		ScratchDir:       os.Getenv(envScratch),
		// The parent kills this process to stop the guest, so the guest
		// need not check for cancellation and runs at full speed.
		CloseOnContextDone: false,
	})
	if err != nil {
		return err
	}
	defer m.Close(ctx)
	return m.Run(ctx, os.Stdin, os.Stdout, os.Stderr)
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' || p[i] == os.PathSeparator {
			return p[i+1:]
		}
	}
	return p
}

// workerLauncher starts each instance of a module in a worker process.
func (r *Resolver) workerLauncher(path string, sum []byte) wasm.Launcher {
	return func(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) (func() error, error) {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding migrate's own executable to run the module in: %w", err)
		}
		cmd := exec.Command(exe)
		cmd.Env = []string{
			workerEnv + "=" + workerMarker,
			envModule + "=" + path,
			envSum + "=" + hex.EncodeToString(sum),
			envPages + "=" + strconv.FormatUint(uint64(r.pages()), 10),
			envCache + "=" + r.wazeroCache(),
			envScratch + "=" + r.cfg.ScratchDir,
			"TMPDIR=" + os.TempDir(),
		}
		cmd.Stdout, cmd.Stderr = stdout, stderr
		// Standard input is copied by hand: exec.Cmd.Wait waits for its own
		// copy from stdin, which blocks until the host has something to
		// say, and the host waits for Wait to learn that the worker died.
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		cmd.WaitDelay = 2 * time.Second
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("starting a worker for %s: %w", baseName(path), err)
		}
		go func() {
			_, _ = io.Copy(in, stdin)
			in.Close()
		}()
		exited := make(chan struct{})
		killed := make(chan bool, 1)
		go func() {
			select {
			case <-ctx.Done():
				_ = cmd.Process.Kill()
				killed <- true
			case <-exited:
				killed <- false
			}
		}()
		return func() error {
			err := cmd.Wait()
			close(exited)
			if <-killed {
				return wasm.ErrKilled
			}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return fmt.Errorf("%s", ee.ProcessState.String())
			}
			if errors.Is(err, exec.ErrWaitDelay) {
				return nil
			}
			return err
		}, nil
	}
}

// fileSum returns a file's content and SHA-256.
func fileSum(path string) ([]byte, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	s := sha256.Sum256(b)
	return b, s[:], nil
}

func sameSum(a, b []byte) bool { return bytes.Equal(a, b) }
