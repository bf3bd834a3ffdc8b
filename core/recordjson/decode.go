package recordjson

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/migrate-chat/migrate/sdk"
)

// DecodeMessage decodes one JSON message record into m. The result, and
// whether there is an error, are those of json.Unmarshal(line, m) on a
// zero m: unlike json.Unmarshal, DecodeMessage first clears m, so that
// nothing of a previous record stays in a reused struct. Every string is
// copied out of line, which may be reused afterwards.
//
// Lines in the shape the encoders write (any field order, any whitespace
// and escapes) are decoded directly; any other line goes to json.Unmarshal,
// which also words the error.
func DecodeMessage(line []byte, m *sdk.Message) error {
	*m = sdk.Message{}
	d := decoder{data: line}
	if d.message(m) {
		return nil
	}
	*m = sdk.Message{}
	return json.Unmarshal(line, m)
}

// DecodeAttachment decodes one JSON attachment record into a, with the
// result of json.Unmarshal(line, a) on a zero a; see DecodeMessage.
func DecodeAttachment(line []byte, a *sdk.Attachment) error {
	*a = sdk.Attachment{}
	d := decoder{data: line}
	if d.attachment(a) {
		return nil
	}
	*a = sdk.Attachment{}
	return json.Unmarshal(line, a)
}

// decoder scans one JSON value. Every method returns false as soon as the
// input leaves what the scanner handles, whether the input is wrong or just
// unusual: the caller then hands the whole line to encoding/json.
type decoder struct {
	data []byte
	pos  int
}

// Field bits, to refuse a repeated field: encoding/json's rules for those
// (the last wins, but a repeated array or object is merged) are left to it.
const (
	fID = 1 << iota
	fKind
	fRoom
	fConversation
	fSender
	fSenderName
	fSentAt
	fEditedAt
	fEdits
	fBody
	fOriginal
	fOriginalFormat
	fThreadRoot
	fTopic
	fReplyTo
	fMentions
	fReactions
	fAttachments
	fDeleted
	fExtra
)

func (d *decoder) message(m *sdk.Message) bool {
	return d.object(func(key []byte) (bit uint32, ok bool) {
		switch string(key) {
		case "id":
			bit = fID
			m.ID, ok = d.str()
		case "kind":
			bit = fKind
			var s string
			s, ok = d.kind(messageKinds[:])
			m.Kind = sdk.MessageKind(s)
		case "room":
			bit = fRoom
			m.Room, ok = d.str()
		case "conversation":
			bit = fConversation
			m.Conversation, ok = d.str()
		case "sender":
			bit = fSender
			m.Sender, ok = d.str()
		case "sender_name":
			bit = fSenderName
			m.SenderName, ok = d.str()
		case "sent_at":
			bit = fSentAt
			ok = d.time(&m.SentAt)
		case "edited_at":
			bit = fEditedAt
			m.EditedAt = new(time.Time)
			ok = d.time(m.EditedAt)
		case "edits":
			bit = fEdits
			m.Edits, ok = d.edits()
		case "body":
			bit = fBody
			m.Body, ok = d.str()
		case "original":
			bit = fOriginal
			m.Original, ok = d.str()
		case "original_format":
			bit = fOriginalFormat
			m.OriginalFormat, ok = d.str()
		case "thread_root":
			bit = fThreadRoot
			m.ThreadRoot, ok = d.str()
		case "topic":
			bit = fTopic
			m.Topic, ok = d.str()
		case "reply_to":
			bit = fReplyTo
			m.ReplyTo, ok = d.str()
		case "mentions":
			bit = fMentions
			m.Mentions, ok = d.mentions()
		case "reactions":
			bit = fReactions
			m.Reactions, ok = d.reactions()
		case "attachments":
			bit = fAttachments
			m.Attachments, ok = d.strs()
		case "deleted":
			bit = fDeleted
			m.Deleted, ok = d.bool()
		case "extra":
			bit = fExtra
			m.Extra, ok = d.strMap()
		}
		return bit, ok
	}) && d.end()
}

const (
	aID = 1 << iota
	aMessage
	aName
	aSize
	aContentType
	aSHA256
	aURL
	aPath
	aUploader
	aCreatedAt
)

func (d *decoder) attachment(a *sdk.Attachment) bool {
	return d.object(func(key []byte) (bit uint32, ok bool) {
		switch string(key) {
		case "id":
			bit = aID
			a.ID, ok = d.str()
		case "message":
			bit = aMessage
			a.Message, ok = d.str()
		case "name":
			bit = aName
			a.Name, ok = d.str()
		case "size":
			bit = aSize
			a.Size, ok = d.int64()
		case "content_type":
			bit = aContentType
			a.ContentType, ok = d.str()
		case "sha256":
			bit = aSHA256
			a.SHA256, ok = d.str()
		case "url":
			bit = aURL
			a.URL, ok = d.str()
		case "path":
			bit = aPath
			a.Path, ok = d.str()
		case "uploader":
			bit = aUploader
			a.Uploader, ok = d.str()
		case "created_at":
			bit = aCreatedAt
			a.CreatedAt = new(time.Time)
			ok = d.time(a.CreatedAt)
		}
		return bit, ok
	}) && d.end()
}

// end accepts only whitespace after the top-level value.
func (d *decoder) end() bool {
	if d.pos < 0 {
		return false
	}
	d.skipSpace()
	return d.pos == len(d.data)
}

// object decodes an object. field decodes the value of one key and
// returns the key's bit (0 for a key the type does not have); an unknown
// or repeated key makes the line undecodable here, so the caller falls
// back to encoding/json.
func (d *decoder) object(field func(key []byte) (bit uint32, ok bool)) bool {
	if !d.beginObject() {
		return false
	}
	var seen uint32
	for more := d.firstKey(); more; more = d.nextKey() {
		key, ok := d.key()
		if !ok {
			return false
		}
		bit, ok := field(key)
		if !ok || bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return d.pos >= 0
}

// objectArray decodes an array of objects, each through object.
func objectArray[T any](d *decoder, field func(key []byte, t *T) (bit uint32, ok bool)) ([]T, bool) {
	if !d.beginArray() {
		return nil, false
	}
	out := []T{}
	for more := d.firstElem(); more; more = d.nextElem() {
		var zero T
		out = append(out, zero)
		t := &out[len(out)-1]
		if !d.object(func(key []byte) (uint32, bool) { return field(key, t) }) {
			return nil, false
		}
	}
	return out, d.pos >= 0
}

func (d *decoder) edits() ([]sdk.Edit, bool) {
	return objectArray(d, func(key []byte, e *sdk.Edit) (uint32, bool) {
		switch string(key) {
		case "edited_at":
			return 1, d.time(&e.EditedAt)
		case "body":
			var ok bool
			e.Body, ok = d.str()
			return 2, ok
		case "editor":
			var ok bool
			e.Editor, ok = d.str()
			return 4, ok
		}
		return 0, false
	})
}

func (d *decoder) mentions() ([]sdk.Mention, bool) {
	return objectArray(d, func(key []byte, mn *sdk.Mention) (uint32, bool) {
		var ok bool
		switch string(key) {
		case "kind":
			var s string
			s, ok = d.kind(mentionKinds[:])
			mn.Kind = sdk.MentionKind(s)
			return 1, ok
		case "user":
			mn.User, ok = d.str()
			return 2, ok
		case "text":
			mn.Text, ok = d.str()
			return 4, ok
		}
		return 0, false
	})
}

func (d *decoder) reactions() ([]sdk.Reaction, bool) {
	return objectArray(d, func(key []byte, r *sdk.Reaction) (uint32, bool) {
		ok := true
		switch string(key) {
		case "emoji":
			r.Emoji, ok = d.str()
			return 1, ok
		case "custom":
			r.Custom, ok = d.bool()
			return 2, ok
		case "users":
			// The encoders write null for a nil list of users; null
			// leaves the fresh element's nil as it is.
			if !d.null() {
				r.Users, ok = d.strs()
			}
			return 4, ok
		}
		return 0, false
	})
}

// strs decodes an array of strings; an empty array gives an empty slice,
// not nil, as with encoding/json.
func (d *decoder) strs() ([]string, bool) {
	if !d.beginArray() {
		return nil, false
	}
	ss := []string{}
	for more := d.firstElem(); more; more = d.nextElem() {
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		ss = append(ss, s)
	}
	return ss, d.pos >= 0
}

// strMap decodes an object of strings. A repeated key keeps its last
// value, as with encoding/json.
func (d *decoder) strMap() (map[string]string, bool) {
	if !d.beginObject() {
		return nil, false
	}
	m := map[string]string{}
	for more := d.firstKey(); more; more = d.nextKey() {
		k, ok := d.str()
		if !ok || !d.colon() {
			return nil, false
		}
		v, ok := d.str()
		if !ok {
			return nil, false
		}
		m[k] = v
	}
	return m, d.pos >= 0
}

// The iteration helpers: firstX is called after the opening bracket and
// nextX after each member; both report whether a member follows. On a
// syntax error they set pos to -1 and report false.

func (d *decoder) beginObject() bool {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '{' {
		d.pos++
		return true
	}
	return false
}

func (d *decoder) beginArray() bool {
	if d.pos < len(d.data) && d.data[d.pos] == '[' {
		d.pos++
		return true
	}
	return false
}

func (d *decoder) firstKey() bool  { return d.first('}') }
func (d *decoder) nextKey() bool   { return d.next('}') }
func (d *decoder) firstElem() bool { return d.first(']') }
func (d *decoder) nextElem() bool  { return d.next(']') }

func (d *decoder) first(close byte) bool {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == close {
		d.pos++
		return false
	}
	return true
}

func (d *decoder) next(close byte) bool {
	if d.pos < 0 {
		return false
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
			return true
		case close:
			d.pos++
			return false
		}
	}
	d.pos = -1
	return false
}

// key reads an object key and its colon. Only the raw bytes are returned:
// the known keys are plain ASCII, so a key with an escape or anything
// unusual is simply unknown, and unknown keys go to encoding/json.
func (d *decoder) key() ([]byte, bool) {
	if d.pos < 0 || d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, false
	}
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			if !d.colon() {
				return nil, false
			}
			return d.data[start:i], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

func (d *decoder) colon() bool {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ':' {
		d.pos++
		d.skipSpace()
		return true
	}
	return false
}

func (d *decoder) skipSpace() {
	for d.pos >= 0 && d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// null skips a null literal, if there is one.
func (d *decoder) null() bool {
	if len(d.data)-d.pos >= 4 && string(d.data[d.pos:d.pos+4]) == "null" {
		d.pos += 4
		return true
	}
	return false
}

func (d *decoder) bool() (bool, bool) {
	rest := d.data[d.pos:]
	if len(rest) >= 4 && string(rest[:4]) == "true" {
		d.pos += 4
		return true, true
	}
	if len(rest) >= 5 && string(rest[:5]) == "false" {
		d.pos += 5
		return false, true
	}
	return false, false
}

// int64 reads an integer in JSON's grammar that fits an int64. Fractions,
// exponents and overflow are left to encoding/json (which refuses them for
// an int64 field).
func (d *decoder) int64() (int64, bool) {
	i := d.pos
	neg := false
	if i < len(d.data) && d.data[i] == '-' {
		neg = true
		i++
	}
	start := i
	var u uint64
	for ; i < len(d.data); i++ {
		c := d.data[i]
		if c < '0' || c > '9' {
			break
		}
		if i-start >= 19 {
			return 0, false
		}
		u = u*10 + uint64(c-'0') // 19 digits fit a uint64
	}
	n := i - start
	if n == 0 || (n > 1 && d.data[start] == '0') {
		return 0, false
	}
	if i < len(d.data) {
		if c := d.data[i]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	if u > math.MaxInt64+1 || (!neg && u > math.MaxInt64) {
		return 0, false
	}
	d.pos = i
	if neg {
		return int64(-u), true
	}
	return int64(u), true
}

var messageKinds = [...]string{
	string(sdk.MessageNormal), string(sdk.MessageEmote), string(sdk.MessageNotification),
	string(sdk.MessageTopicChange), string(sdk.MessageSystem),
}

var mentionKinds = [...]string{
	string(sdk.MentionUser), string(sdk.MentionAll), string(sdk.MentionHere), string(sdk.MentionGroup),
}

// kind reads a string that is usually one of a few known values, which are
// shared instead of copied.
func (d *decoder) kind(known []string) (string, bool) {
	start := d.pos
	raw, ok := d.rawString()
	if !ok {
		return "", false
	}
	for _, k := range known {
		if string(raw[1:len(raw)-1]) == k {
			return k, true
		}
	}
	d.pos = start
	return d.str()
}

// time reads a time as encoding/json does: the string literal, escapes and
// all, goes to time.Time.UnmarshalJSON.
func (d *decoder) time(t *time.Time) bool {
	raw, ok := d.rawString()
	return ok && t.UnmarshalJSON(raw) == nil
}

// rawString returns a string literal with its quotes, checked against
// JSON's grammar but not unquoted.
func (d *decoder) rawString() ([]byte, bool) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, false
	}
	start := d.pos
	for i := start + 1; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			return d.data[start:d.pos], true
		case c < 0x20:
			return nil, false
		case c == '\\':
			i++
			if i >= len(d.data) {
				return nil, false
			}
			switch d.data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if hex4(d.data[i+1:]) < 0 {
					return nil, false
				}
				i += 4
			default:
				return nil, false
			}
		}
	}
	return nil, false
}

// strPlain marks the bytes that stand for themselves in a JSON string and
// need no check: printable ASCII but the quote and the backslash.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads a string value and returns a copy of its contents.
func (d *decoder) str() (string, bool) {
	data := d.data
	if d.pos >= len(data) || data[d.pos] != '"' {
		return "", false
	}
	start := d.pos + 1
	i := start
	for i < len(data) {
		for i+8 <= len(data) && !needsUnquote8(binary.LittleEndian.Uint64(data[i:])) {
			i += 8
		}
		if i >= len(data) {
			break
		}
		c := data[i]
		if strPlain[c] {
			i++
			continue
		}
		if c == '"' {
			d.pos = i + 1
			return string(data[start:i]), true
		}
		if c < utf8.RuneSelf {
			// An escape or a control character.
			return d.strSlow(start, i)
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return d.strSlow(start, i)
		}
		i += size
	}
	return "", false
}

// strSlow unquotes a string from start, of which the bytes up to i need no
// change, as encoding/json does: escapes are decoded, an unpaired surrogate
// escape and each byte of invalid UTF-8 become U+FFFD.
func (d *decoder) strSlow(start, i int) (string, bool) {
	data := d.data
	// The unquoted string is at most as long as the quoted one, but for
	// invalid UTF-8, which grows threefold.
	var b strings.Builder
	b.Grow(quotedLen(data[i:]) + i - start)
	b.Write(data[start:i])
	for i < len(data) {
		// Copy a run of plain bytes at once.
		j := i
		for j+8 <= len(data) && !needsUnquote8(binary.LittleEndian.Uint64(data[j:])) {
			j += 8
		}
		for j < len(data) && strPlain[data[j]] {
			j++
		}
		b.Write(data[i:j])
		if i = j; i >= len(data) {
			break
		}
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return b.String(), true
		case c < 0x20:
			return "", false
		case c == '\\':
			if i+1 >= len(data) {
				return "", false
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r := hex4(data[i+2:])
				if r < 0 {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						r2 = hex4(data[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b.WriteRune(dec)
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				b.WriteRune(r)
				continue
			default:
				return "", false
			}
			i += 2
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString("\uFFFD")
			} else {
				b.Write(data[i : i+size])
			}
			i += size
		}
	}
	return "", false
}

// quotedLen returns the length of the rest of a string literal up to its
// closing quote, or of b when there is none.
func quotedLen(b []byte) int {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(b)
}

// hex4 decodes the four hex digits at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
