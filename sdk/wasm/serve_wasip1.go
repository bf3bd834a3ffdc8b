//go:build wasip1

package wasm

import (
	"context"
	"fmt"
	"os"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/internal/wire"
)

// The host looks for this export before it runs the module; its name must
// follow wire.Version (a test in this package checks that it does).
//
//go:wasmexport migrate_protocol_1
func migrateProtocol1() {}

// Serve runs adapter a for the host that started this module, and exits.
// Call it from main.
func Serve(a sdk.Adapter) {
	// Standard output carries the protocol; anything the adapter prints
	// goes to standard error instead, where the host logs it.
	proto := os.Stdout
	os.Stdout = os.Stderr
	conn := wire.NewStreamConn(os.Stdin, proto)
	if err := wire.Serve(context.Background(), a, conn, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "migrate adapter:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
