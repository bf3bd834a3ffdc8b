package wire

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"log/slog"
	"regexp"

	"github.com/migrate-chat/migrate/sdk"
)

// Starter begins one session with an adapter: it runs the adapter, routes
// the adapter's log lines to log, and returns the connection and a stop
// function. stop ends the session (stopping the adapter if it still runs)
// and reports how the adapter ended: nil for a clean exit, otherwise an
// error saying why (exit status, trap, the panic it printed). A starter
// must make Recv fail once ctx is done, even if the adapter is stuck.
type Starter func(ctx context.Context, log *slog.Logger) (conn Conn, stop func() error, err error)

// Plugin is an adapter outside the process, as the host sees it.
type Plugin struct {
	// Name says which plugin this is in messages: its file name.
	Name  string
	Start Starter
}

// Handshake runs a session that only reads the adapter's hello, and
// returns its manifest.
func (p *Plugin) Handshake(ctx context.Context, log *slog.Logger) (sdk.Manifest, error) {
	conn, stop, err := p.Start(ctx, log)
	if err != nil {
		return sdk.Manifest{}, err
	}
	hello, err := p.hello(conn)
	if err == nil {
		b, _ := json.Marshal(Call{Op: OpClose})
		err = conn.Send(FrameCall, b)
	}
	if serr := stop(); err != nil {
		return sdk.Manifest{}, p.failure(ctx, err, serr)
	} else if serr != nil {
		return sdk.Manifest{}, fmt.Errorf("plugin %s: %w", p.Name, serr)
	}
	if err := checkManifest(hello.Manifest); err != nil {
		return sdk.Manifest{}, fmt.Errorf("plugin %s: %w", p.Name, err)
	}
	return hello.Manifest, nil
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

func checkManifest(m sdk.Manifest) error {
	if !validName.MatchString(m.Name) {
		return fmt.Errorf("its manifest names it %q: use lower-case letters, digits and dashes", m.Name)
	}
	if !m.Source && !m.Target {
		return fmt.Errorf("adapter %q is neither a source nor a target", m.Name)
	}
	return nil
}

func (p *Plugin) hello(conn Conn) (Hello, error) {
	var h Hello
	typ, payload, err := conn.Recv()
	if err != nil {
		return h, fmt.Errorf("waiting for its hello: %w", err)
	}
	if typ != FrameHello {
		return h, fmt.Errorf("protocol error: it spoke first with a %q frame, not a hello: is it a migrate plugin?", typ)
	}
	if err := json.Unmarshal(payload, &h); err != nil {
		return h, fmt.Errorf("protocol error: bad hello: %w", err)
	}
	if Pick(h.Protocols) == 0 {
		return h, &VersionError{Plugin: p.Name, Theirs: h.Protocols}
	}
	return h, nil
}

// ErrKilled is what a Starter's stop returns when it stopped the adapter
// itself because the session's context ended; it is not the adapter's
// fault and is left out of messages.
var ErrKilled = errors.New("stopped by migrate")

// failure explains why a session failed: the context's end, how the
// adapter ended, or the protocol error, in that order of usefulness.
func (p *Plugin) failure(ctx context.Context, err, stopErr error) error {
	var ve *VersionError
	if errors.As(err, &ve) {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("plugin %s stopped: %w", p.Name, context.Cause(ctx))
	}
	if errors.Is(stopErr, ErrKilled) {
		stopErr = nil
	}
	if stopErr != nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.ErrClosedPipe)) {
		return fmt.Errorf("plugin %s stopped unexpectedly: %w", p.Name, stopErr)
	}
	if stopErr != nil {
		return fmt.Errorf("plugin %s: %w (it then ended: %v)", p.Name, err, stopErr)
	}
	return fmt.Errorf("plugin %s: %w", p.Name, err)
}

// NewAdapter returns an adapter that runs every Read or Write as a session
// with the plugin. It is an sdk.Source, an sdk.Target or both, as m says.
func NewAdapter(p *Plugin, m sdk.Manifest) sdk.Adapter {
	b := &proxy{p: p, m: m}
	switch {
	case m.Source && m.Target:
		return &sourceTarget{b}
	case m.Source:
		return &source{b}
	default:
		return &target{b}
	}
}

type proxy struct {
	p *Plugin
	m sdk.Manifest
}

type source struct{ *proxy }
type target struct{ *proxy }
type sourceTarget struct{ *proxy }

var (
	_ sdk.Source = (*source)(nil)
	_ sdk.Target = (*target)(nil)
	_ sdk.Source = (*sourceTarget)(nil)
	_ sdk.Target = (*sourceTarget)(nil)
)

func (b *proxy) Manifest() sdk.Manifest { return b.m }

func (s *source) Read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	return s.read(ctx, req, out)
}
func (s *sourceTarget) Read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	return s.read(ctx, req, out)
}
func (t *target) Write(ctx context.Context, req *sdk.WriteRequest) error { return t.write(ctx, req) }
func (t *sourceTarget) Write(ctx context.Context, req *sdk.WriteRequest) error {
	return t.write(ctx, req)
}

func (b *proxy) read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	opts, err := EncodeOptions(req.Options)
	if err != nil {
		return err
	}
	call := Call{Op: OpRead, Options: opts}
	for _, in := range req.Inputs {
		call.Inputs = append(call.Inputs, InputInfo{Name: in.Name, Entry: in.Entry})
	}
	s := newSession(b.p, req.Log)
	s.inputs, s.sink = req.Inputs, out
	return s.run(ctx, call)
}

func (b *proxy) write(ctx context.Context, req *sdk.WriteRequest) error {
	opts, err := EncodeOptions(req.Options)
	if err != nil {
		return err
	}
	call := Call{Op: OpWrite, Options: opts, Workspace: req.Data.Workspace(), Counts: req.Data.Counts()}
	s := newSession(b.p, req.Log)
	s.data, s.out = req.Data, req.Out
	s.notice, s.prog = req.Notice, req.Progress
	return s.run(ctx, call)
}

// session is the host's end of one call.
type session struct {
	p   *Plugin
	log *slog.Logger

	// a read
	inputs []sdk.Input
	sink   sdk.Sink
	seq    uint64
	// a write
	data   sdk.Dataset
	out    sdk.Output
	notice func(sdk.Notice)
	prog   func(done, total int64)

	nextFD  int
	files   map[int]fs.File
	cursors map[int]*cursor
	writers map[int]io.WriteCloser
	blobs   map[int]*blobWriter
	buf     []byte
}

func newSession(p *Plugin, log *slog.Logger) *session {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &session{p: p, log: log, files: map[int]fs.File{}, cursors: map[int]*cursor{},
		writers: map[int]io.WriteCloser{}, blobs: map[int]*blobWriter{}}
}

type cursor struct {
	next func() (sdk.Record, error, bool)
	stop func()
}

type blobWriter struct {
	w    *io.PipeWriter
	done chan struct{}
	ref  sdk.BlobRef
	err  error
}

func (s *session) run(outer context.Context, call Call) error {
	ctx, cancel := context.WithCancel(outer)
	defer cancel()
	conn, stop, err := s.p.Start(ctx, s.log)
	if err != nil {
		return err
	}
	defer s.release()
	result, err := s.loop(conn, call)
	if err != nil {
		cancel()
		return s.p.failure(outer, err, stop())
	}
	if serr := stop(); serr != nil && !errors.Is(serr, ErrKilled) && result == nil {
		return fmt.Errorf("plugin %s: finished, then ended badly: %w", s.p.Name, serr)
	}
	return result
}

// loop runs a session until the adapter's done frame. It returns the
// adapter's own error (the call failed) or err (the session failed).
func (s *session) loop(conn Conn, call Call) (result error, err error) {
	hello, err := s.p.hello(conn)
	if err != nil {
		return nil, err
	}
	if !sameRoles(hello.Manifest, call) {
		return nil, fmt.Errorf("adapter %s cannot %s", hello.Manifest.Name, call.Op)
	}
	call.Protocol = Pick(hello.Protocols)
	b, err := json.Marshal(call)
	if err != nil {
		return nil, err
	}
	if err := conn.Send(FrameCall, b); err != nil {
		return nil, fmt.Errorf("sending the call: %w", err)
	}
	for {
		typ, payload, err := conn.Recv()
		if err != nil {
			return nil, err
		}
		switch typ {
		case FrameRecords:
			if call.Op != OpRead {
				return nil, errors.New("protocol error: records sent during a write")
			}
			if len(s.blobs) > 0 {
				return nil, errors.New("protocol error: records sent while a blob was being stored")
			}
			if err := s.records(payload); err != nil {
				return nil, err
			}
		case FrameNotice:
			var n sdk.Notice
			if err := json.Unmarshal(payload, &n); err != nil {
				return nil, fmt.Errorf("protocol error: bad notice: %w", err)
			}
			if call.Op == OpRead {
				s.sink.Notice(n)
			} else if s.notice != nil {
				s.notice(n)
			}
		case FrameProgress:
			var p Progress
			if err := json.Unmarshal(payload, &p); err != nil {
				return nil, fmt.Errorf("protocol error: bad progress: %w", err)
			}
			if call.Op == OpRead {
				s.sink.Progress(p.Done, p.Total)
			} else if s.prog != nil {
				s.prog(p.Done, p.Total)
			}
		case FrameRequest:
			var req Request
			data, err := DecodeMessage(payload, &req)
			if err != nil {
				return nil, fmt.Errorf("protocol error: %w", err)
			}
			ans, out := s.answer(call.Op, req, data)
			s.buf, err = EncodeMessage(s.buf, ans, out)
			if err != nil {
				return nil, err
			}
			if err := conn.Send(FrameAnswer, s.buf); err != nil {
				return nil, fmt.Errorf("answering a %s request: %w", req.Op, err)
			}
		case FrameDone:
			var d Done
			if err := json.Unmarshal(payload, &d); err != nil {
				return nil, fmt.Errorf("protocol error: bad done frame: %w", err)
			}
			if len(s.blobs) > 0 {
				return nil, errors.New("protocol error: the adapter finished with a blob half stored")
			}
			if d.Error != "" {
				return errors.New(d.Error), nil
			}
			return nil, nil
		default:
			return nil, fmt.Errorf("protocol error: unexpected %q frame", typ)
		}
	}
}

func sameRoles(m sdk.Manifest, call Call) bool {
	switch call.Op {
	case OpRead:
		return m.Source
	case OpWrite:
		return m.Target
	}
	return true
}

// records passes a batch to the sink, checking that no batch was lost or
// reordered on the way.
func (s *session) records(payload []byte) error {
	start := s.seq
	if len(payload) >= 8 {
		if first := binary.LittleEndian.Uint64(payload); first != start {
			return fmt.Errorf("protocol error: records out of order: a batch numbered from record %d arrived after %d records", first, start)
		}
	}
	first, err := Walk(payload, func(k sdk.Kind, js []byte) error {
		rec, err := DecodeRecord(k, js)
		if err != nil {
			return fmt.Errorf("record %d: %w", s.seq, err)
		}
		if err := s.sink.Emit(rec); err != nil {
			return fmt.Errorf("record %d (%s %q): %w", s.seq, k, rec.RecordID(), err)
		}
		s.seq++
		return nil
	})
	if err != nil {
		return err
	}
	if first != start {
		return fmt.Errorf("protocol error: records out of order: a batch numbered from record %d arrived after %d records", first, start)
	}
	return nil
}

func (s *session) release() {
	for _, f := range s.files {
		f.Close()
	}
	for _, c := range s.cursors {
		c.stop()
	}
	for _, w := range s.writers {
		w.Close()
	}
	for _, b := range s.blobs {
		b.w.CloseWithError(errors.New("the adapter stopped before the blob was complete"))
		<-b.done
	}
}

func errAnswer(err error) Answer {
	a := Answer{Error: err.Error()}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		a.Code = ErrNotExist
	case errors.Is(err, fs.ErrExist):
		a.Code = ErrExist
	case errors.Is(err, fs.ErrPermission):
		a.Code = ErrPerm
	case errors.Is(err, fs.ErrInvalid):
		a.Code = ErrInvalid
	case errors.Is(err, fs.ErrClosed):
		a.Code = ErrClosed
	}
	return a
}

// maxRead bounds what one read request returns.
const maxRead = 16 << 20

func (s *session) answer(op string, req Request, data []byte) (Answer, []byte) {
	bad := func(format string, a ...any) (Answer, []byte) {
		return Answer{Error: fmt.Sprintf(format, a...), Code: ErrInvalid}, nil
	}
	switch req.Op {
	case ReqOpen, ReqStat:
		if op != OpRead {
			return bad("%s: only a source reads inputs", req.Op)
		}
		if req.Input < 0 || req.Input >= len(s.inputs) {
			return bad("%s: there is no input %d", req.Op, req.Input)
		}
		fsys := s.inputs[req.Input].FS
		if req.Op == ReqStat {
			fi, err := fs.Stat(fsys, req.Name)
			if err != nil {
				return errAnswer(err), nil
			}
			info := NewFileInfo(fi)
			return Answer{Info: &info}, nil
		}
		f, err := fsys.Open(req.Name)
		if err != nil {
			return errAnswer(err), nil
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return errAnswer(err), nil
		}
		s.nextFD++
		s.files[s.nextFD] = f
		info := NewFileInfo(fi)
		return Answer{FD: s.nextFD, Info: &info}, nil
	case ReqRead, ReqPread:
		f, ok := s.files[req.FD]
		if !ok {
			return Answer{Error: fmt.Sprintf("%s: file %d is not open", req.Op, req.FD), Code: ErrClosed}, nil
		}
		n := min(max(req.N, 0), maxRead)
		buf := make([]byte, n)
		var got int
		var err error
		if req.Op == ReqRead {
			got, err = io.ReadFull(f, buf)
		} else {
			ra, ok := f.(io.ReaderAt)
			if !ok {
				return bad("pread: the file does not support reading at an offset")
			}
			got, err = ra.ReadAt(buf, req.Off)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return Answer{EOF: true}, buf[:got]
		}
		if err != nil {
			return errAnswer(err), nil
		}
		return Answer{}, buf[:got]
	case ReqSeek:
		f, ok := s.files[req.FD]
		if !ok {
			return Answer{Error: fmt.Sprintf("seek: file %d is not open", req.FD), Code: ErrClosed}, nil
		}
		sk, ok := f.(io.Seeker)
		if !ok {
			return bad("seek: the file does not support seeking")
		}
		pos, err := sk.Seek(req.Off, req.Whence)
		if err != nil {
			return errAnswer(err), nil
		}
		return Answer{Pos: pos}, nil
	case ReqReadDir:
		f, ok := s.files[req.FD]
		if !ok {
			return Answer{Error: fmt.Sprintf("readdir: file %d is not open", req.FD), Code: ErrClosed}, nil
		}
		d, ok := f.(fs.ReadDirFile)
		if !ok {
			return bad("readdir: not a directory")
		}
		entries, err := d.ReadDir(req.N)
		if err != nil && err != io.EOF {
			return errAnswer(err), nil
		}
		ans := Answer{Entries: make([]FileInfo, 0, len(entries))}
		for _, e := range entries {
			fi, err := e.Info()
			if err != nil {
				return errAnswer(err), nil
			}
			ans.Entries = append(ans.Entries, NewFileInfo(fi))
		}
		return ans, nil
	case ReqClose:
		if f, ok := s.files[req.FD]; ok {
			delete(s.files, req.FD)
			if err := f.Close(); err != nil {
				return errAnswer(err), nil
			}
			return Answer{}, nil
		}
		if c, ok := s.cursors[req.FD]; ok {
			delete(s.cursors, req.FD)
			c.stop()
			return Answer{}, nil
		}
		if w, ok := s.writers[req.FD]; ok {
			delete(s.writers, req.FD)
			if err := w.Close(); err != nil {
				return errAnswer(err), nil
			}
			return Answer{}, nil
		}
		if b, ok := s.blobs[req.FD]; ok {
			delete(s.blobs, req.FD)
			b.w.CloseWithError(errors.New("the adapter abandoned the blob"))
			<-b.done
			return Answer{}, nil
		}
		return Answer{Error: fmt.Sprintf("close: %d is not open", req.FD), Code: ErrClosed}, nil
	case ReqBlob:
		if op != OpRead {
			return bad("blob: only a source stores blobs")
		}
		if len(s.blobs) > 0 {
			return bad("blob: a blob is already being stored")
		}
		pr, pw := io.Pipe()
		b := &blobWriter{w: pw, done: make(chan struct{})}
		go func() {
			defer close(b.done)
			b.ref, b.err = s.sink.PutBlob(pr, req.ContentType)
			if b.err != nil {
				pr.CloseWithError(b.err)
			} else {
				pr.Close()
			}
		}()
		s.nextFD++
		s.blobs[s.nextFD] = b
		return Answer{FD: s.nextFD}, nil
	case ReqWrite:
		if b, ok := s.blobs[req.FD]; ok {
			if _, err := b.w.Write(data); err != nil {
				return errAnswer(fmt.Errorf("storing a blob: %w", err)), nil
			}
			return Answer{}, nil
		}
		w, ok := s.writers[req.FD]
		if !ok {
			return Answer{Error: fmt.Sprintf("write: %d is not open for writing", req.FD), Code: ErrClosed}, nil
		}
		if _, err := w.Write(data); err != nil {
			return errAnswer(err), nil
		}
		return Answer{}, nil
	case ReqBlobEnd:
		b, ok := s.blobs[req.FD]
		if !ok {
			return Answer{Error: fmt.Sprintf("blob-end: %d is not a blob being stored", req.FD), Code: ErrClosed}, nil
		}
		delete(s.blobs, req.FD)
		b.w.Close()
		<-b.done
		if b.err != nil {
			return errAnswer(b.err), nil
		}
		return Answer{Blob: &b.ref}, nil
	case ReqIter:
		if op != OpWrite {
			return bad("iter: only a target reads the dataset")
		}
		var seq iter.Seq2[sdk.Record, error]
		switch req.Kind {
		case sdk.KindUser:
			seq = anySeq(s.data.Users())
		case sdk.KindRoom:
			seq = anySeq(s.data.Rooms())
		case sdk.KindConversation:
			seq = anySeq(s.data.Conversations())
		case sdk.KindEmoji:
			seq = anySeq(s.data.Emoji())
		case sdk.KindMessage:
			seq = anySeq(s.data.Messages())
		case sdk.KindAttachment:
			seq = anySeq(s.data.Attachments())
		default:
			return bad("iter: no sequence of %q records", req.Kind)
		}
		next, stop := iter.Pull2(seq)
		s.nextFD++
		s.cursors[s.nextFD] = &cursor{next: next, stop: stop}
		return Answer{FD: s.nextFD}, nil
	case ReqNext:
		c, ok := s.cursors[req.FD]
		if !ok {
			return Answer{Error: fmt.Sprintf("next: %d is not a cursor", req.FD), Code: ErrClosed}, nil
		}
		var batch Batch
		batch.Reset(0)
		for batch.Len() < BatchRecords && batch.Size() < BatchBytes {
			rec, err, ok := c.next()
			if !ok {
				return Answer{EOF: true}, batch.Bytes()
			}
			if err != nil {
				return errAnswer(err), nil
			}
			js, err := json.Marshal(rec)
			if err != nil {
				return errAnswer(err), nil
			}
			batch.Add(rec.RecordKind(), js)
		}
		return Answer{}, batch.Bytes()
	case ReqOpenBlob:
		if op != OpWrite {
			return bad("open-blob: only a target reads blobs")
		}
		rc, err := s.data.OpenBlob(req.SHA256)
		if err != nil {
			return errAnswer(err), nil
		}
		s.nextFD++
		s.files[s.nextFD] = readCloserFile{rc}
		return Answer{FD: s.nextFD}, nil
	case ReqCreate:
		if op != OpWrite {
			return bad("create: only a target writes output")
		}
		w, err := s.out.Create(req.Name)
		if err != nil {
			return errAnswer(err), nil
		}
		s.nextFD++
		s.writers[s.nextFD] = w
		return Answer{FD: s.nextFD}, nil
	}
	return bad("unknown request %q", req.Op)
}

func anySeq[T sdk.Record](seq iter.Seq2[T, error]) iter.Seq2[sdk.Record, error] {
	return func(yield func(sdk.Record, error) bool) {
		for r, err := range seq {
			if !yield(r, err) {
				return
			}
		}
	}
}

// readCloserFile lets a blob reader sit in the table of open files.
type readCloserFile struct{ io.ReadCloser }

func (readCloserFile) Stat() (fs.FileInfo, error) { return nil, fs.ErrInvalid }
