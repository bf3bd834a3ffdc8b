package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version this package speaks. Change it when a
// frame changes meaning; hosts and adapters refuse versions they do not
// know with a message that says which side to upgrade.
const Version = 1

// Versions lists every protocol version this package can speak, newest
// first.
var Versions = []int{Version}

// Frame types sent by the adapter.
const (
	FrameHello    byte = 'H'
	FrameRecords  byte = 'R'
	FrameNotice   byte = 'N'
	FrameProgress byte = 'P'
	FrameRequest  byte = 'Q'
	FrameDone     byte = 'D'
)

// Frame types sent by the host.
const (
	FrameCall   byte = 'C'
	FrameAnswer byte = 'A'
)

// MaxFrame bounds a frame's size, so that a corrupt length cannot make
// either side allocate gigabytes.
const MaxFrame = 64 << 20

// Conn carries frames in both directions. Send and Recv may be used from
// different goroutines, but neither from two at once.
type Conn interface {
	Send(typ byte, payload []byte) error
	// Recv returns the next frame; the payload is valid until the next
	// Recv.
	Recv() (typ byte, payload []byte, err error)
}

// StreamConn is a Conn over a byte stream, such as a module's standard
// input and output or a pipe to a worker process.
type StreamConn struct {
	r   *bufio.Reader
	w   *bufio.Writer
	buf []byte
}

// NewStreamConn returns a Conn reading frames from r and writing them to w.
func NewStreamConn(r io.Reader, w io.Writer) *StreamConn {
	return &StreamConn{r: bufio.NewReaderSize(r, 256<<10), w: bufio.NewWriterSize(w, 256<<10)}
}

// Send implements Conn; each frame is flushed, since the other side may be
// waiting for it.
func (c *StreamConn) Send(typ byte, payload []byte) error {
	if len(payload)+1 > MaxFrame {
		return fmt.Errorf("frame of %d bytes is larger than the %d-byte limit", len(payload)+1, MaxFrame)
	}
	var hdr [5]byte
	binary.LittleEndian.PutUint32(hdr[:4], uint32(len(payload)+1))
	hdr[4] = typ
	if _, err := c.w.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := c.w.Write(payload); err != nil {
		return err
	}
	return c.w.Flush()
}

// Recv implements Conn.
func (c *StreamConn) Recv() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, fmt.Errorf("the stream ended inside a frame header: %w", err)
		}
		return 0, nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:4])
	if n == 0 || n > MaxFrame {
		return 0, nil, fmt.Errorf("frame length %d is out of range (1..%d): not a migrate adapter stream", n, MaxFrame)
	}
	if cap(c.buf) < int(n-1) {
		c.buf = make([]byte, n-1)
	}
	c.buf = c.buf[:n-1]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, fmt.Errorf("the stream ended inside a %q frame: %w", hdr[4], err)
	}
	return hdr[4], c.buf, nil
}
