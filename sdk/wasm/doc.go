// Package wasm runs adapters as WebAssembly modules.
//
// In an adapter's own command, Serve turns the adapter into a module:
//
//	package main
//
//	import "github.com/migrate-chat/migrate/sdk/wasm"
//
//	func main() { wasm.Serve(&mychat.Source{}) }
//
// built with
//
//	GOOS=wasip1 GOARCH=wasm go build -o mychat.wasm ./cmd/mychat-wasm
//
// The module is a WASI command: its main speaks migrate's adapter protocol
// over standard input and output and logs as JSON lines on standard error.
// It exports a function named migrate_protocol_<version> for each protocol
// version it speaks, so a host can tell, before running a byte of it,
// whether the two can talk.
//
// Outside WebAssembly the package is the host's side: Compile loads a
// module into a wazero runtime and Open turns it into an sdk.Adapter whose
// every Read or Write runs in a fresh instance. The guest gets no
// filesystem of its own: it reads its inputs, and writes its outputs,
// through the host, which serves them from the trees the pipeline hands
// it. Its only writable space is a private scratch directory for spill
// files, confined by an os.Root and removed when the call ends.
package wasm
