package container

import (
	"errors"
	"fmt"
)

// ErrWrongPassphrase reports that an encrypted input could not be decrypted
// with the passphrase given. Its text is the message HipChat Server itself
// shows in this situation, so users recognise it. The same error (wrapped)
// reports a bad padding block at the end of the data, which is what a wrong
// passphrase usually looks like to a decryptor; test with errors.Is.
//
//lint:ignore ST1005 the capital letter and full stop are HipChat's exact wording
var ErrWrongPassphrase = errors.New("Couldn't decrypt the archive file. Make sure you're entering the correct password.")

// ErrNeedPassphrase is returned by [Unwrap] when the input is encrypted and
// [Options.Passphrase] is nil.
var ErrNeedPassphrase = errors.New("the input is encrypted; give its passphrase with --passphrase-file FILE or the MIGRATE_PASSPHRASE environment variable")

// ErrTruncated reports an input that ends early: a ciphertext whose length is
// not a whole number of AES blocks, or a gzip, zstd, tar or zip stream that
// stops in the middle. Test with errors.Is.
var ErrTruncated = errors.New("archive is truncated")

// truncatedError is an unexpected end of data, reported in words a user can
// act on while still matching both ErrTruncated and io.ErrUnexpectedEOF.
type truncatedError struct{ cause error }

func (e *truncatedError) Error() string {
	return "archive is truncated (the data ends unexpectedly; was the download or copy complete?)"
}

func (e *truncatedError) Is(target error) bool { return target == ErrTruncated }

func (e *truncatedError) Unwrap() error { return e.cause }

// ErrUnsafeEntry reports an archive entry that was refused because unpacking
// it could write outside the tree or create something other than a plain
// file or directory. Test with errors.Is.
var ErrUnsafeEntry = errors.New("unsafe archive entry")

// ErrUnsupported reports an input format that is recognised but not handled
// (for example xz or bzip2 compression). Test with errors.Is.
var ErrUnsupported = errors.New("unsupported format")

// Error is the error type returned by [Unwrap]: it names the input file and,
// when the problem is tied to one archive entry, that entry.
type Error struct {
	Input string // the path given to Unwrap
	Entry string // archive entry name, "" when the error concerns the whole input
	Err   error  // the cause; unwrap it with errors.Is / errors.As
}

func (e *Error) Error() string {
	if e.Entry != "" {
		return fmt.Sprintf("%s: entry %q: %v", e.Input, e.Entry, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Input, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// unsafeEntryError carries the reason an entry was refused while still
// matching ErrUnsafeEntry.
type unsafeEntryError struct{ reason string }

func (e *unsafeEntryError) Error() string { return e.reason + "; refusing to unpack" }

func (e *unsafeEntryError) Is(target error) bool { return target == ErrUnsafeEntry }

func unsafeEntry(format string, args ...any) error {
	return &unsafeEntryError{reason: fmt.Sprintf(format, args...)}
}

// LimitError reports that unpacking stopped because one of the [Limits] was
// reached. Limit is the field of Limits, Flag the command-line option that
// sets it, Value the limit in readable form.
type LimitError struct {
	Limit  string // field of Limits, e.g. "MaxFileBytes"
	Flag   string // command-line option that raises it, e.g. "--max-file-bytes"
	Value  string // the limit that was hit, e.g. "100 GiB"
	What   string // what exceeded it, e.g. "the unpacked size of this entry"
	Detail string // optional explanation
}

func (e *LimitError) Error() string {
	detail := ""
	if e.Detail != "" {
		detail = "; " + e.Detail
	}
	return fmt.Sprintf("%s exceeds the limit of %s (Limits.%s)%s; if you trust this input, raise it with %s",
		e.What, e.Value, e.Limit, detail, e.Flag)
}
