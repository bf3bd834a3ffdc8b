// Package sdk is everything an adapter author needs to teach migrate a chat
// system: the canonical record types, the Source and Target interfaces, the
// adapter Manifest, and the registry that shipped adapters join from init.
//
// A source maps one system's export onto canonical records and hands them to
// a Sink; a target reads a validated canonical Dataset and writes the
// system's import format through an Output. Adapters are pure data mapping:
// the host decrypts, unpacks, downloads, validates and writes files, so the
// same adapter can run in-process, in a WebAssembly sandbox or as a separate
// process.
//
// The record types mirror the JSON Schema files in package schema field for
// field; a test in this package proves that they agree.
package sdk
