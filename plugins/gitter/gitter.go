package gitter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strings"

	"github.com/migrate-chat/migrate/sdk"
)

// Version is the adapter's version, reported in its manifest.
const Version = "1.0.0"

// Option names.
const (
	optWorkspaceName = "workspace-name"
	optRepo          = "gitter-repo"
	optAdmins        = "admins"
	optOwners        = "owners"
	optDownload      = "download-attachments"
	optInvalidUTF8   = "invalid-utf8"
)

// Source reads Gitter exports. The zero value is ready to use.
type Source struct{}

var _ sdk.Source = (*Source)(nil)

func init() { sdk.Register(&Source{}) }

// Manifest implements sdk.Adapter.
func (*Source) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:        "gitter",
		Title:       "Gitter",
		Version:     Version,
		Description: "Gitter room exports: REST dumps (gitter_data.json, archive-gitter), {items, lookups} pages, official NDJSON room exports, and Element JSON exports of rooms that moved to Matrix.",
		Source:      true,
		Options: []sdk.Option{
			{Name: optWorkspaceName, Type: sdk.OptionString, Description: "Name of the workspace; default: the organisation of the first room (\"org\" of \"org/room\")."},
			{Name: optRepo, Type: sdk.OptionString, Description: "GitHub repository (\"owner/name\") that bare issue references like #12 point to, for rooms whose export does not name one."},
			{Name: optAdmins, Type: sdk.OptionStrings, Description: "Usernames to make workspace administrators (Gitter exports carry no admin data)."},
			{Name: optOwners, Type: sdk.OptionStrings, Description: "Usernames to make workspace owners."},
			{Name: optDownload, Type: sdk.OptionBool, Default: false, Description: "Fetch the files linked on files.gitter.im (done by the host; the adapter lists them as attachments with their URLs)."},
			{Name: optInvalidUTF8, Type: sdk.OptionString, Default: "repair", Description: "What to do with a message whose text is not valid UTF-8: \"repair\" (replace bad bytes with U+FFFD and warn) or \"skip\" (leave the message out and report it)."},
		},
		Input: sdk.InputSpec{
			Description:    "a Gitter room export (.json array, {items, lookups}, .ndjson with users.ndjson, or an Element JSON export), or a directory of them (several rooms)",
			Containers:     []string{"zip", "gzip", "tar"},
			MultipleInputs: true,
		},
	}
}

// Read implements sdk.Source.
func (s *Source) Read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	r := newRun(ctx, req, out)
	return r.run()
}

// shape is what a file holds, found by looking at its content.
type shape int

const (
	shapeNone     shape = iota
	shapeMessages       // REST dump: [{id, text, sent, fromUser, ...}, ...]
	shapeItems          // {items: [...], lookups: {users: {...}}}
	shapeNDJSON         // one message object per line
	shapeUsers          // room users: array or NDJSON of user objects
	shapeRooms          // room objects: array, single object or NDJSON
	shapeMatrix         // Element export: {room_name, ..., messages: [events]}
)

var shapeNames = map[shape]string{
	shapeMessages: "Gitter REST message dump", shapeItems: "Gitter {items, lookups} dump",
	shapeNDJSON: "Gitter NDJSON room export", shapeUsers: "Gitter user list",
	shapeRooms: "Gitter room list", shapeMatrix: "Element (Matrix) JSON export",
}

// inputFile is one file of the input trees.
type inputFile struct {
	fsys      fs.FS
	path      string // inside fsys
	display   string // for people: input name and path
	inputName string
	entry     bool
	size      int64
	shape     shape
}

// dir is the file's directory inside its input ("." at the root).
func (f *inputFile) dir() string {
	if f.entry {
		return "."
	}
	return path.Dir(f.path)
}

type run struct {
	ctx  context.Context
	req  *sdk.ReadRequest
	out  sdk.Sink
	log  *slog.Logger
	opts sdk.Options

	users     *userTable
	rooms     map[string]*roomState
	roomOrder []*roomState
	metas     map[string]*roomMeta
	metaOrder []*roomMeta
	seen      idSet
	tr        translator
	msg       rawMessage

	// dirUsers holds room member lists by input directory: a users file
	// describes the rooms exported beside it.
	dirUsers  map[string][]string
	dirAdmins map[string][]string

	repoOption string
	skipBadUTF bool
	missingIDs map[string]bool // user ids referenced but never described

	// Matrix export state, for the file being read.
	mx      *mxState
	mxRoom  *roomState
	mxUsers map[string]*userEntry

	done, total, lastReport int64
	emitted, skipped        int64
}

func newRun(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) *run {
	log := req.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := req.Options
	return &run{
		ctx: ctx, req: req, out: out, log: log, opts: opts,
		users:      newUserTable(),
		rooms:      map[string]*roomState{},
		metas:      map[string]*roomMeta{},
		seen:       newIDSet(),
		dirUsers:   map[string][]string{},
		dirAdmins:  map[string][]string{},
		missingIDs: map[string]bool{},
		repoOption: strings.Trim(opts.String(optRepo), "/ "),
		skipBadUTF: opts.String(optInvalidUTF8) == "skip",
	}
}

func (r *run) run() error {
	if v := r.opts.String(optInvalidUTF8); v != "" && v != "repair" && v != "skip" {
		return fmt.Errorf("gitter: option %s: %q is not one of \"repair\", \"skip\"", optInvalidUTF8, v)
	}
	if r.repoOption != "" && !isRepoName(r.repoOption) {
		return fmt.Errorf("gitter: option %s: %q is not a repository name of the form owner/name", optRepo, r.repoOption)
	}
	if len(r.req.Inputs) == 0 {
		return errors.New("gitter: no input given; name a Gitter export file or a directory of them")
	}
	files, err := r.collect()
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if f.shape, err = r.sniff(f); err != nil {
			return err
		}
	}
	var messageFiles []*inputFile
	for _, f := range files {
		switch f.shape {
		case shapeRooms, shapeUsers:
			r.total += f.size
		}
	}
	for _, f := range files {
		switch f.shape {
		case shapeRooms:
			err = r.readRooms(f)
		case shapeUsers:
			err = r.readUsers(f)
		case shapeMessages, shapeItems, shapeNDJSON:
			messageFiles = append(messageFiles, f)
			r.total += f.size
		case shapeMatrix:
			messageFiles = append(messageFiles, f)
			r.total += 2 * f.size // read twice
		}
		if err != nil {
			return err
		}
	}
	if len(messageFiles) == 0 && len(r.metaOrder) == 0 {
		return errors.New("gitter: the input holds no Gitter export (no message dump, NDJSON room export, Element export or room list was found)")
	}
	// Thread files come after the room files that hold their roots.
	sort.SliceStable(messageFiles, func(a, b int) bool {
		return !isThreadPath(messageFiles[a].path) && isThreadPath(messageFiles[b].path)
	})
	for _, f := range messageFiles {
		r.log.Debug("reading", "file", f.display, "shape", shapeNames[f.shape])
		switch f.shape {
		case shapeMessages:
			err = r.readREST(f)
		case shapeItems:
			err = r.readItems(f)
		case shapeNDJSON:
			err = r.readNDJSON(f)
		case shapeMatrix:
			err = r.readMatrix(f)
		}
		if err != nil {
			return err
		}
	}
	return r.finish()
}

// collect lists the candidate files of every input.
func (r *run) collect() ([]*inputFile, error) {
	var files []*inputFile
	for _, in := range r.req.Inputs {
		if in.FS == nil {
			return nil, fmt.Errorf("gitter: input %s: no file tree was given", in.Name)
		}
		if in.Entry != "" {
			st, err := fs.Stat(in.FS, in.Entry)
			if err != nil {
				return nil, fmt.Errorf("gitter: input %s: %w", in.Name, err)
			}
			files = append(files, &inputFile{fsys: in.FS, path: in.Entry, display: in.Name, inputName: in.Name, entry: true, size: st.Size()})
			continue
		}
		err := fs.WalkDir(in.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("gitter: input %s: %s: %w", in.Name, p, err)
			}
			name := d.Name()
			if p != "." && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() || !candidateName(name) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("gitter: input %s: %s: %w", in.Name, p, err)
			}
			files = append(files, &inputFile{fsys: in.FS, path: p, display: in.Name + "/" + p, inputName: in.Name, size: info.Size()})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// candidateName reports whether a file in a directory may be an export:
// JSON and NDJSON files, and files without an extension (API captures).
// Images and other files of an unpacked Element export are not.
func candidateName(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".json", ".ndjson", ".jsonl", "":
		return true
	}
	return false
}

func isThreadPath(p string) bool {
	for _, seg := range strings.Split(strings.ToLower(p), "/") {
		if seg == "thread" || seg == "threads" {
			return true
		}
	}
	return false
}

// open opens a file and counts the bytes read for progress reports.
func (r *run) open(f *inputFile) (io.ReadCloser, error) {
	rc, err := f.fsys.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("gitter: %s: %w", f.display, err)
	}
	return &progressReader{rc: rc, r: r}, nil
}

type progressReader struct {
	rc io.ReadCloser
	r  *run
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	p.r.done += int64(n)
	if p.r.done-p.r.lastReport >= 4<<20 {
		p.r.lastReport = p.r.done
		p.r.out.Progress(p.r.done, p.r.total)
	}
	return n, err
}

func (p *progressReader) Close() error { return p.rc.Close() }

// sniff finds out what a file holds by reading its beginning: never more
// than the first record.
func (r *run) sniff(f *inputFile) (shape, error) {
	rc, err := f.fsys.Open(f.path)
	if err != nil {
		return shapeNone, fmt.Errorf("gitter: %s: %w", f.display, err)
	}
	defer rc.Close()
	j := newJSONReader(rc, 16<<10)
	c, err := j.peek()
	if err == io.EOF {
		r.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "empty-file", File: f.display,
			Message: fmt.Sprintf("%s is empty; it was ignored", f.display)})
		return shapeNone, nil
	}
	if err != nil {
		return shapeNone, fmt.Errorf("gitter: %s: %w", f.display, err)
	}
	bad := func(err error) (shape, error) {
		return shapeNone, fmt.Errorf("gitter: %s: not a Gitter export: %w", f.display, err)
	}
	switch c {
	case '[':
		j.pos++
		c, err := j.peekValue()
		if err != nil {
			return bad(err)
		}
		if c == ']' {
			return shapeMessages, nil // an empty room
		}
		if c != '{' {
			return bad(fmt.Errorf("the array holds %s, not objects", describe(c)))
		}
		kind, err := sniffObject(j)
		if err != nil {
			return shapeNone, fmt.Errorf("gitter: %s: record 1: %w", f.display, err)
		}
		switch kind {
		case objMessage:
			return shapeMessages, nil
		case objRoom:
			return shapeRooms, nil
		case objUser:
			return shapeUsers, nil
		}
		return bad(errors.New("the array's objects are neither messages, users nor rooms"))
	case '{':
		kind, err := sniffObject(j)
		if err != nil {
			return shapeNone, fmt.Errorf("gitter: %s: record 1: %w", f.display, err)
		}
		switch kind {
		case objItems:
			return shapeItems, nil
		case objMatrix:
			return shapeMatrix, nil
		case objMessage:
			return shapeNDJSON, nil
		case objRoom:
			return shapeRooms, nil
		case objUser:
			return shapeUsers, nil
		}
		return bad(errors.New("the object is neither a message, a user, a room, an {items, lookups} page nor an Element export"))
	}
	if path.Ext(f.path) == "" {
		// An extension-less file that is not JSON: not ours.
		r.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "not-an-export", File: f.display,
			Message: fmt.Sprintf("%s is not JSON; it was ignored", f.display)})
		return shapeNone, nil
	}
	return bad(fmt.Errorf("it starts with %s; a Gitter export is JSON (an array, an object, or one object per line)", describe(c)))
}

type objKind int

const (
	objUnknown objKind = iota
	objMessage
	objUser
	objRoom
	objItems
	objMatrix
)

// sniffObject reads the keys of the object at j and says what it is.
func sniffObject(j *jsonReader) (objKind, error) {
	if err := j.consume('{'); err != nil {
		return objUnknown, err
	}
	var msg, user, room bool
	first := true
	var kb []byte
	for {
		key, ok, err := j.nextKey(&first, kb[:0])
		if err != nil {
			return objUnknown, err
		}
		if !ok {
			break
		}
		kb = key
		switch string(key) {
		case "items", "lookups":
			return objItems, nil
		case "room_name", "room_creator", "export_date", "exported_by", "messages":
			return objMatrix, nil
		case "sent", "fromUser", "text", "html", "parentId":
			msg = true
		case "uri", "githubType", "oneToOne", "userCount", "security":
			room = true
		case "username", "displayName", "avatarUrl":
			user = true
		}
		if err := j.skipValue(); err != nil {
			return objUnknown, err
		}
	}
	switch {
	case msg:
		return objMessage, nil
	case room:
		return objRoom, nil
	case user:
		return objUser, nil
	}
	return objUnknown, nil
}

// fileRoomKey derives a room's name from where its messages were found:
// archive-gitter writes <org>/<room>.json, the official export names its
// files after the kind of data, so a generic name means "the directory".
func fileRoomKey(f *inputFile) string {
	p := f.path
	if f.entry {
		p = f.inputName
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if l := strings.ToLower(s); (l == "thread" || l == "threads") && i > 0 {
			segs = segs[:i]
			return strings.Join(segs, "/")
		}
	}
	base := segs[len(segs)-1]
	dir := strings.Join(segs[:len(segs)-1], "/")
	stem := stripExport(base)
	if stem == "" {
		if dir != "" {
			return dir
		}
		stem = strings.TrimSuffix(base, path.Ext(base))
		if !f.entry {
			stem = f.inputName
		}
	}
	if dir != "" {
		return dir + "/" + stem
	}
	return stem
}

// stripExport removes extensions, dates and the generic words that export
// tools put in file names; "" means nothing specific is left.
func stripExport(base string) string {
	s := base
	for {
		ext := path.Ext(s)
		l := strings.ToLower(ext)
		if l != ".json" && l != ".ndjson" && l != ".jsonl" {
			break
		}
		s = strings.TrimSuffix(s, ext)
	}
	// ...-2021-12-16
	if len(s) >= 11 && s[len(s)-11] == '-' && isDate(s[len(s)-10:]) {
		s = s[:len(s)-11]
	}
	l := strings.ToLower(s)
	for _, g := range []string{"gitter-room-messages", "room-messages", "messages", "gitter_data", "gitter-data", "chatmessages", "chat-messages", "export"} {
		if l == g || l == "gitter-"+g {
			return ""
		}
		if strings.HasSuffix(l, "-"+g) {
			return s[:len(s)-len(g)-1]
		}
	}
	return s
}

func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, c := range []byte(s) {
		if i != 4 && i != 7 && !isDigit(c) {
			return false
		}
	}
	return true
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// finish emits what was assembled while reading: rooms (empty ones too),
// users with their roles, and the workspace.
func (r *run) finish() error {
	for _, m := range r.metaOrder {
		name := m.URI
		if name == "" {
			name = m.Name
		}
		if name == "" {
			name = m.ID
		}
		if r.rooms[roomKey(name)] == nil && r.rooms[roomKey(m.ID)] == nil {
			r.room(name, nil)
		}
	}
	roles := map[string]sdk.Role{}
	for _, n := range r.opts.Strings(optAdmins) {
		roles[strings.ToLower(strings.TrimPrefix(strings.TrimSpace(n), "@"))] = sdk.RoleAdmin
	}
	for _, n := range r.opts.Strings(optOwners) {
		roles[strings.ToLower(strings.TrimPrefix(strings.TrimSpace(n), "@"))] = sdk.RoleOwner
	}
	names := make([]string, 0, len(roles))
	for name := range roles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		role := roles[name]
		if name == "" {
			continue
		}
		e := r.users.byUsername(name)
		if e == nil {
			r.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "role-user-unknown", Kind: sdk.KindUser, Record: name,
				Message: fmt.Sprintf("option %s names %q, but no such user is in the export; check the spelling (Gitter usernames, without @)", map[sdk.Role]string{sdk.RoleAdmin: optAdmins, sdk.RoleOwner: optOwners}[role], name)})
			continue
		}
		e.rec.Role = role
	}
	for _, e := range r.users.order {
		u := e.rec
		if e.mentionOnly {
			u.Virtual = true
		}
		if err := r.out.Emit(&u); err != nil {
			return fmt.Errorf("gitter: user %s: %w", u.ID, err)
		}
	}
	for _, rs := range r.roomOrder {
		room := rs.rec
		room.Members = rs.order
		room.MembersInferred = !rs.listed
		for id := range rs.admins {
			room.Admins = append(room.Admins, id)
		}
		sort.Strings(room.Admins)
		if err := r.out.Emit(&room); err != nil {
			return fmt.Errorf("gitter: room %s: %w", room.ID, err)
		}
		if missing := rs.announced - rs.replies; missing > 0 {
			r.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "thread-replies-missing", Kind: sdk.KindRoom, Record: room.ID,
				Message: fmt.Sprintf("room %s: thread roots announce %d more replies than the export holds (REST archives made without includeThreads=true omit them; the official NDJSON export has them)", room.Name, missing)})
		}
	}
	name := strings.TrimSpace(r.opts.String(optWorkspaceName))
	if name == "" {
		// The organisation of the first room named "org/room"; else the
		// first room's name.
		for _, rs := range r.roomOrder {
			if i := strings.IndexByte(rs.rec.Name, '/'); i > 0 {
				name = rs.rec.Name[:i]
				break
			}
		}
		if name == "" && len(r.roomOrder) > 0 {
			name = r.roomOrder[0].rec.Name
		}
	}
	if name == "" {
		name = "Gitter"
	}
	ws := &sdk.Workspace{ID: name, Name: name, SourceSystem: "gitter",
		ExportOptions: sdk.ExportOptions{OneToOneHistory: false, Files: false, Avatars: false}}
	if err := r.out.Emit(ws); err != nil {
		return fmt.Errorf("gitter: workspace: %w", err)
	}
	r.out.Progress(r.done, r.total)
	r.log.Info("gitter export read", "messages", r.emitted, "skipped", r.skipped, "users", len(r.users.order), "rooms", len(r.roomOrder))
	return nil
}
