package gen

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"container/heap"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/migrate-chat/migrate/core/container"
)

func init() {
	register("hipchat-server", true, "HipChat Server export: openssl enc (AES-256-CBC, MD5 key derivation) of a gzip'd tar; rooms.json with member objects and room_roles", genHipChatServer)
	register("hipchat-cloud", true, "HipChat Cloud export (2018): the same encrypted tar.gz with the group id in its name and member ids in rooms.json", genHipChatCloud)
}

// hipchatGroupID is the Cloud group whose export is generated.
const hipchatGroupID = 124688

func (g *generator) hcUserID(u int) int64 { return 340070 + int64(u)*13 }
func (g *generator) hcRoomID(s *stream) int64 {
	return 206455 + int64(s.room)*17
}

// hcArchive writes the tar stream of a HipChat export. Tar headers carry
// each file's size before its content, so every generated JSON file is
// produced twice: once into a byte counter, once into the tar. Generation
// is deterministic, so both passes give the same bytes, and nothing is
// buffered.
type hcArchive struct {
	g       *generator
	cloud   bool
	tw      *tar.Writer
	j       *jw
	scratch []byte
	copyBuf []byte
	// convsOf lists each user's direct conversations.
	convsOf [][]int
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func (h *hcArchive) header(name string, size int64) error {
	return h.tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o644, ModTime: h.g.exportTime,
		Uname: "hipchat", Gname: "hipchat", Typeflag: tar.TypeReg, Format: tar.FormatPAX})
}

// jsonEntry writes one generated JSON file into the tar.
func (h *hcArchive) jsonEntry(name string, fn func(j *jw) error) error {
	var cw countWriter
	done, next := h.g.done, h.g.nextTick
	h.j.reset(&cw)
	if err := fn(h.j); err != nil {
		return err
	}
	if err := h.j.flush(); err != nil {
		return err
	}
	h.g.done, h.g.nextTick = done, next
	if err := h.header(name, cw.n); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	h.j.reset(h.tw)
	if err := fn(h.j); err != nil {
		return err
	}
	if err := h.j.flush(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (h *hcArchive) blobEntry(name string, a *attachment) error {
	if err := h.header(name, a.Size); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err := io.CopyBuffer(h.tw, newBlobReader(a), h.copyBuf); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	h.g.files++
	return nil
}

func (h *hcArchive) bytesEntry(name string, b []byte) error {
	if err := h.header(name, int64(len(b))); err != nil {
		return err
	}
	_, err := h.tw.Write(b)
	return err
}

func appendHCTime(b []byte, us int64) []byte {
	t := wallTime(us)
	b = t.AppendFormat(b, "2006-01-02T15:04:05Z ")
	micro := t.Nanosecond() / 1000
	s := strconv.Itoa(micro)
	for i := len(s); i < 6; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func (h *hcArchive) userRef(u int) {
	j, us := h.j, &h.g.users[u]
	j.objStart()
	j.kInt("id", h.g.hcUserID(u))
	j.kStr("mention_name", us.mentionName())
	j.kStr("name", us.displayName())
	j.objEnd()
}

func (h *hcArchive) attachment(m *Msg, roomID int64) {
	j, a := h.j, m.Attach
	if a == nil {
		j.kNull("attachment")
		if !h.cloud {
			j.kNull("attachment_path")
		}
		return
	}
	path := a.Dir + "/" + a.Name
	j.key("attachment")
	j.objStart()
	j.kStr("name", a.Name)
	j.kStr("path", path)
	j.kInt("size", a.Size)
	host := "https://hipchat.example.com/files/1/"
	if h.cloud {
		host = "https://s3.amazonaws.com/uploads.hipchat.com/" + strconv.Itoa(hipchatGroupID) + "/"
	}
	if roomID > 0 {
		host += strconv.FormatInt(roomID, 10) + "/"
	}
	j.kStr("url", host+a.Dir+"/"+url.PathEscape(a.Name))
	j.objEnd()
	if !h.cloud {
		j.kStr("attachment_path", path)
	}
}

func (h *hcArchive) msgID(m *Msg) {
	hh := hash3(h.g.cfg.Seed, uint64(m.s.idx), uint64(m.Index), tagID)
	h.j.strB(uuid(h.scratch[:0], hh, mix(hh)))
}

// roomMessage writes one room history element in its one-key wrapper.
func (h *hcArchive) roomMessage(m *Msg) {
	g, j, s := h.g, h.j, m.s
	roomID := g.hcRoomID(s)
	wrapper := "UserMessage"
	switch {
	case s.archived && m.Index == s.n-1:
		wrapper = "ArchiveRoomMessage"
	case s.guest && m.Index == 0:
		wrapper = "GuestAccessMessage"
	case m.Kind == kindTopic:
		wrapper = "TopicRoomMessage"
	case m.Kind == kindNotification:
		wrapper = "NotificationMessage"
	}
	j.objStart()
	j.key(wrapper)
	j.objStart()
	switch wrapper {
	case "NotificationMessage":
		h.attachment(m, roomID)
		j.kStr("color", []string{"yellow", "green", "red", "purple", "gray"}[m.Index%5])
		j.key("id")
		h.msgID(m)
		html := m.Index%3 != 0
		h.scratch = g.appendText(h.scratch[:0], m, dHipChat)
		if html {
			b := append(h.scratch[len(h.scratch):], "<b>"...)
			b = appendEscaped(b, m.Integration)
			b = append(b, "</b>: "...)
			b = appendEscaped(b, string(h.scratch))
			j.key("message")
			j.strB(b)
			j.kStr("message_format", "html")
		} else {
			j.key("message")
			j.strB(h.scratch)
			j.kStr("message_format", "text")
		}
		j.kStr("sender", m.Integration)
	case "UserMessage":
		h.attachment(m, roomID)
		j.key("id")
		h.msgID(m)
		j.key("mentions")
		j.arrStart()
		for _, u := range m.Mentions {
			j.int(g.hcUserID(u))
		}
		j.arrEnd()
		j.key("message")
		j.strB(g.appendText(h.scratch[:0], m, dHipChat))
		j.key("sender")
		h.userRef(m.Sender)
	case "TopicRoomMessage", "ArchiveRoomMessage", "GuestAccessMessage":
		j.key("id")
		h.msgID(m)
		j.key("message")
		switch wrapper {
		case "ArchiveRoomMessage":
			j.str("")
		case "GuestAccessMessage":
			j.str("https://hipchat.example.com/g" + token(uint64(roomID), 9))
		default:
			j.strB(g.appendText(h.scratch[:0], m, dHipChat))
		}
		j.key("sender")
		h.userRef(m.Sender)
	}
	j.key("timestamp")
	j.strB(appendHCTime(h.scratch[:0], m.SentUS))
	j.objEnd()
	j.objEnd()
}

func (h *hcArchive) privateMessage(m *Msg) {
	g, j := h.g, h.j
	j.objStart()
	j.key("PrivateUserMessage")
	j.objStart()
	h.attachment(m, 0)
	j.key("id")
	h.msgID(m)
	j.key("mentions")
	j.arrStart()
	j.arrEnd()
	j.key("message")
	j.strB(g.appendText(h.scratch[:0], m, dHipChat))
	j.key("receiver")
	h.userRef(m.Receiver)
	j.key("sender")
	h.userRef(m.Sender)
	j.key("timestamp")
	j.strB(appendHCTime(h.scratch[:0], m.SentUS))
	j.objEnd()
	j.objEnd()
}

var titles = []string{"", "", "Engineer", "Senior Engineer", "Product Manager", "Designer", "Support", "CTO", "Intern", "Ingénieure", "エンジニア"}

func (h *hcArchive) usersJSON(j *jw) error {
	g := h.g
	j.arrStart()
	for u := range g.users {
		us := &g.users[u]
		j.objStart()
		j.key("User")
		j.objStart()
		typ := "user"
		if us.guest {
			typ = "guest"
		} else if us.admin {
			typ = "admin"
		}
		j.kStr("account_type", typ)
		hh := hash3(g.cfg.Seed, uint64(u), 1, tagUser)
		if hh%10 < 6 {
			j.kStr("avatar", base64Lines(pngImage(hh, 16)))
		} else {
			j.kNull("avatar")
		}
		j.kStr("created", us.created.Format("2006-01-02T15:04:05+00:00"))
		if us.guest || (us.deleted && hh%2 == 0) {
			j.kNull("email")
		} else {
			j.kStr("email", strings.ToLower(us.handle())+"@example.com")
		}
		j.kInt("id", g.hcUserID(u))
		j.kBool("is_deleted", us.deleted)
		j.kStr("mention_name", us.mentionName())
		j.kStr("name", us.displayName())
		j.key("roles")
		j.arrStart()
		if us.admin {
			j.str("admin")
		}
		j.str("user")
		j.arrEnd()
		j.key("rooms")
		j.arrStart()
		j.arrEnd()
		j.kStr("timezone", us.tz)
		j.kStr("title", titles[hh%uint64(len(titles))])
		j.objEnd()
		j.objEnd()
		j.flushIfFull()
	}
	j.arrEnd()
	return j.err
}

func (h *hcArchive) roomsJSON(j *jw) error {
	g := h.g
	users := len(g.users)
	j.arrStart()
	for _, s := range g.rooms {
		owner := s.member(0, users)
		admins := []int{owner}
		if s.members > 3 {
			admins = append(admins, s.member(2, users))
		}
		// Public rooms export no membership beyond owner and admins.
		listed := admins
		j.objStart()
		j.key("Room")
		j.objStart()
		j.kStr("created", s.created.Format("2006-01-02T15:04:05+00:00"))
		if s.guest {
			j.kStr("guest_access_url", "https://hipchat.example.com/g"+token(uint64(g.hcRoomID(s)), 9))
		} else {
			j.kNull("guest_access_url")
		}
		j.kInt("id", g.hcRoomID(s))
		j.kBool("is_archived", s.archived)
		j.key("members")
		j.arrStart()
		n := len(listed)
		if s.private {
			n = s.members
		}
		for k := 0; k < n; k++ {
			u := s.member(k, users)
			if !s.private {
				u = listed[k]
			}
			if h.cloud {
				j.int(g.hcUserID(u))
				continue
			}
			us := &g.users[u]
			j.objStart()
			j.kInt("id", g.hcUserID(u))
			j.kStr("mention_name", us.mentionName())
			j.kStr("name", us.displayName())
			j.key("room_roles")
			j.arrStart()
			j.str("room_member")
			if k < len(admins) && u == admins[k] {
				j.str("room_admin")
			}
			j.arrEnd()
			j.kStr("version", strings.ToUpper(token(hash3(g.cfg.Seed, uint64(u), 2, tagUser), 8)))
			j.objEnd()
		}
		j.arrEnd()
		j.kStr("name", s.name)
		j.kInt("owner", g.hcUserID(owner))
		j.key("participants")
		j.arrStart()
		j.arrEnd()
		if s.private {
			j.kStr("privacy", "private")
		} else {
			j.kStr("privacy", "public")
		}
		if !h.cloud {
			j.key("room_admins")
			j.arrStart()
			for _, a := range admins {
				j.int(g.hcUserID(a))
			}
			j.arrEnd()
		}
		j.kStr("topic", s.topic)
		j.objEnd()
		j.objEnd()
		j.flushIfFull()
	}
	j.arrEnd()
	return j.err
}

func (h *hcArchive) emoticonsJSON(j *jw) error {
	j.arrStart()
	for k, sc := range h.g.emoticons {
		j.objStart()
		j.key("Emoticon")
		j.objStart()
		j.kInt("id", 9875487+int64(k))
		j.kStr("path", "emoticons/"+sc+".png")
		j.kStr("shortcut", sc)
		j.objEnd()
		j.objEnd()
	}
	j.arrEnd()
	return j.err
}

// roomHistory writes a room newest-first by walking its stream backwards.
func (h *hcArchive) roomHistory(ctx context.Context, s *stream) func(j *jw) error {
	return func(j *jw) error {
		c := h.g.cursor(s, false)
		j.arrStart()
		for {
			m, ok := c.next()
			if !ok {
				break
			}
			h.roomMessage(m)
			h.g.tick()
			if h.g.done&0x3fff == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if j.err != nil {
				return j.err
			}
		}
		j.arrEnd()
		return j.err
	}
}

// dmHeap merges a user's conversations newest-first.
type dmHeap []*cursorHead

type cursorHead struct {
	c *cursor
	m *Msg
}

func (d dmHeap) Len() int { return len(d) }
func (d dmHeap) Less(a, b int) bool {
	if d[a].m.SentUS != d[b].m.SentUS {
		return d[a].m.SentUS > d[b].m.SentUS
	}
	return d[a].c.s.idx < d[b].c.s.idx
}
func (d dmHeap) Swap(a, b int) { d[a], d[b] = d[b], d[a] }
func (d *dmHeap) Push(x any)   { *d = append(*d, x.(*cursorHead)) }
func (d *dmHeap) Pop() any {
	old := *d
	x := old[len(old)-1]
	*d = old[:len(old)-1]
	return x
}

// userHistory writes one user's direct messages newest-first: every
// conversation the user is in, merged. Each message also appears in the
// other participant's file, as in real exports.
func (h *hcArchive) userHistory(ctx context.Context, u int) func(j *jw) error {
	return func(j *jw) error {
		var hp dmHeap
		for _, ci := range h.convsOf[u] {
			c := h.g.cursor(h.g.convs[ci], false)
			if m, ok := c.next(); ok {
				hp = append(hp, &cursorHead{c: c, m: m})
			}
		}
		heap.Init(&hp)
		j.arrStart()
		for hp.Len() > 0 {
			top := hp[0]
			h.privateMessage(top.m)
			if top.m.Sender == u {
				h.g.tick()
			}
			if m, ok := top.c.next(); ok {
				top.m = m
				heap.Fix(&hp, 0)
			} else {
				heap.Pop(&hp)
			}
			if j.err != nil {
				return j.err
			}
		}
		j.arrEnd()
		return ctx.Err()
	}
}

// each attachment of a stream, without generating its messages.
func (g *generator) eachAttachment(s *stream, fn func(a *attachment) error) error {
	var a attachment
	for i := int64(0); i < s.n; i++ {
		if !g.hasAttachment(s, i) {
			continue
		}
		if s.room >= 0 {
			// Topic changes carry no file; mirror fill's rule.
			r := newRNGSeeded(0)
			m := Msg{s: s, Index: i}
			g.fill(r, &m)
			if m.Attach == nil {
				continue
			}
		}
		g.attachmentOf(s, i, &a)
		if err := fn(&a); err != nil {
			return err
		}
	}
	return nil
}

func (h *hcArchive) write(ctx context.Context) error {
	g := h.g
	h.convsOf = make([][]int, len(g.users))
	for i, c := range g.convs {
		h.convsOf[c.a] = append(h.convsOf[c.a], i)
		if c.b != c.a {
			h.convsOf[c.b] = append(h.convsOf[c.b], i)
		}
	}
	if err := h.jsonEntry("users.json", h.usersJSON); err != nil {
		return err
	}
	if err := h.jsonEntry("rooms.json", h.roomsJSON); err != nil {
		return err
	}
	if err := h.jsonEntry("emoticons.json", h.emoticonsJSON); err != nil {
		return err
	}
	for k, sc := range g.emoticons {
		if err := h.bytesEntry("emoticons/"+sc+".png", pngImage(hash3(g.cfg.Seed, uint64(k), 3, tagUser), 24)); err != nil {
			return err
		}
	}
	for _, s := range g.rooms {
		dir := "rooms/" + strconv.FormatInt(g.hcRoomID(s), 10)
		if err := h.jsonEntry(dir+"/history.json", h.roomHistory(ctx, s)); err != nil {
			return err
		}
		err := g.eachAttachment(s, func(a *attachment) error {
			return h.blobEntry(dir+"/files/"+a.Dir+"/"+a.Name, a)
		})
		if err != nil {
			return err
		}
	}
	for u := range g.users {
		if g.users[u].deleted {
			continue // deleted users have no history file
		}
		name := "users/" + strconv.FormatInt(g.hcUserID(u), 10) + "/history.json"
		if err := h.jsonEntry(name, h.userHistory(ctx, u)); err != nil {
			return err
		}
	}
	for _, s := range g.convs {
		err := g.eachAttachment(s, func(a *attachment) error {
			return h.blobEntry("users/files/"+a.Dir+"/"+a.Name, a)
		})
		if err != nil {
			return err
		}
	}
	g.done = g.cfg.Messages
	return nil
}

// hipchatName is the file name HipChat gave its exports.
func (g *generator) hipchatName(cloud bool) string {
	ts := g.exportTime.Format("2006-01-02_15-04-05")
	if cloud {
		return fmt.Sprintf("hipchat-%d-%s.tar.gz.aes", hipchatGroupID, ts)
	}
	return "hipchat-" + ts + ".tar.gz.aes"
}

// outputPath resolves out: an existing directory, or a path ending in a
// separator, receives the format's own file name.
func outputPath(out, name string) string {
	if strings.HasSuffix(out, "/") || strings.HasSuffix(out, string(os.PathSeparator)) {
		return filepath.Join(out, name)
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return filepath.Join(out, name)
	}
	return out
}

func genHipChatServer(ctx context.Context, g *generator, out string) (string, error) {
	return genHipChatTar(ctx, g, out, false)
}

func genHipChatCloud(ctx context.Context, g *generator, out string) (string, error) {
	return genHipChatTar(ctx, g, out, true)
}

// genHipChatTar streams tar into gzip into openssl-compatible encryption
// into the file.
func genHipChatTar(ctx context.Context, g *generator, out string, cloud bool) (string, error) {
	path := outputPath(out, g.hipchatName(cloud))
	return path, writeFile(path, func(w io.Writer) error {
		enc, err := container.NewEncryptWriter(w, []byte(g.cfg.Passphrase), container.KDFMD5, 0)
		if err != nil {
			return err
		}
		level := g.cfg.GzipLevel
		if level == 0 {
			level = gzip.BestSpeed
		}
		gz, err := gzip.NewWriterLevel(enc, level)
		if err != nil {
			return err
		}
		gz.Name = strings.TrimSuffix(filepath.Base(g.hipchatName(cloud)), ".gz.aes")
		gz.ModTime = g.exportTime
		bw := bufio.NewWriterSize(gz, 256<<10)
		h := &hcArchive{g: g, cloud: cloud, tw: tar.NewWriter(bw), j: newJW(nil), copyBuf: make([]byte, 256<<10)}
		if err := h.write(ctx); err != nil {
			return err
		}
		if err := h.tw.Close(); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		if err := gz.Close(); err != nil {
			return err
		}
		return enc.Close()
	})
}
