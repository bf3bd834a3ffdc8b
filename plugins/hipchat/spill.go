package hipchat

import (
	"bufio"
	"bytes"
	"container/list"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// spill keeps each history's records on disk while the target reads
// messages in chronological order, so that every history.json can then be
// written newest first without holding a room's messages in memory.
//
// Each history (a room's or a user's) has its own append-only file of
// lines "<microseconds>\t<json>\n". At most maxOpen of them are open at a
// time (least recently used ones are closed), so thousands of rooms do not
// exhaust file descriptors.
type spill struct {
	dir     string
	files   map[string]*spillFile
	lru     *list.List // of *spillFile, most recent first
	maxOpen int
}

type spillFile struct {
	path  string
	f     *os.File
	w     *bufio.Writer
	elem  *list.Element
	lines int64
}

func newSpill(maxOpen int) (*spill, error) {
	dir, err := os.MkdirTemp("", "migrate-hipchat-spill-")
	if err != nil {
		return nil, fmt.Errorf("making a scratch directory for history files: %w", err)
	}
	return &spill{dir: dir, files: map[string]*spillFile{}, lru: list.New(), maxOpen: maxOpen}, nil
}

// Close removes every spill file.
func (s *spill) Close() error {
	for _, sf := range s.files {
		if sf.f != nil {
			sf.f.Close()
		}
	}
	return os.RemoveAll(s.dir)
}

func (s *spill) open(key string) (*spillFile, error) {
	sf := s.files[key]
	if sf == nil {
		sf = &spillFile{path: filepath.Join(s.dir, strconv.Itoa(len(s.files))+".ndjson")}
		s.files[key] = sf
	}
	if sf.f != nil {
		s.lru.MoveToFront(sf.elem)
		return sf, nil
	}
	if s.lru.Len() >= s.maxOpen {
		old := s.lru.Remove(s.lru.Back()).(*spillFile)
		if err := old.close(); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(sf.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	sf.f, sf.w = f, bufio.NewWriterSize(f, 16<<10)
	sf.elem = s.lru.PushFront(sf)
	return sf, nil
}

func (sf *spillFile) close() error {
	if sf.f == nil {
		return nil
	}
	err := sf.w.Flush()
	if cerr := sf.f.Close(); err == nil {
		err = cerr
	}
	sf.f, sf.w, sf.elem = nil, nil, nil
	return err
}

// add appends one record to a history. line must not contain '\n' (JSON
// encoding escapes it).
func (s *spill) add(key string, micros int64, line []byte) error {
	sf, err := s.open(key)
	if err != nil {
		return err
	}
	sf.lines++
	sf.w.WriteString(strconv.FormatInt(micros, 10))
	sf.w.WriteByte('\t')
	sf.w.Write(line)
	return sf.w.WriteByte('\n')
}

// reverse calls fn with a history's records newest first. Records of the
// same instant keep the order they were added in, so that reading the
// result back and sorting it by time stably gives the input order.
func (s *spill) reverse(key string, fn func(line []byte) error) error {
	sf := s.files[key]
	if sf == nil {
		return nil
	}
	if err := sf.close(); err != nil {
		return err
	}
	if sf.elem != nil {
		s.lru.Remove(sf.elem)
	}
	f, err := os.Open(sf.path)
	if err != nil {
		return err
	}
	defer f.Close()
	var group [][]byte // same-instant records, newest read first
	groupKey := ""
	flush := func() error {
		for i := len(group) - 1; i >= 0; i-- {
			if err := fn(group[i]); err != nil {
				return err
			}
		}
		group = group[:0]
		return nil
	}
	err = readLinesBackward(f, func(line []byte) error {
		k, rec, ok := bytes.Cut(line, []byte{'\t'})
		if !ok {
			return fmt.Errorf("spill file %s: damaged line", sf.path)
		}
		if string(k) != groupKey {
			if err := flush(); err != nil {
				return err
			}
			groupKey = string(k)
		}
		group = append(group, bytes.Clone(rec))
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// readLinesBackward calls fn with each non-empty line of f, last line
// first, reading fixed-size blocks from the end. Memory is one block plus
// the longest line.
func readLinesBackward(f io.ReadSeeker, fn func([]byte) error) error {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return fmt.Errorf("spill file cannot be read at offsets")
	}
	const block = 64 << 10
	var carry []byte // bytes after the current block not yet handed out
	buf := make([]byte, block)
	for off := size; off > 0; {
		n := min(int64(block), off)
		off -= n
		if _, err := ra.ReadAt(buf[:n], off); err != nil && err != io.EOF {
			return err
		}
		data := append(buf[:n:n], carry...)
		j := len(data)
		for {
			i := bytes.LastIndexByte(data[:j], '\n')
			if i < 0 {
				break
			}
			if i+1 < j {
				if err := fn(data[i+1 : j]); err != nil {
					return err
				}
			}
			j = i
		}
		carry = bytes.Clone(data[:j])
	}
	if len(carry) > 0 {
		return fn(carry)
	}
	return nil
}
