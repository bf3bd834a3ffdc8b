// Command migrate-plugins builds the shipped adapters as plugins — a
// WebAssembly module (<name>.wasm) and a plugin executable
// (migrate-adapter-<name>) each — into one directory, so that migrate can
// run them with --transport wasm or --transport process:
//
//	go run ./cmd/migrate-plugins -o ~/.local/share/migrate/plugins
//	migrate --transport wasm --from gitter --to pixtoome gitter_data.json -o out/
//
// Run it from inside the migrate module.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

const adaptersPkg = "github.com/migrate-chat/migrate/cmd/adapters/..."

func main() {
	out := flag.String("o", "", "directory to put the plugins in (made if needed)")
	which := flag.String("transport", "both", "what to build: wasm, process or both")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "migrate-plugins: -o DIR is required")
		os.Exit(64)
	}
	if err := run(*out, *which); err != nil {
		fmt.Fprintln(os.Stderr, "migrate-plugins:", err)
		os.Exit(1)
	}
}

func run(out, which string) error {
	if which != "wasm" && which != "process" && which != "both" {
		return fmt.Errorf("-transport %q: use wasm, process or both", which)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	list, err := exec.Command("go", "list", "-e", "-f", "{{if .GoFiles}}{{.ImportPath}}{{end}}", adaptersPkg).Output()
	if err != nil {
		return fmt.Errorf("listing the adapter commands (run this inside the migrate module): %w", err)
	}
	for _, pkg := range strings.Fields(string(list)) {
		if strings.Contains(pkg, "/internal/") {
			continue
		}
		name := path.Base(pkg)
		if which != "process" {
			if err := build(pkg, filepath.Join(out, name+".wasm"), true); err != nil {
				return err
			}
		}
		if which != "wasm" {
			if err := build(pkg, filepath.Join(out, "migrate-adapter-"+name), false); err != nil {
				return err
			}
		}
	}
	return nil
}

func build(pkg, dst string, wasm bool) error {
	// Build beside the destination and rename, so a running migrate never
	// sees half a plugin.
	tmp := dst + ".building"
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, pkg)
	cmd.Env = os.Environ()
	if wasm {
		cmd.Env = append(cmd.Env, "GOOS=wasip1", "GOARCH=wasm")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("building %s: %w\n%s", dst, err, stderr.String())
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	fmt.Println(dst)
	return nil
}
