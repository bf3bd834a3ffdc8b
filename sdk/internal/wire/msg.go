package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// Hello is the adapter's first frame.
type Hello struct {
	// Protocols lists the versions the adapter speaks, newest first.
	Protocols []int        `json:"protocols"`
	Manifest  sdk.Manifest `json:"manifest"`
	// Runtime names what the adapter was built with, for messages.
	Runtime string `json:"runtime,omitempty"`
}

// Call operations.
const (
	OpRead  = "read"
	OpWrite = "write"
	OpClose = "close"
)

// Call is the host's answer to Hello: what the adapter is to do.
type Call struct {
	Op       string `json:"op"`
	Protocol int    `json:"protocol"`
	// Options are the option values, each encoded as JSON; the adapter
	// decodes them by the types its manifest declares.
	Options map[string]json.RawMessage `json:"options,omitempty"`
	// Inputs are a source's inputs; their files are read with requests.
	Inputs []InputInfo `json:"inputs,omitempty"`
	// Workspace and Counts describe a target's dataset.
	Workspace *sdk.Workspace     `json:"workspace,omitempty"`
	Counts    map[sdk.Kind]int64 `json:"counts,omitempty"`
}

// InputInfo is an sdk.Input without its file system.
type InputInfo struct {
	Name  string `json:"name"`
	Entry string `json:"entry,omitempty"`
}

// Done ends a session.
type Done struct {
	Error string `json:"error,omitempty"`
}

// Progress is a Sink.Progress or WriteRequest.Progress call.
type Progress struct {
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
}

// Request operations.
const (
	ReqOpen     = "open"      // Input, Name → FD, Info
	ReqStat     = "stat"      // Input, Name → Info
	ReqRead     = "read"      // FD, N → data (empty at EOF)
	ReqPread    = "pread"     // FD, N, Off → data
	ReqSeek     = "seek"      // FD, Off, Whence → Pos
	ReqReadDir  = "readdir"   // FD, N → Entries
	ReqClose    = "close"     // FD
	ReqBlob     = "blob"      // ContentType → FD: a new blob to write into
	ReqBlobEnd  = "blob-end"  // FD → Blob
	ReqIter     = "iter"      // Kind → FD: a cursor over the dataset
	ReqNext     = "next"      // FD → a record batch (empty at the end)
	ReqOpenBlob = "open-blob" // SHA256 → FD
	ReqCreate   = "create"    // Name → FD: an output file
	ReqWrite    = "write"     // FD, data
)

// Request is what an adapter asks of the host. A request frame is a
// uint32 length, this JSON, and the request's data (for writes).
type Request struct {
	Op          string   `json:"op"`
	Input       int      `json:"input,omitempty"`
	Name        string   `json:"name,omitempty"`
	FD          int      `json:"fd,omitempty"`
	N           int      `json:"n,omitempty"`
	Off         int64    `json:"off,omitempty"`
	Whence      int      `json:"whence,omitempty"`
	ContentType string   `json:"content_type,omitempty"`
	Kind        sdk.Kind `json:"kind,omitempty"`
	SHA256      string   `json:"sha256,omitempty"`
}

// Error codes carried by answers, so that the adapter sees the error
// values io/fs defines.
const (
	ErrNotExist = "not-exist"
	ErrExist    = "exist"
	ErrPerm     = "permission"
	ErrInvalid  = "invalid"
	ErrClosed   = "closed"
)

// Answer is the host's reply to a request; like a request it may carry
// data after its JSON.
type Answer struct {
	Error string `json:"error,omitempty"`
	// Code classifies Error, when it is one of the io/fs errors.
	Code    string       `json:"code,omitempty"`
	FD      int          `json:"fd,omitempty"`
	Pos     int64        `json:"pos,omitempty"`
	EOF     bool         `json:"eof,omitempty"`
	Info    *FileInfo    `json:"info,omitempty"`
	Entries []FileInfo   `json:"entries,omitempty"`
	Blob    *sdk.BlobRef `json:"blob,omitempty"`
}

// FileInfo is an fs.FileInfo on the wire.
type FileInfo struct {
	Name    string      `json:"name"`
	Size    int64       `json:"size"`
	Mode    fs.FileMode `json:"mode"`
	ModTime int64       `json:"mtime,omitempty"` // Unix nanoseconds
}

// NewFileInfo converts an fs.FileInfo.
func NewFileInfo(fi fs.FileInfo) FileInfo {
	return FileInfo{Name: fi.Name(), Size: fi.Size(), Mode: fi.Mode(), ModTime: fi.ModTime().UnixNano()}
}

// fileInfo implements fs.FileInfo and fs.DirEntry.
type fileInfo struct{ FileInfo }

func (i fileInfo) Name() string               { return i.FileInfo.Name }
func (i fileInfo) Size() int64                { return i.FileInfo.Size }
func (i fileInfo) Mode() fs.FileMode          { return i.FileInfo.Mode }
func (i fileInfo) ModTime() time.Time         { return time.Unix(0, i.FileInfo.ModTime) }
func (i fileInfo) IsDir() bool                { return i.FileInfo.Mode.IsDir() }
func (i fileInfo) Sys() any                   { return nil }
func (i fileInfo) Type() fs.FileMode          { return i.FileInfo.Mode.Type() }
func (i fileInfo) Info() (fs.FileInfo, error) { return i, nil }

// EncodeMessage builds a request or answer payload: JSON then data.
func EncodeMessage(buf []byte, v any, data []byte) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	buf = binary.LittleEndian.AppendUint32(buf[:0], uint32(len(j)))
	buf = append(buf, j...)
	return append(buf, data...), nil
}

// DecodeMessage splits a request or answer payload, decoding its JSON into
// v and returning its data (which aliases payload).
func DecodeMessage(payload []byte, v any) ([]byte, error) {
	if len(payload) < 4 {
		return nil, fmt.Errorf("message of %d bytes is too short", len(payload))
	}
	n := binary.LittleEndian.Uint32(payload)
	if uint64(n) > uint64(len(payload)-4) {
		return nil, fmt.Errorf("message header of %d bytes overruns its %d-byte frame", n, len(payload)-4)
	}
	d := json.NewDecoder(bytes.NewReader(payload[4 : 4+n]))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return nil, fmt.Errorf("bad message header: %w", err)
	}
	return payload[4+n:], nil
}

// KindIndex returns a kind's position in sdk.Kinds, or -1.
func KindIndex(k sdk.Kind) int {
	for i, x := range sdk.Kinds {
		if x == k {
			return i
		}
	}
	return -1
}

// Batch accumulates records for one records frame.
type Batch struct {
	buf   []byte
	count int
}

// Reset empties the batch; its records will be numbered from first.
func (b *Batch) Reset(first uint64) {
	b.buf = binary.LittleEndian.AppendUint64(b.buf[:0], first)
	b.count = 0
}

// Add appends one record's JSON.
func (b *Batch) Add(kind sdk.Kind, js []byte) {
	if b.buf == nil {
		b.Reset(0)
	}
	b.buf = append(b.buf, byte(KindIndex(kind)))
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(js)))
	b.buf = append(b.buf, js...)
	b.count++
}

// Len reports how many records the batch holds, and Size its bytes.
func (b *Batch) Len() int  { return b.count }
func (b *Batch) Size() int { return len(b.buf) }

// Bytes returns the frame payload.
func (b *Batch) Bytes() []byte {
	if b.buf == nil {
		b.Reset(0)
	}
	return b.buf
}

// Batch limits: a batch is sent when it holds this many records or bytes.
// Measured: past about a hundred records per frame the per-record cost no
// longer falls, and larger frames only cost memory.
const (
	BatchRecords = 512
	BatchBytes   = 256 << 10
)

// Walk calls fn for each record in a batch payload, in order, and returns
// the index of the batch's first record.
func Walk(payload []byte, fn func(kind sdk.Kind, js []byte) error) (first uint64, err error) {
	if len(payload) < 8 {
		return 0, fmt.Errorf("record batch of %d bytes is too short", len(payload))
	}
	first = binary.LittleEndian.Uint64(payload)
	b := payload[8:]
	for i := 0; len(b) > 0; i++ {
		if len(b) < 5 {
			return first, fmt.Errorf("record %d of the batch: truncated header", first+uint64(i))
		}
		k := int(b[0])
		n := binary.LittleEndian.Uint32(b[1:5])
		if k >= len(sdk.Kinds) {
			return first, fmt.Errorf("record %d of the batch: unknown kind number %d", first+uint64(i), k)
		}
		if uint64(n) > uint64(len(b)-5) {
			return first, fmt.Errorf("record %d of the batch: length %d overruns the batch", first+uint64(i), n)
		}
		if err := fn(sdk.Kinds[k], b[5:5+n]); err != nil {
			return first, err
		}
		b = b[5+n:]
	}
	return first, nil
}

// NewRecord returns a new, empty record of a kind.
func NewRecord(k sdk.Kind) sdk.Record {
	switch k {
	case sdk.KindWorkspace:
		return new(sdk.Workspace)
	case sdk.KindUser:
		return new(sdk.User)
	case sdk.KindRoom:
		return new(sdk.Room)
	case sdk.KindConversation:
		return new(sdk.Conversation)
	case sdk.KindEmoji:
		return new(sdk.Emoji)
	case sdk.KindMessage:
		return new(sdk.Message)
	case sdk.KindAttachment:
		return new(sdk.Attachment)
	}
	return nil
}

// DecodeRecord decodes one record strictly: a field the canonical types do
// not have is an error rather than silently lost.
func DecodeRecord(k sdk.Kind, js []byte) (sdk.Record, error) {
	rec := NewRecord(k)
	if rec == nil {
		return nil, fmt.Errorf("unknown record kind %q", k)
	}
	d := json.NewDecoder(bytes.NewReader(js))
	d.DisallowUnknownFields()
	if err := d.Decode(rec); err != nil {
		return nil, fmt.Errorf("%s record: %w", k, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%s record: data after the record's JSON", k)
	}
	return rec, nil
}

// EncodeOptions encodes option values for a call.
func EncodeOptions(o sdk.Options) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(o))
	for k, v := range o {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("option %q: %w", k, err)
		}
		out[k] = b
	}
	return out, nil
}

// DecodeOptions restores option values in the Go types their declarations
// name. Options the manifest does not declare keep their JSON types.
func DecodeOptions(raw map[string]json.RawMessage, decl []sdk.Option) (sdk.Options, error) {
	types := map[string]sdk.OptionType{}
	for _, d := range decl {
		types[d.Name] = d.Type
	}
	out := make(sdk.Options, len(raw))
	for k, js := range raw {
		var err error
		switch types[k] {
		case sdk.OptionString:
			var v string
			err = json.Unmarshal(js, &v)
			out[k] = v
		case sdk.OptionBool:
			var v bool
			err = json.Unmarshal(js, &v)
			out[k] = v
		case sdk.OptionInt:
			var v int64
			err = json.Unmarshal(js, &v)
			out[k] = v
		case sdk.OptionStrings:
			var v []string
			err = json.Unmarshal(js, &v)
			out[k] = v
		case sdk.OptionFile:
			var v []byte
			err = json.Unmarshal(js, &v)
			out[k] = v
		default:
			var v any
			err = json.Unmarshal(js, &v)
			out[k] = v
		}
		if err != nil {
			return nil, fmt.Errorf("option %q: %w", k, err)
		}
	}
	return out, nil
}

// Pick returns the newest version both sides speak, or 0.
func Pick(theirs []int) int {
	best := 0
	for _, v := range theirs {
		for _, w := range Versions {
			if v == w && v > best {
				best = v
			}
		}
	}
	return best
}

// VersionError is returned when the two sides share no protocol version.
type VersionError struct {
	Plugin string
	Theirs []int
}

func (e *VersionError) Error() string {
	theirs := fmt.Sprint(e.Theirs)
	if len(e.Theirs) == 1 {
		theirs = fmt.Sprint(e.Theirs[0])
	}
	ours := fmt.Sprint(Versions[0])
	advice := "upgrade migrate or use an older plugin"
	newest := 0
	for _, v := range e.Theirs {
		newest = max(newest, v)
	}
	if newest < Versions[len(Versions)-1] {
		advice = "rebuild the plugin with a newer migrate SDK or use an older migrate"
	}
	return fmt.Sprintf("plugin %s speaks protocol %s, this migrate speaks %s: %s", e.Plugin, theirs, ours, advice)
}
