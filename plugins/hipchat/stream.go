package hipchat

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonStream reads one JSON document element by element, so that a history
// file with millions of entries never sits in memory whole.
type jsonStream struct {
	name string // file name, for errors
	dec  *json.Decoder
}

func newStream(name string, r io.Reader) *jsonStream {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	dec.UseNumber()
	return &jsonStream{name: name, dec: dec}
}

// syntaxErr turns a decoder error into one that names the file, the
// element and what went wrong.
func (s *jsonStream) syntaxErr(where string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: %s: the file ends in the middle of the JSON (truncated? unpack the export again)", s.name, where)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%s: %s: invalid JSON at byte %d: %v", s.name, where, se.Offset, err)
	}
	return fmt.Errorf("%s: %s: %w", s.name, where, err)
}

// first returns the document's first token: '[' , '{' or a scalar.
func (s *jsonStream) first() (json.Token, error) {
	tok, err := s.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the file is empty; want JSON", s.name)
		}
		return nil, s.syntaxErr("start", err)
	}
	return tok, nil
}

// elements reads the elements of an array whose '[' was just consumed,
// calling fn with each element's index and raw JSON, then consumes ']'.
func (s *jsonStream) elements(fn func(i int, raw json.RawMessage) error) error {
	for i := 0; s.dec.More(); i++ {
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			return s.syntaxErr(fmt.Sprintf("record %d", i), err)
		}
		if err := fn(i, raw); err != nil {
			return err
		}
	}
	if _, err := s.dec.Token(); err != nil {
		return s.syntaxErr("end of array", err)
	}
	return nil
}

// fields walks an object whose '{' was just consumed: fn is called with
// each key and must consume the value (by Decode, elements or skip).
func (s *jsonStream) fields(fn func(key string) error) error {
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return s.syntaxErr("object key", err)
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("%s: object key is not a string", s.name)
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	if _, err := s.dec.Token(); err != nil {
		return s.syntaxErr("end of object", err)
	}
	return nil
}

// skip consumes one value without keeping it.
func (s *jsonStream) skip() error {
	depth := 0
	for {
		tok, err := s.dec.Token()
		if err != nil {
			return s.syntaxErr("value", err)
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '[' || d == '{' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// end checks that nothing but white space follows the document.
func (s *jsonStream) end() error {
	if _, err := s.dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			return fmt.Errorf("%s: unexpected data after the JSON document", s.name)
		}
		return s.syntaxErr("after the document", err)
	}
	return nil
}

// delimName names a first token for error messages.
func delimName(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("a %T", t)
	}
}

// decoded is one element of a history array, decoded ahead of its use.
type decoded struct {
	i   int
	raw json.RawMessage
	// e is the element decoded from raw when raw is an object; err is
	// why it could not be (the record is skipped, the file goes on).
	e   *element
	err error
}

// aheadBatch is how many elements cross from the decoding goroutine at a
// time; four batches may wait, so memory stays a few megabytes.
const aheadBatch = 256

// historyElements is elements for history arrays, with the JSON work
// (finding each element, then decoding it) done by a goroutine of its own
// while fn converts the elements before it. Elements reach fn in order, and
// a syntax error is returned after every element before it was handled,
// so the result is what a single goroutine would give. HipChat histories
// spend most of their reading time in encoding/json; this puts the second
// core to work on it.
func (s *jsonStream) historyElements(fn func(d *decoded) error) error {
	batches := make(chan []decoded, 4)
	stop := make(chan struct{})
	var scanErr error // written by the goroutine before it closes batches
	go func() {
		defer close(batches)
		send := func(b []decoded) bool {
			select {
			case batches <- b:
				return true
			case <-stop:
				return false
			}
		}
		b := make([]decoded, 0, aheadBatch)
		for i := 0; s.dec.More(); i++ {
			var raw json.RawMessage
			if err := s.dec.Decode(&raw); err != nil {
				scanErr = s.syntaxErr(fmt.Sprintf("record %d", i), err)
				send(b)
				return
			}
			d := decoded{i: i, raw: raw}
			if len(raw) > 0 && raw[0] == '{' {
				d.e = new(element)
				d.err = json.Unmarshal(raw, d.e)
			}
			if b = append(b, d); len(b) == aheadBatch {
				if !send(b) {
					return
				}
				b = make([]decoded, 0, aheadBatch)
			}
		}
		if len(b) > 0 && !send(b) {
			return
		}
		if _, err := s.dec.Token(); err != nil {
			scanErr = s.syntaxErr("end of array", err)
		}
	}()
	var err error
	for b := range batches {
		for k := 0; k < len(b) && err == nil; k++ {
			err = fn(&b[k])
		}
		if err != nil {
			// Stop the goroutine and wait for it: it shares the stream.
			close(stop)
			for range batches {
			}
			return err
		}
	}
	return scanErr
}
