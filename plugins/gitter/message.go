package gitter

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// rawMention is one entry of a message's "mentions" list.
type rawMention struct {
	screenName, userID []byte
	group              bool
}

// rawMessage is a Gitter message as read, in buffers reused from one
// message to the next; only the fields the mapping needs are kept.
type rawMessage struct {
	id, text, sent, editedAt, parentID, room []byte
	hasRoom, status, hasMentions             bool
	threadCount                              int64
	from                                     rawUser
	fromKind                                 int // 0 none, 1 object, 2 id string
	virtType, virtID, virtName, virtAvatar   []byte
	hasVirtual                               bool
	mentions                                 []rawMention
	fieldErr                                 string
}

const (
	fromNone = iota
	fromObject
	fromID
)

func (m *rawMessage) reset() {
	m.id, m.text, m.sent, m.editedAt, m.parentID, m.room = m.id[:0], m.text[:0], m.sent[:0], m.editedAt[:0], m.parentID[:0], m.room[:0]
	m.hasRoom, m.status, m.hasMentions, m.hasVirtual = false, false, false, false
	m.threadCount = 0
	m.from.reset()
	m.fromKind = fromNone
	m.virtType, m.virtID, m.virtName, m.virtAvatar = m.virtType[:0], m.virtID[:0], m.virtName[:0], m.virtAvatar[:0]
	m.mentions = m.mentions[:0]
	m.fieldErr = ""
}

// str reads a string member that may be null; a value of another type is
// remembered as the record's problem and skipped.
func (m *rawMessage) str(j *jsonReader, name string, dst []byte) ([]byte, error) {
	c, err := j.peekValue()
	if err != nil {
		return dst, err
	}
	switch c {
	case '"':
		return j.readString(dst)
	case 'n':
		return dst, j.literal("null")
	}
	if m.fieldErr == "" {
		m.fieldErr = fmt.Sprintf("field %q is %s, not a string", name, describe(c))
	}
	return dst, j.skipValue()
}

func (m *rawMessage) boolean(j *jsonReader) (bool, error) {
	c, err := j.peekValue()
	if err != nil {
		return false, err
	}
	switch c {
	case 't':
		return true, j.literal("true")
	case 'f':
		return false, j.literal("false")
	}
	return false, j.skipValue()
}

// parseMessage reads one message object.
func parseMessage(j *jsonReader, m *rawMessage) error {
	m.reset()
	if err := j.consume('{'); err != nil {
		return err
	}
	first := true
	var kb [32]byte
	for {
		key, ok, err := j.nextKey(&first, kb[:0])
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch string(key) {
		case "id":
			m.id, err = m.str(j, "id", m.id)
		case "text":
			m.text, err = m.str(j, "text", m.text)
		case "sent":
			m.sent, err = m.str(j, "sent", m.sent)
		case "editedAt":
			m.editedAt, err = m.str(j, "editedAt", m.editedAt)
		case "parentId":
			m.parentID, err = m.str(j, "parentId", m.parentID)
		case "room":
			m.hasRoom = true
			m.room, err = m.str(j, "room", m.room)
		case "status":
			m.status, err = m.boolean(j)
		case "threadMessageCount":
			var c byte
			if c, err = j.peekValue(); err == nil && (c == '-' || isDigit(c)) {
				var num []byte
				if num, err = j.readNumber(); err == nil {
					m.threadCount, _ = strconv.ParseInt(string(num), 10, 64)
				}
			} else if err == nil {
				err = j.skipValue()
			}
		case "fromUser":
			err = m.parseFrom(j)
		case "virtualUser":
			err = m.parseVirtual(j)
		case "mentions":
			m.hasMentions = true
			err = m.parseMentions(j)
		default:
			err = j.skipValue()
		}
		if err != nil {
			return err
		}
	}
}

func (m *rawMessage) parseFrom(j *jsonReader) error {
	c, err := j.peekValue()
	if err != nil {
		return err
	}
	switch c {
	case '"':
		m.fromKind = fromID
		m.from.id, err = j.readString(m.from.id)
		return err
	case '{':
		m.fromKind = fromObject
		return parseUser(j, &m.from)
	case 'n':
		return j.literal("null")
	}
	if m.fieldErr == "" {
		m.fieldErr = fmt.Sprintf("field \"fromUser\" is %s, not a user object or id", describe(c))
	}
	return j.skipValue()
}

// parseUser reads a Gitter user object into u.
func parseUser(j *jsonReader, u *rawUser) error {
	if err := j.consume('{'); err != nil {
		return err
	}
	first := true
	var kb [32]byte
	for {
		key, ok, err := j.nextKey(&first, kb[:0])
		if err != nil || !ok {
			return err
		}
		var dst *[]byte
		switch string(key) {
		case "id":
			dst = &u.id
		case "username":
			dst = &u.username
		case "displayName":
			dst = &u.displayName
		case "avatarUrl":
			dst = &u.avatarURL
		case "avatarUrlMedium":
			dst = &u.avatarMedium
		case "gravatarImageUrl":
			dst = &u.gravatar
		case "role":
			dst = &u.role
		case "removed":
			c, err := j.peekValue()
			if err != nil {
				return err
			}
			if c == 't' {
				u.removed = true
			}
			if err := j.skipValue(); err != nil {
				return err
			}
			continue
		}
		if dst == nil {
			if err := j.skipValue(); err != nil {
				return err
			}
			continue
		}
		c, err := j.peekValue()
		if err != nil {
			return err
		}
		if c != '"' {
			if err := j.skipValue(); err != nil {
				return err
			}
			continue
		}
		if *dst, err = j.readString((*dst)[:0]); err != nil {
			return err
		}
	}
}

func (m *rawMessage) parseVirtual(j *jsonReader) error {
	c, err := j.peekValue()
	if err != nil {
		return err
	}
	if c != '{' {
		return j.skipValue()
	}
	j.pos++
	m.hasVirtual = true
	first := true
	var kb [32]byte
	for {
		key, ok, err := j.nextKey(&first, kb[:0])
		if err != nil || !ok {
			return err
		}
		switch string(key) {
		case "type":
			m.virtType, err = m.str(j, "virtualUser.type", m.virtType[:0])
		case "externalId":
			m.virtID, err = m.str(j, "virtualUser.externalId", m.virtID[:0])
		case "displayName":
			m.virtName, err = m.str(j, "virtualUser.displayName", m.virtName[:0])
		case "avatarUrl":
			m.virtAvatar, err = m.str(j, "virtualUser.avatarUrl", m.virtAvatar[:0])
		default:
			err = j.skipValue()
		}
		if err != nil {
			return err
		}
	}
}

func (m *rawMessage) parseMentions(j *jsonReader) error {
	c, err := j.peekValue()
	if err != nil {
		return err
	}
	if c != '[' {
		return j.skipValue()
	}
	j.pos++
	first := true
	for {
		ok, err := j.nextElem(&first)
		if err != nil || !ok {
			return err
		}
		if c, err := j.peekValue(); err != nil {
			return err
		} else if c != '{' {
			if err := j.skipValue(); err != nil {
				return err
			}
			continue
		}
		j.pos++
		if len(m.mentions) < cap(m.mentions) {
			m.mentions = m.mentions[:len(m.mentions)+1]
		} else {
			m.mentions = append(m.mentions, rawMention{})
		}
		mm := &m.mentions[len(m.mentions)-1]
		mm.screenName, mm.userID, mm.group = mm.screenName[:0], mm.userID[:0], false
		f := true
		var kb [32]byte
		for {
			key, ok, err := j.nextKey(&f, kb[:0])
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			switch string(key) {
			case "screenName":
				mm.screenName, err = m.str(j, "mentions.screenName", mm.screenName)
			case "userId":
				mm.userID, err = m.str(j, "mentions.userId", mm.userID)
			case "group", "announcement":
				var b bool
				b, err = m.boolean(j)
				mm.group = mm.group || b
			default:
				err = j.skipValue()
			}
			if err != nil {
				return err
			}
		}
	}
}

// idSet remembers event ids of an Element export, whose replies may point
// at any earlier event. Ids that are 12-byte ObjectIds are kept as such.
type idSet struct {
	oids  map[[12]byte]struct{}
	other map[string]struct{}
}

func newIDSet() idSet {
	return idSet{oids: map[[12]byte]struct{}{}, other: map[string]struct{}{}}
}

func objectID(id []byte) (k [12]byte, ok bool) {
	if len(id) != 24 {
		return k, false
	}
	_, err := hex.Decode(k[:], id)
	return k, err == nil
}

// add records id and reports whether it was new.
func (s *idSet) add(id []byte) bool {
	if k, ok := objectID(id); ok {
		// One map operation instead of a lookup and an insert.
		n := len(s.oids)
		s.oids[k] = struct{}{}
		return len(s.oids) > n
	}
	if _, dup := s.other[string(id)]; dup {
		return false
	}
	s.other[string(id)] = struct{}{}
	return true
}

func (s *idSet) has(id []byte) bool {
	if k, ok := objectID(id); ok {
		_, found := s.oids[k]
		return found
	}
	_, found := s.other[string(id)]
	return found
}

// parseTime reads Gitter's "2014-03-25T11:51:32.289Z" without the cost
// of time.Parse, falling back to it for any other RFC 3339 form.
func parseTime(b []byte) (time.Time, error) {
	if len(b) == 24 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == '.' && b[23] == 'Z' {
		n := func(i, w int) int {
			v := 0
			for k := i; k < i+w; k++ {
				c := b[k]
				if c < '0' || c > '9' {
					return -1
				}
				v = v*10 + int(c-'0')
			}
			return v
		}
		y, mo, d, h, mi, s, ms := n(0, 4), n(5, 2), n(8, 2), n(11, 2), n(14, 2), n(17, 2), n(20, 3)
		if y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h < 24 && mi >= 0 && mi < 60 && s >= 0 && s < 60 && ms >= 0 {
			t := time.Date(y, time.Month(mo), d, h, mi, s, ms*1e6, time.UTC)
			if t.Day() == d {
				return t, nil
			}
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", b)
	}
	return t.UTC(), nil
}

// fileCtx is the state of one message file being read.
type fileCtx struct {
	f    *inputFile
	room *roomState // the file's own room, made when first needed
	j    *jsonReader
	n    int // messages read
	// merged is set when a message names its own room (a merged dump):
	// the file then stands for no room of its own.
	merged bool
}

// fileRoomIfEmpty gives a file that named no room its own room even when it
// held no messages, since an empty room is still a room.
func (r *run) fileRoomIfEmpty(fc *fileCtx) {
	if !fc.merged {
		r.fileRoom(fc)
	}
}

// fileRoom returns the room the file's messages belong to when they carry
// no "room" field.
func (r *run) fileRoom(fc *fileCtx) *roomState {
	if fc.room == nil {
		fc.room = r.room(fileRoomKey(fc.f), fc.f)
	}
	return fc.room
}

// room returns the room named key, creating it (matched with a room
// object from a room list when there is one).
func (r *run) room(name string, f *inputFile) *roomState {
	key := roomKey(name)
	if rs, ok := r.rooms[key]; ok {
		return rs
	}
	rs := &roomState{rec: sdk.Room{ID: name, Name: name}, members: map[string]bool{}, admins: map[string]bool{}}
	if meta := r.metas[key]; meta != nil {
		r.applyMeta(rs, meta)
		// Later files may name the room by uri, name or id.
		for _, k := range []string{roomKey(meta.URI), roomKey(meta.Name), roomKey(meta.ID)} {
			if k != "" {
				r.rooms[k] = rs
			}
		}
	}
	r.rooms[key] = rs
	if rs.rec.Repository == "" && r.repoOption != "" {
		rs.rec.Repository = r.repoOption
	}
	if f != nil {
		dir := f.dir()
		if f.entry {
			dir = "\x00" + f.inputName
		} else {
			dir = f.inputName + "\x00" + dir
		}
		if ids, ok := r.dirUsers[dir]; ok {
			rs.listed = true
			for _, id := range ids {
				rs.addMember(id)
			}
			for _, id := range r.dirAdmins[dir] {
				rs.admins[id] = true
			}
		}
	}
	r.roomOrder = append(r.roomOrder, rs)
	return rs
}

func (r *run) applyMeta(rs *roomState, m *roomMeta) {
	if m.ID != "" {
		rs.rec.ID = m.ID
	}
	switch {
	case m.URI != "":
		rs.rec.Name = m.URI
	case m.Name != "":
		rs.rec.Name = m.Name
	}
	rs.rec.Topic = m.Topic
	rs.rec.Private = m.Security == "PRIVATE" || (m.Public != nil && !*m.Public) || m.OneToOne
	rs.rec.Repository = m.repository()
	extra := map[string]string{}
	if m.GithubType != "" {
		extra["gitter_github_type"] = m.GithubType
	}
	if m.Security != "" {
		extra["gitter_security"] = m.Security
	}
	if m.OneToOne {
		extra["gitter_one_to_one"] = "true"
	}
	if len(extra) > 0 {
		rs.rec.Extra = extra
	}
}

func (r *run) skip(f *inputFile, record, code, msg string) {
	r.skipped++
	r.out.Notice(sdk.Notice{Level: sdk.LevelError, Code: code, Kind: sdk.KindMessage, Record: record,
		File: f.display, Skipped: true, Message: msg})
}

func (r *run) warn(f *inputFile, kind sdk.Kind, record, code, msg string) {
	n := sdk.Notice{Level: sdk.LevelWarning, Code: code, Kind: kind, Record: record, Message: msg}
	if f != nil {
		n.File = f.display
	}
	r.out.Notice(n)
}

// recordName names a record for messages: its index and, when read, id.
func recordName(idx int, id []byte) string {
	if len(id) == 0 {
		return fmt.Sprintf("message %d (no id)", idx)
	}
	return fmt.Sprintf("message %d (id %s)", idx, id)
}

// handleMessage maps the message in r.msg onto canonical records.
func (r *run) handleMessage(fc *fileCtx, idx int) error {
	m := &r.msg
	f := fc.f
	bad := fc.j.badUTF8
	fc.j.badUTF8 = false
	// rec and where name the record in notices; they are only built when
	// needed, which is rarely.
	var rec, where string
	if m.fieldErr != "" || len(m.id) == 0 || bad || len(m.sent) != 24 || (len(m.parentID) > 0) || m.fromKind == fromNone || m.fromKind == fromID {
		rec = "#" + strconv.Itoa(idx)
		if len(m.id) > 0 {
			rec = string(m.id)
		}
		where = f.display + ": " + recordName(idx, m.id)
	}
	if m.fieldErr != "" {
		r.skip(f, rec, "bad-field", where+": "+m.fieldErr+"; the message was left out")
		return nil
	}
	if len(m.id) == 0 {
		r.skip(f, rec, "message-without-id", where+": the message has no id; it was left out")
		return nil
	}
	if bad && r.skipBadUTF {
		r.skip(f, rec, "invalid-utf8", where+": the message holds bytes that are not UTF-8; it was left out (use --invalid-utf8=repair to keep it)")
		return nil
	}
	// A repeated id (overlapping pages of a REST dump) is emitted as it
	// is: the host finds repeats on disk and keeps the first, so that no
	// memory here grows with the number of messages.
	var sender *userEntry
	switch {
	case m.hasVirtual && len(m.virtID) > 0:
		sender = r.users.virtual(string(m.virtType), string(m.virtID), string(m.virtName), string(m.virtAvatar))
	case m.fromKind == fromObject:
		sender = r.users.observe(&m.from)
	case m.fromKind == fromID && len(m.from.id) > 0:
		sender = r.users.lookupBytes(m.from.id, nil)
		if sender == nil {
			sender = r.users.mentioned(string(m.from.id), "")
			sender.mentionOnly = false
			id := string(m.from.id)
			if !r.missingIDs[id] {
				r.missingIDs[id] = true
				r.warn(f, sdk.KindUser, id, "user-details-missing", fmt.Sprintf("%s: user %s sent messages but no user list describes them; they are kept with their id only (put the room's users.ndjson beside the messages)", f.display, id))
			}
		}
	}
	if sender == nil {
		r.skip(f, rec, "message-without-sender", where+": the message has no sender (fromUser); it was left out")
		return nil
	}
	sent, err := parseTime(m.sent)
	if err != nil || len(m.sent) == 0 {
		rec, where = string(m.id), f.display+": "+recordName(idx, m.id)
		if k, ok := objectID(m.id); ok {
			sent = time.Unix(int64(k[0])<<24|int64(k[1])<<16|int64(k[2])<<8|int64(k[3]), 0).UTC()
			r.warn(f, sdk.KindMessage, rec, "time-from-id", where+": the message has no valid \"sent\" time; the time was taken from its id")
		} else {
			r.skip(f, rec, "message-without-time", where+": the message has no valid \"sent\" time; it was left out")
			return nil
		}
	}
	if bad {
		r.warn(f, sdk.KindMessage, rec, "invalid-utf8", where+": the message holds bytes that are not UTF-8; they were replaced with U+FFFD")
	}
	var room *roomState
	if m.hasRoom && len(m.room) > 0 {
		fc.merged = true
		room = r.room(string(m.room), f)
	} else {
		room = r.fileRoom(fc)
	}
	id := string(m.id)
	out := &sdk.Message{
		ID:             id,
		Kind:           sdk.MessageNormal,
		Room:           room.rec.ID,
		Sender:         sender.rec.ID,
		SentAt:         sent,
		OriginalFormat: "gitter-markdown",
	}
	if m.status {
		out.Kind = sdk.MessageEmote
	}
	if len(m.editedAt) > 0 {
		if t, err := parseTime(m.editedAt); err == nil {
			out.EditedAt = &t
		}
	}
	text := string(m.text)
	r.tr.repo = room.rec.Repository
	out.Original = text
	out.Body = r.tr.translate(text)
	if m.threadCount > 0 {
		room.announced += m.threadCount
		if text == "" {
			out.Deleted = true // Gitter keeps a deleted root's place for its replies
		}
	}
	if len(m.parentID) > 0 {
		// The reply names its root whether or not the root was read: the
		// host clears references to messages the export lacks (keeping
		// the id in extra, with a warning), so no set of every message
		// id is held here.
		out.ThreadRoot = string(m.parentID)
		room.replies++
	}
	r.mentions(out, room, sender)
	for n, u := range r.tr.files {
		aid := id + "-file-" + strconv.Itoa(n+1)
		out.Attachments = append(out.Attachments, aid)
		at := &sdk.Attachment{ID: aid, Message: id, Name: fileName(u), URL: u, Uploader: sender.rec.ID, CreatedAt: &out.SentAt, ContentType: contentType(u)}
		if err := r.out.Emit(at); err != nil {
			return fmt.Errorf("gitter: %s: %s: attachment %s: %w", f.display, recordName(idx, m.id), aid, err)
		}
	}
	room.messages++
	r.emitted++
	if err := r.out.Emit(out); err != nil {
		return fmt.Errorf("gitter: %s: %s: %w", f.display, recordName(idx, m.id), err)
	}
	return nil
}

// mentions fills in structured mentions: from the export's own list when
// it has one (Gitter resolved those against its users), from the text
// otherwise.
func (r *run) mentions(out *sdk.Message, room *roomState, sender *userEntry) {
	m := &r.msg
	if !room.listed {
		room.addMember(sender.rec.ID)
	}
	add := func(x sdk.Mention) {
		for _, y := range out.Mentions {
			if y.Kind == x.Kind && y.User == x.User && strings.EqualFold(y.Text, x.Text) {
				return
			}
		}
		out.Mentions = append(out.Mentions, x)
		if x.User != "" && !room.listed {
			room.addMember(x.User)
		}
	}
	if m.hasMentions {
		for i := range m.mentions {
			mm := &m.mentions[i]
			name := string(mm.screenName)
			switch {
			case mm.group || strings.EqualFold(name, "/all") || (strings.EqualFold(name, "all") && len(mm.userID) == 0):
				add(sdk.Mention{Kind: sdk.MentionAll, Text: "all"})
			case len(mm.userID) > 0:
				e := r.users.lookupBytes(mm.userID, nil)
				if e == nil {
					e = r.users.mentioned(string(mm.userID), name)
				}
				add(sdk.Mention{Kind: sdk.MentionUser, User: e.rec.ID, Text: name})
			case name != "":
				x := sdk.Mention{Kind: sdk.MentionUser, Text: name}
				if e := r.users.byUsername(name); e != nil {
					x.User = e.rec.ID
				}
				add(x)
			}
		}
		// @/all is a group mention Gitter may not list.
		for _, name := range r.tr.mentions {
			if name == "all" {
				add(sdk.Mention{Kind: sdk.MentionAll, Text: "all"})
			}
		}
		return
	}
	for _, name := range r.tr.mentions {
		if name == "all" {
			add(sdk.Mention{Kind: sdk.MentionAll, Text: "all"})
			continue
		}
		if e := r.users.byUsername(name); e != nil {
			add(sdk.Mention{Kind: sdk.MentionUser, User: e.rec.ID, Text: name})
		}
	}
}

// contentType guesses a MIME type from a file name's extension, from a
// fixed table so that output does not depend on the host's MIME files.
func contentType(u string) string {
	name := strings.ToLower(fileName(u))
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	switch name[i+1:] {
	case "png":
		return "image/png"
	case "jpg", "jpeg":
		return "image/jpeg"
	case "gif":
		return "image/gif"
	case "webp":
		return "image/webp"
	case "svg":
		return "image/svg+xml"
	case "pdf":
		return "application/pdf"
	case "txt", "log":
		return "text/plain"
	case "zip":
		return "application/zip"
	case "json":
		return "application/json"
	case "mp4":
		return "video/mp4"
	}
	return ""
}

// wrapErr names the file and record an error happened in.
func wrapErr(f *inputFile, idx int, id []byte, err error) error {
	hint := ""
	if errors.Is(err, errTruncated) {
		hint = "; the export was cut short: export the room again, or remove the incomplete last record"
	}
	return fmt.Errorf("gitter: %s: %s: %w%s", f.display, recordName(idx, id), err, hint)
}

// readREST streams a JSON array of messages.
func (r *run) readREST(f *inputFile) error {
	rc, err := r.open(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	fc := &fileCtx{f: f, j: newJSONReader(rc, 256<<10)}
	if err := fc.j.consume('['); err != nil {
		return fmt.Errorf("gitter: %s: %w", f.display, err)
	}
	if err := r.readArray(fc); err != nil {
		return err
	}
	if c, err := fc.j.peek(); err != io.EOF {
		if err != nil {
			return fmt.Errorf("gitter: %s: after the message array: %w", f.display, err)
		}
		return fmt.Errorf("gitter: %s: unexpected %s after the message array at byte %d", f.display, describe(c), fc.j.offset())
	}
	r.fileRoomIfEmpty(fc)
	return nil
}

// readArray reads the elements of a message array whose '[' was consumed.
func (r *run) readArray(fc *fileCtx) error {
	first := true
	for {
		if fc.n%1024 == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
		}
		ok, err := fc.j.nextElem(&first)
		if err != nil {
			return wrapErr(fc.f, fc.n, nil, err)
		}
		if !ok {
			return nil
		}
		fc.n++
		if c, err := fc.j.peekValue(); err != nil {
			return wrapErr(fc.f, fc.n, nil, err)
		} else if c != '{' {
			if err := fc.j.skipValue(); err != nil {
				return wrapErr(fc.f, fc.n, nil, err)
			}
			r.skip(fc.f, "#"+strconv.Itoa(fc.n), "not-a-message", fmt.Sprintf("%s: message %d is %s, not an object; it was left out", fc.f.display, fc.n, describe(c)))
			continue
		}
		if err := parseMessage(fc.j, &r.msg); err != nil {
			return wrapErr(fc.f, fc.n, r.msg.id, err)
		}
		if err := r.handleMessage(fc, fc.n); err != nil {
			return err
		}
	}
}

// readNDJSON streams one message object per line. A line that is not a
// JSON object is reported as skipped and reading goes on with the next, so
// that an export cut short loses only its last line.
func (r *run) readNDJSON(f *inputFile) error {
	rc, err := r.open(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	fc := &fileCtx{f: f, j: newJSONReader(rc, 256<<10)}
	for {
		if fc.n%1024 == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
		}
		c, err := fc.j.peek()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("gitter: %s: %w", f.display, err)
		}
		fc.n++
		if c != '{' {
			fc.j.skipLine()
			r.skip(f, "#"+strconv.Itoa(fc.n), "not-a-message", fmt.Sprintf("%s: record %d starts with %s, not an object; the line was left out", f.display, fc.n, describe(c)))
			continue
		}
		if err := parseMessage(fc.j, &r.msg); err != nil {
			fc.j.skipLine()
			fc.j.badUTF8 = false
			rec := "#" + strconv.Itoa(fc.n)
			if len(r.msg.id) > 0 {
				rec = string(r.msg.id)
			}
			r.skip(f, rec, "bad-json", fmt.Sprintf("%s: %s: %v; the line was left out", f.display, recordName(fc.n, r.msg.id), err))
			continue
		}
		if err := r.handleMessage(fc, fc.n); err != nil {
			return err
		}
	}
	r.fileRoomIfEmpty(fc)
	return nil
}

// readItems reads {items: [...], lookups: {users: {...}}}. JSON.stringify
// writes items first, so when lookups follow, the file is read twice: once
// for the users, once for the messages.
func (r *run) readItems(f *inputFile) error {
	var itemsPending bool
	for pass := 0; pass < 2; pass++ {
		rc, err := r.open(f)
		if err != nil {
			return err
		}
		fc := &fileCtx{f: f, j: newJSONReader(rc, 256<<10)}
		err = func() error {
			j := fc.j
			if err := j.consume('{'); err != nil {
				return fmt.Errorf("gitter: %s: %w", f.display, err)
			}
			first := true
			var kb []byte
			lookupsRead := pass == 1
			for {
				key, ok, err := j.nextKey(&first, kb[:0])
				if err != nil {
					return wrapErr(f, fc.n, nil, err)
				}
				if !ok {
					return nil
				}
				switch string(key) {
				case "lookups":
					if pass == 0 {
						if err := r.readLookups(f, j); err != nil {
							return err
						}
						lookupsRead = true
						continue
					}
				case "items":
					if lookupsRead {
						if err := j.consume('['); err != nil {
							return fmt.Errorf("gitter: %s: items: %w", f.display, err)
						}
						if err := r.readArray(fc); err != nil {
							return err
						}
						itemsPending = false
						continue
					}
					itemsPending = true
				}
				if err := j.skipValue(); err != nil {
					return wrapErr(f, fc.n, nil, err)
				}
			}
		}()
		rc.Close()
		if err != nil {
			return err
		}
		if pass == 0 && !itemsPending {
			r.fileRoomIfEmpty(fc)
			return nil
		}
		if pass == 1 {
			r.fileRoomIfEmpty(fc)
		} else {
			r.total += f.size
		}
	}
	return nil
}

// readLookups reads lookups.users: {id: user object}.
func (r *run) readLookups(f *inputFile, j *jsonReader) error {
	if err := j.consume('{'); err != nil {
		return fmt.Errorf("gitter: %s: lookups: %w", f.display, err)
	}
	first := true
	var kb []byte
	for {
		key, ok, err := j.nextKey(&first, kb[:0])
		if err != nil {
			return fmt.Errorf("gitter: %s: lookups: %w", f.display, err)
		}
		if !ok {
			return nil
		}
		if string(key) != "users" {
			if err := j.skipValue(); err != nil {
				return fmt.Errorf("gitter: %s: lookups: %w", f.display, err)
			}
			continue
		}
		if err := j.consume('{'); err != nil {
			return fmt.Errorf("gitter: %s: lookups.users: %w", f.display, err)
		}
		uf := true
		var ub []byte
		var u rawUser
		for {
			id, ok, err := j.nextKey(&uf, ub[:0])
			if err != nil {
				return fmt.Errorf("gitter: %s: lookups.users: %w", f.display, err)
			}
			if !ok {
				break
			}
			ub = id
			u.reset()
			keyID := append([]byte(nil), id...)
			if c, err := j.peekValue(); err != nil {
				return fmt.Errorf("gitter: %s: lookups.users: %w", f.display, err)
			} else if c != '{' {
				if err := j.skipValue(); err != nil {
					return fmt.Errorf("gitter: %s: lookups.users: %w", f.display, err)
				}
				continue
			}
			if err := parseUser(j, &u); err != nil {
				return fmt.Errorf("gitter: %s: lookups.users[%s]: %w", f.display, keyID, err)
			}
			if len(u.id) == 0 {
				u.id = append(u.id, keyID...)
			}
			e := r.users.observe(&u)
			if e != nil && string(keyID) != e.rec.ID {
				r.users.byID[string(keyID)] = e
			}
		}
	}
}

// forEachObject calls fn for each object of a file that holds an array of
// objects, one object, or one object per line.
func (r *run) forEachObject(f *inputFile, fn func(j *jsonReader, idx int) error) error {
	rc, err := r.open(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	j := newJSONReader(rc, 64<<10)
	c, err := j.peek()
	if err != nil {
		return fmt.Errorf("gitter: %s: %w", f.display, err)
	}
	idx := 0
	if c == '[' {
		j.pos++
		first := true
		for {
			ok, err := j.nextElem(&first)
			if err != nil {
				return fmt.Errorf("gitter: %s: record %d: %w", f.display, idx+1, err)
			}
			if !ok {
				return nil
			}
			idx++
			if err := fn(j, idx); err != nil {
				return fmt.Errorf("gitter: %s: record %d: %w", f.display, idx, err)
			}
		}
	}
	for {
		if _, err := j.peek(); err == io.EOF {
			return nil
		}
		idx++
		if err := fn(j, idx); err != nil {
			return fmt.Errorf("gitter: %s: record %d: %w", f.display, idx, err)
		}
	}
}

// readUsers reads a room's user list (GET /rooms/:id/users, users.ndjson).
func (r *run) readUsers(f *inputFile) error {
	dir := f.inputName + "\x00" + f.dir()
	if f.entry {
		dir = "\x00" + f.inputName
	}
	var u rawUser
	return r.forEachObject(f, func(j *jsonReader, idx int) error {
		u.reset()
		if c, err := j.peekValue(); err != nil {
			return err
		} else if c != '{' {
			return fmt.Errorf("a user must be an object, found %s", describe(c))
		}
		if err := parseUser(j, &u); err != nil {
			return err
		}
		e := r.users.observe(&u)
		if e == nil {
			r.warn(f, sdk.KindUser, "#"+strconv.Itoa(idx), "user-without-id", fmt.Sprintf("%s: user %d has neither an id nor a username; it was ignored", f.display, idx))
			return nil
		}
		r.dirUsers[dir] = append(r.dirUsers[dir], e.rec.ID)
		if string(u.role) == "admin" {
			r.dirAdmins[dir] = append(r.dirAdmins[dir], e.rec.ID)
		}
		return nil
	})
}

// readRooms reads room objects (GET /v1/rooms): empty rooms become rooms,
// and rooms with messages get their id, topic, privacy and repository.
func (r *run) readRooms(f *inputFile) error {
	return r.forEachObject(f, func(j *jsonReader, idx int) error {
		raw, err := j.capture()
		if err != nil {
			return err
		}
		m := new(roomMeta)
		if err := jsonUnmarshal(raw, m); err != nil {
			return fmt.Errorf("not a Gitter room object: %w", err)
		}
		name := m.URI
		if name == "" {
			name = m.Name
		}
		if name == "" {
			name = m.ID
		}
		if name == "" {
			r.warn(f, sdk.KindRoom, "#"+strconv.Itoa(idx), "room-without-name", fmt.Sprintf("%s: room %d has no id, uri or name; it was ignored", f.display, idx))
			return nil
		}
		for _, k := range []string{roomKey(m.URI), roomKey(m.Name), roomKey(m.ID)} {
			if k != "" {
				if _, dup := r.metas[k]; !dup {
					r.metas[k] = m
				}
			}
		}
		r.metaOrder = append(r.metaOrder, m)
		return nil
	})
}
