package hipchat

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/migrate-chat/migrate/sdk"
)

// writer turns a canonical dataset into the tree of a HipChat Server
// export. Users, rooms, conversations and attachment records are held in
// memory; messages pass through a disk spill (see spill).
type writer struct {
	ctx  context.Context
	req  *sdk.WriteRequest
	ds   sdk.Dataset
	oto  bool
	atts bool
	// fromHipChat is true when the data came from a HipChat source, so
	// the original text and format can be written back as they were.
	fromHipChat bool

	users     map[string]*outUserInfo // canonical id → how HipChat names it
	userOrder []string
	rooms     map[string]*outRoomInfo
	convs     map[string][]string // conversation → canonical participants
	attsByMsg map[string][]*sdk.Attachment
	emojiBack map[string]string // custom shortcode → HipChat shortcut

	spill    *spill
	counts   map[string]int
	messages int64
}

type outUserInfo struct {
	rec     *sdk.User
	hcID    any  // int64, or the id text for ids HipChat would not parse
	written bool // in users.json (placeholders and integrations are not)
}

type outRoomInfo struct {
	rec  *sdk.Room
	hcID any
}

func write(ctx context.Context, req *sdk.WriteRequest) error {
	w := &writer{
		ctx: ctx, req: req, ds: req.Data,
		oto:   req.Options.Bool(OptIncludeOTO),
		atts:  req.Options.Bool(OptIncludeAttachments),
		users: map[string]*outUserInfo{}, rooms: map[string]*outRoomInfo{}, convs: map[string][]string{},
		attsByMsg: map[string][]*sdk.Attachment{}, emojiBack: map[string]string{}, counts: map[string]int{},
	}
	if ws := w.ds.Workspace(); ws != nil {
		w.fromHipChat = strings.HasPrefix(ws.SourceSystem, "hipchat")
		if w.oto && !ws.ExportOptions.OneToOneHistory {
			w.notice(sdk.Notice{Code: "oto-not-in-source",
				Message: "include-oto was asked for, but the source export holds no one-to-one history; none is written"})
			w.oto = false
		}
	}
	sp, err := newSpill(64)
	if err != nil {
		return err
	}
	w.spill = sp
	defer sp.Close()

	steps := []func() error{w.writeUsers, w.writeRooms, w.writeEmoticons, w.loadConversations, w.loadAttachments, w.spillMessages, w.writeHistories}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	w.summary()
	return nil
}

func (w *writer) notice(n sdk.Notice) {
	if n.Level == "" {
		n.Level = sdk.LevelWarning
	}
	if w.req.Notice != nil {
		w.req.Notice(n)
	}
}

// jsonArrayWriter writes a JSON array one element at a time.
type jsonArrayWriter struct {
	name string
	c    io.WriteCloser
	b    *bufio.Writer
	n    int
}

func (w *writer) createArray(name string) (*jsonArrayWriter, error) {
	c, err := w.req.Out.Create(name)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", name, err)
	}
	b := bufio.NewWriterSize(c, 64<<10)
	b.WriteString("[")
	return &jsonArrayWriter{name: name, c: c, b: b}, nil
}

func (a *jsonArrayWriter) add(v any) error {
	raw, ok := v.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return fmt.Errorf("%s: encoding record %d: %w", a.name, a.n, err)
		}
	}
	if a.n > 0 {
		a.b.WriteString(",")
	}
	a.b.WriteString("\n")
	a.n++
	_, err := a.b.Write(raw)
	return err
}

func (a *jsonArrayWriter) close() error {
	if a.n > 0 {
		a.b.WriteString("\n")
	}
	a.b.WriteString("]\n")
	err := a.b.Flush()
	if cerr := a.c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", a.name, err)
	}
	return nil
}

// assignIDs gives every record a HipChat id: numeric ids are kept, others
// get numbers after the largest one, in dataset order.
func assignIDs(ids []string) map[string]any {
	out := make(map[string]any, len(ids))
	var top int64
	for _, id := range ids {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 && strconv.FormatInt(n, 10) == id {
			out[id] = n
			top = max(top, n)
		}
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			top++
			out[id] = top
		}
	}
	return out
}

// madeUp reports whether a user exists only because a HipChat source made
// it up for a sender users.json lacked: such users are written back as the
// sender they came from, never into users.json.
func madeUp(u *sdk.User) bool {
	return strings.HasPrefix(u.ID, integrationPrefix) || strings.HasPrefix(u.ID, senderZeroPrefix) ||
		(u.Extra != nil && u.Extra[extraPlaceholder] != "")
}

// The export's record shapes, with fields in the export's order.
type outUser struct {
	AccountType string   `json:"account_type"`
	Avatar      *string  `json:"avatar"`
	Created     *string  `json:"created"`
	Email       *string  `json:"email"`
	ID          any      `json:"id"`
	IsDeleted   bool     `json:"is_deleted"`
	MentionName string   `json:"mention_name"`
	Name        string   `json:"name"`
	Roles       []string `json:"roles"`
	Rooms       []any    `json:"rooms"`
	Timezone    string   `json:"timezone"`
	Title       string   `json:"title"`
}

var notMentionChar = regexp.MustCompile(`[^\p{L}\p{N}_.-]+`)

func (w *writer) writeUsers() error {
	var all []*sdk.User
	for u, err := range w.ds.Users() {
		if err != nil {
			return fmt.Errorf("reading users: %w", err)
		}
		all = append(all, u)
	}
	var ids []string
	for _, u := range all {
		if !madeUp(u) {
			ids = append(ids, u.ID)
		}
	}
	hc := assignIDs(ids)
	arr, err := w.createArray("users.json")
	if err != nil {
		return err
	}
	for _, u := range all {
		info := &outUserInfo{rec: u}
		w.users[u.ID] = info
		w.userOrder = append(w.userOrder, u.ID)
		if madeUp(u) {
			info.hcID = int64(0)
			if n, err := strconv.ParseInt(u.ID, 10, 64); err == nil {
				info.hcID = n
			}
			continue
		}
		info.hcID, info.written = hc[u.ID], true
		out := outUser{ID: info.hcID, Name: u.DisplayName, MentionName: u.MentionName, Timezone: u.TimeZone, Title: u.Title,
			IsDeleted: u.Deleted || u.Deactivated, Rooms: []any{}}
		if out.Name == "" {
			out.Name = cmpOr(u.Username, u.MentionName, u.ID)
		}
		if out.MentionName == "" {
			out.MentionName = notMentionChar.ReplaceAllString(cmpOr(u.DisplayName, u.Username, "user"+u.ID), "")
		}
		if u.Email != "" {
			e := u.Email
			out.Email = &e
		}
		if u.CreatedAt != nil {
			c := formatCreated(*u.CreatedAt)
			out.Created = &c
		}
		switch u.Role {
		case sdk.RoleAdmin, sdk.RoleOwner:
			out.AccountType = "admin"
		case sdk.RoleGuest:
			out.AccountType = "guest"
		default:
			out.AccountType = "user"
		}
		if r, ok := u.Extra[extraRoles]; ok {
			out.Roles = []string{}
			if r != "" {
				out.Roles = strings.Split(r, ",")
			}
		} else {
			out.Roles = []string{"user"}
			switch u.Role {
			case sdk.RoleAdmin:
				out.Roles = []string{"admin", "user"}
			case sdk.RoleOwner:
				out.Roles = []string{"owner", "admin", "user"}
			}
		}
		if u.Avatar != nil {
			b64, err := w.blobBase64(u.Avatar.SHA256)
			if err != nil {
				w.notice(sdk.Notice{Code: "avatar-unreadable", Kind: sdk.KindUser, Record: u.ID,
					Message: fmt.Sprintf("user %s: the avatar blob cannot be read (%v); the user is written without a photo", u.ID, err)})
			} else {
				out.Avatar = &b64
			}
		}
		if err := arr.add(map[string]any{"User": out}); err != nil {
			return err
		}
	}
	return arr.close()
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func (w *writer) blobBase64(sum string) (string, error) {
	rc, err := w.ds.OpenBlob(sum)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var sb strings.Builder
	enc := base64.NewEncoder(base64.StdEncoding, &sb)
	if _, err := io.Copy(enc, rc); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return sb.String(), nil
}

// hcUserID returns the HipChat id of a canonical user written to
// users.json, or false.
func (w *writer) hcUserID(id string) (any, bool) {
	u := w.users[id]
	if u == nil || !u.written {
		return nil, false
	}
	return u.hcID, true
}

type outMember struct {
	ID          any      `json:"id"`
	MentionName string   `json:"mention_name"`
	Name        string   `json:"name"`
	RoomRoles   []string `json:"room_roles"`
}

type outRoom struct {
	Created           *string     `json:"created"`
	GuestAccessURL    *string     `json:"guest_access_url"`
	ID                any         `json:"id"`
	IsArchived        bool        `json:"is_archived"`
	IsGuestAccessible bool        `json:"is_guest_accessible"`
	Members           []outMember `json:"members"`
	Name              string      `json:"name"`
	Owner             any         `json:"owner"`
	Participants      []any       `json:"participants"`
	Privacy           string      `json:"privacy"`
	RoomAdmins        []any       `json:"room_admins"`
	Topic             string      `json:"topic"`
}

func (w *writer) writeRooms() error {
	var all []*sdk.Room
	var ids []string
	for r, err := range w.ds.Rooms() {
		if err != nil {
			return fmt.Errorf("reading rooms: %w", err)
		}
		all = append(all, r)
		ids = append(ids, r.ID)
	}
	hc := assignIDs(ids)
	arr, err := w.createArray("rooms.json")
	if err != nil {
		return err
	}
	for _, r := range all {
		w.rooms[r.ID] = &outRoomInfo{rec: r, hcID: hc[r.ID]}
		out := outRoom{ID: hc[r.ID], Name: r.Name, Topic: r.Topic, IsArchived: r.Archived, Privacy: "public",
			Members: []outMember{}, Participants: []any{}, RoomAdmins: []any{}}
		if r.Private {
			out.Privacy = "private"
		}
		if r.CreatedAt != nil {
			c := formatCreated(*r.CreatedAt)
			out.Created = &c
		}
		if id, ok := w.hcUserID(r.Owner); ok {
			out.Owner = id
		} else if r.Owner != "" {
			w.notice(sdk.Notice{Code: "room-owner-missing", Kind: sdk.KindRoom, Record: r.ID,
				Message: fmt.Sprintf("room %s (%q): its owner %s is not a HipChat user; HipChat Server makes the group admin the owner on import", r.ID, r.Name, r.Owner)})
		}
		for _, a := range r.Admins {
			if id, ok := w.hcUserID(a); ok {
				out.RoomAdmins = append(out.RoomAdmins, id)
			}
		}
		for _, m := range r.Members {
			id, ok := w.hcUserID(m)
			if !ok {
				continue
			}
			u := w.users[m].rec
			roles := []string{"room_member"}
			if slices.Contains(r.Admins, m) {
				roles = append(roles, "room_admin")
			}
			out.Members = append(out.Members, outMember{ID: id, MentionName: u.MentionName, Name: u.DisplayName, RoomRoles: roles})
		}
		if r.GuestAccess {
			// The export's guest URL dies with the old server: HipChat
			// Server makes a new one when it imports a room that allows
			// guests.
			out.IsGuestAccessible = true
			w.notice(sdk.Notice{Code: "guest-access-url", Kind: sdk.KindRoom, Record: r.ID,
				Message: fmt.Sprintf("room %s (%q) allows guests: its guest access URL is not carried over; HipChat Server generates a new one on import", r.ID, r.Name)})
		}
		if err := arr.add(map[string]any{"Room": out}); err != nil {
			return err
		}
	}
	return arr.close()
}

type outEmoticon struct {
	ID       any    `json:"id"`
	Path     string `json:"path"`
	Shortcut string `json:"shortcut"`
}

var extOfType = map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp", "image/svg+xml": ".svg"}

func (w *writer) writeEmoticons() error {
	var all []*sdk.Emoji
	var ids []string
	for e, err := range w.ds.Emoji() {
		if err != nil {
			return fmt.Errorf("reading emoji: %w", err)
		}
		all = append(all, e)
		ids = append(ids, e.ID)
	}
	if len(all) == 0 {
		return nil
	}
	hc := assignIDs(ids)
	arr, err := w.createArray("emoticons.json")
	if err != nil {
		return err
	}
	usedPaths := map[string]bool{}
	for _, e := range all {
		short := notMentionChar.ReplaceAllString(e.Shortcode, "")
		if e.Image == nil || e.Deleted || short == "" {
			why := "it has no image"
			if e.Deleted {
				why = "it was deleted"
			} else if short == "" {
				why = "its shortcode has no letters or digits"
			}
			w.notice(sdk.Notice{Code: "emoticon-not-written", Kind: sdk.KindEmoji, Record: e.ID, Skipped: true,
				Message: fmt.Sprintf("emoji %s (:%s:) is not written: %s", e.ID, e.Shortcode, why)})
			continue
		}
		p := e.Extra[extraPath]
		if clean := path.Clean(p); p == "" || !strings.HasPrefix(clean, "emoticons/") || clean != p || usedPaths[p] {
			ext := extOfType[e.Image.ContentType]
			if ext == "" {
				ext = path.Ext(p)
			}
			p = "emoticons/" + short + ext
		}
		usedPaths[p] = true
		if err := w.copyBlob(e.Image.SHA256, p); err != nil {
			return fmt.Errorf("emoji %s: %w", e.ID, err)
		}
		w.emojiBack[e.Shortcode] = short
		if err := arr.add(map[string]any{"Emoticon": outEmoticon{ID: hc[e.ID], Path: p, Shortcut: short}}); err != nil {
			return err
		}
	}
	return arr.close()
}

func (w *writer) copyBlob(sum, name string) error {
	rc, err := w.ds.OpenBlob(sum)
	if err != nil {
		return fmt.Errorf("opening blob %s for %s: %w", sum, name, err)
	}
	defer rc.Close()
	c, err := w.req.Out.Create(name)
	if err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	if _, err := io.Copy(c, rc); err != nil {
		c.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return c.Close()
}

func (w *writer) loadConversations() error {
	for c, err := range w.ds.Conversations() {
		if err != nil {
			return fmt.Errorf("reading conversations: %w", err)
		}
		w.convs[c.ID] = c.Participants
	}
	return nil
}

// loadAttachments indexes attachment records by message. This map grows
// with the number of attachments, which is far below that of messages.
func (w *writer) loadAttachments() error {
	for a, err := range w.ds.Attachments() {
		if err != nil {
			return fmt.Errorf("reading attachments: %w", err)
		}
		w.attsByMsg[a.Message] = append(w.attsByMsg[a.Message], a)
	}
	return nil
}

type outPerson struct {
	ID          any    `json:"id"`
	MentionName string `json:"mention_name,omitempty"`
	Name        string `json:"name"`
}

type outAttachment struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Size int64  `json:"size"`
	URL  string `json:"url"`
}

type outMessage struct {
	Attachment     json.RawMessage `json:"attachment,omitempty"`
	AttachmentPath *string         `json:"attachment_path,omitempty"`
	Color          string          `json:"color,omitempty"`
	ID             string          `json:"id"`
	Mentions       *[]any          `json:"mentions,omitempty"`
	Message        string          `json:"message"`
	MessageFormat  string          `json:"message_format,omitempty"`
	Receiver       *outPerson      `json:"receiver,omitempty"`
	Sender         any             `json:"sender"`
	Timestamp      string          `json:"timestamp"`
}

func (w *writer) person(id string) outPerson {
	u := w.users[id]
	if u == nil {
		return outPerson{ID: int64(0), Name: id}
	}
	return outPerson{ID: u.hcID, MentionName: u.rec.MentionName, Name: cmpOr(u.rec.DisplayName, u.rec.MentionName, u.rec.Username)}
}

func (w *writer) spillMessages() error {
	total := w.ds.Counts()[sdk.KindMessage]
	for m, err := range w.ds.Messages() {
		if err != nil {
			return fmt.Errorf("reading messages: %w", err)
		}
		if err := w.spillMessage(m); err != nil {
			return err
		}
		w.messages++
		if w.messages%4096 == 0 {
			if err := w.ctx.Err(); err != nil {
				return err
			}
			if w.req.Progress != nil {
				w.req.Progress(w.messages, total)
			}
		}
	}
	return nil
}

var shortcodeToken = regexp.MustCompile(`:([A-Za-z0-9_+-]{1,100}):`)

// text returns the HipChat text and format of a message.
func (w *writer) text(m *sdk.Message) (string, string) {
	if w.fromHipChat && m.Original != "" && (m.OriginalFormat == "text" || m.OriginalFormat == "html") {
		return m.Original, m.OriginalFormat
	}
	if w.fromHipChat && m.Original == "" && m.Kind != sdk.MessageEmote {
		// A HipChat source keeps no original when the body is the text as
		// HipChat held it: write it untouched (":beer:" typed as such must
		// not come back as "(beer)").
		return m.Body, m.OriginalFormat
	}
	body := shortcodeToken.ReplaceAllStringFunc(m.Body, func(tok string) string {
		code := tok[1 : len(tok)-1]
		if s, ok := w.emojiBack[code]; ok {
			return "(" + s + ")"
		}
		if s, ok := builtinReverse[code]; ok {
			return "(" + s + ")"
		}
		return tok
	})
	for _, x := range m.Mentions {
		u := w.users[x.User]
		if x.Kind != sdk.MentionUser || u == nil || u.rec.MentionName == "" || x.Text == "" || x.Text == u.rec.MentionName {
			continue
		}
		body = strings.ReplaceAll(body, "@"+x.Text, "@"+u.rec.MentionName)
	}
	if m.Kind == sdk.MessageEmote {
		body = slashMe + " " + body
	}
	return body, ""
}

func (w *writer) spillMessage(m *sdk.Message) error {
	text, format := w.text(m)
	out := outMessage{ID: m.ID, Message: text, MessageFormat: format, Timestamp: formatTime(m.SentAt), Color: m.Extra[extraColor]}
	sender := w.users[m.Sender]
	if sender != nil && strings.HasPrefix(sender.rec.ID, integrationPrefix) || m.Kind == sdk.MessageNotification && m.Room != "" {
		name := m.SenderName
		if name == "" && sender != nil {
			name = cmpOr(sender.rec.DisplayName, sender.rec.MentionName, sender.rec.Username)
		}
		out.Sender = name
	} else {
		p := w.person(m.Sender)
		if sender != nil && sender.rec.Extra[extraPlaceholder] == "id-0" {
			p.ID = int64(0)
		}
		out.Sender = p
	}
	mentions := []any{}
	for _, x := range m.Mentions {
		if id, ok := w.hcUserID(x.User); ok && x.Kind == sdk.MentionUser {
			mentions = append(mentions, id)
		}
	}
	if len(m.Reactions) > 0 {
		w.counts["reactions"]++
	}
	if m.ThreadRoot != "" || m.ReplyTo != "" {
		w.counts["threads"]++
	}
	if len(m.Edits) > 0 {
		w.counts["edits"]++
	}

	typ := typeUser
	switch m.Kind {
	case sdk.MessageNotification:
		typ = typeNotification
	case sdk.MessageTopicChange:
		typ = typeTopic
	case sdk.MessageSystem:
		typ = m.Extra[extraType]
		if typ != typeArchive && typ != typeGuestAccess {
			typ = typeNotification
			if _, isName := out.Sender.(string); !isName {
				out.Sender = w.person(m.Sender).Name
			}
		}
	}
	if m.Conversation != "" {
		typ = typePrivate
		if name, isName := out.Sender.(string); isName {
			out.Sender = outPerson{ID: w.person(m.Sender).ID, Name: name}
		}
	}

	// The export writes "mentions" on people's messages and "attachment"
	// (null when there is none) on those that can carry a file.
	if typ == typeUser || typ == typePrivate {
		out.Mentions = &mentions
	}
	if typ == typeUser || typ == typePrivate || typ == typeNotification {
		out.Attachment = json.RawMessage("null")
	}
	// Attachments: HipChat has one per message.
	if atts := w.attsByMsg[m.ID]; len(atts) > 0 && (typ == typeUser || typ == typePrivate || typ == typeNotification) {
		a := atts[0]
		rel, dest := w.attachmentPath(m, a)
		out.Attachment, _ = json.Marshal(outAttachment{Name: a.Name, Path: rel, Size: a.Size, URL: a.URL})
		out.AttachmentPath = &rel
		switch {
		case a.SHA256 == "":
			w.counts["files-absent"]++
		case !w.atts:
			w.counts["files-omitted"]++
		case m.Conversation != "" && !w.oto:
			// The message itself is not written.
		default:
			if err := w.copyBlob(a.SHA256, dest); err != nil {
				return fmt.Errorf("message %s: attachment %s: %w", m.ID, a.ID, err)
			}
		}
		for _, extra := range atts[1:] {
			w.notice(sdk.Notice{Code: "attachment-extra", Kind: sdk.KindAttachment, Record: extra.ID, Skipped: true,
				Message: fmt.Sprintf("message %s has several files; HipChat keeps one per message, so %q is not written", m.ID, extra.Name)})
		}
	}

	var rec []byte
	var err error
	if rec, err = json.Marshal(map[string]outMessage{typ: out}); err != nil {
		return fmt.Errorf("message %s: encoding: %w", m.ID, err)
	}
	micros := m.SentAt.UnixMicro()
	if m.Room != "" {
		if w.rooms[m.Room] == nil {
			w.notice(sdk.Notice{Level: sdk.LevelError, Code: "room-unknown", Kind: sdk.KindMessage, Record: m.ID, Skipped: true,
				Message: fmt.Sprintf("message %s belongs to room %s, which the dataset lacks; it is not written", m.ID, m.Room)})
			return nil
		}
		return w.spill.add("r"+m.Room, micros, rec)
	}
	parts := w.convs[m.Conversation]
	if !w.oto {
		w.counts["oto-omitted"]++
		return nil
	}
	if len(parts) > 2 {
		w.notice(sdk.Notice{Code: "group-dm-unsupported", Kind: sdk.KindMessage, Record: m.ID, Skipped: true,
			Message: fmt.Sprintf("message %s is in a group conversation of %d people; HipChat has only one-to-one chats, so it is not written", m.ID, len(parts))})
		return nil
	}
	recv := m.Sender
	for _, p := range parts {
		if p != m.Sender {
			recv = p
		}
	}
	rp := w.person(recv)
	out.Receiver = &rp
	if rec, err = json.Marshal(map[string]outMessage{typ: out}); err != nil {
		return fmt.Errorf("message %s: encoding: %w", m.ID, err)
	}
	written := false
	for _, p := range []string{m.Sender, recv} {
		if _, ok := w.hcUserID(p); !ok || (written && p == m.Sender) {
			continue
		}
		if err := w.spill.add("u"+p, micros, rec); err != nil {
			return err
		}
		written = true
		if p == recv {
			break
		}
	}
	if !written {
		w.notice(sdk.Notice{Code: "oto-no-participant", Kind: sdk.KindMessage, Record: m.ID, Skipped: true,
			Message: fmt.Sprintf("one-to-one message %s: neither participant is a HipChat user, so it has no history file to go in", m.ID)})
	}
	return nil
}

var badFileChar = regexp.MustCompile(`[/\\\x00-\x1f]`)

// attachmentPath returns the attachment's path as messages name it
// (relative to the files directory) and where the file goes in the tree.
// A HipChat source's own layout is kept; files from elsewhere get a
// directory named after their attachment id.
func (w *writer) attachmentPath(m *sdk.Message, a *sdk.Attachment) (rel, dest string) {
	p := path.Clean(a.Path)
	if m.Room != "" {
		if rest, ok := strings.CutPrefix(p, "rooms/"); ok {
			if _, r, ok := strings.Cut(rest, "/files/"); ok && validRel(r) {
				return r, path.Join("rooms", w.roomDir(m.Room), "files", r)
			}
		}
	} else if rest, ok := strings.CutPrefix(p, "users/"); ok {
		if r, ok := strings.CutPrefix(rest, "files/"); ok && validRel(r) {
			return r, path.Join("users", "files", r)
		}
		if uid, r, ok := strings.Cut(rest, "/files/"); ok && validRel(r) && !strings.Contains(uid, "/") {
			return r, path.Join("users", uid, "files", r)
		}
	}
	sum := sha256.Sum256([]byte(a.ID))
	name := badFileChar.ReplaceAllString(a.Name, "_")
	if name == "" || name == "." || name == ".." {
		name = "file"
	}
	rel = hex.EncodeToString(sum[:8]) + "/" + name
	if m.Room != "" {
		return rel, path.Join("rooms", w.roomDir(m.Room), "files", rel)
	}
	return rel, path.Join("users", "files", rel)
}

func validRel(p string) bool {
	return p != "" && p != "." && !strings.HasPrefix(p, "../") && p != ".." && !strings.HasPrefix(p, "/")
}

func (w *writer) roomDir(id string) string {
	return fmt.Sprint(w.rooms[id].hcID)
}

// writeHistories writes every room's history.json, and with include-oto
// every user's, newest first as HipChat does.
func (w *writer) writeHistories() error {
	var ids []string
	for id := range w.rooms {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := w.writeHistory("r"+id, path.Join("rooms", w.roomDir(id), "history.json")); err != nil {
			return err
		}
	}
	if !w.oto {
		return nil
	}
	for _, id := range w.userOrder {
		u := w.users[id]
		if !u.written {
			continue
		}
		if err := w.writeHistory("u"+id, path.Join("users", fmt.Sprint(u.hcID), "history.json")); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) writeHistory(key, name string) error {
	arr, err := w.createArray(name)
	if err != nil {
		return err
	}
	if err := w.spill.reverse(key, func(line []byte) error { return arr.add(line) }); err != nil {
		arr.close()
		return fmt.Errorf("%s: %w", name, err)
	}
	return arr.close()
}

// summary reports, once per kind, what HipChat's format cannot hold or
// what the options left out.
func (w *writer) summary() {
	say := func(key, code, format string) {
		if n := w.counts[key]; n > 0 {
			w.notice(sdk.Notice{Code: code, Message: fmt.Sprintf(format, n)})
		}
	}
	say("oto-omitted", "oto-omitted", "%d one-to-one messages are not written: include-oto is off (as with hipchat export without --include_oto)")
	say("files-omitted", "files-omitted", "%d attachments are written as links only: include-attachments is off (as with hipchat export without --include_attachments)")
	say("files-absent", "files-absent", "%d attachments had no content in the source (exported without files, or missing from the export); they are written as links only")
	say("reactions", "reactions-dropped", "%d messages had reactions; HipChat has none, so they are not written")
	say("threads", "threads-flattened", "%d messages were replies in threads; HipChat has no threads, so they are written as plain messages")
	say("edits", "edits-dropped", "%d messages had an edit history; HipChat keeps only the last text, which is written")
}
