package sdk

import (
	"context"
	"io"
	"io/fs"
	"iter"
	"log/slog"
)

// Adapter is anything that teaches migrate a chat system. An adapter is a
// Source, a Target, or both; the host finds out which by type assertion.
type Adapter interface {
	// Manifest describes the adapter. It must be cheap and constant.
	Manifest() Manifest
}

// Source reads one system's export and emits canonical records.
//
// A source never decrypts, decompresses, downloads or opens paths of its
// own: the host unwraps every input into a read-only tree and hands it over
// in the ReadRequest. Records may be emitted in any order; the host stores
// each kind in its own stream and sorts messages by time.
type Source interface {
	Adapter
	Read(ctx context.Context, req *ReadRequest, out Sink) error
}

// Target writes canonical records in one system's import format.
//
// A target writes only through req.Out; the host packs, compresses and
// encrypts the result as the manifest's Output asks, and moves it into
// place only when Write returns nil.
type Target interface {
	Adapter
	Write(ctx context.Context, req *WriteRequest) error
}

// Input is one input the user named, made ready by the host.
type Input struct {
	// Name is the base name of what the user named, for messages.
	Name string
	// FS is the read-only tree holding the input.
	FS fs.FS
	// Entry is the name, inside FS, of the input file when the user named
	// a single plain file; it is "" when the input is a whole tree (a
	// directory, or an archive the host unpacked).
	Entry string
}

// ReadRequest is what a Source is handed.
type ReadRequest struct {
	Inputs  []Input
	Options Options
	Log     *slog.Logger
}

// Sink receives what a Source reads. Its methods are not safe for
// concurrent use.
type Sink interface {
	// Emit hands over one record. The host validates it against the
	// canonical schema; an invalid record is an error naming it. The sink
	// may keep rec after Emit returns, so the source must not change it
	// afterwards (allocate a new record for each call). A message or
	// attachment whose id was emitted before is not an error: the host
	// keeps the first (for messages, the first in time order), leaves the
	// later one out and reports it as a skipped record with the code
	// "duplicate-id". Sources reading exports that repeat records need
	// not remember every id; users, rooms, conversations and emoji must
	// still be emitted once each. Likewise a thread_root or reply_to may
	// name a message the source has not seen: when no such message is
	// emitted, the host clears the field, keeps the id in extra
	// ("thread_root_missing", "reply_to_missing") and reports a warning.
	Emit(rec Record) error
	// PutBlob stores a file's content and returns its reference. The
	// content is read to EOF; contentType may be "".
	PutBlob(r io.Reader, contentType string) (BlobRef, error)
	// Notice reports a warning, or a record that was read but cannot be
	// imported (Notice.Skipped), so that the run's account closes.
	Notice(n Notice)
	// Progress reports how far the source has got, in units of its
	// choosing (bytes of input are best); total is 0 when unknown.
	Progress(done, total int64)
}

// WriteRequest is what a Target is handed.
type WriteRequest struct {
	Data    Dataset
	Out     Output
	Options Options
	Log     *slog.Logger
	// Notice reports a warning, or a record that cannot be written
	// (Notice.Skipped), so that the run's account closes.
	Notice func(Notice)
	// Progress reports how far the target has got, in messages written.
	Progress func(done, total int64)
}

// Dataset is a validated canonical workspace, read back in dependency
// order. Every sequence can be iterated more than once; each pass streams
// from storage, so memory does not grow with the number of messages.
type Dataset interface {
	Workspace() *Workspace
	// Counts reports how many records of each kind the dataset holds.
	Counts() map[Kind]int64
	Users() iter.Seq2[*User, error]
	Rooms() iter.Seq2[*Room, error]
	Conversations() iter.Seq2[*Conversation, error]
	Emoji() iter.Seq2[*Emoji, error]
	// Messages yields messages ordered by SentAt; messages sent at the same
	// instant keep the order in which the source emitted them.
	Messages() iter.Seq2[*Message, error]
	Attachments() iter.Seq2[*Attachment, error]
	// OpenBlob opens a blob by its SHA-256 (lower-case hex).
	OpenBlob(sha256 string) (io.ReadCloser, error)
}

// Output is the writable tree a Target fills.
type Output interface {
	// Create creates (or truncates) the file at a slash-separated path
	// relative to the output root, making parent directories as needed.
	// Paths that leave the root are refused.
	Create(name string) (io.WriteCloser, error)
}

// Guide is implemented by targets that can tell the user what to do next
// with their output on the target system (the import command to run,
// password resets, who to make an administrator). The host prints the
// steps after a successful run.
type Guide interface {
	NextSteps(output string, data Dataset, opts Options) []string
}
