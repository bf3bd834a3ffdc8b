package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// Serve runs one session of adapter a over conn, on the adapter's side:
// hello, the host's call, then the call itself. Logs go to logOut as JSON
// lines, which the host forwards into its own log. A panic in the adapter
// is turned into the session's error, with its stack in the log, so the
// host can report it.
func Serve(ctx context.Context, a sdk.Adapter, conn Conn, logOut io.Writer) (err error) {
	g := &guest{conn: conn}
	m := a.Manifest()
	if err := sdk.CheckManifest(a); err != nil {
		return err
	}
	hello, _ := json.Marshal(Hello{Protocols: Versions, Manifest: m, Runtime: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH})
	if err := conn.Send(FrameHello, hello); err != nil {
		return fmt.Errorf("sending hello: %w", err)
	}
	typ, payload, err := conn.Recv()
	if errors.Is(err, io.EOF) {
		return nil // the host only wanted the manifest
	}
	if err != nil {
		return fmt.Errorf("waiting for the host's call: %w", err)
	}
	if typ != FrameCall {
		return fmt.Errorf("protocol error: expected a call frame, got %q", typ)
	}
	var call Call
	if err := json.Unmarshal(payload, &call); err != nil {
		return fmt.Errorf("protocol error: bad call: %w", err)
	}
	if call.Op == OpClose {
		return nil
	}
	if call.Protocol != Version {
		return fmt.Errorf("the host chose protocol %d, which this adapter does not speak", call.Protocol)
	}
	opts, err := DecodeOptions(call.Options, m.Options)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))

	var runErr error
	func() {
		defer func() {
			if p := recover(); p != nil {
				log.Error("adapter panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				runErr = fmt.Errorf("the adapter panicked: %v", p)
			}
		}()
		switch call.Op {
		case OpRead:
			src, ok := a.(sdk.Source)
			if !ok {
				runErr = fmt.Errorf("adapter %s is not a source", m.Name)
				return
			}
			req := &sdk.ReadRequest{Options: opts, Log: log}
			for i, in := range call.Inputs {
				req.Inputs = append(req.Inputs, sdk.Input{Name: in.Name, Entry: in.Entry, FS: &remoteFS{g: g, input: i}})
			}
			s := &guestSink{g: g}
			s.batch.Reset(0)
			runErr = src.Read(ctx, req, s)
			if ferr := s.flush(true); runErr == nil {
				runErr = ferr
			}
		case OpWrite:
			tgt, ok := a.(sdk.Target)
			if !ok {
				runErr = fmt.Errorf("adapter %s is not a target", m.Name)
				return
			}
			ws := call.Workspace
			if ws == nil {
				runErr = errors.New("protocol error: a write call without a workspace")
				return
			}
			req := &sdk.WriteRequest{
				Data:    &remoteDataset{g: g, ws: ws, counts: call.Counts},
				Out:     remoteOutput{g: g},
				Options: opts,
				Log:     log,
				Notice: func(n sdk.Notice) {
					b, _ := json.Marshal(n)
					g.send(FrameNotice, b)
				},
				Progress: func(done, total int64) { g.progress(done, total, false) },
			}
			runErr = tgt.Write(ctx, req)
			g.progress(0, 0, true)
		default:
			runErr = fmt.Errorf("protocol error: unknown call %q", call.Op)
		}
	}()
	if g.err != nil && runErr == nil {
		runErr = g.err
	}
	var done Done
	if runErr != nil {
		done.Error = runErr.Error()
	}
	b, _ := json.Marshal(done)
	if err := conn.Send(FrameDone, b); err != nil && g.err == nil {
		return err
	}
	return nil
}

// guest holds the adapter's end of a session. Requests are answered one
// at a time, in order, so a mutex around send-and-receive is all the
// multiplexing needed.
type guest struct {
	mu   sync.Mutex
	conn Conn
	// err is the first transport error; after it every call fails, since
	// the host is gone.
	err error
	buf []byte

	progDone, progTotal int64
	progSent            time.Time
	progDirty           bool
}

func (g *guest) send(typ byte, payload []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sendLocked(typ, payload)
}

func (g *guest) sendLocked(typ byte, payload []byte) error {
	if g.err != nil {
		return g.err
	}
	if err := g.conn.Send(typ, payload); err != nil {
		g.err = fmt.Errorf("the host went away: %w", err)
	}
	return g.err
}

// progress sends progress at most ten times a second.
func (g *guest) progress(done, total int64, final bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !final {
		g.progDone, g.progTotal, g.progDirty = done, total, true
	}
	if !g.progDirty || (!final && time.Since(g.progSent) < 100*time.Millisecond) {
		return
	}
	b, _ := json.Marshal(Progress{Done: g.progDone, Total: g.progTotal})
	g.progDirty, g.progSent = false, time.Now()
	_ = g.sendLocked(FrameProgress, b)
}

// request sends a request and waits for its answer. The returned data
// aliases a buffer that the next request reuses.
func (g *guest) request(req Request, data []byte) (Answer, []byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var ans Answer
	var err error
	g.buf, err = EncodeMessage(g.buf, req, data)
	if err != nil {
		return ans, nil, err
	}
	if err := g.sendLocked(FrameRequest, g.buf); err != nil {
		return ans, nil, err
	}
	typ, payload, err := g.conn.Recv()
	if err != nil {
		g.err = fmt.Errorf("the host went away: %w", err)
		return ans, nil, g.err
	}
	if typ != FrameAnswer {
		g.err = fmt.Errorf("protocol error: expected an answer, got a %q frame", typ)
		return ans, nil, g.err
	}
	out, err := DecodeMessage(payload, &ans)
	if err != nil {
		g.err = fmt.Errorf("protocol error: %w", err)
		return ans, nil, g.err
	}
	if ans.Error != "" {
		return ans, out, answerError(req, ans)
	}
	return ans, out, nil
}

// answerError turns an answer's error back into the io/fs error it was,
// so that errors.Is works in the adapter as it does natively.
func answerError(req Request, ans Answer) error {
	var base error
	switch ans.Code {
	case ErrNotExist:
		base = fs.ErrNotExist
	case ErrExist:
		base = fs.ErrExist
	case ErrPerm:
		base = fs.ErrPermission
	case ErrInvalid:
		base = fs.ErrInvalid
	case ErrClosed:
		base = fs.ErrClosed
	default:
		return errors.New(ans.Error)
	}
	return &fs.PathError{Op: req.Op, Path: req.Name, Err: &codedError{msg: ans.Error, base: base}}
}

type codedError struct {
	msg  string
	base error
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Unwrap() error { return e.base }

// guestSink batches records into frames.
type guestSink struct {
	g     *guest
	batch Batch
	next  uint64
}

var _ sdk.Sink = (*guestSink)(nil)

func (s *guestSink) Emit(rec sdk.Record) error {
	if rec == nil {
		return errors.New("Emit(nil)")
	}
	if KindIndex(rec.RecordKind()) < 0 {
		return fmt.Errorf("record of unknown kind %q", rec.RecordKind())
	}
	js, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("%s %s: cannot encode: %w", rec.RecordKind(), rec.RecordID(), err)
	}
	s.batch.Add(rec.RecordKind(), js)
	s.next++
	if s.batch.Len() >= BatchRecords || s.batch.Size() >= BatchBytes {
		return s.flush(false)
	}
	return nil
}

// flush sends the records batched so far, and pending progress.
func (s *guestSink) flush(final bool) error {
	if s.batch.Len() > 0 {
		if err := s.g.send(FrameRecords, s.batch.Bytes()); err != nil {
			return err
		}
		s.batch.Reset(s.next)
	}
	s.g.progress(0, 0, true)
	return s.g.err
}

func (s *guestSink) PutBlob(r io.Reader, contentType string) (sdk.BlobRef, error) {
	if err := s.flush(false); err != nil {
		return sdk.BlobRef{}, err
	}
	ans, _, err := s.g.request(Request{Op: ReqBlob, ContentType: contentType}, nil)
	if err != nil {
		return sdk.BlobRef{}, err
	}
	fd := ans.FD
	buf := make([]byte, 256<<10)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if _, _, err := s.g.request(Request{Op: ReqWrite, FD: fd}, buf[:n]); err != nil {
				return sdk.BlobRef{}, err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			_, _, _ = s.g.request(Request{Op: ReqClose, FD: fd}, nil)
			return sdk.BlobRef{}, rerr
		}
	}
	ans, _, err = s.g.request(Request{Op: ReqBlobEnd, FD: fd}, nil)
	if err != nil {
		return sdk.BlobRef{}, err
	}
	if ans.Blob == nil {
		return sdk.BlobRef{}, errors.New("protocol error: the host stored a blob but returned no reference")
	}
	return *ans.Blob, nil
}

func (s *guestSink) Notice(n sdk.Notice) {
	if s.flush(false) != nil {
		return
	}
	b, _ := json.Marshal(n)
	_ = s.g.send(FrameNotice, b)
}

func (s *guestSink) Progress(done, total int64) { s.g.progress(done, total, false) }
