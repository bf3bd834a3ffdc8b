//go:build wasip1

// Package serve runs a shipped adapter as a plugin: a WebAssembly module
// when built with GOOS=wasip1 GOARCH=wasm, a plugin executable otherwise.
package serve

import (
	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/wasm"
)

// Main serves a as a WebAssembly module.
func Main(a sdk.Adapter) { wasm.Serve(a) }
