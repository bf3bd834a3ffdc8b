// Package wire is the protocol between migrate and an adapter that runs
// outside it, as a WebAssembly module or as a separate process.
//
// Both transports carry the same frames; only how the bytes travel
// differs (a module's standard input and output, or a gRPC stream). A
// frame is a little-endian uint32 length, one type byte and a payload.
//
// A session runs one call. The adapter speaks first with a hello frame
// (the protocol versions it speaks and its manifest); the host answers
// with a call frame (read, write, or close); then the adapter streams
// records, notices and progress, and asks the host for what it needs —
// input files, blobs, the dataset of a target, output files — with
// request frames that the host answers one at a time. A done frame ends
// the session with the adapter's error, if any.
//
// Records cross in batches of a few hundred: each record is its kind's
// index in sdk.Kinds, a length and the record's JSON. Batches carry the
// index of their first record, so a lost or reordered batch is detected.
//
// The guest half (Serve) is what sdk/wasm and sdk/plugin run inside the
// adapter; the host half (NewAdapter) turns a session back into an
// sdk.Source or sdk.Target for the pipeline.
package wire
