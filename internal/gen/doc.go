// Package gen generates large, realistic chat exports for tests and
// benchmarks: Gitter REST, lookups, NDJSON and Matrix exports, HipChat
// Server and Cloud archives (encrypted tar.gz and the older zip), canonical
// archives and Pixtoome import directories.
//
// Generation is deterministic and streaming. Every random choice about a
// message is drawn from a generator seeded by a hash of (seed, stream,
// index), and times come from integer gaps drawn the same way, so any
// stream can be produced oldest-first or newest-first (HipChat's
// history.json order) without holding it in memory, and a file can be
// produced twice (once to learn its size for a tar header, once to write
// it) with identical bytes. Memory grows with users and rooms, never with
// messages or attachment sizes.
//
// The data follows the shapes real exports have rather than uniform noise:
// Zipf-distributed user activity and room sizes, working-hour and weekday
// bursts, threads, mentions including @all/@here, edits, reactions where a
// format has them, CJK, emoji and right-to-left text, code blocks, rare
// long messages, issue references, /me, and attachments with log-normal
// sizes.
package gen
