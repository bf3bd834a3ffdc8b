package gen

import (
	"encoding/hex"
	"strconv"
	"strings"
)

// dialect says how a format spells mentions and markup.
type dialect uint8

const (
	dGitter dialect = iota
	dHipChat
	dCanonical
	dMatrix
)

// gitterID is a 24-hex Mongo ObjectId: 4 bytes of seconds, then 8 bytes
// from a hash, so ids sort by time the way Gitter's did.
func gitterID(b []byte, sec int64, h uint64) []byte {
	var raw [12]byte
	raw[0], raw[1], raw[2], raw[3] = byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec)
	for i := 0; i < 8; i++ {
		raw[4+i] = byte(h >> (8 * i))
	}
	return hex.AppendEncode(b, raw[:])
}

// uuid spells a version-4 UUID from two hashes.
func uuid(b []byte, h1, h2 uint64) []byte {
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(h1 >> (8 * i))
		raw[8+i] = byte(h2 >> (8 * i))
	}
	raw[6] = raw[6]&0x0f | 0x40
	raw[8] = raw[8]&0x3f | 0x80
	var s [32]byte
	hex.Encode(s[:], raw[:])
	b = append(b, s[0:8]...)
	b = append(b, '-')
	b = append(b, s[8:12]...)
	b = append(b, '-')
	b = append(b, s[12:16]...)
	b = append(b, '-')
	b = append(b, s[16:20]...)
	b = append(b, '-')
	return append(b, s[20:32]...)
}

// gitterUsername is the user's Gitter login (GitHub name, or with a
// provider suffix for Twitter and GitLab logins).
func (u *user) gitterUsername() string { return strings.ToLower(u.handle()) + u.provider }

// appendText renders m's segments as source text in the format's dialect:
// Markdown for Gitter and canonical, plain text for HipChat.
func (w *world) appendText(b []byte, m *Msg, d dialect) []byte {
	if d == dHipChat && m.Kind == kindEmote {
		b = append(b, "/me "...)
	}
	if d == dHipChat && len(m.Segs) == 1 && m.Segs[0].kind == segCodeBlock {
		return append(append(b, "/code "...), m.Segs[0].text...)
	}
	for k := range m.Segs {
		sg := &m.Segs[k]
		if k > 0 && sg.kind != segBreak && m.Segs[k-1].kind != segBreak {
			b = append(b, ' ')
		}
		switch sg.kind {
		case segText, segRaw, segEmoticon:
			b = append(b, sg.text...)
		case segMention:
			u := &w.users[sg.user]
			b = append(b, '@')
			switch d {
			case dGitter:
				b = append(b, u.gitterUsername()...)
			case dMatrix:
				b = append(b, u.displayName()...)
			default:
				b = append(b, u.mentionName()...)
			}
		case segAll:
			if d == dGitter {
				b = append(b, "@/all"...)
			} else if d == dMatrix {
				b = append(b, "@room"...)
			} else {
				b = append(b, "@all"...)
			}
		case segHere:
			if d == dGitter {
				b = append(b, "@/all"...)
			} else if d == dMatrix {
				b = append(b, "@room"...)
			} else {
				b = append(b, "@here"...)
			}
		case segIssue:
			b = append(b, sg.text...)
			b = append(b, '#')
			b = strconv.AppendInt(b, int64(sg.num), 10)
		case segCode:
			b = append(b, '`')
			b = append(b, sg.text...)
			b = append(b, '`')
		case segCodeBlock:
			b = append(b, "```"...)
			b = append(b, sg.lang...)
			b = append(b, '\n')
			b = append(b, sg.text...)
			b = append(b, "\n```"...)
		case segURL:
			b = append(b, sg.text...)
		case segEmoji:
			b = append(b, ':')
			b = append(b, sg.text...)
			b = append(b, ':')
		case segBold:
			b = append(b, "**"...)
			b = append(b, sg.text...)
			b = append(b, "**"...)
		case segBreak:
			b = append(b, '\n')
		}
	}
	return b
}

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '&':
			b = append(b, "&amp;"...)
		case '"':
			b = append(b, "&quot;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendHTML renders m the way Gitter's server (and Matrix clients)
// rendered messages: mention and issue spans, links, highlighted code.
func (w *world) appendHTML(b []byte, m *Msg, d dialect) []byte {
	for k := range m.Segs {
		sg := &m.Segs[k]
		if k > 0 && sg.kind != segBreak && m.Segs[k-1].kind != segBreak {
			b = append(b, ' ')
		}
		switch sg.kind {
		case segText, segRaw, segEmoticon:
			b = appendEscaped(b, sg.text)
		case segMention:
			u := &w.users[sg.user]
			if d == dMatrix {
				b = append(b, `<a href="https://matrix.to/#/`...)
				b = w.appendMatrixUser(b, sg.user)
				b = append(b, `">`...)
				b = appendEscaped(b, u.displayName())
				b = append(b, "</a>"...)
				continue
			}
			b = append(b, `<span data-link-type="mention" data-screen-name="`...)
			b = append(b, u.gitterUsername()...)
			b = append(b, `" class="mention">@`...)
			b = append(b, u.gitterUsername()...)
			b = append(b, "</span>"...)
		case segAll, segHere:
			if d == dMatrix {
				b = append(b, "@room"...)
				continue
			}
			b = append(b, `<span data-link-type="groupmention" data-group-name="all" class="groupmention">@/all</span>`...)
		case segIssue:
			b = append(b, `<span data-link-type="issue" data-issue="`...)
			b = strconv.AppendInt(b, int64(sg.num), 10)
			if sg.text != "" {
				b = append(b, `" data-issue-repo="`...)
				b = append(b, sg.text...)
			}
			b = append(b, `" class="issue">`...)
			b = append(b, sg.text...)
			b = append(b, '#')
			b = strconv.AppendInt(b, int64(sg.num), 10)
			b = append(b, "</span>"...)
		case segCode:
			b = append(b, "<code>"...)
			b = appendEscaped(b, sg.text)
			b = append(b, "</code>"...)
		case segCodeBlock:
			b = append(b, "<pre><code"...)
			if sg.lang != "" {
				b = append(b, ` class="`...)
				b = append(b, sg.lang...)
				b = append(b, '"')
			}
			b = append(b, '>')
			b = appendEscaped(b, sg.text)
			b = append(b, "</code></pre>"...)
		case segURL:
			b = append(b, `<a href="`...)
			b = appendEscaped(b, sg.text)
			b = append(b, `" rel="nofollow" target="_blank" class="link">`...)
			b = appendEscaped(b, sg.text)
			b = append(b, "</a>"...)
		case segEmoji:
			b = append(b, ':')
			b = append(b, sg.text...)
			b = append(b, ':')
		case segBold:
			b = append(b, "<strong>"...)
			b = appendEscaped(b, sg.text)
			b = append(b, "</strong>"...)
		case segBreak:
			b = append(b, "<br>"...)
		}
	}
	return b
}

// appendMatrixUser spells a user's Matrix id: bridged Gitter users are
// @<name>-<gitterId>:gitter.im, native Matrix users live on matrix.org.
func (w *world) appendMatrixUser(b []byte, u int) []byte {
	us := &w.users[u]
	b = append(b, '@')
	if us.virtual {
		b = append(b, strings.ToLower(us.handle())...)
		return append(b, ":matrix.org"...)
	}
	b = append(b, us.gitterUsername()...)
	b = append(b, '-')
	b = w.appendGitterUserID(b, u)
	return append(b, ":gitter.im"...)
}

func (w *world) appendGitterUserID(b []byte, u int) []byte {
	us := &w.users[u]
	if us.virtual {
		b = append(b, "matrix-"...)
		return append(b, strings.ToLower(us.handle())...)
	}
	return gitterID(b, us.created.Unix(), hash3(w.cfg.Seed, uint64(u), 0, tagID))
}

// slug makes a room name into a URI path segment.
func slug(name string, i int) string {
	var sb strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			sb.WriteRune(r)
			dash = false
		} else if !dash && sb.Len() > 0 {
			sb.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(sb.String(), "-")
	if s == "" {
		s = "room-" + strconv.Itoa(i)
	}
	return s
}
