package pixtoome

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The writer builds rows by appending to byte slices: message and
// usermessage rows are written millions of times, and reflection-based
// encoding costs several times more than these few appends (see
// BenchmarkWriteMessages). Rows are objects with keys in a fixed order.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD so
// that the output is always valid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"':
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

// appendTime appends t as epoch seconds, the form every date field takes.
// Whole seconds are written as integers, others with microseconds.
func appendTime(b []byte, t time.Time) []byte {
	if t.Nanosecond() == 0 {
		return strconv.AppendInt(b, t.Unix(), 10)
	}
	f := float64(t.UnixMicro()) / 1e6
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendOptInt appends n, or null when n is 0 (the converters' ids start
// at 1, so 0 means "none").
func appendOptInt(b []byte, n int64) []byte {
	if n == 0 {
		return append(b, "null"...)
	}
	return appendInt(b, n)
}

// epoch converts an epoch-seconds value read back to a time.
func epoch(f float64) time.Time {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Unix(0, 0).UTC()
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).UTC()
}

// obj builds one JSON object with keys in insertion order.
type obj struct {
	b     []byte
	first bool
}

func newObj(b []byte) obj { return obj{b: append(b, '{'), first: true} }

func (o *obj) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *obj) str(k, v string)       { o.key(k); o.b = appendString(o.b, v) }
func (o *obj) int(k string, v int64) { o.key(k); o.b = appendInt(o.b, v) }
func (o *obj) optInt(k string, v int64) {
	o.key(k)
	o.b = appendOptInt(o.b, v)
}
func (o *obj) bool(k string, v bool)      { o.key(k); o.b = appendBool(o.b, v) }
func (o *obj) null(k string)              { o.key(k); o.b = append(o.b, "null"...) }
func (o *obj) time(k string, t time.Time) { o.key(k); o.b = appendTime(o.b, t) }
func (o *obj) raw(k, v string)            { o.key(k); o.b = append(o.b, v...) }
func (o *obj) optStr(k, v string) {
	if v == "" {
		o.null(k)
		return
	}
	o.str(k, v)
}
func (o *obj) done() []byte { return append(o.b, '}') }
