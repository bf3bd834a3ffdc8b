package container

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zip"
	"github.com/klauspost/compress/zstd"
)

// The rules applied here are described in the package documentation
// (doc.go, "Untrusted archives").

// ErrCorrupt reports an archive whose data is damaged: a bad gzip or zip
// checksum, an invalid tar header, an unreadable zstd frame. Test with
// errors.Is.
var ErrCorrupt = errors.New("archive is corrupt")

// cleanEntryName checks an archive entry name and returns it as a clean
// slash-separated relative path, or "" when it names the root itself (as the
// "./" entry of "tar -C dir ." does).
func cleanEntryName(name string) (string, error) {
	if name == "" {
		return "", unsafeEntry("empty name")
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", unsafeEntry("name contains a NUL byte")
	}
	n := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(n, "/") || len(n) >= 2 && n[1] == ':' && isASCIILetter(n[0]) {
		return "", unsafeEntry("absolute path escapes the archive")
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", unsafeEntry("path escapes the archive")
		}
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	// Catches what is not local on this OS (reserved names on Windows).
	if !filepath.IsLocal(filepath.FromSlash(c)) {
		return "", unsafeEntry("path is not a plain relative name")
	}
	return c, nil
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// extractTar unpacks a tar stream into the tree.
func (u *unpacker) extractTar(r io.Reader) error {
	tr := tar.NewReader(r)
	last := ""
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		// With GODEBUG=tarinsecurepath=0 the reader flags unsafe names
		// itself; cleanEntryName gives the same verdict with a better
		// message, so carry on with the header.
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			if last == "" {
				return fmt.Errorf("reading the first tar header: %w", classify(err))
			}
			return fmt.Errorf("reading the tar header after entry %q: %w", last, classify(err))
		}
		if err := u.tarEntry(tr, hdr); err != nil {
			return &Error{Input: u.input, Entry: hdr.Name, Err: classify(err)}
		}
		last = hdr.Name
	}
}

func (u *unpacker) tarEntry(tr *tar.Reader, hdr *tar.Header) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // pax defaults for later entries; nothing to create
	}
	rel, err := cleanEntryName(hdr.Name)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.mkdir(rel)
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		// archive/tar expands sparse files and reads contiguous files
		// like regular ones.
		if rel == "" {
			return unsafeEntry("a file entry names the archive root")
		}
		if err := u.addEntry(); err != nil {
			return err
		}
		return u.writeFile(rel, tr, hdr.Size)
	case tar.TypeSymlink:
		return unsafeEntry("symbolic link to %q (links are never unpacked)", hdr.Linkname)
	case tar.TypeLink:
		return u.hardLink(rel, hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		return unsafeEntry("device file")
	case tar.TypeFifo:
		return unsafeEntry("named pipe (fifo)")
	}
	return unsafeEntry("unsupported tar entry type %q", string(hdr.Typeflag))
}

// hardLink unpacks a hard link as a copy of the file it names, which must
// be a regular file unpacked earlier from this archive.
func (u *unpacker) hardLink(rel, linkname string) error {
	if rel == "" {
		return unsafeEntry("a link entry names the archive root")
	}
	target, err := cleanEntryName(linkname)
	if err != nil || target == "" {
		return unsafeEntry("hard link to %q points outside the archive", linkname)
	}
	// Only regular files are ever created in the tree, so Lstat seeing a
	// regular file means an earlier entry of this archive made it.
	fi, err := u.root.Lstat(target)
	if err != nil || !fi.Mode().IsRegular() {
		return unsafeEntry("hard link to %q, which is not a file unpacked earlier from this archive", linkname)
	}
	if target == rel {
		return nil // a link to itself: the file is already there
	}
	if err := u.addEntry(); err != nil {
		return err
	}
	src, err := u.root.Open(target)
	if err != nil {
		return err
	}
	defer src.Close()
	return u.writeFile(rel, src, fi.Size())
}

// mkdir creates a directory entry (and its parents).
func (u *unpacker) mkdir(rel string) error {
	if rel == "" {
		return nil // the root entry ("./") exists already
	}
	if err := u.addEntry(); err != nil {
		return err
	}
	return u.root.MkdirAll(rel, 0o700)
}

// addEntry counts one more entry against MaxFiles.
func (u *unpacker) addEntry() error {
	u.files++
	if u.lim.MaxFiles >= 0 && u.files > u.lim.MaxFiles {
		return errFiles(u.lim)
	}
	return nil
}

// writeFile creates rel in the tree with the contents of src. size is what
// the archive declares, or -1 if unknown; a declared size over the limits is
// refused before anything is written, and the real size is policed while
// writing in any case.
func (u *unpacker) writeFile(rel string, src io.Reader, size int64) error {
	if size > 0 {
		if u.lim.MaxFileBytes >= 0 && size > u.lim.MaxFileBytes {
			return errFileBytes(u.lim)
		}
		if u.lim.MaxTotalBytes >= 0 && size > u.lim.MaxTotalBytes-u.total {
			return errTotalBytes(u.lim)
		}
	}
	if dir := path.Dir(rel); dir != "." && dir != u.lastDir {
		if err := u.root.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		u.lastDir = dir
	}
	f, err := u.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = u.copyLimited(f, src, true)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyBufSize is the unit of reading and writing when unpacking: large
// enough that system calls are a small share of the time.
const copyBufSize = 1 << 20

// copyLimited copies src to dst (or only reads it, when dst is nil),
// charging every chunk against the limits before writing it. perFile says
// whether MaxFileBytes applies.
func (u *unpacker) copyLimited(dst io.Writer, src io.Reader, perFile bool) (int64, error) {
	if u.buf == nil {
		u.buf = make([]byte, copyBufSize)
	}
	var n int64
	for {
		if err := u.ctx.Err(); err != nil {
			return n, err
		}
		m, rerr := fill(src, u.buf)
		if m > 0 {
			if err := u.charge(n, m, perFile); err != nil {
				return n, err
			}
			if dst != nil {
				if _, err := dst.Write(u.buf[:m]); err != nil {
					return n, err
				}
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// charge accounts m more bytes of output, fileSoFar of which the current
// entry has already written.
func (u *unpacker) charge(fileSoFar int64, m int, perFile bool) error {
	if perFile && u.lim.MaxFileBytes >= 0 && fileSoFar+int64(m) > u.lim.MaxFileBytes {
		return errFileBytes(u.lim)
	}
	if u.lim.MaxTotalBytes >= 0 && u.total+int64(m) > u.lim.MaxTotalBytes {
		return errTotalBytes(u.lim)
	}
	u.total += int64(m)
	if u.lim.MaxRatio > 0 && u.total > ratioFloor {
		consumed := max(u.in.n.Load(), 1)
		if float64(u.total) > u.lim.MaxRatio*float64(consumed) {
			return errRatio(u.lim, u.total, consumed)
		}
	}
	return nil
}

// fill reads from r until buf is full or r returns an error, which is
// returned as is (unlike io.ReadFull, which would turn a short final read
// into io.ErrUnexpectedEOF and so hide a real truncation reported by r).
func fill(r io.Reader, buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if empty++; empty > 100 {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}

// extractZip unpacks the zip archive readable through ra.
func (u *unpacker) extractZip(ra io.ReaderAt, size int64) error {
	// The zip reader keeps the whole central directory in memory, so check
	// the entry count it announces before letting it allocate.
	if n, ok := zipEntryCount(ra, size); ok && u.lim.MaxFiles >= 0 && n > uint64(u.lim.MaxFiles) {
		return errFiles(u.lim)
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("%w: not a readable zip archive (damaged or truncated): %v", ErrCorrupt, err)
	}
	if u.lim.MaxFiles >= 0 && len(zr.File) > u.lim.MaxFiles {
		return errFiles(u.lim)
	}
	for _, f := range zr.File {
		if err := u.zipEntry(f); err != nil {
			return &Error{Input: u.input, Entry: f.Name, Err: classify(err)}
		}
	}
	return nil
}

func (u *unpacker) zipEntry(f *zip.File) error {
	rel, err := cleanEntryName(f.Name)
	if err != nil {
		return err
	}
	mode := f.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		return unsafeEntry("symbolic link (links are never unpacked)")
	case mode.IsDir():
		return u.mkdir(rel)
	case !mode.IsRegular():
		return unsafeEntry("special file (%s)", mode.Type())
	}
	if rel == "" {
		return unsafeEntry("a file entry names the archive root")
	}
	if f.Flags&0x1 != 0 {
		return fmt.Errorf("%w: the entry is password-protected (zip encryption)", ErrUnsupported)
	}
	if err := u.addEntry(); err != nil {
		return err
	}
	size := int64(-1)
	if f.UncompressedSize64 < 1<<62 {
		size = int64(f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		if errors.Is(err, zip.ErrAlgorithm) {
			return fmt.Errorf("%w: zip compression method %d", ErrUnsupported, f.Method)
		}
		return err
	}
	defer rc.Close()
	return u.writeFile(rel, rc, size)
}

// zipEntryCount reads the entry count from the end-of-central-directory
// record (or its zip64 form). ok is false when the record cannot be found;
// the zip reader will then report the problem itself.
func zipEntryCount(ra io.ReaderAt, size int64) (n uint64, ok bool) {
	const eocdLen = 22
	tail := min(size, eocdLen+65535) // the record plus the longest comment
	if tail < eocdLen {
		return 0, false
	}
	buf := make([]byte, tail)
	if _, err := ra.ReadAt(buf, size-tail); err != nil && err != io.EOF {
		return 0, false
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || i+eocdLen > len(buf) {
		return 0, false
	}
	if n := binary.LittleEndian.Uint16(buf[i+10:]); n != 0xffff {
		return uint64(n), true
	}
	// zip64: a 20-byte locator right before the record gives the offset of
	// the zip64 record, whose total entry count is at offset 32.
	locAt := size - tail + int64(i) - 20
	if locAt < 0 {
		return 0, false
	}
	var loc [20]byte
	if _, err := ra.ReadAt(loc[:], locAt); err != nil || !bytes.Equal(loc[:4], []byte("PK\x06\x07")) {
		return 0, false
	}
	off := binary.LittleEndian.Uint64(loc[8:])
	if off > uint64(size) {
		return 0, false
	}
	var rec [56]byte
	if _, err := ra.ReadAt(rec[:], int64(off)); err != nil || !bytes.Equal(rec[:4], []byte("PK\x06\x06")) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(rec[32:]), true
}

// classify maps low-level errors from the decoders onto the sentinels
// callers test for, keeping the original error in the chain.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTruncated), errors.Is(err, ErrCorrupt), errors.Is(err, ErrWrongPassphrase):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &truncatedError{cause: err}
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader),
		errors.Is(err, tar.ErrHeader),
		errors.Is(err, zip.ErrChecksum), errors.Is(err, zip.ErrFormat):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	case isZstdError(err):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

// isZstdError reports errors of the zstd decoder that mean damaged input.
func isZstdError(err error) bool {
	for _, e := range []error{zstd.ErrMagicMismatch, zstd.ErrWindowSizeExceeded, zstd.ErrWindowSizeTooSmall,
		zstd.ErrBlockTooSmall, zstd.ErrReservedBlockType, zstd.ErrCompressedSizeTooBig, zstd.ErrCRCMismatch,
		zstd.ErrUnknownDictionary, zstd.ErrFrameSizeExceeded, zstd.ErrFrameSizeMismatch, zstd.ErrDecoderSizeExceeded} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
