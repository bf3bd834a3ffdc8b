// Package adaptertest runs adapters inside `go test`: a source over sample
// inputs, a target over a dataset, with every record checked against the
// canonical schema and every reference resolved. Adapter authors call it
// from their own tests; it needs nothing but the sdk.
package adaptertest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"

	"github.com/migrate-chat/migrate/schema"
	"github.com/migrate-chat/migrate/sdk"
)

// Result is everything a source emitted, held in memory. Only use it on
// test-sized inputs.
type Result struct {
	Workspace     *sdk.Workspace
	Users         []*sdk.User
	Rooms         []*sdk.Room
	Conversations []*sdk.Conversation
	Emoji         []*sdk.Emoji
	// Messages are sorted by SentAt; equal times keep emit order.
	Messages    []*sdk.Message
	Attachments []*sdk.Attachment
	Blobs       map[string][]byte
	Notices     []sdk.Notice
}

// RunSource runs src over the given files or directories, as the host would
// after unwrapping them, and fails the test if the source returns an error
// or emits a record that does not match the canonical schema. Like the
// host, it sorts messages by time, keeps the first of repeated message and
// attachment ids and clears references to messages never emitted, adding
// the host's notices to Result.Notices.
func RunSource(t testing.TB, src sdk.Source, opts sdk.Options, inputs ...string) *Result {
	t.Helper()
	r, err := TryRunSource(context.Background(), src, opts, inputs...)
	if err != nil {
		t.Fatalf("source %s: %v", src.Manifest().Name, err)
	}
	return r
}

// TryRunSource is RunSource returning the error instead of failing, for
// tests of bad input.
func TryRunSource(ctx context.Context, src sdk.Source, opts sdk.Options, inputs ...string) (*Result, error) {
	req := &sdk.ReadRequest{
		Options: opts.WithDefaults(src.Manifest().Options),
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, in := range inputs {
		st, err := os.Stat(in)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			req.Inputs = append(req.Inputs, sdk.Input{Name: filepath.Base(in), FS: os.DirFS(in)})
		} else {
			req.Inputs = append(req.Inputs, sdk.Input{Name: filepath.Base(in), FS: os.DirFS(filepath.Dir(in)), Entry: filepath.Base(in)})
		}
	}
	sink := &memSink{res: &Result{Blobs: map[string][]byte{}}}
	if err := src.Read(ctx, req, sink); err != nil {
		return sink.res, err
	}
	if sink.res.Workspace == nil {
		return sink.res, errors.New("the source emitted no workspace record")
	}
	slices.SortStableFunc(sink.res.Messages, func(a, b *sdk.Message) int { return a.SentAt.Compare(b.SentAt) })
	sink.res.Messages = dropRepeated(sink.res, sdk.KindMessage, sink.res.Messages)
	sink.res.Attachments = dropRepeated(sink.res, sdk.KindAttachment, sink.res.Attachments)
	clearDangling(sink.res)
	return sink.res, nil
}

// clearDangling does what the host does with a thread_root or reply_to
// naming a message that was not emitted: it clears the field, keeps the id
// in extra and reports a warning.
func clearDangling(res *Result) {
	ids := make(map[string]bool, len(res.Messages))
	for _, m := range res.Messages {
		ids[m.ID] = true
	}
	for _, m := range res.Messages {
		for _, f := range []struct {
			p               *string
			key, what, code string
		}{
			{&m.ThreadRoot, "thread_root_missing", "thread root", "thread-root-missing"},
			{&m.ReplyTo, "reply_to_missing", "message it replies to", "reply-target-missing"},
		} {
			if *f.p == "" || ids[*f.p] {
				continue
			}
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			m.Extra[f.key] = *f.p
			res.Notices = append(res.Notices, sdk.Notice{Level: sdk.LevelWarning, Code: f.code, Kind: sdk.KindMessage, Record: m.ID,
				Message: fmt.Sprintf("message %s: its %s %s is not in the export; it is kept as an ordinary message (the id is kept in extra)", m.ID, f.what, *f.p)})
			*f.p = ""
		}
	}
}

// dropRepeated does what the host does with a message or attachment id
// emitted again: it keeps the first (in time order for messages) and
// reports each later one as a skipped record.
func dropRepeated[T sdk.Record](res *Result, kind sdk.Kind, recs []T) []T {
	seen := make(map[string]bool, len(recs))
	return slices.DeleteFunc(recs, func(r T) bool {
		id := r.RecordID()
		if !seen[id] {
			seen[id] = true
			return false
		}
		res.Notices = append(res.Notices, sdk.Notice{Level: sdk.LevelError, Code: "duplicate-id", Kind: kind, Record: id, Skipped: true,
			Message: fmt.Sprintf("%s %s: another %s with this id came before it; the first one was kept and this one left out", kind, id, kind)})
		return true
	})
}

type memSink struct{ res *Result }

func (s *memSink) Emit(rec sdk.Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("%s %s: cannot encode: %w", rec.RecordKind(), rec.RecordID(), err)
	}
	if err := schema.Validate(string(rec.RecordKind()), b); err != nil {
		return err
	}
	// Keep a copy decoded from the JSON, so later changes by the source to
	// the value it emitted cannot leak in, just as with a real transport.
	switch rec.(type) {
	case *sdk.Workspace:
		if s.res.Workspace != nil {
			return errors.New("the source emitted a second workspace record")
		}
		s.res.Workspace = decode[sdk.Workspace](b)
	case *sdk.User:
		s.res.Users = append(s.res.Users, decode[sdk.User](b))
	case *sdk.Room:
		s.res.Rooms = append(s.res.Rooms, decode[sdk.Room](b))
	case *sdk.Conversation:
		s.res.Conversations = append(s.res.Conversations, decode[sdk.Conversation](b))
	case *sdk.Emoji:
		s.res.Emoji = append(s.res.Emoji, decode[sdk.Emoji](b))
	case *sdk.Message:
		s.res.Messages = append(s.res.Messages, decode[sdk.Message](b))
	case *sdk.Attachment:
		s.res.Attachments = append(s.res.Attachments, decode[sdk.Attachment](b))
	default:
		return fmt.Errorf("unknown record type %T", rec)
	}
	return nil
}

func decode[T any](b []byte) *T {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		panic(err) // we encoded it ourselves a moment ago
	}
	return v
}

func (s *memSink) PutBlob(r io.Reader, contentType string) (sdk.BlobRef, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return sdk.BlobRef{}, err
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	s.res.Blobs[h] = b
	return sdk.BlobRef{SHA256: h, Size: int64(len(b)), ContentType: contentType}, nil
}

func (s *memSink) Notice(n sdk.Notice)        { s.res.Notices = append(s.res.Notices, n) }
func (s *memSink) Progress(done, total int64) {}

// CheckReferences reports every reference that does not resolve: senders,
// rooms, conversations, attachments, owners, members, participants, blobs,
// thread roots and replies; and duplicate ids within a kind.
func (r *Result) CheckReferences() []error {
	var errs []error
	ids := func(kind string, n int, id func(int) string) map[string]bool {
		m := make(map[string]bool, n)
		for i := range n {
			if m[id(i)] {
				errs = append(errs, fmt.Errorf("duplicate %s id %q", kind, id(i)))
			}
			m[id(i)] = true
		}
		return m
	}
	users := ids("user", len(r.Users), func(i int) string { return r.Users[i].ID })
	rooms := ids("room", len(r.Rooms), func(i int) string { return r.Rooms[i].ID })
	convs := ids("conversation", len(r.Conversations), func(i int) string { return r.Conversations[i].ID })
	msgs := ids("message", len(r.Messages), func(i int) string { return r.Messages[i].ID })
	atts := ids("attachment", len(r.Attachments), func(i int) string { return r.Attachments[i].ID })
	ids("emoji", len(r.Emoji), func(i int) string { return r.Emoji[i].ID })
	need := func(set map[string]bool, id, what string) {
		if id != "" && !set[id] {
			errs = append(errs, fmt.Errorf("%s: %q does not exist", what, id))
		}
	}
	blob := func(b *sdk.BlobRef, what string) {
		if b == nil {
			return
		}
		data, ok := r.Blobs[b.SHA256]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: blob %s does not exist", what, b.SHA256))
		} else if int64(len(data)) != b.Size {
			errs = append(errs, fmt.Errorf("%s: blob %s has %d bytes, the record says %d", what, b.SHA256, len(data), b.Size))
		}
	}
	for _, u := range r.Users {
		blob(u.Avatar, "user "+u.ID+" avatar")
	}
	for _, e := range r.Emoji {
		blob(e.Image, "emoji "+e.ID+" image")
		need(users, e.Creator, "emoji "+e.ID+" creator")
	}
	for _, rm := range r.Rooms {
		need(users, rm.Owner, "room "+rm.ID+" owner")
		for _, a := range rm.Admins {
			need(users, a, "room "+rm.ID+" admin")
		}
		for _, m := range rm.Members {
			need(users, m, "room "+rm.ID+" member")
		}
	}
	for _, c := range r.Conversations {
		for _, p := range c.Participants {
			need(users, p, "conversation "+c.ID+" participant")
		}
	}
	owner := map[string]string{}
	for _, m := range r.Messages {
		w := "message " + m.ID
		need(users, m.Sender, w+" sender")
		need(rooms, m.Room, w+" room")
		need(convs, m.Conversation, w+" conversation")
		need(msgs, m.ThreadRoot, w+" thread root")
		need(msgs, m.ReplyTo, w+" reply-to")
		for _, a := range m.Attachments {
			need(atts, a, w+" attachment")
			owner[a] = m.ID
		}
		for _, x := range m.Mentions {
			need(users, x.User, w+" mention")
		}
		for _, x := range m.Reactions {
			for _, u := range x.Users {
				need(users, u, w+" reaction")
			}
		}
	}
	for _, a := range r.Attachments {
		if owner[a.ID] != a.Message {
			errs = append(errs, fmt.Errorf("attachment %s: belongs to message %q, but that message does not list it", a.ID, a.Message))
		}
		if a.SHA256 != "" {
			blob(&sdk.BlobRef{SHA256: a.SHA256, Size: a.Size}, "attachment "+a.ID)
		}
		need(users, a.Uploader, "attachment "+a.ID+" uploader")
	}
	return errs
}

// Dataset returns the result as an sdk.Dataset, for running a target.
func (r *Result) Dataset() sdk.Dataset { return NewDataset(r) }

// NewDataset returns an in-memory sdk.Dataset holding r's records.
func NewDataset(r *Result) sdk.Dataset {
	c := *r
	c.Messages = slices.Clone(r.Messages)
	slices.SortStableFunc(c.Messages, func(a, b *sdk.Message) int { return a.SentAt.Compare(b.SentAt) })
	return &memDataset{r: &c}
}

type memDataset struct{ r *Result }

func seq[T any](xs []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, x := range xs {
			if !yield(x, nil) {
				return
			}
		}
	}
}

func (d *memDataset) Workspace() *sdk.Workspace { return d.r.Workspace }
func (d *memDataset) Counts() map[sdk.Kind]int64 {
	return map[sdk.Kind]int64{
		sdk.KindWorkspace: 1, sdk.KindUser: int64(len(d.r.Users)), sdk.KindRoom: int64(len(d.r.Rooms)),
		sdk.KindConversation: int64(len(d.r.Conversations)), sdk.KindEmoji: int64(len(d.r.Emoji)),
		sdk.KindMessage: int64(len(d.r.Messages)), sdk.KindAttachment: int64(len(d.r.Attachments)),
	}
}
func (d *memDataset) Users() iter.Seq2[*sdk.User, error] { return seq(d.r.Users) }
func (d *memDataset) Rooms() iter.Seq2[*sdk.Room, error] { return seq(d.r.Rooms) }
func (d *memDataset) Conversations() iter.Seq2[*sdk.Conversation, error] {
	return seq(d.r.Conversations)
}
func (d *memDataset) Emoji() iter.Seq2[*sdk.Emoji, error]            { return seq(d.r.Emoji) }
func (d *memDataset) Messages() iter.Seq2[*sdk.Message, error]       { return seq(d.r.Messages) }
func (d *memDataset) Attachments() iter.Seq2[*sdk.Attachment, error] { return seq(d.r.Attachments) }
func (d *memDataset) OpenBlob(sum string) (io.ReadCloser, error) {
	b, ok := d.r.Blobs[sum]
	if !ok {
		return nil, fmt.Errorf("blob %s: %w", sum, os.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// RunTarget runs tgt over ds into a new temporary directory, through an
// Output confined to that directory, and returns the directory and the
// notices the target reported. It fails the test if the target fails.
func RunTarget(t testing.TB, tgt sdk.Target, ds sdk.Dataset, opts sdk.Options) (string, []sdk.Notice) {
	t.Helper()
	dir := t.TempDir()
	notices, err := TryRunTarget(context.Background(), tgt, ds, opts, dir)
	if err != nil {
		t.Fatalf("target %s: %v", tgt.Manifest().Name, err)
	}
	return dir, notices
}

// TryRunTarget is RunTarget into a given empty directory, returning the
// error instead of failing.
func TryRunTarget(ctx context.Context, tgt sdk.Target, ds sdk.Dataset, opts sdk.Options, dir string) ([]sdk.Notice, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var notices []sdk.Notice
	req := &sdk.WriteRequest{
		Data:     ds,
		Out:      RootOutput{Root: root},
		Options:  opts.WithDefaults(tgt.Manifest().Options),
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notice:   func(n sdk.Notice) { notices = append(notices, n) },
		Progress: func(done, total int64) {},
	}
	return notices, tgt.Write(ctx, req)
}

// RootOutput is an sdk.Output confined to an os.Root: paths that would
// leave it, through ".." or a symbolic link, are refused.
type RootOutput struct{ Root *os.Root }

// Create implements sdk.Output.
func (o RootOutput) Create(name string) (io.WriteCloser, error) {
	clean := path.Clean(name)
	if !filepath.IsLocal(filepath.FromSlash(clean)) {
		return nil, fmt.Errorf("output path %q leaves the output directory", name)
	}
	if dir := path.Dir(clean); dir != "." {
		if err := o.Root.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return o.Root.Create(clean)
}

// SortedIDs returns the ids of records, sorted, for comparing results.
func SortedIDs[T sdk.Record](recs []T) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.RecordID()
	}
	slices.SortFunc(out, cmp.Compare)
	return out
}

// ReadTree returns every file under dir by slash-separated path, failing
// the test if the tree cannot be read: for comparing outputs byte for byte.
func ReadTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return out
}

// SameTree fails the test unless the directories want and got hold the
// same files with the same bytes, naming each file missing, extra or
// different.
func SameTree(t testing.TB, want, got string) {
	t.Helper()
	a, b := ReadTree(t, want), ReadTree(t, got)
	for name, wb := range a {
		gb, ok := b[name]
		switch {
		case !ok:
			t.Errorf("%s: missing from %s", name, got)
		case !bytes.Equal(wb, gb):
			t.Errorf("%s differs:\nwant %.400q\n got %.400q", name, wb, gb)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("%s: only in %s", name, got)
		}
	}
}
