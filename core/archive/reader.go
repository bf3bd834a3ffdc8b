package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"

	"github.com/migrate-chat/migrate/core/container"
	"github.com/migrate-chat/migrate/core/recordjson"
	"github.com/migrate-chat/migrate/schema"
	"github.com/migrate-chat/migrate/sdk"
)

// ReadOptions configures a Reader.
type ReadOptions struct {
	// MaxLineBytes bounds one record's line; 0 means DefaultMaxLine.
	MaxLineBytes int
	// MaxManifestBytes bounds manifest.json; 0 means 16 MiB.
	MaxManifestBytes int64
	// MaxErrors is how many problems VerifyAll reports before it adds a
	// last one counting the rest; 0 means 1000.
	MaxErrors int
	// Workers is the number of goroutines that check records against the
	// schema in Verify; 0 means GOMAXPROCS.
	Workers int
	// SortMemory is the number of identifier hashes Verify holds in memory
	// per check before spilling sorted runs (32 bytes each); 0 means
	// 256k. TempDir is where they are spilled; "" means os.TempDir().
	SortMemory int
	TempDir    string
	// Unwrap configures how a packed archive (.tar.gz, .tar.zst, possibly
	// encrypted) is unpacked; its TempDir defaults to TempDir.
	Unwrap container.Options
}

func (o ReadOptions) withDefaults() ReadOptions {
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLine
	}
	if o.MaxManifestBytes <= 0 {
		o.MaxManifestBytes = 16 << 20
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = 1000
	}
	if o.SortMemory <= 0 {
		o.SortMemory = 256 << 10
	}
	return o
}

// Reader reads a canonical archive directory. It implements sdk.Dataset:
// every sequence streams from disk and may be iterated again. Open checks
// the manifest and the workspace; Verify checks everything else.
type Reader struct {
	dir    string
	opt    ReadOptions
	man    *Manifest
	rawMan []byte
	ws     *sdk.Workspace
	// unpacked is the temporary tree of a packed archive, removed by Close.
	unpacked *container.Unwrapped
}

var _ sdk.Dataset = (*Reader)(nil)

// RecordError is a problem with one record, or with a whole file when
// Line is 0.
type RecordError struct {
	File string
	Line int64
	Kind sdk.Kind
	ID   string
	Err  error
}

func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	// A schema error names the record itself.
	var se *schema.Error
	if errors.As(e.Err, &se) {
		c := *se
		if c.ID == "" {
			c.ID = e.ID
		}
		fmt.Fprintf(&b, ": %v", &c)
		return b.String()
	}
	if e.Kind != "" {
		fmt.Fprintf(&b, ": %s", e.Kind)
		if e.ID != "" {
			fmt.Fprintf(&b, " %s", e.ID)
		}
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

// Unwrap returns the cause (for example a *schema.Error).
func (e *RecordError) Unwrap() error { return e.Err }

// Open opens the archive at path: a directory, or a packed archive
// (.tar.gz, .tar.zst, encrypted or not) that is unpacked into a temporary
// directory first. Call Close when done.
func Open(path string, opt ReadOptions) (*Reader, error) {
	return OpenContext(context.Background(), path, opt)
}

// OpenContext is Open with a context for the unpacking of a packed archive.
func OpenContext(ctx context.Context, path string, opt ReadOptions) (*Reader, error) {
	opt = opt.withDefaults()
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if st.IsDir() {
		return openDir(path, opt)
	}
	uo := opt.Unwrap
	if uo.TempDir == "" {
		uo.TempDir = opt.TempDir
	}
	u, err := container.Unwrap(ctx, path, uo)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if u.Entry != "" {
		u.Close()
		return nil, fmt.Errorf("archive: %s is a single file; a canonical archive is a directory, or a .tar.gz or .tar.zst of one", path)
	}
	dir, err := archiveRoot(u.Dir)
	if err != nil {
		u.Close()
		return nil, fmt.Errorf("archive: %s: %w", path, err)
	}
	r, err := openDir(dir, opt)
	if err != nil {
		u.Close()
		return nil, err
	}
	r.unpacked = u
	return r, nil
}

// archiveRoot finds the archive in an unpacked tree: the tree itself, or its
// only directory when the archive was packed with its folder around it.
func archiveRoot(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); err == nil {
		return dir, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(ents) == 1 && ents[0].IsDir() {
		sub := filepath.Join(dir, ents[0].Name())
		if _, err := os.Stat(filepath.Join(sub, ManifestName)); err == nil {
			return sub, nil
		}
	}
	return "", fmt.Errorf("no %s at the top of the packed archive (is it a canonical archive?)", ManifestName)
}

// Close removes the temporary tree of a packed archive; for a directory it
// does nothing.
func (r *Reader) Close() error {
	if r.unpacked == nil {
		return nil
	}
	return r.unpacked.Close()
}

func openDir(path string, opt ReadOptions) (*Reader, error) {
	r := &Reader{dir: path, opt: opt}
	raw, err := readBounded(filepath.Join(path, ManifestName), opt.MaxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("archive: %w (is %s a canonical archive?)", err, path)
	}
	r.rawMan = raw
	if r.man, err = parseManifest(raw); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	var n int
	for ws, err := range readRecords[sdk.Workspace](r, kWorkspace) {
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		n++
		r.ws = ws
	}
	if n != 1 {
		return nil, fmt.Errorf("archive: %s holds %d records; an archive has exactly one workspace", fileNames[kWorkspace], n)
	}
	return r, nil
}

// Pack writes the archive directory dir to out, packed as out's name asks
// (.tar.gz, .tar.zst, their .aes forms, or a directory), atomically.
func Pack(ctx context.Context, dir, out string, opt container.OutputOptions) error {
	if err := container.WriteOutput(ctx, dir, out, opt); err != nil {
		return fmt.Errorf("archive: packing %s: %w", out, err)
	}
	return nil
}

func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", filepath.Base(path), max)
	}
	return b, nil
}

// Dir returns the archive directory.
func (r *Reader) Dir() string { return r.dir }

// Manifest returns the archive's manifest.
func (r *Reader) Manifest() *Manifest { return r.man }

// Workspace implements sdk.Dataset.
func (r *Reader) Workspace() *sdk.Workspace { return r.ws }

// Counts implements sdk.Dataset, from the manifest.
func (r *Reader) Counts() map[sdk.Kind]int64 { return r.man.KindCounts() }

// Users implements sdk.Dataset.
func (r *Reader) Users() iter.Seq2[*sdk.User, error] { return readRecords[sdk.User](r, kUser) }

// Rooms implements sdk.Dataset.
func (r *Reader) Rooms() iter.Seq2[*sdk.Room, error] { return readRecords[sdk.Room](r, kRoom) }

// Conversations implements sdk.Dataset.
func (r *Reader) Conversations() iter.Seq2[*sdk.Conversation, error] {
	return readRecords[sdk.Conversation](r, kConversation)
}

// Emoji implements sdk.Dataset.
func (r *Reader) Emoji() iter.Seq2[*sdk.Emoji, error] { return readRecords[sdk.Emoji](r, kEmoji) }

// Messages implements sdk.Dataset. They come in file order, which Verify
// checks is by sent_at.
func (r *Reader) Messages() iter.Seq2[*sdk.Message, error] {
	return readRecords[sdk.Message](r, kMessage)
}

// Attachments implements sdk.Dataset.
func (r *Reader) Attachments() iter.Seq2[*sdk.Attachment, error] {
	return readRecords[sdk.Attachment](r, kAttachment)
}

// OpenBlob implements sdk.Dataset.
func (r *Reader) OpenBlob(sum string) (io.ReadCloser, error) {
	p := blobPath(sum)
	if p == "" {
		return nil, fmt.Errorf("archive: blob %q: not a SHA-256 in lower-case hex", sum)
	}
	f, err := os.Open(filepath.Join(r.dir, filepath.FromSlash(p)))
	if err != nil {
		return nil, fmt.Errorf("archive: blob %s: %w", sum, err)
	}
	return f, nil
}

// readRecords streams one kind's file. A problem ends the sequence with a
// *RecordError naming the file and line.
func readRecords[T any](r *Reader, k int) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		name := fileNames[k]
		f, err := os.Open(filepath.Join(r.dir, name))
		if err != nil {
			yield(nil, &RecordError{File: name, Err: err})
			return
		}
		defer f.Close()
		lr := newLineReader(f, r.opt.MaxLineBytes, bufFor(f))
		for {
			line, err := lr.readLine()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, &RecordError{File: name, Line: lr.line, Kind: sdk.Kinds[k], Err: err})
				return
			}
			v := new(T)
			if err := decodeLine(line, v); err != nil {
				yield(nil, &RecordError{File: name, Line: lr.line, Kind: sdk.Kinds[k], ID: peekID(line), Err: err})
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

var errEmptyLine = errors.New("empty line where a record should be")

// decodeLine decodes a record into a zero value. Messages and attachments
// go through recordjson, which gives json.Unmarshal's result several times
// faster.
func decodeLine(line []byte, v any) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return errEmptyLine
	}
	var err error
	switch r := v.(type) {
	case *sdk.Message:
		err = recordjson.DecodeMessage(line, r)
	case *sdk.Attachment:
		err = recordjson.DecodeAttachment(line, r)
	default:
		err = json.Unmarshal(line, v)
	}
	if err != nil {
		return fmt.Errorf("cannot decode the record: %w", err)
	}
	return nil
}

// peekID returns a record's id for an error message, when the line is
// JSON enough to have one.
func peekID(line []byte) string {
	if raw := rawID(line); raw != nil {
		return quoteID(idString(raw))
	}
	var m struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(line, &m) == nil && m.ID != "" {
		return quoteID(m.ID)
	}
	return ""
}

// quoteID shows an id in an error: as it is when it is plain, quoted
// otherwise, shortened when very long.
func quoteID(id string) string {
	if len(id) > 80 {
		id = id[:77] + "…"
	}
	for _, c := range id {
		if c <= ' ' || c == '"' || c == '\\' || c == ':' || c > '~' {
			return fmt.Sprintf("%q", id)
		}
	}
	return id
}
