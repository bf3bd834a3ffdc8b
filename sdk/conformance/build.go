package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// CacheDir returns a directory under the user's cache directory for the
// kit's builds and wazero's compiled modules, made if needed.
func CacheDir(name string) string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "migrate", name)
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

// Build builds a package as a WebAssembly module (wasm) or a host
// executable, once per test binary, and returns the file's path. Builds
// land in the user's cache directory, so the go command's own cache makes
// later runs quick.
func Build(t testing.TB, pkg string, wasm bool) string {
	t.Helper()
	key := pkg
	if strings.HasPrefix(pkg, ".") {
		// A relative path means different packages in different tests.
		if abs, err := filepath.Abs(pkg); err == nil {
			key = abs
		}
	}
	if wasm {
		key += " wasm"
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[key]; ok {
		return p
	}
	sum := sha256.Sum256([]byte(key))
	dir := filepath.Join(CacheDir("conformance"), hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, path.Base(pkg))
	if wasm {
		out += ".wasm"
	}
	cmd := exec.Command(goCommand(), "build", "-o", out, pkg)
	cmd.Env = os.Environ()
	if wasm {
		cmd.Env = append(cmd.Env, "GOOS=wasip1", "GOARCH=wasm")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", key, err, b)
	}
	built[key] = out
	return out
}

func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	// No go on PATH: `go test` sets GOROOT for the tests it runs.
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}
