package container

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Options control Unwrap.
type Options struct {
	// Passphrase is called, at most once, when an input turns out to be
	// encrypted; it is never called for plain inputs, so a prompt only
	// appears when needed. If it is nil, encrypted inputs fail with
	// ErrNeedPassphrase.
	Passphrase func() ([]byte, error)
	// KDF forces the key derivation; "" tries md5, sha256 and pbkdf2 in turn.
	KDF KDF
	// Iter is the pbkdf2 iteration count; 0 means openssl's default, 10000.
	// With KDF "" it sets the count tried for the pbkdf2 candidate.
	Iter int
	// Limits bound what an archive may unpack to; zero fields take defaults.
	Limits Limits
	// TempDir is where the private temporary trees are made; "" means
	// os.TempDir(). Unpacked archives need as much room here as they unpack
	// to.
	TempDir string
	// Progress, if not nil, is told how many bytes of the input have been
	// read so far and the input's size, about once per MiB. It may be
	// called from a goroutine Unwrap starts, but never concurrently with
	// itself, and never after Unwrap returns.
	Progress func(done, total int64)
}

// Unwrapped is an input made ready for an adapter: a directory tree that the
// adapter should treat as read-only.
type Unwrapped struct {
	// Dir is the root of the tree to hand to the adapter.
	Dir string
	// Entry is, when the input came down to a single plain file, its name
	// inside Dir; it is "" when the input was a directory or an archive.
	Entry string
	// Layers lists what was peeled, outermost first, for example
	// ["openssl-enc(md5)", "gzip", "tar"]. It is empty for a plain directory
	// or file.
	Layers []string

	tmp string // private temporary directory to remove on Close, or ""
}

// Close removes the temporary tree Unwrap made, if any. It never removes a
// directory or file that the user passed in. Calling it again does nothing.
func (u *Unwrapped) Close() error {
	if u == nil || u.tmp == "" {
		return nil
	}
	tmp := u.tmp
	u.tmp = ""
	return os.RemoveAll(tmp)
}

// maxLayers bounds how many envelopes and compressions may be nested. Real
// inputs have at most three (encryption, compression, archive); the bound
// stops a crafted file from nesting gzip in gzip indefinitely.
const maxLayers = 8

// streamBuf is the read buffer between layers. It must be at least sniffLen.
const streamBuf = 256 << 10

// Unwrap makes the input at path ready for an adapter.
//
// The format is decided by content, never by the file name: an openssl enc
// envelope is decrypted (the passphrase is asked for only then, and the KDF
// is auto-detected unless opt.KDF is set), gzip and zstd are decompressed,
// and a tar or zip archive is unpacked into a private temporary directory
// (mode 0700) under opt.TempDir, with opt.Limits enforced and unsafe entries
// refused (see "Untrusted archives" in the package documentation).
//
// A directory is returned as is (Dir is path, nothing is copied). A plain
// file (JSON, NDJSON, anything not recognised as a container) is returned
// with Dir its parent and Entry its base name, also without copying. A
// compressed or encrypted single file is written into the temporary
// directory under its name less the .aes/.gz/.zst suffixes.
//
// On error nothing is left behind in TempDir, and the error is an *Error
// naming the input and, where relevant, the archive entry; its cause can be
// tested with errors.Is against ErrWrongPassphrase, ErrNeedPassphrase,
// ErrTruncated, ErrCorrupt, ErrUnsafeEntry, ErrUnsupported, or with
// errors.As against *LimitError. Cancelling ctx stops the work promptly.
func Unwrap(ctx context.Context, path string, opt Options) (*Unwrapped, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err // *PathError already names the path
	}
	if fi.IsDir() {
		return &Unwrapped{Dir: path}, nil
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{Input: path, Err: fmt.Errorf("not a regular file or directory (%s)", fi.Mode().Type())}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	u := &unpacker{
		ctx:   ctx,
		input: path,
		opt:   opt,
		lim:   opt.Limits.withDefaults(),
		in:    &inputCounter{ctx: ctx, r: f, ra: f, size: fi.Size(), progress: opt.Progress},
	}
	res, err := u.run()
	if err != nil {
		if u.tmp != "" {
			_ = os.RemoveAll(u.tmp)
		}
		return nil, u.wrap(err)
	}
	return res, nil
}

// unpacker carries the state of one Unwrap call.
type unpacker struct {
	ctx   context.Context
	input string
	opt   Options
	lim   Limits
	in    *inputCounter // what the ratio limit divides by
	tmp   string        // private temporary directory, once made
	root  *os.Root      // the tree inside tmp, once made
	pass  []byte

	files   int
	total   int64
	buf     []byte
	lastDir string // parent directory created most recently (saves MkdirAll calls)
}

func (u *unpacker) run() (*Unwrapped, error) {
	src := bufio.NewReaderSize(u.in, 1<<20)
	head, err := peek(src)
	if err != nil {
		return nil, err
	}
	kind := sniff(head)
	if kind == fmtPlain {
		return &Unwrapped{Dir: filepath.Dir(u.input), Entry: filepath.Base(u.input)}, nil
	}
	if err := unsupported(kind); err != nil {
		return nil, err
	}

	if err := u.makeTree(); err != nil {
		return nil, err
	}
	defer u.root.Close()
	res := &Unwrapped{Dir: u.root.Name(), tmp: u.tmp}

	if kind == fmtZip {
		// The input file itself is the zip: read it in place.
		res.Layers = []string{"zip"}
		return res, u.extractZip(u.in, u.in.size)
	}

	name := filepath.Base(u.input)
	stream := src
	raw := true // stream is still the input file's own bytes
	for depth := 0; depth < maxLayers; depth++ {
		switch kind {
		case fmtSalted:
			if u.pass == nil {
				if u.pass, err = u.passphrase(); err != nil {
					return nil, err
				}
			}
			d, k, iter, err := openDecrypt(stream, u.pass, u.opt.KDF, u.opt.Iter, plausiblePlaintext)
			if err != nil {
				return nil, err
			}
			res.Layers = append(res.Layers, k.label(iter))
			stream = bufio.NewReaderSize(d, streamBuf)
			name = trimSuffixFold(name, ".aes", ".enc")
		case fmtSaltedBase64:
			// openssl enc -a: the decoder skips the line breaks.
			res.Layers = append(res.Layers, "base64")
			stream = bufio.NewReaderSize(base64.NewDecoder(base64.StdEncoding, stream), streamBuf)
			name = trimSuffixFold(name, ".b64", ".base64", ".asc")
		case fmtGzip:
			gz, err := gzip.NewReader(stream)
			if err != nil {
				return nil, err
			}
			defer gz.Close()
			res.Layers = append(res.Layers, "gzip")
			stream = bufio.NewReaderSize(gz, streamBuf)
			name = replaceSuffixFold(name, map[string]string{".tgz": ".tar", ".gz": "", ".gzip": ""})
		case fmtZstd:
			zd, err := zstd.NewReader(stream,
				// A crafted frame header may claim any window size; past
				// 128 MiB (the reference decoder's own default cap) it is
				// refused instead of allocated.
				zstd.WithDecoderMaxWindow(128<<20),
				// Output size is policed by Limits; the decoder's own 64 GiB
				// cap would only reject big legitimate archives.
				zstd.WithDecoderMaxMemory(1<<62),
				zstd.WithDecoderConcurrency(2))
			if err != nil {
				return nil, err
			}
			defer zd.Close()
			res.Layers = append(res.Layers, "zstd")
			stream = bufio.NewReaderSize(zd, streamBuf)
			name = replaceSuffixFold(name, map[string]string{".tzst": ".tar", ".zst": "", ".zstd": ""})
		case fmtTar:
			res.Layers = append(res.Layers, "tar")
			if err := u.extractTar(stream); err != nil {
				return nil, err
			}
			if !raw {
				// Read to the end of the outer layers: that is where gzip
				// checks its CRC and where the cipher's padding is
				// verified, so a damaged or truncated archive is not
				// accepted just because the tar end marker came first.
				if _, err := u.copyLimited(nil, stream, false); err != nil {
					return nil, err
				}
			}
			return res, nil
		case fmtZip:
			res.Layers = append(res.Layers, "zip")
			return res, u.spoolZip(stream)
		case fmtPlain:
			name = safeBaseName(name)
			if err := u.addEntry(); err != nil {
				return nil, err
			}
			if err := u.writeFile(name, stream, -1); err != nil {
				return nil, &Error{Input: u.input, Entry: name, Err: classify(err)}
			}
			res.Entry = name
			return res, nil
		default:
			if err := unsupported(kind); err != nil {
				return nil, err
			}
		}
		raw = false
		if head, err = peek(stream); err != nil {
			return nil, err
		}
		kind = sniff(head)
		if kind == fmtTar || kind == fmtZip || kind == fmtPlain {
			// The last layer: from here on the work is writing files, so
			// let the decoders run ahead in their own goroutine. Deferred
			// Close runs before the decoders' own deferred Close calls.
			ra := newReadAhead(stream)
			defer ra.Close()
			stream = bufio.NewReaderSize(ra, streamBuf)
		}
	}
	return nil, fmt.Errorf("%w: more than %d nested layers of encryption or compression", ErrUnsupported, maxLayers)
}

// makeTree creates the private temporary directory and the tree inside it.
// The tree is a subdirectory so that spool files never appear in it.
func (u *unpacker) makeTree() error {
	tmp, err := os.MkdirTemp(u.opt.TempDir, "migrate-unwrap-*")
	if err != nil {
		return err
	}
	u.tmp = tmp // from here on, failure removes it
	tree := filepath.Join(tmp, "tree")
	if err := os.Mkdir(tree, 0o700); err != nil {
		return err
	}
	u.root, err = os.OpenRoot(tree)
	return err
}

func (u *unpacker) passphrase() ([]byte, error) {
	if u.opt.Passphrase == nil {
		return nil, ErrNeedPassphrase
	}
	p, err := u.opt.Passphrase()
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase: %w", err)
	}
	if p == nil {
		p = []byte{}
	}
	return p, nil
}

// spoolZip copies a zip that arrived inside another layer to a private file,
// because reading a zip needs its central directory at the end, then
// unpacks it. The spool counts against MaxTotalBytes and MaxRatio on its
// own, and is removed as soon as the zip is unpacked.
func (u *unpacker) spoolZip(stream io.Reader) error {
	f, err := os.CreateTemp(u.tmp, "spool-*.zip")
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	n, err := u.copyLimited(w, stream, false)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return fmt.Errorf("copying the zip archive out of its envelope: %w", err)
	}
	// The entries are now measured against the zip itself.
	u.total = 0
	u.in = &inputCounter{ctx: u.ctx, ra: f, size: n}
	return u.extractZip(u.in, n)
}

// unsupported turns formats we recognise but do not unpack into a helpful
// error; it returns nil for formats we handle.
func unsupported(kind format) error {
	name := map[format]string{fmtBzip2: "bzip2", fmtXz: "xz", fmt7z: "7-Zip", fmtRar: "RAR"}[kind]
	if name == "" {
		return nil
	}
	return fmt.Errorf("%w: %s compression; unpack it first (or repack it as .tar.gz or .zip)", ErrUnsupported, name)
}

// peek returns up to sniffLen bytes without consuming them.
func peek(br *bufio.Reader) ([]byte, error) {
	b, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

// trimSuffixFold removes the first of suffixes that name ends with, ignoring
// case.
func trimSuffixFold(name string, suffixes ...string) string {
	m := make(map[string]string, len(suffixes))
	for _, s := range suffixes {
		m[s] = ""
	}
	return replaceSuffixFold(name, m)
}

// replaceSuffixFold replaces a suffix of name (compared ignoring case) by its
// replacement in repl. Longer suffixes are tried first.
func replaceSuffixFold(name string, repl map[string]string) string {
	lower := strings.ToLower(name)
	best := ""
	for s := range repl {
		if strings.HasSuffix(lower, s) && len(s) > len(best) {
			best = s
		}
	}
	if best == "" {
		return name
	}
	return name[:len(name)-len(best)] + repl[best]
}

// safeBaseName makes the name for a single decompressed file: the input's
// base name less its container suffixes, or "data" if nothing usable is
// left.
func safeBaseName(name string) string {
	name = filepath.Base(name)
	if name == "." || name == ".." || name == string(filepath.Separator) || name == "" {
		return "data"
	}
	return name
}

// wrap turns an error into an *Error naming the input, classifying the
// low-level causes (unexpected EOF, checksum failures) into the sentinels
// callers test for.
func (u *unpacker) wrap(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e // classified where it was made
	}
	return &Error{Input: u.input, Err: classify(err)}
}

// inputCounter wraps the input file: it counts the bytes read (for the
// compression ratio limit and for progress) and checks for cancellation on
// every read, which is often enough because every byte Unwrap handles passes
// through it.
type inputCounter struct {
	ctx      context.Context
	r        io.Reader
	ra       io.ReaderAt
	size     int64
	n        atomic.Int64
	reported int64
	progress func(done, total int64)
}

func (c *inputCounter) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.add(n)
	return n, err
}

func (c *inputCounter) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.ra.ReadAt(p, off)
	c.add(n)
	return n, err
}

func (c *inputCounter) add(n int) {
	done := c.n.Add(int64(n))
	if c.progress == nil {
		return
	}
	// Zip reads revisit headers, so the count can pass the size.
	done = min(done, c.size)
	if done-c.reported >= 1<<20 || done == c.size && done != c.reported {
		c.reported = done
		c.progress(done, c.size)
	}
}
