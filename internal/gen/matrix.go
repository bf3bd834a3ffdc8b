package gen

import (
	"context"
	"encoding/base64"
	"io"
	"path/filepath"
	"strings"
)

// Element's JSON export holds raw Matrix events. Gitter's history was
// imported into gitter.im in 2023, so bridged users appear as
// @<name>-<gitterId>:gitter.im; edits are m.replace events, reactions
// m.annotation events and thread replies m.thread relations, each written
// right after the message it refers to and before the next one.

type matrixWriter struct {
	g       *generator
	j       *jw
	s       *stream
	roomID  string
	scratch []byte
	text    []byte
	html    []byte
}

func (mw *matrixWriter) eventID(b []byte, stream, idx, sub uint64) []byte {
	var raw [24]byte
	h1 := hash3(mw.g.cfg.Seed, stream, idx, tagID^sub<<8)
	h2, h3 := mix(h1), mix(h1^0x5555)
	for i := 0; i < 8; i++ {
		raw[i], raw[8+i], raw[16+i] = byte(h1>>(8*i)), byte(h2>>(8*i)), byte(h3>>(8*i))
	}
	b = append(b, '$')
	return base64.RawURLEncoding.AppendEncode(b, raw[:])
}

// head writes the fields every event shares.
func (mw *matrixWriter) head(typ string, sender int, tsMS int64, stream, idx, sub uint64) {
	j := mw.j
	j.kStr("type", typ)
	j.kStr("room_id", mw.roomID)
	j.key("sender")
	j.strB(mw.g.appendMatrixUser(mw.scratch[:0], sender))
	j.kInt("origin_server_ts", tsMS)
	j.key("event_id")
	j.strB(mw.eventID(mw.scratch[:0], stream, idx, sub))
	j.key("unsigned")
	j.objStart()
	j.kInt("age", mw.g.exportTime.UnixMilli()-tsMS)
	j.objEnd()
}

func (mw *matrixWriter) message(m *Msg) {
	g, j := mw.g, mw.j
	s := m.s
	ms := wallTime(m.SentUS).UnixMilli()
	next := int64(-1)
	if m.NextSentUS >= 0 {
		next = wallTime(m.NextSentUS).UnixMilli()
	}
	// Follow-up events (edit, reactions) sit between this message and the
	// next, one millisecond apart where there is room.
	follow := func(k int64) int64 {
		t := ms + k
		if next >= 0 && t >= next {
			t = max(ms, next-1)
		}
		return t
	}
	mw.text = g.appendText(mw.text[:0], m, dMatrix)
	text := mw.text
	body := string(text)
	mw.html = g.appendHTML(mw.html[:0], m, dMatrix)
	formatted := string(mw.html)
	if m.EditedUS != 0 {
		// The event holds the text before the edit.
		body += " (draft)"
		formatted += " (draft)"
	}

	j.objStart()
	mw.head("m.room.message", m.Sender, ms, uint64(s.idx), uint64(m.Index), 0)
	j.key("content")
	j.objStart()
	switch {
	case m.Attach != nil:
		a := m.Attach
		msgtype := "m.file"
		if strings.HasPrefix(a.CType, "image/") {
			msgtype = "m.image"
		} else if strings.HasPrefix(a.CType, "video/") {
			msgtype = "m.video"
		}
		j.kStr("body", a.Name)
		j.kStr("filename", a.Name)
		j.key("info")
		j.objStart()
		j.kStr("mimetype", a.CType)
		j.kInt("size", a.Size)
		j.objEnd()
		j.kStr("msgtype", msgtype)
		j.kStr("url", "mxc://gitter.im/"+token(a.Seed, 24))
	default:
		j.kStr("body", body)
		j.kStr("format", "org.matrix.custom.html")
		j.kStr("formatted_body", formatted)
		switch m.Kind {
		case kindEmote:
			j.kStr("msgtype", "m.emote")
		case kindNotification:
			j.kStr("msgtype", "m.notice")
		default:
			j.kStr("msgtype", "m.text")
		}
	}
	if len(m.Mentions) > 0 || m.All || m.Here {
		j.key("m.mentions")
		j.objStart()
		if m.All || m.Here {
			j.kBool("room", true)
		}
		if len(m.Mentions) > 0 {
			j.key("user_ids")
			j.arrStart()
			for _, u := range m.Mentions {
				j.strB(g.appendMatrixUser(mw.scratch[:0], u))
			}
			j.arrEnd()
		}
		j.objEnd()
	}
	if m.Parent >= 0 {
		j.key("m.relates_to")
		j.objStart()
		j.kStr("rel_type", "m.thread")
		j.key("event_id")
		j.strB(mw.eventID(mw.scratch[:0], uint64(s.idx), uint64(m.Parent), 0))
		j.kBool("is_falling_back", true)
		j.key("m.in_reply_to")
		j.objStart()
		j.key("event_id")
		j.strB(mw.eventID(mw.scratch[:0], uint64(s.idx), uint64(m.Parent), 0))
		j.objEnd()
		j.objEnd()
	}
	j.objEnd()
	j.objEnd()

	k := int64(1)
	if m.EditedUS != 0 && m.Attach == nil {
		j.objStart()
		mw.head("m.room.message", m.Sender, follow(k), uint64(s.idx), uint64(m.Index), 1)
		k++
		j.key("content")
		j.objStart()
		j.kStr("body", "* "+string(text))
		j.kStr("msgtype", "m.text")
		j.key("m.new_content")
		j.objStart()
		j.kStr("body", string(text))
		j.kStr("format", "org.matrix.custom.html")
		j.kStr("formatted_body", string(mw.html))
		j.kStr("msgtype", "m.text")
		j.objEnd()
		j.key("m.relates_to")
		j.objStart()
		j.kStr("rel_type", "m.replace")
		j.key("event_id")
		j.strB(mw.eventID(mw.scratch[:0], uint64(s.idx), uint64(m.Index), 0))
		j.objEnd()
		j.objEnd()
		j.objEnd()
	}
	for ri, r := range m.Reactions {
		for ui, u := range r.users {
			j.objStart()
			mw.head("m.reaction", u, follow(k), uint64(s.idx), uint64(m.Index), uint64(2+ri*16+ui))
			k++
			j.key("content")
			j.objStart()
			j.key("m.relates_to")
			j.objStart()
			j.kStr("rel_type", "m.annotation")
			j.key("event_id")
			j.strB(mw.eventID(mw.scratch[:0], uint64(s.idx), uint64(m.Index), 0))
			j.kStr("key", reactionEmoji[r.emoji])
			j.objEnd()
			j.objEnd()
			j.objEnd()
		}
	}
}

func genGitterMatrix(ctx context.Context, g *generator, out string) (string, error) {
	date := g.exportTime.Format("2006-01-02T15-04-05.000Z")
	for _, s := range g.rooms {
		name := "matrix - " + strings.NewReplacer("/", "_", ":", "_").Replace(s.name) + " - Chat Export - " + date + ".json"
		err := writeFile(filepath.Join(out, name), func(w io.Writer) error {
			j := newJW(w)
			j.indent = "    "
			mw := &matrixWriter{g: g, j: j, s: s}
			mw.roomID = "!" + token(hash3(g.cfg.Seed, uint64(s.idx), 3, tagID), 18) + ":gitter.im"
			creator := s.member(0, len(g.users))
			j.objStart()
			j.kStr("room_name", s.name)
			j.key("room_creator")
			j.strB(g.appendMatrixUser(nil, creator))
			j.kStr("topic", s.topic)
			j.kStr("export_date", g.exportTime.Format("02/01/2006"))
			j.key("exported_by")
			j.strB(g.appendMatrixUser(nil, s.member(1%s.members, len(g.users))))
			j.key("messages")
			j.arrStart()
			created := s.created.UnixMilli()
			j.objStart()
			mw.head("m.room.create", creator, created, uint64(s.idx), 1<<40, 0)
			j.key("content")
			j.objStart()
			j.key("creator")
			j.strB(g.appendMatrixUser(nil, creator))
			j.kStr("room_version", "9")
			j.objEnd()
			j.objEnd()
			if s.topic != "" {
				j.objStart()
				mw.head("m.room.topic", creator, created+1, uint64(s.idx), 1<<40, 1)
				j.key("content")
				j.objStart()
				j.kStr("topic", s.topic)
				j.objEnd()
				j.objEnd()
			}
			err := g.eachRoomMessage(ctx, s, mw.message)
			if err != nil {
				return err
			}
			j.arrEnd()
			j.objEnd()
			j.raw("\n")
			return j.flush()
		})
		if err != nil {
			return "", err
		}
	}
	return out, nil
}
