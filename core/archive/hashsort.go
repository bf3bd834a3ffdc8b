package archive

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
)

// entry is what the on-disk hash sorter orders: H is a 64-bit hash of an
// identifier (the sort key), X a second value whose meaning depends on the
// use (another hash, or a tag), Line and Off locate the record it came from
// so that a problem can be reported, and the line re-read, precisely.
type entry struct {
	H, X      uint64
	Line, Off int64
}

const entrySize = 32

func compareEntries(a, b entry) int {
	if c := cmp.Compare(a.H, b.H); c != 0 {
		return c
	}
	return cmp.Compare(a.Line, b.Line)
}

// maxFanIn bounds how many runs are merged at once (and so how many files are
// open); beyond it runs are merged into one bigger run first.
const maxFanIn = 128

// hashSorter sorts entries with bounded memory: at most limit entries in
// memory, sorted runs spilled to files in dir. Memory is 32 bytes per
// entry of the limit, whatever the number of entries added.
type hashSorter struct {
	dir   string
	limit int
	buf   []entry
	runs  []string
	n     int64
}

func newHashSorter(dir string, limit int) *hashSorter {
	if limit < 1024 {
		limit = 1024
	}
	return &hashSorter{dir: dir, limit: limit}
}

func (s *hashSorter) add(e entry) error {
	s.buf = append(s.buf, e)
	s.n++
	if len(s.buf) >= s.limit {
		return s.spill()
	}
	return nil
}

func (s *hashSorter) spill() error {
	slices.SortFunc(s.buf, compareEntries)
	name, err := s.writeRun(func(w *bufio.Writer) error {
		var b [entrySize]byte
		for _, e := range s.buf {
			putEntry(b[:], e)
			if _, err := w.Write(b[:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.buf = s.buf[:0]
	s.runs = append(s.runs, name)
	if len(s.runs) >= maxFanIn {
		return s.compact()
	}
	return nil
}

func (s *hashSorter) writeRun(fill func(*bufio.Writer) error) (string, error) {
	f, err := os.CreateTemp(s.dir, "hashrun-*")
	if err != nil {
		return "", fmt.Errorf("sorting identifiers: %w", err)
	}
	w := bufio.NewWriterSize(f, 256<<10)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("sorting identifiers: %w", err)
	}
	return f.Name(), nil
}

// compact merges every spilled run into one.
func (s *hashSorter) compact() error {
	it, err := mergeRuns(s.runs, nil)
	if err != nil {
		return err
	}
	name, err := s.writeRun(func(w *bufio.Writer) error {
		var b [entrySize]byte
		for {
			e, ok, err := it.next()
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			putEntry(b[:], e)
			if _, err := w.Write(b[:]); err != nil {
				return err
			}
		}
	})
	it.close()
	if err != nil {
		return err
	}
	for _, r := range s.runs {
		os.Remove(r)
	}
	s.runs = append(s.runs[:0], name)
	return nil
}

// finish returns an iterator over every entry added, in (H, Line) order.
// The sorter must not be used afterwards except for cleanup.
func (s *hashSorter) finish() (*entryIter, error) {
	slices.SortFunc(s.buf, compareEntries)
	return mergeRuns(s.runs, s.buf)
}

// cleanup removes the sorter's files.
func (s *hashSorter) cleanup() {
	for _, r := range s.runs {
		os.Remove(r)
	}
	s.runs = nil
	s.buf = nil
}

func putEntry(b []byte, e entry) {
	binary.LittleEndian.PutUint64(b[0:], e.H)
	binary.LittleEndian.PutUint64(b[8:], e.X)
	binary.LittleEndian.PutUint64(b[16:], uint64(e.Line))
	binary.LittleEndian.PutUint64(b[24:], uint64(e.Off))
}

func getEntry(b []byte) entry {
	return entry{
		H:    binary.LittleEndian.Uint64(b[0:]),
		X:    binary.LittleEndian.Uint64(b[8:]),
		Line: int64(binary.LittleEndian.Uint64(b[16:])),
		Off:  int64(binary.LittleEndian.Uint64(b[24:])),
	}
}

// entrySource is one sorted run being merged: a file, or the in-memory tail.
type entrySource struct {
	f   *os.File
	r   *bufio.Reader
	mem []entry
	cur entry
	idx int
}

func (s *entrySource) advance() (bool, error) {
	if s.r == nil {
		if len(s.mem) == 0 {
			return false, nil
		}
		s.cur, s.mem = s.mem[0], s.mem[1:]
		return true, nil
	}
	var b [entrySize]byte
	if _, err := io.ReadFull(s.r, b[:]); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, fmt.Errorf("sorting identifiers: reading run %s: %w", s.f.Name(), err)
	}
	s.cur = getEntry(b[:])
	return true, nil
}

type entryHeap []*entrySource

func (h entryHeap) Len() int { return len(h) }
func (h entryHeap) Less(i, j int) bool {
	if c := compareEntries(h[i].cur, h[j].cur); c != 0 {
		return c < 0
	}
	return h[i].idx < h[j].idx
}
func (h entryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *entryHeap) Push(x any)   { *h = append(*h, x.(*entrySource)) }
func (h *entryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// entryIter yields merged entries in order.
type entryIter struct {
	h     entryHeap
	files []*os.File
	// peeked holds an entry pushed back by unread.
	peeked    entry
	hasPeeked bool
}

func mergeRuns(runs []string, mem []entry) (*entryIter, error) {
	it := &entryIter{}
	for i, name := range runs {
		f, err := os.Open(name)
		if err != nil {
			it.close()
			return nil, fmt.Errorf("sorting identifiers: %w", err)
		}
		it.files = append(it.files, f)
		src := &entrySource{f: f, r: bufio.NewReaderSize(f, 64<<10), idx: i}
		ok, err := src.advance()
		if err != nil {
			it.close()
			return nil, err
		}
		if ok {
			it.h = append(it.h, src)
		}
	}
	src := &entrySource{mem: mem, idx: len(runs)}
	if ok, _ := src.advance(); ok {
		it.h = append(it.h, src)
	}
	heap.Init(&it.h)
	return it, nil
}

// next returns the next entry; ok is false at the end.
func (it *entryIter) next() (e entry, ok bool, err error) {
	if it.hasPeeked {
		it.hasPeeked = false
		return it.peeked, true, nil
	}
	if len(it.h) == 0 {
		return entry{}, false, nil
	}
	src := it.h[0]
	e = src.cur
	more, err := src.advance()
	if err != nil {
		return entry{}, false, err
	}
	if more {
		heap.Fix(&it.h, 0)
	} else {
		heap.Pop(&it.h)
	}
	return e, true, nil
}

// unread pushes e back so that the next call to next returns it.
func (it *entryIter) unread(e entry) {
	it.peeked, it.hasPeeked = e, true
}

// group returns the next run of entries with equal H, appended to buf[:0].
func (it *entryIter) group(buf []entry) ([]entry, error) {
	buf = buf[:0]
	for {
		e, ok, err := it.next()
		if err != nil || !ok {
			return buf, err
		}
		if len(buf) > 0 && e.H != buf[0].H {
			it.unread(e)
			return buf, nil
		}
		buf = append(buf, e)
	}
}

func (it *entryIter) close() {
	for _, f := range it.files {
		f.Close()
	}
	it.files = nil
	it.h = nil
}
