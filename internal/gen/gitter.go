package gen

import (
	"context"
	"io"
	"path/filepath"
	"strings"
)

func init() {
	register("gitter-rest", false, "archive-gitter JSON array (sorted keys, indent 1, ASCII escapes); a \"room\" field when there are several rooms", genGitterREST)
	register("gitter-items", false, "REST page with lookups: {items, lookups:{users}}, fromUser as an id", genGitterItems)
	register("gitter-ndjson", false, "official room export: a directory per room with messages.ndjson and users.ndjson", genGitterNDJSON)
	register("gitter-matrix", false, "Element \"Export chat\" JSON, one file per room, raw Matrix events with edits, reactions and threads", genGitterMatrix)
}

// gitterStyle selects the small differences between Gitter's shapes.
type gitterStyle struct {
	userObject bool // fromUser as a full object (REST) rather than an id
	unread     bool // REST responses carry the requester's unread flag
	room       bool // several rooms merged into one file
}

type gitterWriter struct {
	g       *generator
	j       *jw
	style   gitterStyle
	scratch []byte
	html    []byte
}

func (g *generator) roomURI(s *stream) string { return "migrate-chat/" + slug(s.name, s.room) }

func appendGitterTime(b []byte, us int64) []byte {
	return wallTime(us).AppendFormat(b, "2006-01-02T15:04:05.000Z")
}

// gitterUser writes a user object (sorted keys, as archive-gitter dumps).
func (gw *gitterWriter) user(u int) {
	j, us := gw.j, &gw.g.users[u]
	gw.scratch = gw.g.appendGitterUserID(gw.scratch[:0], u)
	id := string(gw.scratch)
	name := us.gitterUsername()
	j.objStart()
	if us.virtual {
		j.kStr("avatarUrl", "https://matrix.org/_matrix/media/r0/thumbnail/"+name)
		j.kStr("displayName", us.displayName())
		j.kStr("id", id)
		j.kStr("username", strings.ToLower(us.handle()))
		j.objEnd()
		return
	}
	j.kStr("avatarUrl", "https://avatars-02.gitter.im/gh/uv/4/"+name)
	j.kStr("avatarUrlMedium", "https://avatars.githubusercontent.com/u/"+id[:8]+"?v=4&s=128")
	j.kStr("avatarUrlSmall", "https://avatars.githubusercontent.com/u/"+id[:8]+"?v=4&s=60")
	j.kStr("displayName", us.displayName())
	j.kStr("gv", "4")
	j.kStr("id", id)
	if us.deleted {
		j.kBool("removed", true)
	}
	j.kStr("url", "/"+name)
	j.kStr("username", name)
	if u%7 != 3 { // fromUser.v is sometimes absent
		j.kInt("v", int64(1+u%40))
	}
	j.objEnd()
}

func (gw *gitterWriter) message(m *Msg) {
	g, j := gw.g, gw.j
	s := m.s
	j.objStart()
	if m.EditedUS != 0 {
		j.key("editedAt")
		j.strB(appendGitterTime(gw.scratch[:0], m.EditedUS))
	}
	j.key("fromUser")
	if gw.style.userObject {
		gw.user(m.Sender)
	} else {
		j.strB(g.appendGitterUserID(gw.scratch[:0], m.Sender))
	}
	// text and html, with an uploaded file as a files.gitter.im link.
	text := g.appendText(gw.scratch[:0], m, dGitter)
	gw.html = g.appendHTML(gw.html[:0], m, dGitter)
	if a := m.Attach; a != nil {
		url := "https://files.gitter.im/" + g.roomURI(s) + "/" + a.Dir[:4] + "/" + a.Name
		text = append(append(append(append(append(text, " ["...), a.Name...), "]("...), url...), ')')
		gw.html = append(gw.html, ` <a href="`...)
		gw.html = appendEscaped(gw.html, url)
		gw.html = append(gw.html, `" target="_blank" rel="nofollow" class="link">`...)
		if strings.HasPrefix(a.CType, "image/") {
			gw.html = append(gw.html, `<img src="`...)
			gw.html = appendEscaped(gw.html, "https://files.gitter.im/"+g.roomURI(s)+"/"+a.Dir[:4]+"/thumb/"+a.Name)
			gw.html = append(gw.html, `" alt="`...)
			gw.html = appendEscaped(gw.html, a.Name)
			gw.html = append(gw.html, `">`...)
		} else {
			gw.html = appendEscaped(gw.html, a.Name)
		}
		gw.html = append(gw.html, "</a>"...)
	}
	j.key("html")
	j.strB(gw.html)
	j.key("id")
	j.strB(gitterID(gw.html[:0], unixSec(m.SentUS), hash3(g.cfg.Seed, uint64(s.idx), uint64(m.Index), tagID)))
	j.key("issues")
	j.arrStart()
	for k := range m.Segs {
		if sg := &m.Segs[k]; sg.kind == segIssue {
			j.objStart()
			j.kStr("number", itoa(sg.num))
			if sg.text != "" {
				j.kStr("repo", sg.text)
			}
			j.objEnd()
		}
	}
	j.arrEnd()
	j.key("mentions")
	j.arrStart()
	for _, u := range m.Mentions {
		us := &g.users[u]
		j.objStart()
		j.kStr("screenName", us.gitterUsername())
		if !us.deleted { // mentions of unknown users carry no userId
			j.key("userId")
			j.strB(g.appendGitterUserID(gw.html[:0], u))
		}
		j.key("userIds")
		j.arrStart()
		j.arrEnd()
		j.objEnd()
	}
	if m.All || m.Here {
		j.objStart()
		j.kBool("announcement", true)
		j.kBool("group", true)
		j.kStr("screenName", "all")
		j.key("userIds")
		j.arrStart()
		j.arrEnd()
		j.objEnd()
	}
	j.arrEnd()
	j.key("meta")
	j.arrStart()
	j.arrEnd()
	if m.Parent >= 0 {
		j.key("parentId")
		j.strB(gitterID(gw.html[:0], unixSec(m.ParentUS), hash3(g.cfg.Seed, uint64(s.idx), uint64(m.Parent), tagID)))
	}
	j.kInt("readBy", int64(hash3(g.cfg.Seed, uint64(s.idx), uint64(m.Index), tagUser)%64))
	if gw.style.room {
		j.kStr("room", g.roomURI(s))
	}
	j.key("sent")
	j.strB(appendGitterTime(gw.html[:0], m.SentUS))
	if m.Kind == kindEmote {
		j.kBool("status", true)
	}
	j.key("text")
	j.strB(text)
	gw.scratch = text[:0]
	if m.ThreadCount > 0 {
		j.kInt("threadMessageCount", int64(m.ThreadCount))
	}
	if gw.style.unread {
		j.kBool("unread", false)
	}
	j.key("urls")
	j.arrStart()
	for k := range m.Segs {
		if sg := &m.Segs[k]; sg.kind == segURL {
			j.objStart()
			j.kStr("url", sg.text)
			j.objEnd()
		}
	}
	j.arrEnd()
	v := int64(1)
	if m.EditedUS != 0 {
		v = 2 + int64(m.Index%3)
	}
	j.kInt("v", v)
	if us := &g.users[m.Sender]; us.virtual {
		j.key("virtualUser")
		j.objStart()
		j.kStr("avatarUrl", "https://matrix.org/_matrix/media/r0/thumbnail/"+strings.ToLower(us.handle()))
		j.kStr("displayName", us.displayName())
		j.kStr("externalId", strings.ToLower(us.handle())+":matrix.org")
		j.kStr("type", "matrix")
		j.objEnd()
	}
	j.objEnd()
}

// rooms walks every room oldest-first, calling fn for each message.
func (g *generator) eachRoomMessage(ctx context.Context, s *stream, fn func(m *Msg)) error {
	c := g.cursor(s, true)
	for {
		m, ok := c.next()
		if !ok {
			return nil
		}
		fn(m)
		g.tick()
		if g.done&0x3fff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
}

func genGitterREST(ctx context.Context, g *generator, out string) (string, error) {
	out = outputPath(out, "gitter_data.json")
	return out, writeFile(out, func(w io.Writer) error {
		j := newJW(w)
		j.ascii, j.indent = true, " "
		gw := &gitterWriter{g: g, j: j, style: gitterStyle{userObject: true, unread: true, room: len(g.rooms) > 1}}
		j.arrStart()
		for _, s := range g.rooms {
			if err := g.eachRoomMessage(ctx, s, gw.message); err != nil {
				return err
			}
			if j.err != nil {
				return j.err
			}
		}
		j.arrEnd()
		j.raw("\n")
		return j.flush()
	})
}

func genGitterItems(ctx context.Context, g *generator, out string) (string, error) {
	out = outputPath(out, "gitter_items.json")
	return out, writeFile(out, func(w io.Writer) error {
		j := newJW(w)
		gw := &gitterWriter{g: g, j: j, style: gitterStyle{room: len(g.rooms) > 1}}
		j.objStart()
		j.key("items")
		j.arrStart()
		for _, s := range g.rooms {
			if err := g.eachRoomMessage(ctx, s, gw.message); err != nil {
				return err
			}
			if j.err != nil {
				return j.err
			}
		}
		j.arrEnd()
		j.key("lookups")
		j.objStart()
		j.key("users")
		j.objStart()
		for u := range g.users {
			j.key(string(g.appendGitterUserID(nil, u)))
			gw.user(u)
		}
		j.objEnd()
		j.objEnd()
		j.objEnd()
		return j.flush()
	})
}

func genGitterNDJSON(ctx context.Context, g *generator, out string) (string, error) {
	for _, s := range g.rooms {
		dir := filepath.Join(out, slug(s.name, s.room))
		err := writeFile(filepath.Join(dir, "messages.ndjson"), func(w io.Writer) error {
			j := newJW(w)
			gw := &gitterWriter{g: g, j: j}
			err := g.eachRoomMessage(ctx, s, func(m *Msg) {
				gw.message(m)
				j.raw("\n")
			})
			if err != nil {
				return err
			}
			return j.flush()
		})
		if err != nil {
			return "", err
		}
		err = writeFile(filepath.Join(dir, "users.ndjson"), func(w io.Writer) error {
			j := newJW(w)
			gw := &gitterWriter{g: g, j: j, style: gitterStyle{userObject: true}}
			for k := 0; k < s.members; k++ {
				gw.user(s.member(k, len(g.users)))
				j.raw("\n")
			}
			return j.flush()
		})
		if err != nil {
			return "", err
		}
	}
	return out, nil
}
