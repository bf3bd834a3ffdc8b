package gitter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonReader is a pull parser over a stream of JSON text. It exists because
// encoding/json decodes a realistic Gitter message (with its html, user
// object and mention list) at about 60k messages a second, far too slow
// for rooms of millions of messages; this reader skips the fields the
// adapter does not use without building them, reuses its buffers, and
// reports exact byte offsets and invalid UTF-8.
//
// Memory is bounded by the largest single value that is captured whole
// (see capture) or by the longest string read; skipped values cost nothing.
type jsonReader struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unread byte
	n    int   // bytes of buf holding data
	base int64 // input offset of buf[0]
	mark int   // start of a value being captured, or -1
	eof  bool
	rerr error
	// badUTF8 is set whenever a string held bytes that are not UTF-8; the
	// caller clears it per record.
	badUTF8 bool
	num     []byte
}

// syntaxError is malformed JSON at a byte offset of the input.
type syntaxError struct {
	off int64
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainRun returns how many leading bytes of b need no attention inside a
// JSON string: printable ASCII other than '"' and '\\'. It looks at eight
// bytes at a time, which makes long texts and skipped html cheap.
func plainRun(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ ('"' * lsb)
		bs := x ^ ('\\' * lsb)
		m := ((q - lsb) &^ q) | ((bs - lsb) &^ bs) | ((x - 0x20*lsb) &^ x) | x
		if m&msb != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x80 {
			break
		}
	}
	return i
}

// errTruncated is wrapped by errors about input that ends too soon.
var errTruncated = errors.New("unexpected end of input (the file looks truncated)")

func newJSONReader(r io.Reader, bufSize int) *jsonReader {
	if bufSize < 512 {
		bufSize = 512
	}
	return &jsonReader{r: r, buf: make([]byte, bufSize), mark: -1}
}

// offset is the input offset of the next unread byte.
func (j *jsonReader) offset() int64 { return j.base + int64(j.pos) }

func (j *jsonReader) errorf(format string, args ...any) error {
	return &syntaxError{off: j.offset(), msg: fmt.Sprintf(format, args...)}
}

func (j *jsonReader) truncated() error {
	if j.rerr != nil {
		return fmt.Errorf("reading at byte %d: %w", j.offset(), j.rerr)
	}
	return fmt.Errorf("%w at byte %d", errTruncated, j.offset())
}

// fill reads more input, keeping unread bytes (and a captured value) and
// growing the buffer only when it is full of them. It reports whether any
// byte was added.
func (j *jsonReader) fill() bool {
	if j.eof {
		return false
	}
	keep := j.pos
	if j.mark >= 0 && j.mark < keep {
		keep = j.mark
	}
	if keep > 0 {
		copy(j.buf, j.buf[keep:j.n])
		j.n -= keep
		j.pos -= keep
		if j.mark >= 0 {
			j.mark -= keep
		}
		j.base += int64(keep)
	}
	if j.n == len(j.buf) {
		nb := make([]byte, 2*len(j.buf))
		copy(nb, j.buf[:j.n])
		j.buf = nb
	}
	for tries := 0; ; tries++ {
		m, err := j.r.Read(j.buf[j.n:])
		j.n += m
		if err != nil {
			j.eof = true
			if err != io.EOF {
				j.rerr = err
			}
			return m > 0
		}
		if m > 0 {
			return true
		}
		if tries > 100 {
			j.eof = true
			j.rerr = io.ErrNoProgress
			return false
		}
	}
}

// ensure makes k unread bytes available if the input has them.
func (j *jsonReader) ensure(k int) bool {
	for j.n-j.pos < k {
		if !j.fill() {
			return false
		}
	}
	return true
}

// peek skips white space and returns the next byte without consuming it;
// io.EOF at the end of input.
func (j *jsonReader) peek() (byte, error) {
	if j.pos < j.n {
		if c := j.buf[j.pos]; c > ' ' {
			return c, nil
		}
	}
	return j.peekSlow()
}

func (j *jsonReader) peekSlow() (byte, error) {
	for {
		for j.pos < j.n {
			c := j.buf[j.pos]
			if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
				return c, nil
			}
			j.pos++
		}
		if !j.fill() {
			if j.rerr != nil {
				return 0, j.truncated()
			}
			return 0, io.EOF
		}
	}
}

// peekValue is peek where the end of input is an error.
func (j *jsonReader) peekValue() (byte, error) {
	if j.pos < j.n {
		if c := j.buf[j.pos]; c > ' ' {
			return c, nil
		}
	}
	c, err := j.peekSlow()
	if err == io.EOF {
		return 0, j.truncated()
	}
	return c, err
}

// consume expects c as the next non-space byte.
func (j *jsonReader) consume(c byte) error {
	got, err := j.peekValue()
	if err != nil {
		return err
	}
	if got != c {
		return j.errorf("expected %q, found %s", c, describe(got))
	}
	j.pos++
	return nil
}

func describe(c byte) string {
	switch {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	case c >= 0x20 && c < 0x7f:
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// nextKey reads the next member name of an object whose '{' was consumed;
// ok is false at the closing '}'. first must start true for each object.
// The key is only valid until the next call on j.
func (j *jsonReader) nextKey(first *bool, dst []byte) (key []byte, ok bool, err error) {
	c, err := j.peekValue()
	if err != nil {
		return nil, false, err
	}
	if c == '}' {
		j.pos++
		return nil, false, nil
	}
	if !*first {
		if c != ',' {
			return nil, false, j.errorf("expected ',' or '}' in an object, found %s", describe(c))
		}
		j.pos++
		if c, err = j.peekValue(); err != nil {
			return nil, false, err
		}
	}
	*first = false
	if c != '"' {
		return nil, false, j.errorf("expected a member name, found %s", describe(c))
	}
	// Fast path: a plain key wholly in the buffer, followed by ':', is
	// returned in place.
	if p := j.pos + 1; p < j.n {
		e := p + plainRun(j.buf[p:j.n])
		if e+1 < j.n && j.buf[e] == '"' && j.buf[e+1] == ':' {
			j.pos = e + 2
			return j.buf[p:e], true, nil
		}
	}
	key, err = j.readString(dst)
	if err != nil {
		return nil, false, err
	}
	if err := j.consume(':'); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// nextElem moves to the next element of an array whose '[' was consumed;
// ok is false at the closing ']'.
func (j *jsonReader) nextElem(first *bool) (ok bool, err error) {
	c, err := j.peekValue()
	if err != nil {
		return false, err
	}
	if c == ']' {
		j.pos++
		return false, nil
	}
	if !*first {
		if c != ',' {
			return false, j.errorf("expected ',' or ']' in an array, found %s", describe(c))
		}
		j.pos++
		if c, err = j.peekValue(); err != nil {
			return false, err
		}
		if c == ']' {
			return false, j.errorf("trailing comma in an array")
		}
	}
	*first = false
	return true, nil
}

// readString reads a string value (the next byte must be '"'), unescaped
// and appended to dst. Invalid UTF-8 becomes U+FFFD and sets badUTF8.
func (j *jsonReader) readString(dst []byte) ([]byte, error) {
	if err := j.consume('"'); err != nil {
		return dst, err
	}
	for {
		buf := j.buf[:j.n]
		i := j.pos + plainRun(buf[j.pos:])
		dst = append(dst, buf[j.pos:i]...)
		j.pos = i
		if i == len(buf) {
			if !j.fill() {
				return dst, j.truncated()
			}
			continue
		}
		switch c := buf[i]; {
		case c == '"':
			j.pos++
			return dst, nil
		case c == '\\':
			var err error
			if dst, err = j.readEscape(dst); err != nil {
				return dst, err
			}
		case c < 0x20:
			return dst, j.errorf("control character 0x%02x in a string", c)
		default:
			j.ensure(utf8.UTFMax)
			r, size := utf8.DecodeRune(j.buf[j.pos:j.n])
			if r == utf8.RuneError && size <= 1 {
				j.badUTF8 = true
				dst = utf8.AppendRune(dst, utf8.RuneError)
				j.pos++
				continue
			}
			dst = append(dst, j.buf[j.pos:j.pos+size]...)
			j.pos += size
		}
	}
}

func (j *jsonReader) readEscape(dst []byte) ([]byte, error) {
	if !j.ensure(2) {
		return dst, j.truncated()
	}
	c := j.buf[j.pos+1]
	j.pos += 2
	switch c {
	case '"', '\\', '/':
		return append(dst, c), nil
	case 'b':
		return append(dst, '\b'), nil
	case 'f':
		return append(dst, '\f'), nil
	case 'n':
		return append(dst, '\n'), nil
	case 'r':
		return append(dst, '\r'), nil
	case 't':
		return append(dst, '\t'), nil
	case 'u':
		r, err := j.hex4()
		if err != nil {
			return dst, err
		}
		if utf16.IsSurrogate(r) {
			// A surrogate pair is two escapes; a lone half becomes U+FFFD,
			// as encoding/json does.
			if j.ensure(6) && j.buf[j.pos] == '\\' && j.buf[j.pos+1] == 'u' {
				save := j.pos
				j.pos += 2
				r2, err := j.hex4()
				if err == nil {
					if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
						return utf8.AppendRune(dst, pair), nil
					}
				}
				j.pos = save
			}
			r = utf8.RuneError
		}
		return utf8.AppendRune(dst, r), nil
	}
	j.pos--
	return dst, j.errorf("invalid escape \\%c in a string", c)
}

func (j *jsonReader) hex4() (rune, error) {
	if !j.ensure(4) {
		return 0, j.truncated()
	}
	var r rune
	for _, c := range j.buf[j.pos : j.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, j.errorf("invalid \\u escape in a string")
		}
		r = r<<4 | rune(c)
	}
	j.pos += 4
	return r, nil
}

// skipString skips a string without keeping it, still checking it.
func (j *jsonReader) skipString() error {
	if err := j.consume('"'); err != nil {
		return err
	}
	for {
		buf := j.buf[:j.n]
		i := j.pos + plainRun(buf[j.pos:])
		j.pos = i
		if i == len(buf) {
			if !j.fill() {
				return j.truncated()
			}
			continue
		}
		switch c := buf[i]; {
		case c == '"':
			j.pos++
			return nil
		case c == '\\':
			if _, err := j.readEscape(nil); err != nil {
				return err
			}
		case c < 0x20:
			return j.errorf("control character 0x%02x in a string", c)
		default:
			j.ensure(utf8.UTFMax)
			r, size := utf8.DecodeRune(j.buf[j.pos:j.n])
			if r == utf8.RuneError && size <= 1 {
				j.badUTF8 = true
				size = 1
			}
			j.pos += size
		}
	}
}

// skipValue skips one value of any kind.
func (j *jsonReader) skipValue() error {
	c, err := j.peekValue()
	if err != nil {
		return err
	}
	switch c {
	case '"':
		return j.skipString()
	case '{':
		j.pos++
		first := true
		for {
			_, ok, err := j.nextKey(&first, nil)
			if err != nil || !ok {
				return err
			}
			if err := j.skipValue(); err != nil {
				return err
			}
		}
	case '[':
		j.pos++
		first := true
		for {
			ok, err := j.nextElem(&first)
			if err != nil || !ok {
				return err
			}
			if err := j.skipValue(); err != nil {
				return err
			}
		}
	case 't':
		return j.literal("true")
	case 'f':
		return j.literal("false")
	case 'n':
		return j.literal("null")
	}
	if c == '-' || (c >= '0' && c <= '9') {
		_, err := j.readNumber()
		return err
	}
	return j.errorf("expected a value, found %s", describe(c))
}

func (j *jsonReader) literal(word string) error {
	if !j.ensure(len(word)) {
		return j.truncated()
	}
	if string(j.buf[j.pos:j.pos+len(word)]) != word {
		return j.errorf("invalid literal, expected %s", word)
	}
	j.pos += len(word)
	return nil
}

// readNumber reads a number and returns its text (valid until the next call).
func (j *jsonReader) readNumber() ([]byte, error) {
	j.num = j.num[:0]
	for {
		for j.pos < j.n {
			c := j.buf[j.pos]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				j.num = append(j.num, c)
				j.pos++
				continue
			}
			return j.checkNumber(j.num)
		}
		if !j.fill() {
			return j.checkNumber(j.num)
		}
	}
}

func (j *jsonReader) checkNumber(b []byte) ([]byte, error) {
	if !validNumber(b) {
		return nil, j.errorf("invalid number %q", b)
	}
	return b, nil
}

// validNumber checks the JSON number grammar.
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(b)
}

// capture returns the raw text of the next value, for decoding with
// encoding/json where speed does not matter. The slice is only valid
// until the next call on j.
func (j *jsonReader) capture() ([]byte, error) {
	if _, err := j.peekValue(); err != nil {
		return nil, err
	}
	if j.mark >= 0 {
		return nil, errors.New("gitter: nested capture")
	}
	j.mark = j.pos
	err := j.skipValue()
	start := j.mark
	j.mark = -1
	if err != nil {
		return nil, err
	}
	return j.buf[start:j.pos], nil
}

// skipLine discards input up to and including the next newline, to go on
// after a bad line of NDJSON.
func (j *jsonReader) skipLine() {
	for {
		for j.pos < j.n {
			c := j.buf[j.pos]
			j.pos++
			if c == '\n' {
				return
			}
		}
		if !j.fill() {
			return
		}
	}
}
