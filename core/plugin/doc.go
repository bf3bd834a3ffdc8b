// Package plugin finds and runs adapters that are not compiled into
// migrate: WebAssembly modules (*.wasm) and plugin executables, dropped in
// a plugin directory or named by path. Its Resolver is the
// pipeline.Resolver the CLI uses: shipped adapters run in-process unless
// asked otherwise, everything else runs through its plugin.
//
// WebAssembly modules run in a worker: a child process that is this very
// executable, started with a marker in its environment (see worker.go).
// wazero can only interrupt a guest stuck in a loop if every loop checks
// for cancellation, which makes Go guests several times slower; a worker
// runs the guest at full speed and is simply killed when the call is
// cancelled or runs out of time. The guest's memory is capped, it has no
// filesystem but a private scratch directory, and its input and output
// pass through the host (see sdk/internal/wire).
//
// Process plugins run under hashicorp/go-plugin (see sdk/plugin); when the
// user pins a checksum the executable is verified before it starts.
package plugin
