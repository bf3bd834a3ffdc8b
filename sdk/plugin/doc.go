// Package plugin runs adapters as separate processes, with
// hashicorp/go-plugin over gRPC.
//
// In an adapter's own command, Serve turns the adapter into a plugin
// executable:
//
//	package main
//
//	import "github.com/migrate-chat/migrate/sdk/plugin"
//
//	func main() { plugin.Serve(&mychat.Source{}) }
//
// On the host's side, Open starts such an executable, checks its
// handshake and protocol version, and returns its adapter; every Read or
// Write is one bidirectional gRPC stream on the running process, carrying
// the same frames as a WebAssembly module's standard input and output,
// record batches included (see sdk/internal/wire). The frames travel as
// raw bytes with a codec of their own, so no protobuf code is generated.
//
// A process plugin runs with the user's rights: it is isolation, not a
// sandbox. Pin its checksum (Options.Checksum) when it comes from
// elsewhere, or build the adapter as a WebAssembly module instead.
package plugin
