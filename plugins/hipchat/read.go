package hipchat

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// Extra keys the source sets and the target reads back, so that a HipChat
// export survives a trip through the canonical form unchanged.
const (
	extraRoles       = "roles"       // user: the export's roles list, comma-separated
	extraPlaceholder = "placeholder" // user: "id-0" or "unknown-id": not in users.json
	extraType        = "type"        // message: the export's record type, for system messages
	extraColor       = "color"       // message: a notification's colour
	extraPath        = "path"        // emoji: the image's path in the export
	extraEmojiType   = "type"        // emoji: "global" for HipChat's own emoticons
)

// Prefixes of ids the source makes up for senders that users.json lacks.
const (
	integrationPrefix = "integration:"
	senderZeroPrefix  = "sender-0:"
)

// reader holds what one run of a source knows: users and rooms (memory
// grows with them), never messages.
type reader struct {
	ctx    context.Context
	system string
	out    sdk.Sink
	req    *sdk.ReadRequest

	fsys fs.FS
	root string // directory of the export inside fsys ("." or e.g. "data")
	in   string // input name, for messages

	users     map[string]*sdk.User
	haveUsers bool // a users list was read: unknown senders are placeholders
	rooms     []*roomState
	roomByID  map[string]*roomState
	custom    map[string]string // lower-case shortcut → custom emoji shortcode
	emojiSeen map[string]bool
	convs     map[string]bool
	otoOwners map[string]bool // user ids that have users/<id>/history.json
	filesDirs bool            // some files/ directory exists
	noFiles   int             // attachments whose content was never exported
	legacy    bool
	meta      exportMeta
	messages  int64
	err       error // from emitLater
}

type roomState struct {
	rec      *sdk.Room
	infer    bool
	members  map[string]bool
	inferred map[string]bool
	dir      string // directory name under rooms/ (legacy: the room's name)
}

// exportMeta is what metadata.json said, when present.
type exportMeta struct {
	present     bool
	oto, files  *bool
	version     string
	exportedAt  *time.Time
	name, group string
}

func read(ctx context.Context, system string, req *sdk.ReadRequest, out sdk.Sink) error {
	if len(req.Inputs) == 0 {
		return errors.New("no input: name a HipChat export (the .tar.gz.aes archive or its extracted folder)")
	}
	if system == NameServer && len(req.Inputs) > 1 {
		return fmt.Errorf("%d inputs given: hipchat-server reads one export at a time", len(req.Inputs))
	}
	r := &reader{
		ctx: ctx, system: system, out: out, req: req,
		users: map[string]*sdk.User{}, roomByID: map[string]*roomState{},
		custom: map[string]string{}, emojiSeen: map[string]bool{}, convs: map[string]bool{},
		otoOwners: map[string]bool{},
	}
	var singles []sdk.Input
	for _, in := range req.Inputs {
		if in.Entry != "" {
			singles = append(singles, in)
			continue
		}
		if err := r.readTree(in); err != nil {
			return err
		}
	}
	if len(singles) > 0 {
		if err := r.readSingles(singles); err != nil {
			return err
		}
	}
	if err := r.emitRooms(); err != nil {
		return err
	}
	return r.emitWorkspace()
}

func (r *reader) emit(rec sdk.Record) error {
	if err := r.out.Emit(rec); err != nil {
		return fmt.Errorf("%s %s: %w", rec.RecordKind(), rec.RecordID(), err)
	}
	return nil
}

func (r *reader) notice(n sdk.Notice) {
	if n.Level == "" {
		n.Level = sdk.LevelWarning
	}
	r.out.Notice(n)
}

// rel names a file inside the export root, as notices and attachment paths
// show it.
func (r *reader) rel(name string) string {
	if r.root == "." || r.root == "" {
		return name
	}
	return strings.TrimPrefix(name, r.root+"/")
}

func (r *reader) join(elem ...string) string {
	return path.Join(append([]string{r.root}, elem...)...)
}

func (r *reader) exists(name string) bool {
	_, err := fs.Stat(r.fsys, name)
	return err == nil
}

func (r *reader) isDir(name string) bool {
	st, err := fs.Stat(r.fsys, name)
	return err == nil && st.IsDir()
}

// openStream opens a JSON file of the tree for streaming.
func (r *reader) openStream(name string) (*jsonStream, func(), error) {
	f, err := r.fsys.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", r.rel(name), err)
	}
	return newStream(r.rel(name), f), func() { f.Close() }, nil
}

// locate finds the export inside an unpacked tree: the shallowest
// directory holding users.json or rooms.json (an export may sit inside a
// wrapper directory such as data/), or the legacy Cloud export's
// hipchat_export/ with users/list.json and rooms/list.json.
func locate(fsys fs.FS) (root string, legacy bool, err error) {
	level := []string{"."}
	for depth := 0; depth < 4 && len(level) > 0; depth++ {
		var next []string
		for _, dir := range level {
			for _, f := range []string{"users.json", "rooms.json"} {
				if st, err := fs.Stat(fsys, path.Join(dir, f)); err == nil && !st.IsDir() {
					return dir, false, nil
				}
			}
			for _, f := range []string{"users/list.json", "rooms/list.json"} {
				if st, err := fs.Stat(fsys, path.Join(dir, f)); err == nil && !st.IsDir() {
					return dir, true, nil
				}
			}
			entries, err := fs.ReadDir(fsys, dir)
			if err != nil {
				return "", false, err
			}
			for _, e := range entries {
				switch e.Name() {
				case "rooms", "users", "files", "emoticons":
					// Inside an export: never where another one starts.
					continue
				}
				if e.IsDir() {
					next = append(next, path.Join(dir, e.Name()))
				}
			}
		}
		level = next
	}
	// No lists at all: pages of API v2 room history under rooms/<id>/.
	if st, err := fs.Stat(fsys, "rooms"); err == nil && st.IsDir() {
		return ".", false, nil
	}
	return "", false, errors.New("no users.json or rooms.json (nor hipchat_export/users/list.json) found: is this an unpacked HipChat export?")
}

func (r *reader) readTree(in sdk.Input) error {
	root, legacy, err := locate(in.FS)
	if err != nil {
		return fmt.Errorf("%s: %w", in.Name, err)
	}
	r.fsys, r.root, r.in, r.legacy = in.FS, root, in.Name, legacy
	if legacy {
		if r.system == NameServer {
			return fmt.Errorf("%s: this is a legacy HipChat Cloud export (hipchat_export/…/list.json), not a Server export: read it with --from %s", in.Name, NameCloud)
		}
		return r.readLegacy()
	}
	if err := r.readMetadata(); err != nil {
		return err
	}
	if name := r.join("users.json"); r.exists(name) {
		if err := r.readUsersFile(name); err != nil {
			return err
		}
	} else {
		r.notice(sdk.Notice{Code: "users-missing", File: "users.json",
			Message: "users.json is missing: users are taken from message senders only, with no e-mail addresses or profiles"})
	}
	if name := r.join("rooms.json"); r.exists(name) {
		if err := r.readRoomsFile(name); err != nil {
			return err
		}
	}
	if err := r.readEmoticonsInTree(); err != nil {
		return err
	}
	return r.readHistories()
}

// readMetadata reads metadata.json when present. Its shape is not
// documented anywhere public, so only well-named fields are looked at and
// anything else is ignored.
func (r *reader) readMetadata() error {
	name := r.join("metadata.json")
	b, err := fs.ReadFile(r.fsys, name)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		r.notice(sdk.Notice{Code: "metadata-unreadable", File: "metadata.json",
			Message: fmt.Sprintf("metadata.json is not a JSON object (%v); it is ignored", err)})
		return nil
	}
	r.meta.present = true
	boolOf := func(keys ...string) *bool {
		for _, k := range keys {
			switch v := m[k].(type) {
			case bool:
				return &v
			case string:
				b := v == "true" || v == "1"
				return &b
			case float64:
				b := v != 0
				return &b
			}
		}
		return nil
	}
	strOf := func(keys ...string) string {
		for _, k := range keys {
			switch v := m[k].(type) {
			case string:
				return v
			case float64:
				return strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
		return ""
	}
	r.meta.oto = boolOf("include_oto", "include_one_to_one", "oto")
	r.meta.files = boolOf("include_attachments", "include_files", "attachments", "files")
	r.meta.version = strOf("version", "hipchat_version", "server_version")
	r.meta.name = strOf("group_name", "name")
	r.meta.group = strOf("group_id")
	if s := strOf("exported_at", "export_date", "created", "timestamp", "date"); s != "" {
		if t, err := parseTime(s); err == nil {
			r.meta.exportedAt = &t
		}
	}
	return nil
}

// readUsersFile reads users.json: an array of {"User": {...}} (plain user
// objects are accepted too).
func (r *reader) readUsersFile(name string) error {
	s, closeFn, err := r.openStream(name)
	if err != nil {
		return err
	}
	defer closeFn()
	tok, err := s.first()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("%s: want an array of {\"User\": {...}} records, found %s", s.name, delimName(tok))
	}
	r.haveUsers = true
	if err := s.elements(func(i int, raw json.RawMessage) error {
		return r.userRecord(s.name, i, raw, "User")
	}); err != nil {
		return err
	}
	return s.end()
}

// unwrap returns the body of a one-key wrapper {"<key>": {...}}, or raw
// itself when it is not wrapped.
func unwrap(raw json.RawMessage, key string) json.RawMessage {
	var w map[string]json.RawMessage
	if json.Unmarshal(raw, &w) == nil && len(w) == 1 {
		if body, ok := w[key]; ok {
			return body
		}
	}
	return raw
}

func (r *reader) skipRecord(file string, i int, kind sdk.Kind, id string, reason string) {
	rec := id
	if rec == "" {
		rec = fmt.Sprintf("%s#%d", file, i)
	}
	r.notice(sdk.Notice{Level: sdk.LevelError, Code: "record-unreadable", File: file, Kind: kind, Record: rec, Skipped: true,
		Message: fmt.Sprintf("%s: record %d: %s; the record is skipped", file, i, reason)})
}

func (r *reader) userRecord(file string, i int, raw json.RawMessage, key string) error {
	var u hcUser
	if err := json.Unmarshal(unwrap(raw, key), &u); err != nil {
		r.skipRecord(file, i, sdk.KindUser, "", fmt.Sprintf("not a user: %v", err))
		return nil
	}
	id := string(u.ID)
	if id == "" {
		id = string(u.UserID)
	}
	if id == "" {
		r.skipRecord(file, i, sdk.KindUser, "", "the user has no id")
		return nil
	}
	if _, dup := r.users[id]; dup {
		r.notice(sdk.Notice{Code: "user-duplicate", File: file, Kind: sdk.KindUser, Record: id, Skipped: true,
			Message: fmt.Sprintf("%s: record %d: user %s appears twice; the first one is kept", file, i, id)})
		return nil
	}
	rec := &sdk.User{
		ID: id, MentionName: u.MentionName, DisplayName: u.Name, Title: u.Title, TimeZone: u.Timezone,
		Role: sdk.RoleMember, Deleted: bool(u.IsDeleted), CreatedAt: u.Created.t, AvatarURL: u.PhotoURL,
	}
	if u.Email != nil {
		rec.Email = strings.TrimSpace(*u.Email)
		// HipChat's user name is the e-mail address.
		rec.Username = rec.Email
	}
	switch {
	case u.AccountType == "admin" || slices.Contains(u.Roles, "admin") || bool(u.IsGroupAdmin):
		rec.Role = sdk.RoleAdmin
	case u.AccountType == "guest" || bool(u.IsGuest):
		rec.Role = sdk.RoleGuest
	}
	if slices.Contains(u.Roles, "owner") {
		rec.Role = sdk.RoleOwner
	}
	if u.Roles != nil {
		rec.Extra = map[string]string{extraRoles: strings.Join(u.Roles, ",")}
	}
	if u.Avatar != nil && strings.TrimSpace(*u.Avatar) != "" {
		if err := r.avatar(rec, *u.Avatar, file, i); err != nil {
			return err
		}
	}
	r.users[id] = rec
	return r.emit(rec)
}

// avatar decodes a users.json avatar: base64, possibly with line breaks.
func (r *reader) avatar(u *sdk.User, b64, file string, i int) error {
	clean := strings.Map(func(c rune) rune {
		if c == '\n' || c == '\r' || c == ' ' || c == '\t' {
			return -1
		}
		return c
	}, b64)
	clean = strings.TrimPrefix(clean, "data:")
	if j := strings.Index(clean, ";base64,"); j >= 0 {
		clean = clean[j+len(";base64,"):]
	}
	data, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		data, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "="))
	}
	if err != nil {
		r.notice(sdk.Notice{Code: "avatar-invalid", File: file, Kind: sdk.KindUser, Record: u.ID,
			Message: fmt.Sprintf("%s: record %d: user %s: the avatar is not valid base64 (%v); the user is kept without a photo", file, i, u.ID, err)})
		return nil
	}
	ref, err := r.out.PutBlob(strings.NewReader(string(data)), sniffImage(data))
	if err != nil {
		return fmt.Errorf("%s: user %s: storing the avatar: %w", file, u.ID, err)
	}
	u.Avatar = &ref
	return nil
}

// sniffImage names the type of the image formats HipChat stored.
func sniffImage(b []byte) string {
	switch {
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "image/png"
	case len(b) >= 3 && string(b[:3]) == "\xff\xd8\xff":
		return "image/jpeg"
	case len(b) >= 6 && (string(b[:6]) == "GIF87a" || string(b[:6]) == "GIF89a"):
		return "image/gif"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// readRoomsFile reads rooms.json: [{"Room": {...}}], with members as ids
// (Cloud) or as objects with room_roles (Server 2.2.9).
func (r *reader) readRoomsFile(name string) error {
	s, closeFn, err := r.openStream(name)
	if err != nil {
		return err
	}
	defer closeFn()
	tok, err := s.first()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("%s: want an array of {\"Room\": {...}} records, found %s", s.name, delimName(tok))
	}
	if err := s.elements(func(i int, raw json.RawMessage) error {
		return r.roomRecord(s.name, i, raw, "Room")
	}); err != nil {
		return err
	}
	return s.end()
}

func (r *reader) roomRecord(file string, i int, raw json.RawMessage, key string) error {
	var hr hcRoom
	if err := json.Unmarshal(unwrap(raw, key), &hr); err != nil {
		r.skipRecord(file, i, sdk.KindRoom, "", fmt.Sprintf("not a room: %v", err))
		return nil
	}
	id := string(hr.ID)
	if id == "" {
		id = string(hr.RoomID)
	}
	if id == "" {
		r.skipRecord(file, i, sdk.KindRoom, "", "the room has no id")
		return nil
	}
	if _, dup := r.roomByID[id]; dup {
		r.notice(sdk.Notice{Code: "room-duplicate", File: file, Kind: sdk.KindRoom, Record: id, Skipped: true,
			Message: fmt.Sprintf("%s: record %d: room %s appears twice; the first one is kept", file, i, id)})
		return nil
	}
	name := hr.Name
	if strings.TrimSpace(name) == "" {
		name = "room " + id
		r.notice(sdk.Notice{Code: "room-unnamed", File: file, Kind: sdk.KindRoom, Record: id,
			Message: fmt.Sprintf("%s: record %d: room %s has no name; it is called %q", file, i, id, name)})
	}
	rec := &sdk.Room{
		ID: id, Name: name, Topic: hr.Topic, Archived: bool(hr.IsArchived), CreatedAt: hr.Created.t,
		Private:     hr.Privacy == "private" || bool(hr.IsPrivate),
		GuestAccess: (hr.GuestAccessURL != nil && *hr.GuestAccessURL != "") || bool(hr.IsGuestAccessible),
	}
	owner := string(hr.Owner.ID)
	if owner == "" {
		owner = string(hr.OwnerUserID)
	}
	st := &roomState{rec: rec, dir: id, members: map[string]bool{}}
	if owner != "" && owner != "0" {
		rec.Owner = r.knownUser(owner, file, "room "+id+" owner")
	}
	for _, a := range hr.RoomAdmins {
		if u := r.knownUser(string(a), file, "room "+id+" admin"); u != "" && !slices.Contains(rec.Admins, u) {
			rec.Admins = append(rec.Admins, u)
		}
	}
	for _, m := range append(hr.Members, hr.Participants...) {
		u := r.knownUser(string(m.ID), file, "room "+id+" member")
		if u == "" {
			continue
		}
		if !st.members[u] {
			st.members[u] = true
			rec.Members = append(rec.Members, u)
		}
		if slices.Contains(m.RoomRoles, "room_admin") && !slices.Contains(rec.Admins, u) {
			rec.Admins = append(rec.Admins, u)
		}
	}
	// HipChat exports the members of private rooms only; a public room's
	// list holds at most its admins, so its membership is worked out from
	// who wrote and who was mentioned.
	st.infer = !rec.Private
	r.rooms = append(r.rooms, st)
	r.roomByID[id] = st
	return nil
}

// knownUser returns id when users.json had it; otherwise it reports the
// dangling reference and returns "".
func (r *reader) knownUser(id, file, what string) string {
	if id == "" {
		return ""
	}
	if _, ok := r.users[id]; ok {
		return id
	}
	if !r.haveUsers {
		return ""
	}
	r.notice(sdk.Notice{Code: "user-unknown", File: file,
		Message: fmt.Sprintf("%s: %s is user %s, who is not in users.json; the reference is dropped", file, what, id)})
	return ""
}

// readHistories reads rooms/<id>/history.json (and API pages
// rooms/<id>/history*.json) and then users/<id>/history.json.
func (r *reader) readHistories() error {
	roomsDir := r.join("rooms")
	entries, err := fs.ReadDir(r.fsys, roomsDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", r.rel(roomsDir), err)
	}
	type roomFiles struct {
		id    string
		files []string
	}
	var plan []roomFiles
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub, err := fs.ReadDir(r.fsys, path.Join(roomsDir, e.Name()))
		if err != nil {
			return fmt.Errorf("%s: %w", r.rel(path.Join(roomsDir, e.Name())), err)
		}
		rf := roomFiles{id: e.Name()}
		for _, f := range sub {
			switch {
			case f.IsDir() && f.Name() == "files":
				r.filesDirs = true
			case !f.IsDir() && strings.HasPrefix(f.Name(), "history") && strings.HasSuffix(f.Name(), ".json"):
				rf.files = append(rf.files, path.Join(roomsDir, e.Name(), f.Name()))
			}
		}
		plan = append(plan, rf)
	}
	usersDir := r.join("users")
	uentries, err := fs.ReadDir(r.fsys, usersDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", r.rel(usersDir), err)
	}
	var otoFiles []string
	for _, e := range uentries {
		if !e.IsDir() {
			continue
		}
		if e.Name() == "files" {
			r.filesDirs = true
			continue
		}
		if r.isDir(path.Join(usersDir, e.Name(), "files")) {
			r.filesDirs = true
		}
		if name := path.Join(usersDir, e.Name(), "history.json"); r.exists(name) {
			r.otoOwners[e.Name()] = true
			otoFiles = append(otoFiles, name)
		}
	}
	// HipChat numbers users; read their files in numeric order so that
	// runs are reproducible however the tree lists them.
	slices.SortFunc(otoFiles, func(a, b string) int { return compareIDs(path.Base(path.Dir(a)), path.Base(path.Dir(b))) })

	for _, rf := range plan {
		st := r.roomByID[rf.id]
		if st == nil {
			if len(rf.files) == 0 {
				continue
			}
			st = r.unknownRoom(rf.id, r.rel(rf.files[0]))
		}
		for _, f := range rf.files {
			if err := r.readHistoryFile(f, &histCtx{room: st}); err != nil {
				return err
			}
		}
	}
	for _, f := range otoFiles {
		owner := path.Base(path.Dir(f))
		if err := r.readHistoryFile(f, &histCtx{owner: owner}); err != nil {
			return err
		}
	}
	return nil
}

// unknownRoom makes a room for history whose room the lists lack.
func (r *reader) unknownRoom(id, file string) *roomState {
	st := &roomState{rec: &sdk.Room{ID: id, Name: "room " + id}, dir: id, infer: true, members: map[string]bool{}}
	if r.haveUsers || len(r.rooms) > 0 {
		r.notice(sdk.Notice{Code: "room-unknown", File: file, Kind: sdk.KindRoom, Record: id,
			Message: fmt.Sprintf("%s: history of room %s, which rooms.json does not list; the room is created as %q, public", file, id, st.rec.Name)})
	}
	r.rooms = append(r.rooms, st)
	r.roomByID[id] = st
	return st
}

// compareIDs orders numeric ids as numbers and others as strings, numbers
// first.
func compareIDs(a, b string) int {
	na, ea := strconv.ParseInt(a, 10, 64)
	nb, eb := strconv.ParseInt(b, 10, 64)
	switch {
	case ea == nil && eb == nil:
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// histCtx says whose history a file is.
type histCtx struct {
	file  string     // path relative to the export root
	room  *roomState // room history
	owner string     // users/<owner>/history.json; "" for a lone file
	day   string     // legacy day file: its date, for made-up ids
}

// readHistoryFile streams one history file: an array of records (the
// export, legacy day files) or an API v2 page {"items": [...]}.
func (r *reader) readHistoryFile(name string, hc *histCtx) error {
	s, closeFn, err := r.openStream(name)
	if err != nil {
		return err
	}
	defer closeFn()
	hc.file = s.name
	tok, err := s.first()
	if err != nil {
		return err
	}
	each := func(d *decoded) error {
		if d.i%1024 == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
		}
		if d.e == nil {
			return r.historyElement(hc, d.i, d.raw)
		}
		return r.historyDecoded(hc, d.i, d.raw, d.e, d.err)
	}
	switch tok {
	case json.Delim('['):
		if err := s.historyElements(each); err != nil {
			return err
		}
	case json.Delim('{'):
		found := false
		if err := s.fields(func(key string) error {
			if key != "items" {
				return s.skip()
			}
			found = true
			t, err := s.dec.Token()
			if err != nil {
				return s.syntaxErr("items", err)
			}
			if t != json.Delim('[') {
				return fmt.Errorf("%s: \"items\" is %s, want an array of messages", s.name, delimName(t))
			}
			return s.historyElements(each)
		}); err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%s: an object without \"items\": want a history array or an API v2 page", s.name)
		}
	default:
		return fmt.Errorf("%s: want an array of messages, found %s", s.name, delimName(tok))
	}
	return s.end()
}

// historyElement decodes one element of a history file and emits it, or
// reports why it is skipped.
func (r *reader) historyElement(hc *histCtx, i int, raw json.RawMessage) error {
	if len(raw) > 0 && raw[0] == '[' {
		// Some exports wrap a record in an extra array.
		var inner []json.RawMessage
		if err := json.Unmarshal(raw, &inner); err != nil {
			r.skipRecord(hc.file, i, sdk.KindMessage, "", err.Error())
			return nil
		}
		for _, in := range inner {
			if err := r.historyElement(hc, i, in); err != nil {
				return err
			}
		}
		return nil
	}
	var e element
	return r.historyDecoded(hc, i, raw, &e, json.Unmarshal(raw, &e))
}

// historyDecoded emits one element of a history file decoded from raw
// into e (err is the decoding error), or reports why it is skipped.
func (r *reader) historyDecoded(hc *histCtx, i int, raw json.RawMessage, e *element, err error) error {
	if err != nil {
		r.skipRecord(hc.file, i, sdk.KindMessage, rawID(raw), fmt.Sprintf("not a message: %v", err))
		return nil
	}
	typ, m := e.wrapped()
	if typ == "" {
		if e.Date == "" && e.Timestamp == "" {
			var keys map[string]json.RawMessage
			_ = json.Unmarshal(raw, &keys)
			names := make([]string, 0, len(keys))
			for k := range keys {
				names = append(names, k)
			}
			slices.Sort(names)
			r.skipRecord(hc.file, i, sdk.KindMessage, "", fmt.Sprintf("unknown record type %s (want UserMessage, NotificationMessage, TopicRoomMessage, ArchiveRoomMessage, GuestAccessMessage or PrivateUserMessage)", strings.Join(names, ",")))
			return nil
		}
		m = &e.hcMessage
		typ = flatType(m)
	}
	return r.message(hc, i, typ, m)
}

// rawID digs a message id out of a record that failed to decode, for the
// notice.
func rawID(raw json.RawMessage) string {
	var w map[string]map[string]json.RawMessage
	if json.Unmarshal(raw, &w) == nil {
		for _, body := range w {
			var id flexID
			if json.Unmarshal(body["id"], &id) == nil && id != "" {
				return string(id)
			}
		}
	}
	return ""
}

// flatType maps an API v2 item's "type" (or a legacy item) onto the
// export's record types.
func flatType(m *hcMessage) string {
	switch m.Type {
	case "notification":
		return typeNotification
	case "topic":
		return typeTopic
	case "guest_access":
		return typeGuestAccess
	case "archive":
		return typeArchive
	case "privatechat", "private":
		return typePrivate
	}
	if m.From.IsName || string(m.From.ID) == "api" {
		return typeNotification
	}
	return typeUser
}

func (r *reader) message(hc *histCtx, i int, typ string, m *hcMessage) error {
	id := string(m.ID)
	if id == "" {
		if hc.day != "" {
			id = fmt.Sprintf("%s:%s:%d", hc.room.rec.ID, hc.day, i)
		} else {
			id = fmt.Sprintf("%s#%d", hc.file, i)
		}
	}
	ts := m.Timestamp
	if ts == "" {
		ts = m.Date
	}
	sent, err := parseTime(ts)
	if err != nil {
		r.skipRecord(hc.file, i, sdk.KindMessage, id, err.Error())
		return nil
	}
	from := m.Sender
	if from.ID == "" && from.Name == "" && !from.IsName {
		from = m.From
	}
	msg := &sdk.Message{ID: id, SentAt: sent}
	if hc.room == nil && typ == typeUser {
		typ = typePrivate
	}
	if typ == typePrivate && hc.room != nil {
		// Its copies in users/<id>/history.json are the ones read.
		r.skipRecord(hc.file, i, sdk.KindMessage, id, "a one-to-one message (PrivateUserMessage) in a room's history")
		return nil
	}
	if from.IsName || (typ == typeNotification && from.ID == "api") {
		// Integrations post under a name, not an account (the legacy
		// export marks them with user_id "api").
		msg.Sender = r.integration(from.Name, hc.file)
		msg.SenderName = from.Name
	} else {
		msg.Sender = r.sender(from, hc.file, i)
	}

	if typ == typePrivate {
		ok, err := r.privateTarget(hc, msg, m)
		if err != nil || !ok {
			return err
		}
	} else {
		if hc.room == nil {
			r.skipRecord(hc.file, i, sdk.KindMessage, id, typ+" in a one-to-one history")
			return nil
		}
		msg.Room = hc.room.rec.ID
	}

	// Body, kind and the original text.
	format := m.MessageFormat
	if format == "" && typ == typeNotification && looksLikeHTML(m.Message) {
		format = "html"
	}
	switch typ {
	case typeTopic:
		msg.Kind, msg.Body = sdk.MessageTopicChange, m.Message
	case typeArchive, typeGuestAccess:
		msg.Kind, msg.Body = sdk.MessageSystem, m.Message
		msg.Extra = map[string]string{extraType: typ}
		if format == "html" {
			msg.Body = htmlToMarkdown(m.Message)
		}
	default:
		if format == "html" {
			msg.Body, msg.Kind = htmlToMarkdown(m.Message), sdk.MessageNormal
			if msg.Body != "" {
				msg.Body = r.emoticons(msg.Body)
			}
		} else {
			msg.Body, msg.Kind = r.textToMarkdown(m.Message)
		}
		if typ == typeNotification {
			msg.Kind = sdk.MessageNotification
		}
	}
	if msg.Body != m.Message || m.MessageFormat != "" {
		msg.Original = m.Message
		msg.OriginalFormat = format
		if msg.OriginalFormat == "" {
			msg.OriginalFormat = "text"
		}
	}
	if m.Color != "" {
		if msg.Extra == nil {
			msg.Extra = map[string]string{}
		}
		msg.Extra[extraColor] = m.Color
	}

	// Mentions: the export lists ids; @all and @here are only in the text.
	for _, p := range m.Mentions {
		uid := string(p.ID)
		if uid == "" || uid == "0" {
			continue
		}
		u, ok := r.users[uid]
		if !ok {
			if !r.haveUsers && (p.Name != "" || p.MentionName != "") {
				uid = r.sender(p, hc.file, i)
				u = r.users[uid]
			} else {
				r.notice(sdk.Notice{Code: "mention-unknown", File: hc.file, Kind: sdk.KindMessage, Record: id,
					Message: fmt.Sprintf("%s: record %d: message %s mentions user %s, who is not in users.json; the mention stays as text only", hc.file, i, id, uid)})
				continue
			}
		}
		if slices.ContainsFunc(msg.Mentions, func(x sdk.Mention) bool { return x.User == uid }) {
			continue
		}
		msg.Mentions = append(msg.Mentions, sdk.Mention{Kind: sdk.MentionUser, User: uid, Text: u.MentionName})
		if hc.room != nil {
			hc.room.saw(uid, r)
		}
	}
	msg.Mentions = append(msg.Mentions, specialMentions(m.Message)...)
	if hc.room != nil && typ != typeNotification {
		hc.room.saw(msg.Sender, r)
	}

	if r.err != nil {
		return r.err
	}
	var att *sdk.Attachment
	if a := m.Attachment; a != nil || m.File != nil || attachmentPath(m.AttachmentPath) != "" {
		if a == nil {
			a = m.File
		}
		if a == nil {
			a = &hcAttachment{}
		}
		att, err = r.attachment(hc, msg, m, a)
		if err != nil {
			return err
		}
		if att != nil {
			msg.Attachments = []string{att.ID}
		}
	}
	if err := r.emit(msg); err != nil {
		return err
	}
	if att != nil {
		if err := r.emit(att); err != nil {
			return err
		}
	}
	r.messages++
	if r.messages%4096 == 0 {
		r.out.Progress(r.messages, 0)
	}
	return nil
}

// saw records a user seen writing or mentioned in a room whose
// membership is inferred.
func (st *roomState) saw(uid string, r *reader) {
	if !st.infer || uid == "" || st.members[uid] {
		return
	}
	u := r.users[uid]
	if u == nil || u.Integration || (u.Extra != nil && u.Extra[extraPlaceholder] != "") {
		return
	}
	if st.inferred == nil {
		st.inferred = map[string]bool{}
	}
	st.inferred[uid] = true
}

func looksLikeHTML(s string) bool {
	if !strings.Contains(s, "<") {
		return false
	}
	l := strings.ToLower(s)
	for _, t := range []string{"<a ", "<b>", "<i>", "<p>", "<br", "<strong>", "<em>", "<code>", "<pre>", "<ul>", "<ol>", "<li>", "<img ", "<div", "<span", "<table"} {
		if strings.Contains(l, t) {
			return true
		}
	}
	return false
}

// privateTarget sets a one-to-one message's conversation and decides
// whether this copy is the one to emit. HipChat writes each one-to-one
// message into both participants' users/<id>/history.json; the copy in the
// file of the participant with the lower id is kept, and the other copy
// only when that file does not exist (deleted users often have none). This
// keeps memory independent of the number of messages.
func (r *reader) privateTarget(hc *histCtx, msg *sdk.Message, m *hcMessage) (bool, error) {
	recv := string(m.Receiver.ID)
	var recvID string
	if recv == "" && m.Receiver.Name == "" {
		recvID = hc.owner
		if recvID == "" || recvID == msg.Sender {
			recvID = msg.Sender
		}
	} else {
		recvID = r.sender(m.Receiver, hc.file, -1)
	}
	a, b := msg.Sender, recvID
	if compareIDs(a, b) > 0 {
		a, b = b, a
	}
	if hc.owner != "" {
		// The file whose copy is kept: the lower id's, else the other's,
		// else (a message in a third user's file) this one.
		keeper := hc.owner
		switch {
		case r.otoOwners[a]:
			keeper = a
		case r.otoOwners[b]:
			keeper = b
		}
		if keeper != hc.owner {
			return false, nil
		}
	}
	conv := "dm:" + a
	parts := []string{a}
	if b != a {
		conv += ":" + b
		parts = append(parts, b)
	}
	msg.Conversation = conv
	if !r.convs[conv] {
		r.convs[conv] = true
		if err := r.emit(&sdk.Conversation{ID: conv, Participants: parts}); err != nil {
			return false, err
		}
	}
	return true, nil
}

// sender resolves a message's sender object to a user id, making a
// placeholder user for id 0 and for ids users.json lacks.
func (r *reader) sender(p person, file string, i int) string {
	if p.IsName {
		return r.integration(p.Name, file)
	}
	id := string(p.ID)
	if id != "" && id != "0" {
		if _, ok := r.users[id]; ok {
			return id
		}
		u := &sdk.User{ID: id, DisplayName: p.Name, MentionName: p.MentionName, Role: sdk.RoleMember, Virtual: true}
		if r.haveUsers {
			u.Extra = map[string]string{extraPlaceholder: "unknown-id"}
			u.Deleted = true
			r.notice(sdk.Notice{Code: "sender-unknown", File: file, Kind: sdk.KindUser, Record: id,
				Message: fmt.Sprintf("%s: sender %s (%q) is not in users.json; a placeholder user takes their messages", file, id, p.Name)})
		} else {
			r.notice(sdk.Notice{Code: "user-inferred", File: file, Kind: sdk.KindUser, Record: id,
				Message: fmt.Sprintf("%s: user %s (%q) is known only from messages: no e-mail or profile", file, id, p.Name)})
		}
		r.users[id] = u
		r.emitLater(u)
		return id
	}
	name := strings.TrimSpace(p.Name)
	if name == "" {
		name = strings.TrimSpace(p.MentionName)
	}
	if name == "" {
		name = "unknown"
	}
	uid := senderZeroPrefix + truncate(name, 400)
	if _, ok := r.users[uid]; ok {
		return uid
	}
	u := &sdk.User{ID: uid, DisplayName: name, MentionName: p.MentionName, Role: sdk.RoleMember, Virtual: true, Bot: true,
		Extra: map[string]string{extraPlaceholder: "id-0"}}
	r.users[uid] = u
	r.notice(sdk.Notice{Code: "sender-unknown", File: file, Kind: sdk.KindUser, Record: uid,
		Message: fmt.Sprintf("%s: messages from %q carry sender id 0 (a bot or a removed account); a placeholder user %q takes them", file, name, uid)})
	r.emitLater(u)
	return uid
}

// integration returns the user standing for a notification's string
// sender, making it on first sight.
func (r *reader) integration(name, file string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "unknown"
	}
	uid := integrationPrefix + truncate(name, 400)
	if _, ok := r.users[uid]; ok {
		return uid
	}
	u := &sdk.User{ID: uid, DisplayName: name, Role: sdk.RoleMember, Bot: true, Integration: true, Virtual: true}
	r.users[uid] = u
	r.notice(sdk.Notice{Code: "integration-user", File: file, Kind: sdk.KindUser, Record: uid,
		Message: fmt.Sprintf("%s: notifications from %q (an integration; HipChat exports no integrations) are attributed to the bot user %q", file, name, uid)})
	r.emitLater(u)
	return uid
}

// emitLater emits a record made while resolving a reference; the first
// failure is kept and returned once the current message is done.
func (r *reader) emitLater(rec sdk.Record) {
	if err := r.emit(rec); err != nil && r.err == nil {
		r.err = err
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func attachmentPath(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "None" {
		return ""
	}
	return strings.TrimSpace(s)
}

// attachment makes the attachment record of a message, copying the file
// into the archive when the export holds it.
func (r *reader) attachment(hc *histCtx, msg *sdk.Message, m *hcMessage, a *hcAttachment) (*sdk.Attachment, error) {
	p := a.Path
	if p == "" {
		p = attachmentPath(m.AttachmentPath)
	}
	name := a.Name
	if name == "" && p != "" {
		name = path.Base(p)
	}
	if name == "" && a.URL != "" {
		name = path.Base(a.URL)
	}
	if name == "" && p == "" && a.URL == "" {
		return nil, nil // {} stands for "no attachment"
	}
	att := &sdk.Attachment{ID: msg.ID + "/file", Message: msg.ID, Name: name, Size: max(int64(a.Size), 0), URL: a.URL,
		Uploader: msg.Sender, ContentType: contentTypeOf(name)}
	t := msg.SentAt
	att.CreatedAt = &t
	var candidates []string
	clean := path.Clean(strings.TrimPrefix(p, "/"))
	if p != "" && fs.ValidPath(clean) && clean != "." {
		if hc.room != nil {
			candidates = append(candidates, path.Join("rooms", hc.room.dir, "files", clean))
		} else {
			candidates = append(candidates, path.Join("users", "files", clean))
			for _, u := range []string{hc.owner, msg.Sender} {
				if u != "" {
					candidates = append(candidates, path.Join("users", u, "files", clean))
				}
			}
		}
	} else if p != "" {
		r.notice(sdk.Notice{Code: "attachment-path-invalid", File: hc.file, Kind: sdk.KindAttachment, Record: att.ID,
			Message: fmt.Sprintf("%s: message %s: attachment path %q leaves the export; only its URL is kept", hc.file, msg.ID, p)})
	}
	for _, c := range candidates {
		f, err := r.fsys.Open(r.join(c))
		if err != nil {
			continue
		}
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			f.Close()
			continue
		}
		ref, err := r.out.PutBlob(f, att.ContentType)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: message %s: copying %s: %w", hc.file, msg.ID, c, err)
		}
		att.SHA256, att.Size, att.Path = ref.SHA256, ref.Size, c
		return att, nil
	}
	if len(candidates) > 0 {
		att.Path = candidates[0]
	}
	if r.filesDirs {
		r.notice(sdk.Notice{Code: "attachment-missing", File: hc.file, Kind: sdk.KindAttachment, Record: att.ID,
			Message: fmt.Sprintf("%s: message %s: file %q is not in the export; the attachment keeps its name and URL only", hc.file, msg.ID, att.Path)})
	} else {
		r.noFiles++
	}
	return att, nil
}

// contentTypeOf names a file's type from its extension. A fixed table
// rather than the mime package keeps results the same on every machine.
func contentTypeOf(name string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".svg":
		return "image/svg+xml"
	case ".pdf":
		return "application/pdf"
	case ".txt", ".log":
		return "text/plain"
	case ".json":
		return "application/json"
	case ".zip":
		return "application/zip"
	case ".mp4":
		return "video/mp4"
	case ".mp3":
		return "audio/mpeg"
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".docx":
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case ".pptx":
		return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	case ".csv":
		return "text/csv"
	case ".html", ".htm":
		return "text/html"
	}
	return ""
}

// emitRooms emits every room with its membership, adding the inferred
// members of public rooms.
func (r *reader) emitRooms() error {
	for _, st := range r.rooms {
		if st.infer {
			var add []string
			for u := range st.inferred {
				add = append(add, u)
			}
			slices.SortFunc(add, compareIDs)
			listed := len(st.rec.Members)
			st.rec.Members = append(st.rec.Members, add...)
			st.rec.MembersInferred = true
			r.notice(sdk.Notice{Code: "members-inferred", Kind: sdk.KindRoom, Record: st.rec.ID,
				Message: fmt.Sprintf("room %s (%q): HipChat does not export who belongs to a public room; besides the %d listed, %d members were inferred from who wrote or was mentioned there", st.rec.ID, st.rec.Name, listed, len(add))})
		}
		if err := r.emit(st.rec); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) emitWorkspace() error {
	w := &sdk.Workspace{ID: "hipchat", Name: "HipChat", SourceSystem: r.system}
	if r.meta.name != "" {
		w.Name = r.meta.name
	}
	if r.meta.group != "" {
		w.ID = "hipchat-" + r.meta.group
	}
	w.SourceVersion = r.meta.version
	w.ExportedAt = r.meta.exportedAt
	w.ExportOptions.OneToOneHistory = len(r.otoOwners) > 0
	w.ExportOptions.Files = r.filesDirs
	w.ExportOptions.Avatars = !r.legacy && r.haveUsers
	if r.meta.oto != nil {
		w.ExportOptions.OneToOneHistory = *r.meta.oto
	}
	if r.meta.files != nil {
		w.ExportOptions.Files = *r.meta.files
	}
	if r.noFiles > 0 {
		r.notice(sdk.Notice{Code: "files-not-exported",
			Message: fmt.Sprintf("%d attachments have no content: the export was made without files (\"Include files\", hipchat export --include_attachments); their names and URLs are kept", r.noFiles)})
	}
	if !w.ExportOptions.OneToOneHistory && !r.legacy {
		r.notice(sdk.Notice{Code: "oto-not-exported",
			Message: "the export holds no one-to-one history (users/<id>/history.json): it was made without \"Include one-to-one chats\" (hipchat export --include_oto)"})
	}
	r.out.Progress(r.messages, r.messages)
	return r.emit(w)
}
