package archive

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// DefaultMaxLine is the default bound on the length of one record's line.
const DefaultMaxLine = 64 << 20

// readBufSize is the read buffer of record files: big enough that reads
// are few, small enough that opening many files at once stays cheap.
const readBufSize = 256 << 10

// bufFor returns a read buffer size for a file of size n: small files get
// a small buffer.
func bufFor(f interface{ Stat() (os.FileInfo, error) }) int {
	if st, err := f.Stat(); err == nil && st.Size() < readBufSize {
		return max(int(st.Size())+1, 4096)
	}
	return readBufSize
}

// errLineTooLong is returned by lineReader.next for a line past the bound.
var errLineTooLong = errors.New("line too long")

// lineReader reads newline-terminated lines with a bound on their length, so
// that a hostile file cannot make the reader hold an unbounded line.
type lineReader struct {
	r    *bufio.Reader
	max  int
	buf  []byte
	line int64 // number of the line last returned, from 1
	off  int64 // offset of the start of the line last returned
	next int64 // offset of the byte after it
	// noNewline is set when the last line returned had no final newline.
	noNewline bool
}

// newLineReader reads r through a buffer of bufSize bytes (lines longer
// than the buffer are gathered in a separate slice, up to max).
func newLineReader(r io.Reader, max, bufSize int) *lineReader {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return &lineReader{r: bufio.NewReaderSize(r, bufSize), max: max}
}

// readLine returns the next line without its newline. The slice is valid
// until the next call. It returns io.EOF after the last line, and
// errLineTooLong (wrapped) when a line is longer than the bound; the line
// is then skipped, and the next call reads the line after it.
func (l *lineReader) readLine() ([]byte, error) {
	l.off = l.next
	l.noNewline = false
	b, err := l.r.ReadSlice('\n')
	if err == nil {
		l.line++
		l.next += int64(len(b))
		if len(b)-1 > l.max {
			return nil, fmt.Errorf("%w: more than %d bytes in one record", errLineTooLong, l.max)
		}
		return b[:len(b)-1], nil
	}
	if err != bufio.ErrBufferFull {
		if err == io.EOF && len(b) > 0 {
			l.line++
			l.next += int64(len(b))
			l.noNewline = true
			if len(b) > l.max {
				return nil, fmt.Errorf("%w: more than %d bytes in one record", errLineTooLong, l.max)
			}
			return b, nil
		}
		return nil, err
	}
	// The line is longer than the buffer: gather it up to the bound.
	l.buf = append(l.buf[:0], b...)
	for {
		if len(l.buf) > l.max {
			return nil, l.skipRest(int64(len(l.buf)))
		}
		b, err = l.r.ReadSlice('\n')
		l.buf = append(l.buf, b...)
		switch err {
		case nil:
			l.line++
			if len(l.buf)-1 > l.max {
				l.next += int64(len(l.buf))
				return nil, fmt.Errorf("%w: more than %d bytes in one record", errLineTooLong, l.max)
			}
			l.next += int64(len(l.buf))
			return l.buf[:len(l.buf)-1], nil
		case bufio.ErrBufferFull:
		case io.EOF:
			l.line++
			l.next += int64(len(l.buf))
			l.noNewline = true
			if len(l.buf) > l.max {
				return nil, fmt.Errorf("%w: more than %d bytes in one record", errLineTooLong, l.max)
			}
			return l.buf, nil
		default:
			return nil, err
		}
	}
}

// skipRest discards the rest of a line that is too long, so that reading
// can go on with the next line, and returns the error for it. n bytes of
// the line were consumed already.
func (l *lineReader) skipRest(n int64) error {
	l.buf = l.buf[:0]
	for {
		b, err := l.r.ReadSlice('\n')
		n += int64(len(b))
		if err == bufio.ErrBufferFull {
			continue
		}
		l.line++
		l.next += n
		if err != nil && err != io.EOF {
			return err
		}
		return fmt.Errorf("%w: more than %d bytes in one record", errLineTooLong, l.max)
	}
}

// timeKey orders messages by the instant they were sent.
type timeKey struct {
	sec  int64
	nsec int32
}

func keyOf(t time.Time) timeKey { return timeKey{t.Unix(), int32(t.Nanosecond())} }

func (a timeKey) less(b timeKey) bool {
	return a.sec < b.sec || (a.sec == b.sec && a.nsec < b.nsec)
}

func (a timeKey) time() time.Time { return time.Unix(a.sec, int64(a.nsec)).UTC() }

// scanMessage extracts the raw (still JSON-escaped) id and the sent_at key
// of a message line as the Writer encodes it: encoding/json writes the
// fields in struct order, "id" first, and every field before "sent_at" is a
// string, whose quotes are escaped, so the first `,"sent_at":"` is the
// field itself. Lines of any other shape go through encoding/json.
func scanMessage(line []byte) (id []byte, k timeKey, err error) {
	const idPrefix = `{"id":"`
	if bytes.HasPrefix(line, []byte(idPrefix)) {
		rest := line[len(idPrefix):]
		end := stringEnd(rest)
		if end >= 0 {
			id = rest[:end]
			rest = rest[end:]
			if i := bytes.Index(rest, []byte(`,"sent_at":"`)); i >= 0 {
				ts := rest[i+len(`,"sent_at":"`):]
				if j := bytes.IndexByte(ts, '"'); j >= 0 {
					if t, perr := time.Parse(time.RFC3339Nano, string(ts[:j])); perr == nil {
						return id, keyOf(t), nil
					}
				}
			}
		}
	}
	var m struct {
		ID     json.RawMessage `json:"id"`
		SentAt time.Time       `json:"sent_at"`
	}
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, timeKey{}, err
	}
	id = bytes.Trim(m.ID, `"`)
	return id, keyOf(m.SentAt), nil
}

// stringEnd returns the index of the quote that closes a JSON string whose
// opening quote has been consumed, or -1.
func stringEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}
