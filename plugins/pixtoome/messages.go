package pixtoome

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/migrate-chat/migrate/sdk"
)

// msgFile is the messages file being filled. Each file holds up to
// MessagesPerFile messages. Its usermessage rows are streamed to the file
// as they are made (they can be many per message), and its message rows,
// bounded by the chunk size, are kept until the file is closed; the
// object's keys are therefore written usermessages first.
type msgFile struct {
	f       *bufFile
	async   *asyncOut
	out     io.WriteCloser // the file under f, for rows handed over whole
	msgs    []byte
	ums     []byte
	count   int
	umFirst bool
}

func (w *writer) openMsgFile(n int) (*msgFile, error) {
	name := fmt.Sprintf("messages-%06d.json", n)
	out, err := w.req.Out.Create(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f := &bufFile{Writer: bufio.NewWriterSize(w.async.file(out), 1<<20), f: w.async.file(out), name: name}
	f.WriteString(`{"zerver_usermessage":[`)
	// The row buffers are reused from file to file.
	if w.msgBuf == nil {
		w.msgBuf = make([]byte, 0, 1<<20)
		w.umBuf = w.async.buffer()
	}
	return &msgFile{f: f, async: w.async, out: out, umFirst: true, msgs: w.msgBuf[:0], ums: w.umBuf[:0]}, nil
}

// umFlush is how many bytes of usermessage rows are gathered before they
// are written.
const umFlush = 1 << 20

// flushUMs hands the pending usermessage rows straight to the file,
// past the bufio buffer, to save a copy of the bulk of the output.
func (mf *msgFile) flushUMs() error {
	if len(mf.ums) == 0 {
		return nil
	}
	if err := mf.f.Flush(); err != nil {
		return err
	}
	var err error
	mf.ums, err = mf.async.write(mf.out, mf.ums)
	return err
}

func (mf *msgFile) close() error {
	if err := mf.flushUMs(); err != nil {
		mf.f.f.Close()
		return fmt.Errorf("%s: %w", mf.f.name, err)
	}
	mf.f.WriteString("\n],\n\"zerver_message\":[")
	mf.f.Write(mf.msgs)
	mf.f.WriteString("\n]}\n")
	return mf.f.Close()
}

// counter is a decimal number kept as digits, incremented in place: the
// usermessage id changes on every row, and this is cheaper than
// formatting it each time.
type counter struct{ digits []byte }

func (c *counter) next() []byte {
	if c.digits == nil {
		c.digits = append(make([]byte, 0, 20), '0')
	}
	i := len(c.digits) - 1
	for ; i >= 0; i-- {
		if c.digits[i] != '9' {
			c.digits[i]++
			return c.digits
		}
		c.digits[i] = '0'
	}
	c.digits = append(c.digits[:1], c.digits...)
	c.digits[0] = '1'
	return c.digits
}

// umTail is the end of a usermessage row for one message and flags value.
type umTail struct {
	msg   int64
	flags int
	b     []byte
}

// userMessage appends one usermessage row. The user's id and the row's
// tail are preformatted, so a row is a handful of copies.
func (w *writer) userMessage(mf *msgFile, user, msg int64, flags int) {
	t := &w.tails[(flags>>3)&3] // one slot per mentioned/wildcard combination
	if t.msg != msg || t.flags != flags || t.b == nil {
		t.msg, t.flags = msg, flags
		b := append(t.b[:0], `,"message":`...)
		b = strconv.AppendInt(b, msg, 10)
		b = append(b, `,"flags_mask":`...)
		b = strconv.AppendInt(b, int64(flags), 10)
		t.b = append(b, '}')
	}
	b := mf.ums
	if mf.umFirst {
		b = append(b, "\n"...)
		mf.umFirst = false
	} else {
		b = append(b, ",\n"...)
	}
	b = append(b, `{"id":`...)
	b = append(b, w.umID.next()...)
	b = append(b, `,"user_profile":`...)
	b = append(b, w.userDigits[user-1]...)
	b = append(b, t.b...)
	mf.ums = b
	if len(b) > umFlush {
		mf.flushUMs()
	}
}

// writeMessages is the second pass: message files, usermessages, and the
// reactions that go into realm.json.
func (w *writer) writeMessages(realm *bufFile) (err error) {
	w.async = newAsyncOut(umFlush + 4096)
	defer func() {
		if ferr := w.async.finish(); err == nil && ferr != nil {
			err = fmt.Errorf("writing messages: %w", ferr)
		}
		// The row buffers belong to this asyncOut's pool.
		w.async, w.msgBuf, w.umBuf = nil, nil, nil
	}()
	var (
		mf       *msgFile
		fileNo   int
		zid      int64
		reported = map[string]bool{}
		mentions []int64
	)
	for m, ierr := range w.req.Data.Messages() {
		if ierr != nil {
			return fmt.Errorf("reading messages: %w", ierr)
		}
		pl, ok := w.locate(m, true)
		if !ok {
			continue
		}
		if mf == nil {
			fileNo++
			if mf, err = w.openMsgFile(fileNo); err != nil {
				return err
			}
		}
		zid++
		content, wildcard, hasAtt, hasImage := w.content(m, pl, zid, &mentions)
		// The server keeps at most MaxMessage characters of a message: a
		// longer one goes in as consecutive parts, so nothing is cut. The
		// file links that content appended at the end land in the last
		// part, which therefore owns the attachments.
		parts := splitMessage(content, MaxMessage)
		if len(parts) > 1 {
			w.notice(sdk.Notice{Level: sdk.LevelWarning, Code: "message-split", Kind: sdk.KindMessage, Record: m.ID,
				Message: fmt.Sprintf("message %s: %d characters; Pixtoome keeps at most %d in one message, so it is imported as %d consecutive messages", m.ID, utf8.RuneCountInString(content), MaxMessage, len(parts))})
			last := zid + int64(len(parts)) - 1
			for _, id := range m.Attachments {
				if ai := w.atts[id]; ai != nil && ai.msg == zid {
					ai.msg = last
				}
			}
		}
		for i, part := range parts {
			if i > 0 {
				zid++
			}
			lastPart := i == len(parts)-1
			if mf == nil {
				fileNo++
				if mf, err = w.openMsgFile(fileNo); err != nil {
					return err
				}
			}
			w.messageRow(mf, m, pl, zid, part, hasAtt && lastPart, hasImage && lastPart)
			w.userMessages(mf, pl, zid, mentions, wildcard)
			if i == 0 {
				w.reactions(realm, m, zid, reported)
			}
			mf.count++
			if mf.count == MessagesPerFile {
				err := mf.close()
				w.msgBuf, w.umBuf = mf.msgs, mf.ums
				if err != nil {
					return err
				}
				mf = nil
				if err := w.ctx.Err(); err != nil {
					return err
				}
			}
		}
		if zid%1000 == 0 && w.req.Progress != nil {
			w.req.Progress(zid, w.msgCount)
		}
	}
	if mf != nil {
		if err := mf.close(); err != nil {
			return err
		}
	}
	if w.req.Progress != nil {
		w.req.Progress(zid, w.msgCount)
	}
	return nil
}

// content renders a message's text as the server stores it: mentions in
// its syntax, "/me " for emotes, links to uploaded files, within the
// length limit. It fills *mentioned with the mentioned users' ids.
func (w *writer) content(m *sdk.Message, pl place, zid int64, mentioned *[]int64) (text string, wildcard, hasAtt, hasImage bool) {
	text = m.Body
	*mentioned = (*mentioned)[:0]
	for _, x := range m.Mentions {
		switch x.Kind {
		case sdk.MentionUser:
			ui := w.users[x.User]
			if ui == nil {
				continue
			}
			if !slices.Contains(*mentioned, ui.zid) {
				*mentioned = append(*mentioned, ui.zid)
			}
			if strings.HasPrefix(x.Text, "**") {
				continue // already in the server's syntax
			}
			repl := mentionSyntax(ui.fullName, ui.zid, ui.ambiguous)
			done := false
			for _, t := range []string{x.Text, ui.u.MentionName, ui.u.Username, ui.u.DisplayName} {
				if t == "" {
					continue
				}
				if text, done = replaceMention(text, t, repl); done {
					break
				}
			}
		case sdk.MentionAll, sdk.MentionHere:
			wildcard = true
			if strings.HasPrefix(x.Text, "**") {
				continue
			}
			for _, t := range []string{x.Text, "all", "/all", "here", "everyone", "channel"} {
				var done bool
				if text, done = replaceMention(text, t, "@**all**"); done {
					break
				}
			}
		}
	}
	if m.Kind == sdk.MessageEmote {
		text = "/me " + text
	}
	if m.Deleted && strings.TrimSpace(text) == "" {
		text = "(deleted)"
	}
	for _, id := range m.Attachments {
		ai := w.atts[id]
		if ai == nil {
			continue
		}
		name := strings.NewReplacer("[", "(", "]", ")", "\n", " ").Replace(ai.a.Name)
		switch {
		case ai.pathID != "":
			text += "\n[" + name + "](/user_uploads/" + ai.pathID + ")"
			hasAtt = true
			if ai.msg == 0 {
				ai.msg, ai.owner = zid, pl.sender.zid
			}
			if strings.HasPrefix(ai.a.ContentType, "image/") {
				hasImage = true
			}
		case ai.a.URL != "":
			text += "\n[" + name + "](" + ai.a.URL + ")"
		}
	}
	if strings.TrimSpace(text) == "" {
		text = "(empty)"
	}
	return text, wildcard, hasAtt, hasImage
}

// topic decides a channel message's topic: a thread's topic is named from
// its first message; other messages keep the topic the source gave them,
// or get the default topic.
func (w *writer) topic(m *sdk.Message, pl place) string {
	if m.ThreadRoot != "" && m.ThreadRoot != m.ID {
		t := w.threads[m.ThreadRoot]
		if t == nil {
			// The reply comes before its root (or the root is gone):
			// its thread still gets a single topic.
			t = &thread{topic: w.uniqueTopic(pl.room, w.threadName(m)), pending: w.replies[m.ThreadRoot]}
			delete(w.replies, m.ThreadRoot)
			w.threads[m.ThreadRoot] = t
		}
		topic := t.topic
		if t.pending--; t.pending <= 0 {
			delete(w.threads, m.ThreadRoot)
		}
		return topic
	}
	if n := w.replies[m.ID]; n > 0 {
		delete(w.replies, m.ID)
		t := &thread{topic: w.uniqueTopic(pl.room, w.threadName(m)), pending: n}
		w.threads[m.ID] = t
		return t.topic
	}
	if t := cleanTopic(m.Topic); t != "" {
		return t
	}
	return w.defaultTopic
}

func (w *writer) threadName(m *sdk.Message) string {
	if t := cleanTopic(m.Topic); t != "" {
		return t
	}
	if t := topicFromText(m.Body); t != "" {
		return t
	}
	return "thread " + truncateRunes(m.ID, MaxTopic-7, "")
}

// uniqueTopic keeps two threads that start with the same words apart.
func (w *writer) uniqueTopic(ri *roomInfo, name string) string {
	if !w.usedTopics[topicKey(ri.zid, name)] {
		w.usedTopics[topicKey(ri.zid, name)] = true
		return name
	}
	for i := 2; ; i++ {
		suffix := " (" + strconv.Itoa(i) + ")"
		cand := truncateRunes(name, MaxTopic-len(suffix), "...") + suffix
		if !w.usedTopics[topicKey(ri.zid, cand)] {
			w.usedTopics[topicKey(ri.zid, cand)] = true
			return cand
		}
	}
}

func (w *writer) messageRow(mf *msgFile, m *sdk.Message, pl place, zid int64, content string, hasAtt, hasImage bool) {
	var recipient int64
	var subject string
	switch {
	case pl.room != nil:
		recipient = pl.room.recipient
		subject = w.topic(m, pl)
	case pl.conv.huddle:
		recipient = pl.conv.recipient
		subject = w.p.DMTopic
	default:
		// A one-to-one message goes to the other participant's personal
		// recipient; a note to self to the sender's own.
		other := pl.conv.b
		if pl.sender.zid == pl.conv.b {
			other = pl.conv.a
		}
		recipient = w.userOrder[other-1].recipient
		subject = w.p.DMTopic
	}
	b := mf.msgs
	if mf.count == 0 {
		b = append(b, '\n')
	} else {
		b = append(b, ",\n"...)
	}
	o := newObj(b)
	o.int("id", zid)
	o.int("sender", pl.sender.zid)
	o.int("recipient", recipient)
	o.int("realm", realmID)
	o.str("subject", subject)
	o.str("content", content)
	o.null("rendered_content")
	o.int("rendered_content_version", 1)
	o.time("date_sent", m.SentAt)
	o.int("sending_client", int64(w.p.ImportClient))
	last := m.EditedAt
	for i := range m.Edits {
		if last == nil || m.Edits[i].EditedAt.After(*last) {
			last = &m.Edits[i].EditedAt
		}
	}
	if last != nil {
		o.time("last_edit_time", *last)
	} else {
		o.null("last_edit_time")
	}
	if len(m.Edits) > 0 {
		o.key("edit_history")
		o.b = appendString(o.b, string(w.editHistory(m, pl)))
	} else {
		o.null("edit_history")
	}
	o.bool("has_attachment", hasAtt)
	o.bool("has_image", hasImage)
	o.bool("has_link", hasAtt || strings.Contains(content, "://"))
	if w.p.ChannelFlag {
		o.int("type", 1)
		o.bool("is_channel_message", pl.room != nil)
	}
	mf.msgs = o.done()
}

// editHistory renders a message's earlier versions as the server keeps
// them: newest first, each with the text before that edit.
func (w *writer) editHistory(m *sdk.Message, pl place) []byte {
	edits := slices.Clone(m.Edits)
	slices.SortStableFunc(edits, func(a, b sdk.Edit) int { return b.EditedAt.Compare(a.EditedAt) })
	b := []byte{'['}
	for i, e := range edits {
		if i > 0 {
			b = append(b, ',')
		}
		editor := pl.sender.zid
		if ui := w.users[e.Editor]; ui != nil {
			editor = ui.zid
		}
		o := newObj(b)
		o.int("user_id", editor)
		o.int("timestamp", e.EditedAt.Unix())
		o.str("prev_content", e.Body)
		o.str("prev_rendered_content", "<p>"+html.EscapeString(e.Body)+"</p>")
		o.int("prev_rendered_content_version", 1)
		b = o.done()
	}
	return append(b, ']')
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// userMessages writes who received a message. Channel messages go to the
// channel's subscribers, except long-term-idle users who are not
// mentioned (the server backfills those when the user comes back); direct
// messages go to every participant.
func (w *writer) userMessages(mf *msgFile, pl place, zid int64, mentioned []int64, wildcard bool) {
	if pl.room != nil {
		if len(mentioned) == 0 && !wildcard {
			for _, u := range pl.room.active {
				w.userMessage(mf, u, zid, flagRead)
			}
			return
		}
		for _, u := range pl.room.subs {
			f := flagRead
			if containsID(mentioned, u) {
				f |= flagMentioned
			} else if w.userOrder[u-1].idle {
				continue
			}
			if wildcard {
				f |= flagWildcard
			}
			w.userMessage(mf, u, zid, f)
		}
		return
	}
	c := pl.conv
	flags := func(u int64) int {
		f := flagRead | flagPrivate
		if containsID(mentioned, u) {
			f |= flagMentioned
		}
		if wildcard {
			f |= flagWildcard
		}
		return f
	}
	if c.huddle {
		for _, u := range c.members {
			w.userMessage(mf, u, zid, flags(u))
		}
		return
	}
	w.userMessage(mf, c.a, zid, flags(c.a))
	if c.b != c.a {
		w.userMessage(mf, c.b, zid, flags(c.b))
	}
}

func (w *writer) reactions(realm *bufFile, m *sdk.Message, zid int64, reported map[string]bool) {
	for _, r := range m.Reactions {
		var typ, code, name string
		if r.Custom {
			ei := w.emoji[r.Emoji]
			if ei == nil {
				w.reactionSkipped(m, r, reported, "it names a custom emoji that is not imported")
				continue
			}
			typ, code, name = "realm_emoji", strconv.FormatInt(ei.zid, 10), ei.name
		} else {
			c, ok := emojiCode(r.Emoji)
			if !ok {
				w.reactionSkipped(m, r, reported, "its emoji is not one Pixtoome knows")
				continue
			}
			typ, code, name = "unicode_emoji", c, strings.Trim(r.Emoji, ":")
		}
		var seen []int64
		for _, u := range r.Users {
			ui := w.users[u]
			if ui == nil || containsID(seen, ui.zid) {
				continue
			}
			seen = append(seen, ui.zid)
			w.nextReaction++
			b := w.reactionBuf[:0]
			if w.nextReaction > 1 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			o := newObj(b)
			o.int("id", w.nextReaction)
			o.int("user_profile", ui.zid)
			o.str("emoji_name", name)
			o.str("reaction_type", typ)
			o.str("emoji_code", code)
			o.int("message", zid)
			w.reactionBuf = o.done()
			realm.Write(w.reactionBuf)
		}
	}
}

func (w *writer) reactionSkipped(m *sdk.Message, r sdk.Reaction, reported map[string]bool, why string) {
	if reported[r.Emoji] {
		return
	}
	reported[r.Emoji] = true
	w.notice(sdk.Notice{Level: sdk.LevelWarning, Code: "reaction-emoji-unknown", Kind: sdk.KindMessage, Record: m.ID,
		Message: fmt.Sprintf("reactions with %q (first on message %s) are left out: %s", r.Emoji, m.ID, why)})
}

// ---- files ----

func (w *writer) copyBlob(sha, name string) (int64, error) {
	rc, err := w.req.Data.OpenBlob(sha)
	if err != nil {
		return 0, fmt.Errorf("%s: the content (blob %s) is missing from the dataset: %w", name, sha, err)
	}
	defer rc.Close()
	out, err := w.req.Out.Create(name)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	n, err := io.Copy(out, rc)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

func writeRecords(f *bufFile, rows [][]byte) error {
	f.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			f.WriteByte(',')
		}
		f.WriteByte('\n')
		f.Write(r)
	}
	f.WriteString("\n]\n")
	return f.Close()
}

func (w *writer) writeUploads() error {
	var records, rows [][]byte
	for _, ai := range w.attOrder {
		a := ai.a
		if ai.pathID == "" {
			continue
		}
		if ai.msg == 0 {
			w.skip(sdk.KindAttachment, a.ID, "attachment-orphan", fmt.Sprintf("attachment %s (%s): its message %s was not imported, so neither is the file", a.ID, a.Name, a.Message))
			continue
		}
		if ui := w.users[a.Uploader]; ui != nil {
			ai.owner = ui.zid
		}
		size, err := w.copyBlob(a.SHA256, "uploads/"+ai.pathID)
		if err != nil {
			return fmt.Errorf("attachment %s: %w", a.ID, err)
		}
		created := w.refTime
		if a.CreatedAt != nil {
			created = *a.CreatedAt
		}
		r := newObj(nil)
		r.str("path", ai.pathID)
		r.int("realm_id", realmID)
		r.optStr("content_type", a.ContentType)
		r.int("user_profile_id", ai.owner)
		r.time("last_modified", created)
		r.str("user_profile_email", w.userOrder[ai.owner-1].email)
		r.str("s3_path", ai.pathID)
		r.int("size", size)
		records = append(records, r.done())
		o := newObj(nil)
		o.int("id", ai.zid)
		o.str("file_name", a.Name)
		o.str("path_id", ai.pathID)
		o.time("create_time", created)
		o.int("size", size)
		o.bool("is_realm_public", true)
		o.bool("is_web_public", false)
		o.raw("scheduled_messages", "[]")
		o.int("owner", ai.owner)
		o.raw("messages", "["+strconv.FormatInt(ai.msg, 10)+"]")
		o.int("realm", realmID)
		if w.p.AttachmentContentType {
			o.optStr("content_type", a.ContentType)
		}
		rows = append(rows, o.done())
	}
	f, err := w.create("uploads/records.json")
	if err != nil {
		return err
	}
	if err := writeRecords(f, records); err != nil {
		return err
	}
	f, err = w.create("attachment.json")
	if err != nil {
		return err
	}
	f.WriteString(`{"zerver_attachment":`)
	f.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			f.WriteByte(',')
		}
		f.WriteByte('\n')
		f.Write(r)
	}
	f.WriteString("\n]}\n")
	return f.Close()
}

func (w *writer) writeAvatars() error {
	var records [][]byte
	for _, ui := range w.userOrder {
		av := ui.u.Avatar
		if av == nil {
			continue
		}
		sum := sha1.Sum([]byte("avatar:" + strconv.FormatInt(ui.zid, 10)))
		path := fmt.Sprintf("%d/%s.original", realmID, hex.EncodeToString(sum[:]))
		size, err := w.copyBlob(av.SHA256, "avatars/"+path)
		if err != nil {
			return fmt.Errorf("user %s avatar: %w", ui.u.ID, err)
		}
		r := newObj(nil)
		r.str("path", path)
		r.int("realm_id", realmID)
		r.optStr("content_type", av.ContentType)
		if w.p.AvatarVersion {
			r.int("avatar_version", 1)
		}
		r.int("user_profile_id", ui.zid)
		r.time("last_modified", w.refTime)
		if !w.p.AvatarVersion {
			r.str("user_profile_email", ui.email)
		}
		r.str("s3_path", path)
		r.int("size", size)
		records = append(records, r.done())
	}
	f, err := w.create("avatars/records.json")
	if err != nil {
		return err
	}
	return writeRecords(f, records)
}

func (w *writer) writeEmojiFiles() error {
	for _, ef := range w.emojiFiles {
		if _, err := w.copyBlob(ef.sha, ef.path); err != nil {
			return fmt.Errorf("custom emoji: %w", err)
		}
	}
	f, err := w.create("emoji/records.json")
	if err != nil {
		return err
	}
	return writeRecords(f, w.emojiRecs)
}
