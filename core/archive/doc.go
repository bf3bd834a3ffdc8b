// Package archive reads and writes the canonical archive: the directory in
// which migrate keeps a workspace between a source and a target, and which
// `migrate export`, `migrate import` and `migrate validate` work on.
//
// Layout:
//
//	manifest.json            format, source, counts, SHA-256 of every file
//	workspace.ndjson         exactly one record
//	users.ndjson             one canonical record per line, in this order of
//	rooms.ndjson             files (dependency order); every file is present,
//	conversations.ndjson     possibly empty
//	emoji.ndjson
//	messages.ndjson          ordered by sent_at; ties keep the order of emission
//	attachments.ndjson
//	blobs/sha256/ab/ab…      content-addressed file contents and images
//
// The encoding is canonical: records are encoded by encoding/json from the
// sdk types, one per line; the manifest is indented by two spaces; nothing
// records when or where the archive was written. Reading an archive and
// writing it again (Copy) therefore gives the same bytes.
//
// A Writer is an sdk.Sink. It streams every kind to its file as records
// arrive. Messages are written straight through while the source emits them
// in time order; at the first message out of order the Writer switches to an
// external merge sort (sorted runs of at most WriterOptions.SortMemory
// messages spilled to temporary files, then a k-way merge), so memory stays
// bounded whatever the number of messages.
//
// The manifest is written last, by Close: a directory without one is an
// archive whose writing did not finish, and Open refuses it. Message and
// attachment identifiers are checked for duplicates at Close through
// 64-bit hashes sorted on disk (memory bounded by SortMemory); hashes that
// collide are compared by re-reading the lines, so only true duplicates
// are reported.
//
// A Reader is an sdk.Dataset over an archive directory, or over a packed
// archive (.tar.gz, .tar.zst) that Open unpacks through package container
// into a temporary tree which Close removes; every pass streams from disk. Verify checks an archive thoroughly (hashes, schema, duplicate
// identifiers, every reference, blob contents, message order) with memory
// that grows with users and rooms but not with messages: message
// identifiers are compared through 64-bit hashes sorted on disk, so that a
// reference check is a merge of two sorted streams.
package archive
