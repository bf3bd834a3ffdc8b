package pixtoome

import (
	"io"
	"sync"
)

// asyncOut writes message files from a goroutine of its own, so that the
// kernel's copying of tens of gigabytes of usermessage rows overlaps with
// formatting them: on two cores a third of the Pixtoome target's time was
// spent inside write(2). Writes and closes are done in the order asked,
// across files; the first error is kept and returned by every later call.
type asyncOut struct {
	jobs chan asyncJob
	free chan []byte
	done chan struct{}

	mu  sync.Mutex
	err error
}

type asyncJob struct {
	f     io.WriteCloser
	buf   []byte
	close bool
}

// asyncBuffers is how many row buffers exist: one being filled and the
// rest queued for writing. More only holds more memory.
const asyncBuffers = 3

func newAsyncOut(bufSize int) *asyncOut {
	a := &asyncOut{jobs: make(chan asyncJob, asyncBuffers+1), free: make(chan []byte, asyncBuffers), done: make(chan struct{})}
	for range asyncBuffers {
		a.free <- make([]byte, 0, bufSize)
	}
	go a.loop()
	return a
}

func (a *asyncOut) loop() {
	defer close(a.done)
	for j := range a.jobs {
		if j.buf != nil {
			if a.error() == nil {
				if _, err := j.f.Write(j.buf); err != nil {
					a.fail(err)
				}
			}
			a.free <- j.buf[:0]
		}
		if j.close {
			if err := j.f.Close(); err != nil {
				a.fail(err)
			}
		}
	}
}

func (a *asyncOut) fail(err error) {
	a.mu.Lock()
	if a.err == nil {
		a.err = err
	}
	a.mu.Unlock()
}

func (a *asyncOut) error() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// buffer returns an empty buffer to fill and hand to write.
func (a *asyncOut) buffer() []byte { return <-a.free }

// write queues b for f and returns an empty buffer in exchange; b must not
// be used afterwards.
func (a *asyncOut) write(f io.WriteCloser, b []byte) ([]byte, error) {
	if len(b) == 0 {
		return b, a.error()
	}
	a.jobs <- asyncJob{f: f, buf: b}
	return <-a.free, a.error()
}

// finish waits for every queued write and close.
func (a *asyncOut) finish() error {
	close(a.jobs)
	<-a.done
	return a.error()
}

// file returns f as a WriteCloser whose writes and close go through a.
// Write copies p (a bufio.Writer reuses its buffer), so it suits the
// smaller streams; the usermessage rows are handed over without a copy.
func (a *asyncOut) file(f io.WriteCloser) io.WriteCloser { return asyncFile{a: a, f: f} }

type asyncFile struct {
	a *asyncOut
	f io.WriteCloser
}

func (af asyncFile) Write(p []byte) (int, error) {
	n0 := len(p)
	for len(p) > 0 {
		b := af.a.buffer()
		n := min(len(p), cap(b))
		b = append(b, p[:n]...)
		af.a.jobs <- asyncJob{f: af.f, buf: b}
		p = p[n:]
	}
	return n0, af.a.error()
}

func (af asyncFile) Close() error {
	af.a.jobs <- asyncJob{f: af.f, close: true}
	return af.a.error()
}
