package wire

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"

	"github.com/migrate-chat/migrate/sdk"
)

// remoteFS is an input's file tree, read through the host. The adapter
// sees an ordinary fs.FS; the host serves it from the read-only tree it
// unpacked, so the adapter never touches a host path.
type remoteFS struct {
	g     *guest
	input int
}

var (
	_ fs.FS     = (*remoteFS)(nil)
	_ fs.StatFS = (*remoteFS)(nil)
)

func (f *remoteFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	ans, _, err := f.g.request(Request{Op: ReqOpen, Input: f.input, Name: name}, nil)
	if err != nil {
		return nil, err
	}
	if ans.Info == nil {
		return nil, errors.New("protocol error: open answered without file information")
	}
	return &remoteFile{g: f.g, fd: ans.FD, name: name, info: *ans.Info}, nil
}

func (f *remoteFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	ans, _, err := f.g.request(Request{Op: ReqStat, Input: f.input, Name: name}, nil)
	if err != nil {
		return nil, err
	}
	if ans.Info == nil {
		return nil, errors.New("protocol error: stat answered without file information")
	}
	return fileInfo{*ans.Info}, nil
}

// readAhead is how much a small read asks the host for at once: one round
// trip then serves many of the adapter's reads.
const readAhead = 256 << 10

// remoteFile is a file or directory opened through the host.
type remoteFile struct {
	g      *guest
	fd     int
	name   string
	info   FileInfo
	buf    []byte // read ahead, not yet returned
	eof    bool
	closed bool
}

var (
	_ fs.ReadDirFile = (*remoteFile)(nil)
	_ io.Seeker      = (*remoteFile)(nil)
	_ io.ReaderAt    = (*remoteFile)(nil)
)

func (f *remoteFile) Stat() (fs.FileInfo, error) { return fileInfo{f.info}, nil }

func (f *remoteFile) Read(p []byte) (int, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(f.buf) == 0 {
		if f.eof {
			return 0, io.EOF
		}
		ans, data, err := f.g.request(Request{Op: ReqRead, FD: f.fd, N: max(len(p), readAhead)}, nil)
		if err != nil {
			return 0, err
		}
		f.buf = append(f.buf[:0], data...)
		f.eof = ans.EOF
		if len(f.buf) == 0 {
			f.eof = true
			return 0, io.EOF
		}
	}
	n := copy(p, f.buf)
	f.buf = f.buf[n:]
	return n, nil
}

func (f *remoteFile) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	got := 0
	for got < len(p) {
		ans, data, err := f.g.request(Request{Op: ReqPread, FD: f.fd, N: min(len(p)-got, MaxFrame/2), Off: off + int64(got)}, nil)
		if err != nil {
			return got, err
		}
		got += copy(p[got:], data)
		if ans.EOF || len(data) == 0 {
			if got < len(p) {
				return got, io.EOF
			}
		}
	}
	return got, nil
}

func (f *remoteFile) Seek(off int64, whence int) (int64, error) {
	if f.closed {
		return 0, fs.ErrClosed
	}
	if whence == io.SeekCurrent {
		// The host's position is ahead by what was read ahead.
		off -= int64(len(f.buf))
	}
	ans, _, err := f.g.request(Request{Op: ReqSeek, FD: f.fd, Off: off, Whence: whence}, nil)
	if err != nil {
		return 0, err
	}
	f.buf, f.eof = f.buf[:0], false
	return ans.Pos, nil
}

func (f *remoteFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if f.closed {
		return nil, fs.ErrClosed
	}
	ans, _, err := f.g.request(Request{Op: ReqReadDir, FD: f.fd, N: n}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, len(ans.Entries))
	for i, e := range ans.Entries {
		out[i] = fileInfo{e}
	}
	if n > 0 && len(out) == 0 {
		return nil, io.EOF
	}
	return out, nil
}

func (f *remoteFile) Close() error {
	if f.closed {
		return fs.ErrClosed
	}
	f.closed = true
	_, _, err := f.g.request(Request{Op: ReqClose, FD: f.fd}, nil)
	return err
}

// remoteDataset is a target's dataset, pulled from the host a batch at a
// time; every iteration opens a new cursor, so sequences are re-iterable
// like the host's.
type remoteDataset struct {
	g      *guest
	ws     *sdk.Workspace
	counts map[sdk.Kind]int64
}

func (d *remoteDataset) Workspace() *sdk.Workspace  { return d.ws }
func (d *remoteDataset) Counts() map[sdk.Kind]int64 { return d.counts }

func (d *remoteDataset) Users() iter.Seq2[*sdk.User, error] {
	return records[*sdk.User](d.g, sdk.KindUser)
}
func (d *remoteDataset) Rooms() iter.Seq2[*sdk.Room, error] {
	return records[*sdk.Room](d.g, sdk.KindRoom)
}
func (d *remoteDataset) Conversations() iter.Seq2[*sdk.Conversation, error] {
	return records[*sdk.Conversation](d.g, sdk.KindConversation)
}
func (d *remoteDataset) Emoji() iter.Seq2[*sdk.Emoji, error] {
	return records[*sdk.Emoji](d.g, sdk.KindEmoji)
}
func (d *remoteDataset) Messages() iter.Seq2[*sdk.Message, error] {
	return records[*sdk.Message](d.g, sdk.KindMessage)
}
func (d *remoteDataset) Attachments() iter.Seq2[*sdk.Attachment, error] {
	return records[*sdk.Attachment](d.g, sdk.KindAttachment)
}

func (d *remoteDataset) OpenBlob(sum string) (io.ReadCloser, error) {
	ans, _, err := d.g.request(Request{Op: ReqOpenBlob, SHA256: sum}, nil)
	if err != nil {
		return nil, err
	}
	return &remoteFile{g: d.g, fd: ans.FD, name: "blob " + sum}, nil
}

func records[T sdk.Record](g *guest, kind sdk.Kind) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		ans, _, err := g.request(Request{Op: ReqIter, Kind: kind}, nil)
		if err != nil {
			yield(zero, err)
			return
		}
		cursor := ans.FD
		defer func() { _, _, _ = g.request(Request{Op: ReqClose, FD: cursor}, nil) }()
		var recs []sdk.Record
		for {
			ans, data, err := g.request(Request{Op: ReqNext, FD: cursor}, nil)
			if err != nil {
				yield(zero, err)
				return
			}
			recs = recs[:0]
			_, err = Walk(data, func(k sdk.Kind, js []byte) error {
				if k != kind {
					return fmt.Errorf("protocol error: asked for %s records, got a %s", kind, k)
				}
				rec, err := DecodeRecord(k, js)
				if err != nil {
					return err
				}
				recs = append(recs, rec)
				return nil
			})
			if err != nil {
				yield(zero, err)
				return
			}
			for _, r := range recs {
				if !yield(r.(T), nil) {
					return
				}
			}
			if ans.EOF {
				return
			}
		}
	}
}

// remoteOutput creates output files through the host, which writes them
// into the tree the pipeline stages.
type remoteOutput struct{ g *guest }

func (o remoteOutput) Create(name string) (io.WriteCloser, error) {
	ans, _, err := o.g.request(Request{Op: ReqCreate, Name: name}, nil)
	if err != nil {
		return nil, err
	}
	return &remoteWriter{g: o.g, fd: ans.FD, buf: make([]byte, 0, readAhead)}, nil
}

// remoteWriter buffers writes, so a target writing line by line costs one
// round trip per 256 KiB.
type remoteWriter struct {
	g      *guest
	fd     int
	buf    []byte
	closed bool
}

func (w *remoteWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fs.ErrClosed
	}
	n := len(p)
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return n - len(p), err
			}
		}
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
	}
	return n, nil
}

func (w *remoteWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, _, err := w.g.request(Request{Op: ReqWrite, FD: w.fd}, w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *remoteWriter) Close() error {
	if w.closed {
		return fs.ErrClosed
	}
	w.closed = true
	err := w.flush()
	if _, _, cerr := w.g.request(Request{Op: ReqClose, FD: w.fd}, nil); err == nil {
		err = cerr
	}
	return err
}
