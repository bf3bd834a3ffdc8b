// Command irclog-wasm is the irclog adapter as a WebAssembly module:
//
//	GOOS=wasip1 GOARCH=wasm go build -o irclog.wasm ./examples/irclog/cmd/irclog-wasm
package main

import (
	"github.com/migrate-chat/migrate/examples/irclog"
	"github.com/migrate-chat/migrate/sdk/wasm"
)

func main() { wasm.Serve(&irclog.Source{}) }
