package container

import (
	"io"
	"sync"
)

// readAhead reads its source in a goroutine of its own, a few buffers ahead
// of the consumer. Unwrap puts it between the decoders (decrypt, inflate)
// and the code that writes files, so that on a machine with two or more
// cores decompression runs while the previous chunk is being written, much
// as "openssl | tar xz" runs as separate processes. Memory is fixed:
// readAheadBufs buffers of readAheadSize bytes.
type readAhead struct {
	full chan chunk
	free chan []byte
	stop chan struct{}
	wg   sync.WaitGroup

	cur  []byte // unread part of the buffer being consumed
	held []byte // the whole buffer being consumed, returned to free when done
	err  error  // sticky error (io.EOF at the end)
	once sync.Once

	made int // buffers allocated so far (producer only)
}

type chunk struct {
	data []byte
	err  error
}

const (
	readAheadBufs = 4
	readAheadSize = 1 << 20
)

func newReadAhead(src io.Reader) *readAhead {
	a := &readAhead{
		full: make(chan chunk, readAheadBufs),
		free: make(chan []byte, readAheadBufs),
		stop: make(chan struct{}),
	}
	a.wg.Add(1)
	go a.produce(src)
	return a
}

// produce fills free buffers from src and hands them over, ending with a
// chunk that carries src's final error (io.EOF on success).
func (a *readAhead) produce(src io.Reader) {
	defer a.wg.Done()
	for {
		buf, ok := a.buffer()
		if !ok {
			return
		}
		n, err := fill(src, buf)
		if n > 0 {
			select {
			case a.full <- chunk{data: buf[:n]}:
			case <-a.stop:
				return
			}
		}
		if err != nil {
			select {
			case a.full <- chunk{err: err}:
			case <-a.stop:
			}
			return
		}
	}
}

// buffer returns a free buffer, allocating one while fewer than
// readAheadBufs exist, so that a small input costs one buffer, not all of
// them. It reports false when the reader is being closed.
func (a *readAhead) buffer() ([]byte, bool) {
	select {
	case buf := <-a.free:
		return buf, true
	default:
	}
	if a.made < readAheadBufs {
		a.made++
		return make([]byte, readAheadSize), true
	}
	select {
	case buf := <-a.free:
		return buf, true
	case <-a.stop:
		return nil, false
	}
}

func (a *readAhead) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		if a.held != nil {
			a.free <- a.held[:cap(a.held)]
			a.held = nil
		}
		c := <-a.full
		if c.err != nil {
			a.err = c.err
			continue
		}
		a.cur, a.held = c.data, c.data
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the goroutine and waits for it, so the source may be closed
// safely afterwards. It is safe to call more than once.
func (a *readAhead) Close() error {
	a.once.Do(func() {
		close(a.stop)
		a.wg.Wait()
	})
	return nil
}
