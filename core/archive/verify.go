package archive

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/migrate-chat/migrate/core/recordjson"
	"github.com/migrate-chat/migrate/core/validate"
	"github.com/migrate-chat/migrate/schema"
	"github.com/migrate-chat/migrate/sdk"
)

// VerifyDir opens the archive at path and verifies it; a problem that
// stops Open is the only one reported.
func VerifyDir(ctx context.Context, path string, opt ReadOptions) []error {
	r, err := OpenContext(ctx, path, opt)
	if err != nil {
		return []error{err}
	}
	defer r.Close()
	return r.VerifyAll(ctx)
}

// Verify checks the whole archive and returns nil, or every problem found
// (up to ReadOptions.MaxErrors) joined with errors.Join.
func (r *Reader) Verify(ctx context.Context) error {
	return errors.Join(r.VerifyAll(ctx)...)
}

// VerifyAll checks the whole archive and returns every problem found, each
// naming the file, line, record and reason, in file and line order:
//
//   - the manifest against its schema; each file's SHA-256, size and record
//     count against the manifest;
//   - every record against its schema, and duplicate identifiers;
//   - references: senders, mentions, reactions, owners, admins, members,
//     participants, creators and uploaders to users; messages to rooms and
//     conversations; thread roots and replies to messages; messages to
//     their attachments and back; avatars, emoji images and attachment
//     contents to blobs of the recorded size;
//   - every blob's content against its name, and the blob totals;
//   - the order of messages by sent_at.
//
// Users, rooms, conversations and emoji are held in maps. Message and
// attachment identifiers are not: their 64-bit hashes are sorted on disk
// (bounded memory, see ReadOptions.SortMemory) and references are checked
// by merging sorted streams. A duplicate is confirmed by re-reading both
// lines, so it is never a false alarm; a dangling reference whose hash
// happens to equal another message's (odds about n²/2⁶⁴, one in 10⁵ at ten
// million messages) would go unnoticed.
func (r *Reader) VerifyAll(ctx context.Context) []error {
	v := &verifier{r: r, ctx: ctx, opt: r.opt, seed: maphash.MakeSeed()}
	v.run()
	return v.result()
}

type verifier struct {
	// enc and encBuf re-encode records for the canonical fast path; line
	// does for messages and attachments.
	enc    *json.Encoder
	encBuf bytes.Buffer
	line   []byte

	r    *Reader
	ctx  context.Context
	opt  ReadOptions
	seed maphash.Seed
	tmp  string

	mu      sync.Mutex
	errs    []*RecordError
	dropped int

	users, rooms, convs, emoji map[string]int64

	msgDefs    *hashSorter // H=id, Line/Off in messages.ndjson
	msgRefs    *hashSorter // H=referenced message id, X=refThreadRoot|refReplyTo|refAttachmentMessage
	attDefs    *hashSorter // H=attachment id, X=its message id
	attListing *hashSorter // H=attachment id listed by a message, X=that message's id

	// missingMsg holds the hashes of message ids that attachments name but
	// messages.ndjson lacks, so that such an attachment is reported once.
	missingMsg map[uint64]bool

	work chan *vbatch
	wg   sync.WaitGroup
	cur  *vbatch
}

const (
	refThreadRoot = iota + 1
	refReplyTo
	refAttachmentMessage
)

func (v *verifier) add(e *RecordError) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.errs) >= v.opt.MaxErrors {
		v.dropped++
		return
	}
	v.errs = append(v.errs, e)
}

func (v *verifier) errorf(file string, line int64, k sdk.Kind, id, format string, args ...any) {
	v.add(&RecordError{File: file, Line: line, Kind: k, ID: quoteID(id), Err: fmt.Errorf(format, args...)})
}

func fileRank(name string) int {
	if name == ManifestName {
		return -1
	}
	for i, n := range fileNames {
		if n == name {
			return i
		}
	}
	return len(fileNames)
}

func (v *verifier) result() []error {
	slices.SortStableFunc(v.errs, func(a, b *RecordError) int {
		if c := cmp.Compare(fileRank(a.File), fileRank(b.File)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.File, b.File); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
	var out []error
	for _, e := range v.errs {
		out = append(out, e)
	}
	if v.dropped > 0 {
		out = append(out, fmt.Errorf("… and %d more problems (raise the error limit to see them)", v.dropped))
	}
	return out
}

func (v *verifier) run() {
	tmp, err := os.MkdirTemp(v.opt.TempDir, "migrate-verify-*")
	if err != nil {
		v.errorf(ManifestName, 0, "", "", "cannot make a temporary directory for the check: %v", err)
		return
	}
	v.tmp = tmp
	defer os.RemoveAll(tmp)
	v.msgDefs = newHashSorter(tmp, v.opt.SortMemory)
	v.msgRefs = newHashSorter(tmp, v.opt.SortMemory)
	v.attDefs = newHashSorter(tmp, v.opt.SortMemory)
	v.attListing = newHashSorter(tmp, v.opt.SortMemory)

	n := v.opt.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	v.work = make(chan *vbatch, 2*n)
	for range n {
		v.wg.Add(1)
		go v.validateWorker()
	}
	v.checkManifest()
	v.users, v.rooms, v.convs, v.emoji = map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	ok := v.scanFile(kWorkspace, v.workspace) &&
		v.scanFile(kUser, v.user) &&
		v.scanFile(kRoom, v.room) &&
		v.scanFile(kConversation, v.conversation) &&
		v.scanFile(kEmoji, v.emojiRec) &&
		v.scanFile(kMessage, v.messageRec()) &&
		v.scanFile(kAttachment, v.attachment)
	v.flushBatch()
	close(v.work)
	v.wg.Wait()
	if !ok {
		return
	}
	v.checkMessageRefs()
	v.checkAttachmentLinks()
	v.checkBlobs()
}

// checkManifest re-checks the manifest (Open did) and its agreement with
// the file set.
func (v *verifier) checkManifest() {
	m, err := parseManifest(v.r.rawMan)
	if err != nil {
		v.add(&RecordError{File: ManifestName, Err: err})
		return
	}
	known := map[string]bool{}
	for _, n := range fileNames {
		known[n] = true
	}
	for _, n := range sortedKeys(m.Files) {
		if !known[n] {
			v.errorf(ManifestName, 0, "", "", "files lists %q, which is not a file of a canonical archive", n)
		}
	}
	if m.Counts["blob"] != m.Blobs.Count {
		v.errorf(ManifestName, 0, "", "", "counts.blob is %d but blobs.count is %d", m.Counts["blob"], m.Blobs.Count)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// scanFile reads one kind's file: it hashes and counts it against the
// manifest, sends every line to the schema check and hands decoded records
// to each. It returns false when the check was cancelled.
func (v *verifier) scanFile(k int, each func(line []byte, no, off int64)) bool {
	name := fileNames[k]
	kind := sdk.Kinds[k]
	want, listed := v.r.man.Files[name]
	if !listed {
		v.errorf(ManifestName, 0, "", "", "files has no entry for %s", name)
	}
	f, err := os.Open(filepath.Join(v.r.dir, name))
	if err != nil {
		v.errorf(name, 0, "", "", "%v: every canonical archive has this file, possibly empty", errors.Unwrap(err))
		return v.ctx.Err() == nil
	}
	defer f.Close()
	h := sha256.New()
	tee := io.TeeReader(f, h)
	lr := newLineReader(tee, v.opt.MaxLineBytes, bufFor(f))
	var records int64
	for {
		if lr.line%4096 == 0 && v.ctx.Err() != nil {
			v.errorf(name, lr.line, "", "", "check stopped: %v", v.ctx.Err())
			return false
		}
		line, err := lr.readLine()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errLineTooLong) {
			records++
			v.errorf(name, lr.line, kind, "", "%v", err)
			continue
		}
		if err != nil {
			v.errorf(name, lr.line, kind, "", "%v; the rest of the file was not checked", err)
			break
		}
		records++
		if lr.noNewline {
			v.errorf(name, lr.line, kind, "", "the file ends without a newline: it looks truncated")
		}
		if len(bytes.TrimSpace(line)) == 0 {
			v.errorf(name, lr.line, kind, "", "%v", errEmptyLine)
			continue
		}
		each(line, lr.line, lr.off)
	}
	// Hash what a stop left unread, so that the hash and size still say
	// whether the file is the one the manifest describes.
	io.Copy(io.Discard, tee)
	size := lr.next
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	if listed {
		if size != want.Size {
			v.errorf(name, 0, "", "", "%d bytes, the manifest says %d: the file was changed or truncated", size, want.Size)
		}
		if sum := hex.EncodeToString(h.Sum(nil)); sum != want.SHA256 {
			v.errorf(name, 0, "", "", "SHA-256 is %s, the manifest says %s: the file was changed", sum, want.SHA256)
		}
		if records != want.Records {
			v.errorf(name, 0, "", "", "%d records, the manifest says %d", records, want.Records)
		}
	}
	if c, ok := v.r.man.Counts[string(kind)]; !ok || c != records {
		v.errorf(ManifestName, 0, "", "", "counts.%s is %d but %s holds %d records", kind, c, name, records)
	}
	if k == kWorkspace && records != 1 {
		v.errorf(name, 0, "", "", "%d records; an archive has exactly one workspace", records)
	}
	return true
}

// decode decodes a line into v, and queues it for the schema check. A line
// that does not decode is checked against the schema at once, since that
// says best what is wrong; it returns false then.
func (v *verifier) decode(k int, line []byte, no int64, rec any) bool {
	if err := decodeLine(line, rec); err != nil {
		name := fileNames[k]
		if serr := schema.Validate(string(sdk.Kinds[k]), line); serr != nil {
			v.add(&RecordError{File: name, Line: no, Kind: sdk.Kinds[k], ID: peekID(line), Err: serr})
		} else {
			v.add(&RecordError{File: name, Line: no, Kind: sdk.Kinds[k], ID: peekID(line), Err: err})
		}
		return false
	}
	// The fast path: a line that is exactly the canonical encoding of a
	// record that passes the schema-compiled check is valid, since that
	// check agrees with the schema on every record of the Go types (see
	// core/validate). Anything else (an unknown field, a null, another
	// spelling of the same value) goes to the general validator, which has
	// the last word.
	if r, ok := rec.(sdk.Record); ok && validate.Record(r) == nil && v.canonical(r, line) {
		return true
	}
	v.queue(k, line, no)
	return true
}

// canonical reports whether line is byte for byte what the archive writer
// would write for rec.
func (v *verifier) canonical(rec sdk.Record, line []byte) bool {
	line = bytes.TrimSuffix(line, []byte("\n"))
	var err error
	switch r := rec.(type) {
	case *sdk.Message:
		v.line, err = recordjson.AppendMessage(v.line[:0], r)
		return err == nil && bytes.Equal(v.line, line)
	case *sdk.Attachment:
		v.line, err = recordjson.AppendAttachment(v.line[:0], r)
		return err == nil && bytes.Equal(v.line, line)
	}
	v.encBuf.Reset()
	if v.enc == nil {
		v.enc = json.NewEncoder(&v.encBuf)
	}
	if err := v.enc.Encode(rec); err != nil {
		return false
	}
	enc := bytes.TrimSuffix(v.encBuf.Bytes(), []byte("\n"))
	return bytes.Equal(enc, line)
}

func (v *verifier) workspace(line []byte, no, off int64) {
	var ws sdk.Workspace
	v.decode(kWorkspace, line, no, &ws)
}

// unique records an id in a map, reporting a duplicate.
func (v *verifier) unique(m map[string]int64, k int, id string, no int64) {
	if first, dup := m[id]; dup {
		v.errorf(fileNames[k], no, sdk.Kinds[k], id, "duplicate id: line %d has it already", first)
		return
	}
	m[id] = no
}

// needUser reports a reference to a user that users.ndjson lacks.
func (v *verifier) needUser(k int, no int64, id, field, ref string) {
	if ref == "" {
		return
	}
	if _, ok := v.users[ref]; !ok {
		v.errorf(fileNames[k], no, sdk.Kinds[k], id, "%s %q is not in users.ndjson", field, ref)
	}
}

// needBlob reports a blob reference whose blob is missing or of the wrong
// size.
func (v *verifier) needBlob(k int, no int64, id, field, sum string, size int64) {
	p := blobPath(sum)
	if p == "" {
		v.errorf(fileNames[k], no, sdk.Kinds[k], id, "%s blob %q is not a SHA-256 in lower-case hex", field, sum)
		return
	}
	st, err := os.Lstat(filepath.Join(v.r.dir, filepath.FromSlash(p)))
	switch {
	case err != nil:
		v.errorf(fileNames[k], no, sdk.Kinds[k], id, "%s blob %s is missing from %s/", field, sum, path.Dir(p))
	case !st.Mode().IsRegular():
		v.errorf(fileNames[k], no, sdk.Kinds[k], id, "%s blob %s is not a regular file", field, sum)
	case st.Size() != size:
		v.errorf(fileNames[k], no, sdk.Kinds[k], id, "%s blob %s has %d bytes, the record says %d", field, sum, st.Size(), size)
	}
}

// salvage records the id of a record that does not decode, when it has
// one, so that references to it do not repeat the problem.
func (v *verifier) salvage(m map[string]int64, line []byte, no int64) {
	if raw := rawID(line); raw != nil {
		if id := idString(raw); id != "" {
			if _, dup := m[id]; !dup {
				m[id] = no
			}
		}
	}
}

func (v *verifier) user(line []byte, no, off int64) {
	var u sdk.User
	if !v.decode(kUser, line, no, &u) {
		v.salvage(v.users, line, no)
		return
	}
	v.unique(v.users, kUser, u.ID, no)
	if u.Avatar != nil {
		v.needBlob(kUser, no, u.ID, "avatar", u.Avatar.SHA256, u.Avatar.Size)
	}
}

func (v *verifier) room(line []byte, no, off int64) {
	var r sdk.Room
	if !v.decode(kRoom, line, no, &r) {
		v.salvage(v.rooms, line, no)
		return
	}
	v.unique(v.rooms, kRoom, r.ID, no)
	v.needUser(kRoom, no, r.ID, "owner", r.Owner)
	for _, a := range r.Admins {
		v.needUser(kRoom, no, r.ID, "admin", a)
	}
	for _, m := range r.Members {
		v.needUser(kRoom, no, r.ID, "member", m)
	}
}

func (v *verifier) conversation(line []byte, no, off int64) {
	var c sdk.Conversation
	if !v.decode(kConversation, line, no, &c) {
		v.salvage(v.convs, line, no)
		return
	}
	v.unique(v.convs, kConversation, c.ID, no)
	for _, p := range c.Participants {
		v.needUser(kConversation, no, c.ID, "participant", p)
	}
}

func (v *verifier) emojiRec(line []byte, no, off int64) {
	var e sdk.Emoji
	if !v.decode(kEmoji, line, no, &e) {
		v.salvage(v.emoji, line, no)
		return
	}
	v.unique(v.emoji, kEmoji, e.ID, no)
	if e.Image != nil {
		v.needBlob(kEmoji, no, e.ID, "image", e.Image.SHA256, e.Image.Size)
	}
	v.needUser(kEmoji, no, e.ID, "creator", e.Creator)
}

func (v *verifier) messageRec() func([]byte, int64, int64) {
	var prev timeKey
	var prevLine int64
	unsorted := false
	return func(line []byte, no, off int64) {
		var m sdk.Message
		if !v.decode(kMessage, line, no, &m) {
			// Keep its id, if it has one, so that replies to it do
			// not repeat the problem.
			if raw := rawID(line); raw != nil {
				v.addEntry(v.msgDefs, entry{H: v.hash(idString(raw)), Line: no, Off: off})
			}
			return
		}
		const k = kMessage
		key := keyOf(m.SentAt)
		if prevLine > 0 && key.less(prev) && !unsorted {
			// One report is enough: the rest would repeat it.
			unsorted = true
			v.errorf(fileNames[k], no, sdk.KindMessage, m.ID, "sent_at %s is earlier than line %d's %s: messages must be ordered by sent_at", m.SentAt.Format("2006-01-02T15:04:05.999999999Z07:00"), prevLine, prev.time().Format("2006-01-02T15:04:05.999999999Z"))
		}
		prev, prevLine = key, no
		v.needUser(k, no, m.ID, "sender", m.Sender)
		if m.Room != "" {
			if _, ok := v.rooms[m.Room]; !ok {
				v.errorf(fileNames[k], no, sdk.KindMessage, m.ID, "room %q is not in rooms.ndjson", m.Room)
			}
		}
		if m.Conversation != "" {
			if _, ok := v.convs[m.Conversation]; !ok {
				v.errorf(fileNames[k], no, sdk.KindMessage, m.ID, "conversation %q is not in conversations.ndjson", m.Conversation)
			}
		}
		for _, x := range m.Mentions {
			v.needUser(k, no, m.ID, "mention of", x.User)
		}
		for _, x := range m.Reactions {
			for _, u := range x.Users {
				v.needUser(k, no, m.ID, "reaction "+x.Emoji+" by", u)
			}
		}
		idh := v.hash(m.ID)
		v.addEntry(v.msgDefs, entry{H: idh, Line: no, Off: off})
		if m.ThreadRoot != "" {
			v.addEntry(v.msgRefs, entry{H: v.hash(m.ThreadRoot), X: refThreadRoot, Line: no, Off: off})
		}
		if m.ReplyTo != "" {
			v.addEntry(v.msgRefs, entry{H: v.hash(m.ReplyTo), X: refReplyTo, Line: no, Off: off})
		}
		for _, a := range m.Attachments {
			v.addEntry(v.attListing, entry{H: v.hash(a), X: idh, Line: no, Off: off})
		}
	}
}

func (v *verifier) attachment(line []byte, no, off int64) {
	var a sdk.Attachment
	if !v.decode(kAttachment, line, no, &a) {
		return
	}
	const k = kAttachment
	v.addEntry(v.attDefs, entry{H: v.hash(a.ID), X: v.hash(a.Message), Line: no, Off: off})
	v.addEntry(v.msgRefs, entry{H: v.hash(a.Message), X: refAttachmentMessage, Line: no, Off: off})
	if a.SHA256 != "" {
		v.needBlob(k, no, a.ID, "content", a.SHA256, a.Size)
	}
	v.needUser(k, no, a.ID, "uploader", a.Uploader)
}

func (v *verifier) hash(s string) uint64 { return maphash.String(v.seed, s) }

func (v *verifier) addEntry(s *hashSorter, e entry) {
	if err := s.add(e); err != nil {
		v.errorf(ManifestName, 0, "", "", "the check could not finish: %v", err)
	}
}

// reread decodes the record at off of a kind's file, for error messages.
func (v *verifier) reread(k int, off int64, rec any) bool {
	f, err := os.Open(filepath.Join(v.r.dir, fileNames[k]))
	if err != nil {
		return false
	}
	defer f.Close()
	line, err := readLineAt(f, off, v.opt.MaxLineBytes)
	if err != nil {
		return false
	}
	return decodeLine(line, rec) == nil
}

// checkDupGroup confirms duplicates among entries of equal hash by
// re-reading their lines, and reports each true one.
func (v *verifier) checkDupGroup(k int, g []entry, idOf func(off int64) (string, bool)) {
	if len(g) < 2 {
		return
	}
	first := map[string]int64{}
	for _, e := range g {
		id, ok := idOf(e.Off)
		if !ok {
			continue
		}
		if at, dup := first[id]; dup {
			v.errorf(fileNames[k], e.Line, sdk.Kinds[k], id, "duplicate id: line %d has it already", at)
			continue
		}
		first[id] = e.Line
	}
}

func (v *verifier) messageAt(off int64) (*sdk.Message, bool) {
	var m sdk.Message
	ok := v.reread(kMessage, off, &m)
	return &m, ok
}

func (v *verifier) attachmentAt(off int64) (*sdk.Attachment, bool) {
	var a sdk.Attachment
	ok := v.reread(kAttachment, off, &a)
	return &a, ok
}

// checkMessageRefs merges message ids with the references to messages:
// duplicates, thread roots, replies and attachments' messages.
func (v *verifier) checkMessageRefs() {
	defs, err := v.msgDefs.finish()
	if err != nil {
		v.errorf(ManifestName, 0, "", "", "the check could not finish: %v", err)
		return
	}
	defer defs.close()
	refs, err := v.msgRefs.finish()
	if err != nil {
		v.errorf(ManifestName, 0, "", "", "the check could not finish: %v", err)
		return
	}
	defer refs.close()
	msgID := func(off int64) (string, bool) {
		m, ok := v.messageAt(off)
		return m.ID, ok
	}
	var dg, rg []entry
	dg, _ = defs.group(dg)
	rg, _ = refs.group(rg)
	for len(dg) > 0 || len(rg) > 0 {
		if v.ctx.Err() != nil {
			return
		}
		switch {
		case len(rg) == 0 || (len(dg) > 0 && dg[0].H < rg[0].H):
			v.checkDupGroup(kMessage, dg, msgID)
			dg, _ = defs.group(dg)
		case len(dg) == 0 || rg[0].H < dg[0].H:
			for _, e := range rg {
				v.danglingMessageRef(e)
			}
			rg, _ = refs.group(rg)
		default:
			v.checkDupGroup(kMessage, dg, msgID)
			dg, _ = defs.group(dg)
			rg, _ = refs.group(rg)
		}
	}
}

func (v *verifier) danglingMessageRef(e entry) {
	if e.X == refAttachmentMessage {
		if v.missingMsg == nil {
			v.missingMsg = map[uint64]bool{}
		}
		if len(v.missingMsg) < 1<<20 {
			v.missingMsg[e.H] = true
		}
		a, ok := v.attachmentAt(e.Off)
		if ok {
			v.errorf(fileNames[kAttachment], e.Line, sdk.KindAttachment, a.ID, "message %q is not in messages.ndjson", a.Message)
		}
		return
	}
	m, ok := v.messageAt(e.Off)
	if !ok {
		return
	}
	field, ref := "thread_root", m.ThreadRoot
	if e.X == refReplyTo {
		field, ref = "reply_to", m.ReplyTo
	}
	v.errorf(fileNames[kMessage], e.Line, sdk.KindMessage, m.ID, "%s %q is not in messages.ndjson", field, ref)
}

// checkAttachmentLinks merges attachment ids with the attachments messages
// list: each listed attachment exists and names the listing message, each
// attachment is listed by the message it names, and no id repeats.
func (v *verifier) checkAttachmentLinks() {
	defs, err := v.attDefs.finish()
	if err != nil {
		v.errorf(ManifestName, 0, "", "", "the check could not finish: %v", err)
		return
	}
	defer defs.close()
	lists, err := v.attListing.finish()
	if err != nil {
		v.errorf(ManifestName, 0, "", "", "the check could not finish: %v", err)
		return
	}
	defer lists.close()
	attID := func(off int64) (string, bool) {
		a, ok := v.attachmentAt(off)
		return a.ID, ok
	}
	var dg, lg []entry
	dg, _ = defs.group(dg)
	lg, _ = lists.group(lg)
	for len(dg) > 0 || len(lg) > 0 {
		if v.ctx.Err() != nil {
			return
		}
		switch {
		case len(lg) == 0 || (len(dg) > 0 && dg[0].H < lg[0].H):
			v.checkDupGroup(kAttachment, dg, attID)
			v.unlisted(dg)
			dg, _ = defs.group(dg)
		case len(dg) == 0 || lg[0].H < dg[0].H:
			for _, e := range lg {
				v.listedMissing(e, dg[:0])
			}
			lg, _ = lists.group(lg)
		default:
			v.checkDupGroup(kAttachment, dg, attID)
			d := dg[0]
			listed := false
			for _, e := range lg {
				if e.X == d.X {
					listed = true
				} else {
					v.listedMissing(e, dg)
				}
			}
			if !listed {
				v.unlisted(dg[:1])
			}
			dg, _ = defs.group(dg)
			lg, _ = lists.group(lg)
		}
	}
}

// unlisted reports attachments whose message does not list them (unless
// the message is missing altogether, which checkMessageRefs reported).
func (v *verifier) unlisted(g []entry) {
	for _, d := range g {
		a, ok := v.attachmentAt(d.Off)
		if !ok {
			continue
		}
		if !v.messageExists(d.X) {
			continue
		}
		v.errorf(fileNames[kAttachment], d.Line, sdk.KindAttachment, a.ID, "message %q does not list it in its attachments", a.Message)
	}
}

// messageExists reports whether an attachment's message is in
// messages.ndjson, from what checkMessageRefs found.
func (v *verifier) messageExists(h uint64) bool { return !v.missingMsg[h] }

// listedMissing reports a message listing an attachment that is not in
// attachments.ndjson, or that names another message there.
func (v *verifier) listedMissing(e entry, defs []entry) {
	m, ok := v.messageAt(e.Off)
	if !ok {
		return
	}
	for _, aid := range m.Attachments {
		if v.hash(aid) != e.H {
			continue
		}
		if len(defs) == 0 {
			v.errorf(fileNames[kMessage], e.Line, sdk.KindMessage, m.ID, "attachment %q is not in attachments.ndjson", aid)
			return
		}
		a, ok := v.attachmentAt(defs[0].Off)
		if ok {
			v.errorf(fileNames[kMessage], e.Line, sdk.KindMessage, m.ID, "attachment %q belongs to message %q (attachments.ndjson:%d)", aid, a.Message, defs[0].Line)
		}
		return
	}
}

// checkBlobs hashes every blob and checks the totals.
func (v *verifier) checkBlobs() {
	root := filepath.Join(v.r.dir, "blobs")
	var count, bytes int64
	buf := make([]byte, 1<<20)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return nil
			}
			return err
		}
		if v.ctx.Err() != nil {
			return v.ctx.Err()
		}
		rel, _ := filepath.Rel(v.r.dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			return nil
		}
		sum := path.Base(rel)
		if !d.Type().IsRegular() {
			v.errorf(rel, 0, "", "", "not a regular file; blobs are plain files")
			return nil
		}
		if blobPath(sum) != rel {
			v.errorf(rel, 0, "", "", "not a blob: blobs live at %s/<first two hex digits>/<SHA-256>", BlobDir)
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			v.errorf(rel, 0, "", "", "%v", err)
			return nil
		}
		h := sha256.New()
		n, err := io.CopyBuffer(h, f, buf)
		f.Close()
		if err != nil {
			v.errorf(rel, 0, "", "", "%v", err)
			return nil
		}
		count++
		bytes += n
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			v.errorf(rel, 0, "", "", "content has SHA-256 %s, not its name: the blob is damaged", got)
		}
		return nil
	})
	if err != nil {
		v.errorf("blobs", 0, "", "", "%v", err)
		return
	}
	b := v.r.man.Blobs
	if count != b.Count || bytes != b.Bytes {
		v.errorf(ManifestName, 0, "", "", "blobs says %d blobs of %d bytes in all, the archive holds %d of %d bytes", b.Count, b.Bytes, count, bytes)
	}
}

// Schema checks run on a pool; their errors are sorted into place at the end.

const (
	batchRecords = 512
	batchBytes   = 1 << 20
)

type vbatch struct {
	k    int
	buf  []byte
	recs []vrec
}

type vrec struct {
	start, end int
	line       int64
}

func (v *verifier) queue(k int, line []byte, no int64) {
	if v.cur != nil && (v.cur.k != k || len(v.cur.recs) >= batchRecords || len(v.cur.buf) >= batchBytes) {
		v.flushBatch()
	}
	if v.cur == nil {
		v.cur = &vbatch{k: k}
	}
	b := v.cur
	start := len(b.buf)
	b.buf = append(b.buf, line...)
	b.recs = append(b.recs, vrec{start: start, end: len(b.buf), line: no})
}

func (v *verifier) flushBatch() {
	if v.cur != nil {
		v.work <- v.cur
		v.cur = nil
	}
}

func (v *verifier) validateWorker() {
	defer v.wg.Done()
	for b := range v.work {
		kind := sdk.Kinds[b.k]
		for _, r := range b.recs {
			line := b.buf[r.start:r.end]
			if err := schema.Validate(string(kind), line); err != nil {
				v.add(&RecordError{File: fileNames[b.k], Line: r.line, Kind: kind, ID: peekID(line), Err: err})
			}
		}
	}
}
