package archive

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/migrate-chat/migrate/core/recordjson"
	"github.com/migrate-chat/migrate/core/validate"
	"github.com/migrate-chat/migrate/schema"
	"github.com/migrate-chat/migrate/sdk"
)

// DefaultSortMemory is the default number of messages the Writer holds in
// memory for sorting before it spills a sorted run to disk.
const DefaultSortMemory = 100_000

// DefaultSortBytes bounds the bytes of encoded messages held for sorting,
// whatever their number, so that a few huge messages cannot exhaust memory.
const DefaultSortBytes = 256 << 20

// WriterOptions configures a Writer.
type WriterOptions struct {
	// Source names the system and adapter that produced the records. When
	// System is empty the workspace record's source_system and
	// source_version are used.
	Source SourceInfo
	// Validate checks every record against the canonical schema (through
	// core/validate's compiled plan); an invalid record fails its Emit
	// with the *schema.Error wrapped in the file and record number.
	Validate bool
	// OnProgress receives the source's Progress reports.
	OnProgress func(done, total int64)
	// TempDir is where sorted runs are spilled; "" means a directory inside
	// the archive that Close removes.
	TempDir string
	// SortMemory is the most messages held in memory for sorting (and the
	// most identifier hashes held for the duplicate check, at 32 bytes
	// each); 0 means DefaultSortMemory.
	SortMemory int
	// SortBytes bounds the encoded bytes of the messages held for sorting;
	// 0 means DefaultSortBytes.
	SortBytes int
	// MaxRecordBytes refuses records whose encoding is longer, since
	// readers refuse such lines; 0 means DefaultMaxLine.
	MaxRecordBytes int
	// OnDuplicate, when set, makes a repeated message or attachment id a
	// reported skip rather than an error: Close keeps the first record in
	// archive order (messages are in time order by then), leaves the later
	// ones out and reports each through OnDuplicate as a skipped record.
	// Sources whose exports repeat records (overlapping pages of a REST
	// dump) need not remember every id they emitted: the check runs on
	// disk, in memory that does not grow with the number of messages.
	OnDuplicate func(sdk.Notice)
	// OnDanglingReference, when set, makes a message's thread_root or
	// reply_to naming a message that is not in the archive a reported
	// repair rather than something Verify refuses later: Close clears the
	// field, keeps the id in extra ("thread_root_missing",
	// "reply_to_missing") and reports a warning. Sources then need not
	// remember which messages they have emitted to link replies; the
	// check runs on disk.
	OnDanglingReference func(sdk.Notice)
}

// Writer writes a canonical archive. It implements sdk.Sink; it is not
// safe for concurrent use. Call Close to finish the archive, or Abort to
// remove it; after an error from Emit or Close, call Abort.
type Writer struct {
	dir        string
	createdDir bool
	tmp        string // blob staging, inside dir
	sortDir    string // runs
	opt        WriterOptions

	files  [numKinds]*outFile
	seen   [kEmoji + 1]map[string]struct{}
	counts [numKinds]int64
	ws     *sdk.Workspace

	// Messages go straight to their file while they arrive in order
	// (lastKey); sorting is set from the first one out of order on.
	lastKey timeKey
	anyMsg  bool
	sorting bool
	sorter  *msgSorter

	seed   maphash.Seed
	msgIDs *hashSorter // (hash of id, line, offset) of messages.ndjson
	attIDs *hashSorter // the same for attachments.ndjson
	// msgRefs holds (hash of referenced id, line, offset, X=refThreadRoot
	// or refReplyTo) of messages.ndjson when OnDanglingReference is set.
	msgRefs *hashSorter

	enc    *json.Encoder
	encBuf bytes.Buffer
	line   []byte // the encoding of the last message or attachment

	blobCount, blobBytes int64
	copyBuf              []byte

	// fixes holds, during Close, the lines to change: H is the line
	// number, X is fixDrop or the reference field to clear.
	fixes *hashSorter

	notices []sdk.Notice
	err     error
	closed  bool
}

var _ sdk.Sink = (*Writer)(nil)

type outFile struct {
	name    string
	f       *os.File
	w       *bufio.Writer
	h       hash.Hash
	size    int64
	records int64
}

func createOut(dir, name string) (*outFile, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	o := &outFile{name: name, f: f, h: sha256.New()}
	o.w = bufio.NewWriterSize(io.MultiWriter(f, o.h), 1<<20)
	return o, nil
}

func (o *outFile) write(line []byte) error {
	if _, err := o.w.Write(line); err != nil {
		return fmt.Errorf("writing %s: %w", o.name, err)
	}
	o.size += int64(len(line))
	o.records++
	return nil
}

func (o *outFile) close() (FileInfo, error) {
	err := o.w.Flush()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return FileInfo{}, fmt.Errorf("writing %s: %w", o.name, err)
	}
	return FileInfo{SHA256: hex.EncodeToString(o.h.Sum(nil)), Size: o.size, Records: o.records}, nil
}

// Create starts an archive in dir, which must not exist or be empty.
func Create(dir string, opt WriterOptions) (*Writer, error) {
	w := &Writer{dir: dir, opt: opt, seed: maphash.MakeSeed()}
	if w.opt.SortMemory <= 0 {
		w.opt.SortMemory = DefaultSortMemory
	}
	if w.opt.SortBytes <= 0 {
		w.opt.SortBytes = DefaultSortBytes
	}
	if w.opt.MaxRecordBytes <= 0 {
		w.opt.MaxRecordBytes = DefaultMaxLine
	}
	switch ents, err := os.ReadDir(dir); {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		w.createdDir = true
	case err != nil:
		return nil, fmt.Errorf("archive: %w", err)
	case len(ents) > 0:
		return nil, fmt.Errorf("archive: %s is not empty; name a new or empty directory", dir)
	}
	fail := func(err error) (*Writer, error) {
		w.Abort()
		return nil, fmt.Errorf("archive: %w", err)
	}
	w.tmp = filepath.Join(dir, ".tmp")
	if err := os.Mkdir(w.tmp, 0o755); err != nil {
		return fail(err)
	}
	w.sortDir = w.tmp
	if opt.TempDir != "" {
		d, err := os.MkdirTemp(opt.TempDir, "migrate-archive-*")
		if err != nil {
			return fail(err)
		}
		w.sortDir = d
	}
	for i, name := range fileNames {
		o, err := createOut(dir, name)
		if err != nil {
			return fail(err)
		}
		w.files[i] = o
	}
	for i := range w.seen {
		w.seen[i] = map[string]struct{}{}
	}
	w.sorter = &msgSorter{dir: w.sortDir, limit: w.opt.SortMemory, maxBytes: w.opt.SortBytes, maxLine: w.opt.MaxRecordBytes}
	w.msgIDs = newHashSorter(w.sortDir, w.opt.SortMemory)
	w.attIDs = newHashSorter(w.sortDir, w.opt.SortMemory)
	if opt.OnDanglingReference != nil {
		w.msgRefs = newHashSorter(w.sortDir, w.opt.SortMemory)
	}
	w.enc = json.NewEncoder(&w.encBuf)
	return w, nil
}

// SetSource sets the source information written to the manifest, for
// callers that learn it only after Create.
func (w *Writer) SetSource(s SourceInfo) { w.opt.Source = s }

// Dir returns the archive directory.
func (w *Writer) Dir() string { return w.dir }

// Emit implements sdk.Sink.
func (w *Writer) Emit(rec sdk.Record) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("archive: Emit after Close")
	}
	k := -1
	var key timeKey
	switch r := rec.(type) {
	case *sdk.Workspace:
		if r == nil {
			break
		}
		k = kWorkspace
		if w.ws != nil {
			return w.fail(fmt.Errorf("archive: a second workspace record (%q after %q): a source emits exactly one", r.ID, w.ws.ID))
		}
		ws := *r
		w.ws = &ws
	case *sdk.User:
		k = ptrKind(r != nil, kUser)
	case *sdk.Room:
		k = ptrKind(r != nil, kRoom)
	case *sdk.Conversation:
		k = ptrKind(r != nil, kConversation)
	case *sdk.Emoji:
		k = ptrKind(r != nil, kEmoji)
	case *sdk.Message:
		if r != nil {
			k = kMessage
			key = keyOf(r.SentAt)
		}
	case *sdk.Attachment:
		k = ptrKind(r != nil, kAttachment)
	}
	if k < 0 {
		return w.fail(fmt.Errorf("archive: cannot store a record of type %T", rec))
	}
	if k >= kUser && k <= kEmoji {
		id := rec.RecordID()
		if _, dup := w.seen[k][id]; dup {
			return w.fail(fmt.Errorf("archive: duplicate %s id %q: every %s needs its own id", sdk.Kinds[k], id, sdk.Kinds[k]))
		}
		w.seen[k][id] = struct{}{}
	}
	w.counts[k]++
	line, err := w.encode(rec)
	if err != nil {
		return w.fail(fmt.Errorf("archive: %s record %d (%s %q): cannot encode: %w", fileNames[k], w.counts[k], sdk.Kinds[k], rec.RecordID(), err))
	}
	if len(line)-1 > w.opt.MaxRecordBytes {
		return w.fail(fmt.Errorf("archive: %s record %d (%s %q): %d bytes encoded, more than the %d a record may have", fileNames[k], w.counts[k], sdk.Kinds[k], rec.RecordID(), len(line)-1, w.opt.MaxRecordBytes))
	}
	if w.opt.Validate {
		// The schema-compiled check costs about half a microsecond, so it
		// runs inline: a pool of workers cost more in hand-offs than it saved.
		if err := validate.Record(rec); err != nil {
			return w.fail(fmt.Errorf("archive: %s record %d: %w", fileNames[k], w.counts[k], err))
		}
	}
	return w.fail(w.commit(k, line, key))
}

// encode returns a record's line, newline included, valid until the next
// call. Messages and attachments, the bulk of an archive, go through
// recordjson, which writes the bytes encoding/json writes, several times
// faster; the other kinds go through encoding/json itself.
func (w *Writer) encode(rec sdk.Record) ([]byte, error) {
	var err error
	switch r := rec.(type) {
	case *sdk.Message:
		w.line, err = recordjson.AppendMessage(w.line[:0], r)
		return append(w.line, '\n'), err
	case *sdk.Attachment:
		w.line, err = recordjson.AppendAttachment(w.line[:0], r)
		return append(w.line, '\n'), err
	}
	w.encBuf.Reset()
	if err := w.enc.Encode(rec); err != nil {
		return nil, err
	}
	return w.encBuf.Bytes(), nil
}

func ptrKind(ok bool, k int) int {
	if ok {
		return k
	}
	return -1
}

// fail records the first error; every later call returns it.
func (w *Writer) fail(err error) error {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

// commit writes one encoded record (newline included) to its stream.
func (w *Writer) commit(k int, line []byte, key timeKey) error {
	o := w.files[k]
	switch k {
	case kMessage:
		if !w.sorting && w.anyMsg && key.less(w.lastKey) {
			if err := w.startSorting(); err != nil {
				return err
			}
		}
		if w.sorting {
			return w.sorter.add(line, key)
		}
		w.anyMsg, w.lastKey = true, key
		if err := w.addID(w.msgIDs, line, o); err != nil {
			return err
		}
		if err := w.addRefs(line, o); err != nil {
			return err
		}
	case kAttachment:
		if err := w.addID(w.attIDs, line, o); err != nil {
			return err
		}
	}
	return o.write(line)
}

// addID records the hash of a line's id, with the line number and offset
// it is about to get in o.
func (w *Writer) addID(s *hashSorter, line []byte, o *outFile) error {
	id := rawID(line)
	return s.add(entry{H: maphash.Bytes(w.seed, id), Line: o.records + 1, Off: o.size})
}

// refFields are the message fields naming another message, as they
// appear in the canonical encoding. A JSON string cannot hold an unescaped
// quote, so these bytes only ever match the fields themselves, provided
// the search stops where "extra" (whose keys are free) begins; the
// canonical field order puts both before it.
var refFields = [...]struct {
	x   uint64
	key []byte
}{{refThreadRoot, []byte(`,"thread_root":"`)}, {refReplyTo, []byte(`,"reply_to":"`)}}

var extraField = []byte(`,"extra":{`)

// refValue returns the raw (escaped) id a message line's field x names.
func refValue(line []byte, x uint64) []byte {
	head := line
	if i := bytes.Index(line, extraField); i >= 0 {
		head = line[:i]
	}
	for _, f := range refFields {
		if f.x != x {
			continue
		}
		i := bytes.Index(head, f.key)
		if i < 0 {
			return nil
		}
		v := head[i+len(f.key):]
		if end := stringEnd(v); end >= 0 {
			return v[:end]
		}
	}
	return nil
}

// addRefs records the messages a message line refers to, with the line
// number and offset it is about to get in o.
func (w *Writer) addRefs(line []byte, o *outFile) error {
	if w.msgRefs == nil {
		return nil
	}
	for _, f := range refFields {
		if v := refValue(line, f.x); v != nil {
			if err := w.msgRefs.add(entry{H: maphash.Bytes(w.seed, v), X: f.x, Line: o.records + 1, Off: o.size}); err != nil {
				return err
			}
		}
	}
	return nil
}

// rawID returns the JSON-escaped id at the start of an encoded record.
func rawID(line []byte) []byte {
	const p = `{"id":"`
	if bytes.HasPrefix(line, []byte(p)) {
		if end := stringEnd(line[len(p):]); end >= 0 {
			return line[len(p) : len(p)+end]
		}
	}
	return nil
}

// startSorting switches messages to the external sort: what was written so
// far is sorted already and becomes the first run.
func (w *Writer) startSorting() error {
	o := w.files[kMessage]
	if err := o.w.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", o.name, err)
	}
	w.sorting = true
	w.sorter.runs = append(w.sorter.runs, msgRun{path: filepath.Join(w.dir, o.name)})
	// Offsets change in the merge: the duplicate check starts over there.
	w.msgIDs.cleanup()
	w.msgIDs = newHashSorter(w.sortDir, w.opt.SortMemory)
	if w.msgRefs != nil {
		w.msgRefs.cleanup()
		w.msgRefs = newHashSorter(w.sortDir, w.opt.SortMemory)
	}
	return nil
}

// PutBlob implements sdk.Sink: it stores content under its SHA-256 (once,
// however often it is put).
func (w *Writer) PutBlob(r io.Reader, contentType string) (sdk.BlobRef, error) {
	if w.err != nil {
		return sdk.BlobRef{}, w.err
	}
	f, err := os.CreateTemp(w.tmp, "blob-*")
	if err != nil {
		return sdk.BlobRef{}, w.fail(fmt.Errorf("archive: storing a blob: %w", err))
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if w.copyBuf == nil {
		w.copyBuf = make([]byte, 1<<20)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(f, h), r, w.copyBuf)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sdk.BlobRef{}, fmt.Errorf("archive: storing a blob: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	ref := sdk.BlobRef{SHA256: sum, Size: n, ContentType: contentType}
	dst := filepath.Join(w.dir, filepath.FromSlash(blobPath(sum)))
	if _, err := os.Lstat(dst); err == nil {
		return ref, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return sdk.BlobRef{}, w.fail(fmt.Errorf("archive: storing blob %s: %w", sum, err))
	}
	if err := os.Rename(tmp, dst); err != nil {
		return sdk.BlobRef{}, w.fail(fmt.Errorf("archive: storing blob %s: %w", sum, err))
	}
	w.blobCount++
	w.blobBytes += n
	return ref, nil
}

// hasBlob reports whether the archive holds a blob already.
func (w *Writer) hasBlob(sum string) bool {
	p := blobPath(sum)
	if p == "" {
		return false
	}
	_, err := os.Lstat(filepath.Join(w.dir, filepath.FromSlash(p)))
	return err == nil
}

// Notice implements sdk.Sink; notices are kept for Notices.
func (w *Writer) Notice(n sdk.Notice) { w.notices = append(w.notices, n) }

// Notices returns the notices the source reported.
func (w *Writer) Notices() []sdk.Notice { return w.notices }

// Progress implements sdk.Sink by forwarding to WriterOptions.OnProgress.
func (w *Writer) Progress(done, total int64) {
	if w.opt.OnProgress != nil {
		w.opt.OnProgress(done, total)
	}
}

// Close finishes the archive: it sorts the messages if they arrived out of
// order, checks identifiers, and writes the manifest. On error the
// directory is left as it is; call Abort to remove it.
func (w *Writer) Close() (*Manifest, error) {
	if w.closed {
		return nil, errors.New("archive: Close called twice")
	}
	if w.err != nil {
		return nil, w.err
	}
	m, err := w.finish()
	if err != nil {
		return nil, w.fail(err)
	}
	w.closed = true
	return m, nil
}

func (w *Writer) finish() (*Manifest, error) {
	if w.ws == nil {
		return nil, errors.New("archive: the source emitted no workspace record; an archive needs exactly one")
	}
	if w.sorting {
		if err := w.mergeMessages(); err != nil {
			return nil, err
		}
	}
	var infos [numKinds]FileInfo
	for i, o := range w.files {
		fi, err := o.close()
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		infos[i] = fi
	}
	for _, k := range []int{kMessage, kAttachment} {
		ids, refs := w.msgIDs, w.msgRefs
		if k == kAttachment {
			ids, refs = w.attIDs, nil
		}
		w.fixes = newHashSorter(w.sortDir, w.opt.SortMemory)
		n, err := w.checkIDs(k, ids, refs)
		if err == nil && n > 0 {
			infos[k], err = w.applyFixes(k)
		}
		w.fixes.cleanup()
		w.fixes = nil
		if err != nil {
			return nil, err
		}
	}
	src := w.opt.Source
	if src.System == "" {
		src.System, src.Version = w.ws.SourceSystem, w.ws.SourceVersion
	}
	eo := w.ws.ExportOptions
	m := &Manifest{
		Format:         Format,
		FormatVersion:  FormatVersion,
		Source:         src,
		ExportOptions:  &eo,
		Counts:         map[string]int64{"blob": w.blobCount},
		Files:          map[string]FileInfo{},
		Blobs:          BlobStats{Count: w.blobCount, Bytes: w.blobBytes},
		MessagesSorted: true,
	}
	for i, name := range fileNames {
		m.Counts[string(sdk.Kinds[i])] = infos[i].Records
		m.Files[name] = infos[i]
	}
	b, err := m.encode()
	if err != nil {
		return nil, fmt.Errorf("archive: encoding the manifest: %w", err)
	}
	if err := schema.Validate("manifest", b); err != nil {
		return nil, fmt.Errorf("archive: the manifest does not match its schema (is the workspace's source_system empty?): %w", err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, ManifestName), b, 0o644); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	w.cleanupTemp()
	return m, nil
}

// mergeMessages writes the final messages.ndjson from the sorted runs.
func (w *Writer) mergeMessages() error {
	old := w.files[kMessage]
	if _, err := old.close(); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	tmpName := old.name + ".sorting"
	o, err := createOut(w.dir, tmpName)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	err = w.sorter.finish(func(line []byte, _ timeKey) error {
		if err := w.addID(w.msgIDs, line, o); err != nil {
			return err
		}
		if err := w.addRefs(line, o); err != nil {
			return err
		}
		return o.write(line)
	})
	if err != nil {
		o.close()
		return fmt.Errorf("archive: %w", err)
	}
	w.sorter.cleanup()
	o.name = old.name
	w.files[kMessage] = o
	// The merged file replaces the first run; it is renamed once closed,
	// which finish does right after.
	if err := o.w.Flush(); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if err := os.Rename(filepath.Join(w.dir, tmpName), filepath.Join(w.dir, old.name)); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}

// fixDrop marks a line to leave out (a later copy of a repeated id).
const fixDrop = 0

// checkIDs merges the sorted id hashes of a stream with the sorted hashes
// of the references to it (refs may be nil). For each group of equal
// hashes it re-reads the lines and compares the ids themselves, so a hash
// collision is never reported as a duplicate. Without OnDuplicate a
// duplicate is an error; with it, the later copies go to w.fixes, as do
// references that resolve to nothing. It returns how many fixes it noted.
func (w *Writer) checkIDs(k int, ids, refs *hashSorter) (int, error) {
	defs, err := ids.finish()
	if err != nil {
		return 0, fmt.Errorf("archive: %w", err)
	}
	defer defs.close()
	defer ids.cleanup()
	rs := &entryIter{}
	if refs != nil {
		if rs, err = refs.finish(); err != nil {
			return 0, fmt.Errorf("archive: %w", err)
		}
		defer rs.close()
		defer refs.cleanup()
	}
	f, err := os.Open(filepath.Join(w.dir, fileNames[k]))
	if err != nil {
		return 0, fmt.Errorf("archive: %w", err)
	}
	defer f.Close()
	var (
		dg, rg []entry
		fixes  int
	)
	next := func(it *entryIter, g []entry) ([]entry, error) {
		g, err := it.group(g)
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		return g, nil
	}
	if dg, err = next(defs, dg); err != nil {
		return 0, err
	}
	if rg, err = next(rs, rg); err != nil {
		return 0, err
	}
	for len(dg) > 0 || len(rg) > 0 {
		// The smaller hash goes first; a group of references whose hash
		// no id has resolves to nothing.
		takeDefs := len(dg) > 0 && (len(rg) == 0 || dg[0].H <= rg[0].H)
		takeRefs := len(rg) > 0 && (len(dg) == 0 || rg[0].H <= dg[0].H)
		if takeDefs {
			n, err := w.dupGroup(k, dg, f)
			if err != nil {
				return 0, err
			}
			fixes += n
		}
		if takeRefs && !takeDefs {
			for _, e := range rg {
				if err := w.dangling(e); err != nil {
					return 0, err
				}
				fixes++
			}
		}
		if takeDefs {
			if dg, err = next(defs, dg); err != nil {
				return 0, err
			}
		}
		if takeRefs {
			if rg, err = next(rs, rg); err != nil {
				return 0, err
			}
		}
	}
	return fixes, nil
}

// dupGroup settles one group of equal id hashes.
func (w *Writer) dupGroup(k int, group []entry, f *os.File) (int, error) {
	if len(group) < 2 {
		return 0, nil
	}
	// The first line met for an id is the one kept.
	slices.SortFunc(group, func(a, b entry) int { return cmp.Compare(a.Line, b.Line) })
	first := map[string]int64{}
	n := 0
	for _, e := range group {
		line, err := readLineAt(f, e.Off, w.opt.MaxRecordBytes)
		if err != nil {
			return 0, fmt.Errorf("archive: %s line %d: %w", fileNames[k], e.Line, err)
		}
		id := string(rawID(line))
		at, dup := first[id]
		if !dup {
			first[id] = e.Line
			continue
		}
		if w.opt.OnDuplicate == nil {
			return 0, fmt.Errorf("archive: duplicate %s id %q (%s lines %d and %d): every %s needs its own id", sdk.Kinds[k], idString([]byte(id)), fileNames[k], at, e.Line, sdk.Kinds[k])
		}
		if err := w.fixes.add(entry{H: uint64(e.Line), X: fixDrop}); err != nil {
			return 0, fmt.Errorf("archive: %w", err)
		}
		n++
		w.opt.OnDuplicate(sdk.Notice{Level: sdk.LevelError, Code: "duplicate-id", Kind: sdk.Kinds[k], Record: idString([]byte(id)), Skipped: true,
			Message: fmt.Sprintf("%s %s: another %s with this id came before it; the first one was kept and this one left out", sdk.Kinds[k], idString([]byte(id)), sdk.Kinds[k])})
	}
	return n, nil
}

// dangling notes a message reference that resolves to nothing; it is
// reported when applyFixes clears it, unless the line is a repeat left out.
func (w *Writer) dangling(e entry) error {
	if err := w.fixes.add(entry{H: uint64(e.Line), X: e.X}); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return nil
}

// applyFixes rewrites a finished stream with the fixes noted by checkIDs:
// lines left out, references cleared. The fixes are sorted on disk by
// line number, so memory does not grow with their number.
func (w *Writer) applyFixes(k int) (FileInfo, error) {
	name := fileNames[k]
	fx, err := w.fixes.finish()
	if err != nil {
		return FileInfo{}, fmt.Errorf("archive: %w", err)
	}
	defer fx.close()
	in, err := os.Open(filepath.Join(w.dir, name))
	if err != nil {
		return FileInfo{}, fmt.Errorf("archive: %w", err)
	}
	defer in.Close()
	tmpName := name + ".fixed"
	o, err := createOut(w.dir, tmpName)
	if err != nil {
		return FileInfo{}, fmt.Errorf("archive: %w", err)
	}
	fail := func(err error) (FileInfo, error) {
		o.close()
		os.Remove(filepath.Join(w.dir, tmpName))
		return FileInfo{}, fmt.Errorf("archive: %w", err)
	}
	lr := newLineReader(in, w.opt.MaxRecordBytes+1, 64<<10)
	var (
		buf   []byte
		group []entry
	)
	if group, err = fx.group(group); err != nil {
		return fail(err)
	}
	for no := int64(1); ; no++ {
		line, err := lr.readLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("re-reading %s line %d: %w", name, no, err))
		}
		buf = append(append(buf[:0], line...), '\n')
		if len(group) > 0 && group[0].H == uint64(no) {
			drop := false
			var clear []uint64
			for _, e := range group {
				if e.X == fixDrop {
					drop = true
				} else {
					clear = append(clear, e.X)
				}
			}
			if group, err = fx.group(group); err != nil {
				return fail(err)
			}
			if drop {
				continue
			}
			if buf, err = w.clearRefs(buf[:len(buf)-1], clear); err != nil {
				return fail(fmt.Errorf("%s line %d: %w", name, no, err))
			}
			buf = append(buf, '\n')
		}
		if err := o.write(buf); err != nil {
			return fail(err)
		}
	}
	fi, err := o.close()
	if err != nil {
		return FileInfo{}, fmt.Errorf("archive: %w", err)
	}
	if err := os.Rename(filepath.Join(w.dir, tmpName), filepath.Join(w.dir, name)); err != nil {
		return FileInfo{}, fmt.Errorf("archive: %w", err)
	}
	return fi, nil
}

// clearRefs re-encodes a message line without the given reference
// fields, keeping their values in extra, and reports each.
func (w *Writer) clearRefs(line []byte, fields []uint64) ([]byte, error) {
	var m sdk.Message
	if err := recordjson.DecodeMessage(line, &m); err != nil {
		return nil, err
	}
	for _, x := range fields {
		key, p := "thread_root_missing", &m.ThreadRoot
		what, code := "thread root", "thread-root-missing"
		if x == refReplyTo {
			key, p = "reply_to_missing", &m.ReplyTo
			what, code = "message it replies to", "reply-target-missing"
		}
		if *p == "" {
			continue
		}
		if m.Extra == nil {
			m.Extra = map[string]string{}
		}
		m.Extra[key] = *p
		w.opt.OnDanglingReference(sdk.Notice{Level: sdk.LevelWarning, Code: code, Kind: sdk.KindMessage, Record: m.ID,
			Message: fmt.Sprintf("message %s: its %s %s is not in the export; it is kept as an ordinary message (the id is kept in extra)", m.ID, what, *p)})
		*p = ""
	}
	return recordjson.AppendMessage(nil, &m)
}

// readLineAt reads the line starting at off.
func readLineAt(f *os.File, off int64, max int) ([]byte, error) {
	lr := newLineReader(io.NewSectionReader(f, off, 1<<62), max, 4096)
	b, err := lr.readLine()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

func (w *Writer) cleanupTemp() {
	w.sorter.cleanup()
	w.msgIDs.cleanup()
	w.attIDs.cleanup()
	if w.msgRefs != nil {
		w.msgRefs.cleanup()
	}
	if w.fixes != nil {
		w.fixes.cleanup()
	}
	os.RemoveAll(w.tmp)
	if w.sortDir != w.tmp {
		os.RemoveAll(w.sortDir)
	}
}

// Abort stops writing and removes the archive directory (or, when it
// existed before Create, everything in it).
func (w *Writer) Abort() {
	if w.err == nil {
		w.err = errors.New("archive: writer aborted")
	}
	for _, o := range w.files {
		if o != nil {
			o.f.Close()
		}
	}
	w.cleanupTemp()
	if w.createdDir {
		os.RemoveAll(w.dir)
		return
	}
	ents, _ := os.ReadDir(w.dir)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(w.dir, e.Name()))
	}
	w.closed = true
}

// idString decodes a raw JSON-escaped id for messages.
func idString(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	var s string
	if err := json.Unmarshal([]byte(`"`+string(raw)+`"`), &s); err != nil {
		return strings.ToValidUTF8(string(raw), "?")
	}
	return s
}
