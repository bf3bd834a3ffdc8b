package recordjson

import (
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/migrate-chat/migrate/sdk"
)

// AppendMessage appends the JSON encoding of m to dst: byte for byte what
// json.NewEncoder(w).Encode(m) writes, without the final newline. It fails,
// as encoding/json does, only on a time that JSON cannot express (a year
// outside 0…9999, or a zone offset of a day or more); dst is then returned
// as it was.
func AppendMessage(dst []byte, m *sdk.Message) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	n0 := len(dst)
	var err error
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, m.ID)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, string(m.Kind))
	if m.Room != "" {
		dst = append(dst, `,"room":`...)
		dst = appendString(dst, m.Room)
	}
	if m.Conversation != "" {
		dst = append(dst, `,"conversation":`...)
		dst = appendString(dst, m.Conversation)
	}
	dst = append(dst, `,"sender":`...)
	dst = appendString(dst, m.Sender)
	if m.SenderName != "" {
		dst = append(dst, `,"sender_name":`...)
		dst = appendString(dst, m.SenderName)
	}
	dst = append(dst, `,"sent_at":`...)
	if dst, err = appendTime(dst, m.SentAt, "sent_at"); err != nil {
		return dst[:n0], err
	}
	if m.EditedAt != nil {
		dst = append(dst, `,"edited_at":`...)
		if dst, err = appendTime(dst, *m.EditedAt, "edited_at"); err != nil {
			return dst[:n0], err
		}
	}
	if len(m.Edits) > 0 {
		dst = append(dst, `,"edits":[`...)
		for i := range m.Edits {
			e := &m.Edits[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"edited_at":`...)
			if dst, err = appendTime(dst, e.EditedAt, "edits.edited_at"); err != nil {
				return dst[:n0], err
			}
			dst = append(dst, `,"body":`...)
			dst = appendString(dst, e.Body)
			if e.Editor != "" {
				dst = append(dst, `,"editor":`...)
				dst = appendString(dst, e.Editor)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"body":`...)
	dst = appendString(dst, m.Body)
	if m.Original != "" {
		dst = append(dst, `,"original":`...)
		dst = appendString(dst, m.Original)
	}
	if m.OriginalFormat != "" {
		dst = append(dst, `,"original_format":`...)
		dst = appendString(dst, m.OriginalFormat)
	}
	if m.ThreadRoot != "" {
		dst = append(dst, `,"thread_root":`...)
		dst = appendString(dst, m.ThreadRoot)
	}
	if m.Topic != "" {
		dst = append(dst, `,"topic":`...)
		dst = appendString(dst, m.Topic)
	}
	if m.ReplyTo != "" {
		dst = append(dst, `,"reply_to":`...)
		dst = appendString(dst, m.ReplyTo)
	}
	if len(m.Mentions) > 0 {
		dst = append(dst, `,"mentions":[`...)
		for i := range m.Mentions {
			mn := &m.Mentions[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"kind":`...)
			dst = appendString(dst, string(mn.Kind))
			if mn.User != "" {
				dst = append(dst, `,"user":`...)
				dst = appendString(dst, mn.User)
			}
			if mn.Text != "" {
				dst = append(dst, `,"text":`...)
				dst = appendString(dst, mn.Text)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(m.Reactions) > 0 {
		dst = append(dst, `,"reactions":[`...)
		for i := range m.Reactions {
			r := &m.Reactions[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"emoji":`...)
			dst = appendString(dst, r.Emoji)
			if r.Custom {
				dst = append(dst, `,"custom":true`...)
			}
			dst = append(dst, `,"users":`...)
			dst = appendStrings(dst, r.Users)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(m.Attachments) > 0 {
		dst = append(dst, `,"attachments":`...)
		dst = appendStrings(dst, m.Attachments)
	}
	if m.Deleted {
		dst = append(dst, `,"deleted":true`...)
	}
	if len(m.Extra) > 0 {
		dst = append(dst, `,"extra":`...)
		dst = appendStringMap(dst, m.Extra)
	}
	return append(dst, '}'), nil
}

// AppendAttachment appends the JSON encoding of a to dst: byte for byte
// what json.NewEncoder(w).Encode(a) writes, without the final newline. It
// fails only on a created_at that JSON cannot express; dst is then
// returned as it was.
func AppendAttachment(dst []byte, a *sdk.Attachment) ([]byte, error) {
	if a == nil {
		return append(dst, "null"...), nil
	}
	n0 := len(dst)
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, a.ID)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, a.Message)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, a.Name)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, a.Size, 10)
	if a.ContentType != "" {
		dst = append(dst, `,"content_type":`...)
		dst = appendString(dst, a.ContentType)
	}
	if a.SHA256 != "" {
		dst = append(dst, `,"sha256":`...)
		dst = appendString(dst, a.SHA256)
	}
	if a.URL != "" {
		dst = append(dst, `,"url":`...)
		dst = appendString(dst, a.URL)
	}
	if a.Path != "" {
		dst = append(dst, `,"path":`...)
		dst = appendString(dst, a.Path)
	}
	if a.Uploader != "" {
		dst = append(dst, `,"uploader":`...)
		dst = appendString(dst, a.Uploader)
	}
	if a.CreatedAt != nil {
		dst = append(dst, `,"created_at":`...)
		var err error
		if dst, err = appendTime(dst, *a.CreatedAt, "created_at"); err != nil {
			return dst[:n0], err
		}
	}
	return append(dst, '}'), nil
}

// appendStrings writes a string slice as encoding/json does: null for a
// nil slice, [] for an empty one.
func appendStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendStringMap writes a non-empty map with its keys in byte order, as
// encoding/json sorts them.
func appendStringMap(dst []byte, m map[string]string) []byte {
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, m[k])
	}
	return append(dst, '}')
}

// appendTime writes t as time.Time.MarshalJSON does: RFC 3339 with as many
// fractional digits as needed, refusing what RFC 3339 cannot express.
func appendTime(dst []byte, t time.Time, field string) ([]byte, error) {
	dst = append(dst, '"')
	n0 := len(dst)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	s := dst[n0:]
	// A four-digit year is followed by '-'; a larger or negative one is
	// not.
	if s[4] != '-' {
		return dst, fmt.Errorf("%s: the time %s has a year outside 0…9999, which JSON times cannot hold", field, s)
	}
	if s[len(s)-1] != 'Z' {
		// The offset is ±hh:mm; an offset of 24 hours or more prints as
		// a wider hour.
		c := s[len(s)-6]
		h := s[len(s)-5:]
		if ('0' <= c && c <= '9') || 10*(h[0]-'0')+(h[1]-'0') >= 24 {
			return dst, fmt.Errorf("%s: the time %s has a zone offset of a day or more, which JSON times cannot hold", field, s)
		}
	}
	return append(dst, '"'), nil
}

const hexDigits = "0123456789abcdef"

// plain marks the ASCII bytes that encoding/json copies as they are when it
// escapes HTML: every printable character but ", \, <, > and &.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// appendString writes s as a JSON string, escaping as encoding/json does
// with HTML escaping on (the default of json.Encoder and json.Marshal).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && !needsEscape8(load8(s, i)) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				// Other control characters, and < > &.
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but line terminators in JavaScript.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
