//go:build !wasip1

package wasm

import (
	"fmt"
	"os"

	"github.com/migrate-chat/migrate/sdk"
)

// Serve is only meaningful in a WebAssembly build; built for the host, the
// command says how to build it instead, so that `go vet ./...` and
// `go build ./...` still work over a module that holds such commands.
func Serve(a sdk.Adapter) {
	fmt.Fprintf(os.Stderr, "%s: this command is a WebAssembly adapter: build it with GOOS=wasip1 GOARCH=wasm go build\n", a.Manifest().Name)
	os.Exit(2)
}
