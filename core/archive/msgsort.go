package archive

import (
	"bufio"
	"container/heap"
	"fmt"
	"io"
	"os"
	"slices"
)

// msgSorter is the external merge sort behind the Writer's messages: lines
// are collected in an arena until limit messages or maxBytes bytes are held,
// sorted stably by time, and spilled as a run (a plain NDJSON file); the
// final merge reads every run at once. Runs hold consecutive stretches of
// the emission order and the merge breaks ties by run, so messages sent at
// the same instant keep the order in which they were emitted.
type msgSorter struct {
	dir      string
	limit    int
	maxBytes int
	maxLine  int
	arena    []byte
	items    []msgItem
	runs     []msgRun
}

type msgItem struct {
	key        timeKey
	start, end int // the line in arena, newline included
}

// msgRun is a sorted NDJSON file; owned runs are temporary and removed.
type msgRun struct {
	path  string
	owned bool
}

func (s *msgSorter) add(line []byte, k timeKey) error {
	start := len(s.arena)
	s.arena = append(s.arena, line...)
	s.items = append(s.items, msgItem{key: k, start: start, end: len(s.arena)})
	if len(s.items) >= s.limit || len(s.arena) >= s.maxBytes {
		return s.spill()
	}
	return nil
}

func (s *msgSorter) sortMem() {
	slices.SortStableFunc(s.items, func(a, b msgItem) int {
		switch {
		case a.key.less(b.key):
			return -1
		case b.key.less(a.key):
			return 1
		}
		return 0
	})
}

func (s *msgSorter) spill() error {
	s.sortMem()
	name, err := s.writeRun(func(w *bufio.Writer) error {
		for _, it := range s.items {
			if _, err := w.Write(s.arena[it.start:it.end]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.items = s.items[:0]
	s.arena = s.arena[:0]
	s.runs = append(s.runs, msgRun{path: name, owned: true})
	if len(s.runs) >= maxFanIn {
		return s.compact()
	}
	return nil
}

func (s *msgSorter) writeRun(fill func(*bufio.Writer) error) (string, error) {
	f, err := os.CreateTemp(s.dir, "msgrun-*.ndjson")
	if err != nil {
		return "", fmt.Errorf("sorting messages: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("sorting messages: %w", err)
	}
	return f.Name(), nil
}

// compact merges every run so far into one, to bound the number of files
// open in the final merge.
func (s *msgSorter) compact() error {
	name, err := s.writeRun(func(w *bufio.Writer) error {
		return s.merge(s.runs, false, func(line []byte, _ timeKey) error {
			_, err := w.Write(line)
			return err
		})
	})
	if err != nil {
		return err
	}
	s.removeRuns()
	s.runs = append(s.runs[:0], msgRun{path: name, owned: true})
	return nil
}

// finish merges every run and the messages still in memory, calling out
// with each line (newline included) in order.
func (s *msgSorter) finish(out func(line []byte, k timeKey) error) error {
	s.sortMem()
	return s.merge(s.runs, true, out)
}

func (s *msgSorter) removeRuns() {
	for _, r := range s.runs {
		if r.owned {
			os.Remove(r.path)
		}
	}
}

// cleanup removes the sorter's temporary files.
func (s *msgSorter) cleanup() {
	s.removeRuns()
	s.runs = nil
	s.arena, s.items = nil, nil
}

type msgSource struct {
	lr   *lineReader
	f    *os.File
	name string
	mem  []msgItem
	// arena backs mem.
	arena []byte
	line  []byte
	key   timeKey
	idx   int
}

func (m *msgSource) advance() (bool, error) {
	if m.lr == nil {
		if len(m.mem) == 0 {
			return false, nil
		}
		it := m.mem[0]
		m.mem = m.mem[1:]
		m.line, m.key = m.arena[it.start:it.end], it.key
		return true, nil
	}
	b, err := m.lr.readLine()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sorting messages: %s line %d: %w", m.name, m.lr.line, err)
	}
	_, k, err := scanMessage(b)
	if err != nil {
		return false, fmt.Errorf("sorting messages: %s line %d: %w", m.name, m.lr.line, err)
	}
	// The line reader drops the newline; keep a copy with it in this
	// source's own buffer, which stays valid until this source advances.
	m.line = append(append(m.line[:0], b...), '\n')
	m.key = k
	return true, nil
}

type msgHeap []*msgSource

func (h msgHeap) Len() int { return len(h) }
func (h msgHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.key.less(b.key) {
		return true
	}
	if b.key.less(a.key) {
		return false
	}
	return a.idx < b.idx
}
func (h msgHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *msgHeap) Push(x any)   { *h = append(*h, x.(*msgSource)) }
func (h *msgHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (s *msgSorter) merge(runs []msgRun, withMem bool, out func([]byte, timeKey) error) error {
	var h msgHeap
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i, r := range runs {
		f, err := os.Open(r.path)
		if err != nil {
			return fmt.Errorf("sorting messages: %w", err)
		}
		files = append(files, f)
		src := &msgSource{lr: newLineReader(f, s.maxLine+1, 64<<10), f: f, name: r.path, idx: i}
		ok, err := src.advance()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, src)
		}
	}
	if withMem {
		src := &msgSource{mem: s.items, arena: s.arena, idx: len(runs)}
		if ok, _ := src.advance(); ok {
			h = append(h, src)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		src := h[0]
		if err := out(src.line, src.key); err != nil {
			return err
		}
		more, err := src.advance()
		if err != nil {
			return err
		}
		if more {
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return nil
}
