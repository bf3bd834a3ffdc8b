package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
)

// spillList keeps its first limit items in memory and appends the rest, one
// JSON document a line, to a temporary file, so that a run that loses
// millions of records still reports every one without holding them all.
type spillList[T any] struct {
	limit int
	dir   string
	mem   []T
	n     int64
	file  *os.File
	w     *bufio.Writer
	enc   *json.Encoder
	err   error // first spill error; reported by all
}

func (l *spillList[T]) add(v T) {
	l.n++
	if len(l.mem) < l.limit {
		l.mem = append(l.mem, v)
		return
	}
	if l.err != nil {
		return
	}
	if l.file == nil {
		f, err := os.CreateTemp(l.dir, "migrate-report-*.ndjson")
		if err != nil {
			l.err = fmt.Errorf("report: cannot spill the list to a temporary file (set a writable spill directory): %w", err)
			return
		}
		l.file = f
		l.w = bufio.NewWriterSize(f, 64<<10)
		l.enc = json.NewEncoder(l.w)
	}
	if err := l.enc.Encode(v); err != nil {
		l.err = fmt.Errorf("report: writing %s: %w", l.file.Name(), err)
	}
}

// len is the number of items added, in memory or spilled.
func (l *spillList[T]) len() int64 { return l.n }

// head is the part of the list held in memory.
func (l *spillList[T]) head() []T { return l.mem }

// all yields every item in the order added: the in-memory head, then the
// spilled rest read back from the file.
func (l *spillList[T]) all() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		for _, v := range l.mem {
			if !yield(v, nil) {
				return
			}
		}
		if l.err != nil {
			yield(zero, l.err)
			return
		}
		if l.file == nil {
			return
		}
		if err := l.w.Flush(); err != nil {
			yield(zero, fmt.Errorf("report: writing %s: %w", l.file.Name(), err))
			return
		}
		f, err := os.Open(l.file.Name())
		if err != nil {
			yield(zero, fmt.Errorf("report: reading back %s: %w", l.file.Name(), err))
			return
		}
		defer f.Close()
		d := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
		for {
			var v T
			err := d.Decode(&v)
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(zero, fmt.Errorf("report: reading back %s: %w", l.file.Name(), err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// close removes the spill file, if any.
func (l *spillList[T]) close() error {
	if l.file == nil {
		return nil
	}
	name := l.file.Name()
	err := l.file.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	l.file, l.w, l.enc = nil, nil, nil
	return err
}
