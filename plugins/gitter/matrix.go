package gitter

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// Element's "Export chat" JSON is {room_name, room_creator, topic,
// export_date, exported_by, messages: [raw Matrix events]}. Events that
// change other events (edits, reactions, redactions) come after the event
// they change, so the file is read twice: first for those changes and the
// room state (member names, power levels), then for the messages. Memory
// grows with the number of edits and reactions, not with messages.

type mxRelates struct {
	RelType   string `json:"rel_type"`
	EventID   string `json:"event_id"`
	Key       string `json:"key"`
	InReplyTo *struct {
		EventID string `json:"event_id"`
	} `json:"m.in_reply_to"`
}

type mxContent struct {
	MsgType string `json:"msgtype"`
	Body    string `json:"body"`
	URL     string `json:"url"`
	Info    *struct {
		Mimetype string `json:"mimetype"`
		Size     int64  `json:"size"`
	} `json:"info"`
	RelatesTo  *mxRelates `json:"m.relates_to"`
	NewContent *struct {
		Body    string `json:"body"`
		MsgType string `json:"msgtype"`
	} `json:"m.new_content"`
	Displayname *string          `json:"displayname"`
	Membership  string           `json:"membership"`
	AvatarURL   string           `json:"avatar_url"`
	Topic       *string          `json:"topic"`
	Users       map[string]int64 `json:"users"`
}

type mxEvent struct {
	Type     string    `json:"type"`
	Sender   string    `json:"sender"`
	EventID  string    `json:"event_id"`
	RoomID   string    `json:"room_id"`
	TS       int64     `json:"origin_server_ts"`
	StateKey *string   `json:"state_key"`
	Redacts  string    `json:"redacts"`
	Content  mxContent `json:"content"`
	Unsigned struct {
		RedactedBecause json.RawMessage `json:"redacted_because"`
	} `json:"unsigned"`
}

type mxEdit struct {
	ts   int64
	body string
}

// mxState is what the first pass learns.
type mxState struct {
	roomName, topic, roomID string
	edits                   map[string][]mxEdit
	reactions               map[string]map[string][]string // event → key → senders
	redacted                map[string]bool
	names                   map[string]string // mxid → display name
	avatars                 map[string]string
	members                 []string
	admins                  []string
}

func (r *run) readMatrix(f *inputFile) error {
	st := &mxState{edits: map[string][]mxEdit{}, reactions: map[string]map[string][]string{},
		redacted: map[string]bool{}, names: map[string]string{}, avatars: map[string]string{}}
	if err := r.matrixPass(f, st, 1); err != nil {
		return err
	}
	name := st.roomName
	if name == "" {
		name = fileRoomKey(f)
	}
	rs := r.room(name, f)
	if st.roomID != "" && r.metas[roomKey(name)] == nil {
		rs.rec.ID = st.roomID
	}
	if st.topic != "" && rs.rec.Topic == "" {
		rs.rec.Topic = st.topic
	}
	if len(st.members) > 0 && !rs.listed {
		rs.listed = true
		rs.members, rs.order = map[string]bool{}, nil
		for _, m := range st.members {
			rs.addMember(r.mxUser(m, st).rec.ID)
		}
	}
	for _, a := range st.admins {
		rs.admins[r.mxUser(a, st).rec.ID] = true
	}
	r.mx = st
	r.mxRoom = rs
	return r.matrixPass(f, st, 2)
}

// matrixPass reads the file; pass 1 collects state, pass 2 emits messages.
func (r *run) matrixPass(f *inputFile, st *mxState, pass int) error {
	rc, err := r.open(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	j := newJSONReader(rc, 256<<10)
	if err := j.consume('{'); err != nil {
		return fmt.Errorf("gitter: %s: %w", f.display, err)
	}
	first := true
	var kb []byte
	for {
		key, ok, err := j.nextKey(&first, kb[:0])
		if err != nil {
			return fmt.Errorf("gitter: %s: %w", f.display, err)
		}
		if !ok {
			return nil
		}
		switch k := string(key); {
		case k == "messages":
			if err := r.matrixEvents(f, j, st, pass); err != nil {
				return err
			}
		case pass == 1 && (k == "room_name" || k == "topic"):
			var s []byte
			if c, err := j.peekValue(); err == nil && c == '"' {
				if s, err = j.readString(nil); err != nil {
					return fmt.Errorf("gitter: %s: %s: %w", f.display, k, err)
				}
				if k == "room_name" {
					st.roomName = string(s)
				} else {
					st.topic = string(s)
				}
				continue
			}
			fallthrough
		default:
			if err := j.skipValue(); err != nil {
				return fmt.Errorf("gitter: %s: %s: %w", f.display, k, err)
			}
		}
	}
}

func (r *run) matrixEvents(f *inputFile, j *jsonReader, st *mxState, pass int) error {
	if err := j.consume('['); err != nil {
		return fmt.Errorf("gitter: %s: messages: %w", f.display, err)
	}
	first := true
	for idx := 1; ; idx++ {
		ok, err := j.nextElem(&first)
		if err != nil {
			return wrapErr(f, idx, nil, err)
		}
		if !ok {
			return nil
		}
		raw, err := j.capture()
		if err != nil {
			return wrapErr(f, idx, nil, err)
		}
		bad := j.badUTF8
		j.badUTF8 = false
		var ev mxEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			if pass == 2 {
				r.skip(f, "#"+strconv.Itoa(idx), "bad-event", fmt.Sprintf("%s: event %d: %v; it was left out", f.display, idx, err))
			}
			continue
		}
		if pass == 1 {
			st.collect(&ev)
			continue
		}
		if err := r.matrixMessage(f, idx, &ev, bad); err != nil {
			return err
		}
	}
}

// collect notes what an event changes.
func (st *mxState) collect(ev *mxEvent) {
	if st.roomID == "" {
		st.roomID = ev.RoomID
	}
	c := &ev.Content
	switch ev.Type {
	case "m.room.message", "m.sticker":
		if c.RelatesTo != nil && c.RelatesTo.RelType == "m.replace" && c.RelatesTo.EventID != "" {
			body := strings.TrimPrefix(c.Body, "* ")
			if c.NewContent != nil {
				body = c.NewContent.Body
			}
			st.edits[c.RelatesTo.EventID] = append(st.edits[c.RelatesTo.EventID], mxEdit{ts: ev.TS, body: body})
		}
	case "m.reaction":
		if c.RelatesTo != nil && c.RelatesTo.RelType == "m.annotation" && c.RelatesTo.Key != "" {
			m := st.reactions[c.RelatesTo.EventID]
			if m == nil {
				m = map[string][]string{}
				st.reactions[c.RelatesTo.EventID] = m
			}
			m[c.RelatesTo.Key] = append(m[c.RelatesTo.Key], ev.Sender)
		}
	case "m.room.redaction":
		if ev.Redacts != "" {
			st.redacted[ev.Redacts] = true
		}
	case "m.room.member":
		if ev.StateKey != nil {
			who := *ev.StateKey
			if c.Displayname != nil && *c.Displayname != "" {
				st.names[who] = *c.Displayname
			}
			if c.AvatarURL != "" {
				st.avatars[who] = mxcToHTTPS(c.AvatarURL)
			}
			if c.Membership == "join" && !contains(st.members, who) {
				st.members = append(st.members, who)
			}
		}
	case "m.room.power_levels":
		st.admins = st.admins[:0]
		for u, lvl := range c.Users {
			if lvl >= 100 {
				st.admins = append(st.admins, u)
			}
		}
		sort.Strings(st.admins)
	case "m.room.name":
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// mxUser maps a Matrix user id onto a user. Gitter users bridged to
// Matrix are "@<username>-<gitter id>:gitter.im": they keep their Gitter
// id, so they are the same users as in REST exports. Everyone else is a
// virtual user "matrix-<localpart:server>", as Gitter itself named them.
func (r *run) mxUser(mxid string, st *mxState) *userEntry {
	if e, ok := r.mxUsers[mxid]; ok {
		return e
	}
	display := st.names[mxid]
	local, server, _ := strings.Cut(strings.TrimPrefix(mxid, "@"), ":")
	var e *userEntry
	if i := strings.LastIndexByte(local, '-'); server == "gitter.im" && i > 0 && len(local)-i-1 == 24 {
		if _, ok := objectID([]byte(local[i+1:])); ok {
			username, name := local[:i], display
			// The bridge names them "<username> (<display name>)".
			if open := strings.LastIndex(display, " ("); open > 0 && strings.HasSuffix(display, ")") {
				if strings.EqualFold(display[:open], username) {
					username, name = display[:open], display[open+2:len(display)-1]
				}
			} else if strings.EqualFold(display, username) {
				username, name = display, ""
			}
			u := rawUser{id: []byte(local[i+1:]), username: []byte(username), displayName: []byte(name), avatarURL: []byte(st.avatars[mxid])}
			e = r.users.observe(&u)
		}
	}
	if e == nil {
		e = r.users.virtual("matrix", strings.TrimPrefix(mxid, "@"), display, st.avatars[mxid])
	}
	if r.mxUsers == nil {
		r.mxUsers = map[string]*userEntry{}
	}
	r.mxUsers[mxid] = e
	return e
}

// mxcToHTTPS turns mxc://server/id into the media download URL.
func mxcToHTTPS(u string) string {
	rest, ok := strings.CutPrefix(u, "mxc://")
	if !ok {
		return u
	}
	server, id, ok := strings.Cut(rest, "/")
	if !ok {
		return u
	}
	return "https://" + server + "/_matrix/media/v3/download/" + server + "/" + id
}

// stripReplyFallback removes the "> <@user> quoted text" lines that
// Matrix clients put before a reply's own text.
func stripReplyFallback(body string) string {
	if !strings.HasPrefix(body, "> ") {
		return body
	}
	rest := body
	for strings.HasPrefix(rest, ">") {
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			return body
		}
		rest = rest[i+1:]
	}
	return strings.TrimPrefix(rest, "\n")
}

func (r *run) matrixMessage(f *inputFile, idx int, ev *mxEvent, bad bool) error {
	st := r.mx
	c := &ev.Content
	switch ev.Type {
	case "m.room.message", "m.sticker", "m.room.encrypted", "m.room.topic":
	default:
		return nil // state and annotations were used in the first pass
	}
	if c.RelatesTo != nil && c.RelatesTo.RelType == "m.replace" {
		return nil // an edit: folded into the message it edits
	}
	rec := ev.EventID
	where := fmt.Sprintf("%s: event %d", f.display, idx)
	if rec == "" {
		r.skip(f, "#"+strconv.Itoa(idx), "message-without-id", where+": the event has no event_id; it was left out")
		return nil
	}
	where += " (id " + rec + ")"
	if ev.Type == "m.room.encrypted" {
		r.skip(f, rec, "encrypted", where+": the message is end-to-end encrypted and the export holds no decrypted text; it was left out")
		return nil
	}
	if ev.Sender == "" {
		r.skip(f, rec, "message-without-sender", where+": the event has no sender; it was left out")
		return nil
	}
	if bad && r.skipBadUTF {
		r.skip(f, rec, "invalid-utf8", where+": the event holds bytes that are not UTF-8; it was left out")
		return nil
	}
	if !r.seen.add([]byte(rec)) {
		r.skip(f, rec, "duplicate-id", where+": another event with this id was read before; the first one was kept")
		return nil
	}
	if bad {
		r.warn(f, sdk.KindMessage, rec, "invalid-utf8", where+": the event holds bytes that are not UTF-8; they were replaced with U+FFFD")
	}
	sender := r.mxUser(ev.Sender, st)
	rs := r.mxRoom
	if !rs.listed {
		rs.addMember(sender.rec.ID)
	}
	out := &sdk.Message{ID: rec, Kind: sdk.MessageNormal, Room: rs.rec.ID, Sender: sender.rec.ID,
		SentAt: time.UnixMilli(ev.TS).UTC(), OriginalFormat: "gitter-markdown"}
	r.tr.repo = rs.rec.Repository
	text := c.Body
	switch {
	case ev.Type == "m.room.topic":
		out.Kind = sdk.MessageTopicChange
		if c.Topic != nil {
			text = *c.Topic
		}
		out.OriginalFormat = "text"
		out.Body, out.Original = text, text
	case len(ev.Unsigned.RedactedBecause) > 0 || st.redacted[rec]:
		out.Deleted = true
		out.OriginalFormat = ""
	default:
		if c.MsgType == "m.emote" {
			out.Kind = sdk.MessageEmote
		} else if c.MsgType == "m.notice" {
			out.Kind = sdk.MessageNotification
		}
		if c.RelatesTo != nil && c.RelatesTo.InReplyTo != nil {
			text = stripReplyFallback(text)
		}
		edits := st.edits[rec]
		sort.SliceStable(edits, func(a, b int) bool { return edits[a].ts < edits[b].ts })
		prev := text
		for _, e := range edits {
			out.Edits = append(out.Edits, sdk.Edit{EditedAt: time.UnixMilli(e.ts).UTC(), Body: r.tr.translate(prev), Editor: sender.rec.ID})
			prev = e.body
		}
		if len(edits) > 0 {
			t := time.UnixMilli(edits[len(edits)-1].ts).UTC()
			out.EditedAt = &t
			text = prev
		}
		out.Original = text
		if isFileMsg(ev) && c.URL != "" {
			aid := rec + "-file"
			at := &sdk.Attachment{ID: aid, Message: rec, Name: c.Body, URL: mxcToHTTPS(c.URL), Uploader: sender.rec.ID, CreatedAt: &out.SentAt}
			if at.Name == "" {
				at.Name = fileName(c.URL)
			}
			if c.Info != nil {
				at.Size = max(c.Info.Size, 0)
				at.ContentType = c.Info.Mimetype
			}
			out.Attachments = []string{aid}
			out.Body = text
			if err := r.out.Emit(at); err != nil {
				return fmt.Errorf("gitter: %s: attachment: %w", where, err)
			}
		} else {
			out.Body = r.tr.translate(text)
			for n, u := range r.tr.files {
				aid := rec + "-file-" + strconv.Itoa(n+1)
				out.Attachments = append(out.Attachments, aid)
				if err := r.out.Emit(&sdk.Attachment{ID: aid, Message: rec, Name: fileName(u), URL: u, Uploader: sender.rec.ID, CreatedAt: &out.SentAt, ContentType: contentType(u)}); err != nil {
					return fmt.Errorf("gitter: %s: attachment: %w", where, err)
				}
			}
			for _, name := range r.tr.mentions {
				if name == "all" {
					out.Mentions = append(out.Mentions, sdk.Mention{Kind: sdk.MentionAll, Text: "all"})
				} else if e := r.users.byUsername(name); e != nil {
					out.Mentions = append(out.Mentions, sdk.Mention{Kind: sdk.MentionUser, User: e.rec.ID, Text: name})
				}
			}
		}
	}
	if rel := c.RelatesTo; rel != nil {
		if rel.RelType == "m.thread" && rel.EventID != "" {
			if r.seen.has([]byte(rel.EventID)) {
				out.ThreadRoot = rel.EventID
			}
		} else if rel.InReplyTo != nil && rel.InReplyTo.EventID != "" && r.seen.has([]byte(rel.InReplyTo.EventID)) {
			out.ReplyTo = rel.InReplyTo.EventID
		}
	}
	if rx := st.reactions[rec]; len(rx) > 0 {
		keys := make([]string, 0, len(rx))
		for k := range rx {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var users []string
			for _, s := range rx[k] {
				id := r.mxUser(s, st).rec.ID
				if !contains(users, id) {
					users = append(users, id)
				}
			}
			out.Reactions = append(out.Reactions, sdk.Reaction{Emoji: k, Users: users})
		}
	}
	rs.messages++
	r.emitted++
	if err := r.out.Emit(out); err != nil {
		return fmt.Errorf("gitter: %s: %w", where, err)
	}
	return nil
}

func isFileMsg(ev *mxEvent) bool {
	if ev.Type == "m.sticker" {
		return true
	}
	switch ev.Content.MsgType {
	case "m.image", "m.file", "m.video", "m.audio":
		return true
	}
	return false
}
