package container

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// PackTar writes the tree under dir to w as a tar stream that depends only on
// the names and contents of the files: entries sorted by their full names
// (byte order, directories named with their trailing "/", so a directory
// comes right before its contents), names relative to dir with "/"
// separators, owner 0:0 without names, mode 0755 for directories and 0644
// for files, and every modification time set to mtime (the Unix epoch if
// mtime is zero). Symbolic links and special files in dir are an error
// rather than silently skipped or followed. The tar end marker is written;
// w is not closed.
func PackTar(ctx context.Context, dir string, w io.Writer, mtime time.Time) error {
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	p := &packer{ctx: ctx, tw: tar.NewWriter(w), mtime: mtime.UTC().Truncate(time.Second), buf: make([]byte, copyBufSize)}
	if err := p.dir(dir, ""); err != nil {
		return err
	}
	return p.tw.Close()
}

type packer struct {
	ctx   context.Context
	tw    *tar.Writer
	mtime time.Time
	buf   []byte
}

// dir packs the entries of the directory abs, whose name in the archive is
// prefix ("" for the root, else ending in "/"). Only one directory's names
// are held at a time per level, so memory follows the tree's width, not its
// total size.
func (p *packer) dir(abs, prefix string) error {
	ents, err := os.ReadDir(abs)
	if err != nil {
		return err
	}
	// Sort by the name as it will appear in the archive, so that the
	// archive as a whole is in byte order ("a.json" < "a/" < "a0").
	key := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(key(a), key(b)) })
	for _, e := range ents {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(abs, e.Name())
		name := prefix + key(e)
		switch t := e.Type(); {
		case t.IsDir():
			hdr := &tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: p.mtime}
			if err := p.tw.WriteHeader(hdr); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if err := p.dir(path, name); err != nil {
				return err
			}
		case t.IsRegular():
			if err := p.file(path, name); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: cannot pack %s (only files and directories are packed)", path, t)
		}
	}
	return nil
}

func (p *packer) file(path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: fi.Size(), ModTime: p.mtime}
	if err := p.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// A file that grows while being packed makes tar.Writer fail (write
	// too long); one that shrinks is caught by the count.
	n, err := copyCtx(p.ctx, p.tw, f, p.buf)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if n != fi.Size() {
		return fmt.Errorf("%s: file changed size while being packed (%d bytes, expected %d)", path, n, fi.Size())
	}
	return nil
}

// copyCtx copies src to dst through buf, checking ctx between chunks, and
// returns the number of bytes copied.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader, buf []byte) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, rerr := fill(src, buf)
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return total, err
			}
			total += int64(n)
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// OutputOptions control WriteOutput.
type OutputOptions struct {
	// Passphrase encrypts outputs whose name ends in .aes; it must not be
	// empty for them.
	Passphrase []byte
	// KDF and Iter choose the key derivation for .aes outputs; "" means md5,
	// which is what HipChat reads.
	KDF  KDF
	Iter int
	// Overwrite allows replacing an existing output.
	Overwrite bool
	// Mtime is the modification time recorded for every tar entry; zero
	// means the Unix epoch, which keeps outputs reproducible.
	Mtime time.Time
}

// outputForm is what WriteOutput makes, decided from the output name.
type outputForm struct {
	dir      bool
	encrypt  bool
	compress string // "", "gzip" or "zstd"
}

func formFor(out string) outputForm {
	name := strings.ToLower(filepath.Base(out))
	var f outputForm
	if strings.HasSuffix(name, ".aes") {
		f.encrypt = true
		name = strings.TrimSuffix(name, ".aes")
		switch {
		case strings.HasSuffix(name, ".tar.zst"), strings.HasSuffix(name, ".tzst"):
			f.compress = "zstd"
		case strings.HasSuffix(name, ".tar"):
		default:
			// .tar.gz.aes, .tgz.aes, and a bare .aes: HipChat's layout.
			f.compress = "gzip"
		}
		return f
	}
	switch {
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		f.compress = "gzip"
	case strings.HasSuffix(name, ".tar.zst"), strings.HasSuffix(name, ".tzst"):
		f.compress = "zstd"
	case strings.HasSuffix(name, ".tar"):
	default:
		f.dir = true
	}
	return f
}

// WriteOutput writes the finished tree srcDir to out, in the form out's name
// asks for:
//
//	*.tar.gz.aes, *.tgz.aes, *.aes   tar + gzip + openssl enc (KDF from opt, md5 by default)
//	*.tar.zst.aes, *.tar.aes         tar + zstd + openssl enc, tar + openssl enc
//	*.tar.gz, *.tgz                  tar + gzip
//	*.tar.zst, *.tzst                tar + zstd
//	*.tar                            tar
//	anything else                    a directory
//
// The output appears only when complete (see AtomicFile and AtomicDir); on
// error or cancellation nothing is left at out. out may not lie inside
// srcDir, and a directory output may not contain srcDir.
// A directory output takes srcDir over by renaming it when both are on the
// same file system, so srcDir is gone afterwards; otherwise it is copied.
// If the output cannot be put in place, a moved srcDir is moved back.
func WriteOutput(ctx context.Context, srcDir, out string, opt OutputOptions) error {
	fi, err := os.Stat(srcDir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", srcDir)
	}
	form := formFor(out)
	if err := checkNotNested(srcDir, out, form.dir); err != nil {
		return err
	}
	if form.encrypt && len(opt.Passphrase) == 0 {
		return fmt.Errorf("%s: an encrypted output needs a passphrase (--passphrase-file or MIGRATE_PASSPHRASE)", out)
	}
	if form.encrypt {
		// Fail on a bad KDF before doing any work.
		if _, _, err := normalizeKDF(opt.KDF, opt.Iter, KDFMD5); err != nil {
			return err
		}
	}
	if form.dir {
		ad, err := NewAtomicDir(out, opt.Overwrite)
		if err != nil {
			return err
		}
		// On the same file system the finished tree is moved, not copied:
		// outputs run to many gigabytes.
		moved, err := moveInto(srcDir, ad.Dir())
		if err != nil {
			ad.Abort()
			return err
		}
		if !moved {
			if err := copyTree(ctx, srcDir, ad.Dir()); err != nil {
				ad.Abort()
				return err
			}
		}
		if err := ad.Commit(); err != nil {
			if moved {
				// Give the caller its tree back rather than deleting it
				// with the staging directory.
				_ = os.Rename(ad.Dir(), srcDir)
			}
			ad.Abort()
			return err
		}
		return nil
	}

	af, err := NewAtomicFile(out, opt.Overwrite)
	if err != nil {
		return err
	}
	if err := writeArchive(ctx, srcDir, af, form, opt); err != nil {
		af.Abort()
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return af.Commit()
}

// writeArchive stacks tar, then compression, then encryption onto w and
// closes them innermost first so each flushes into the next.
func writeArchive(ctx context.Context, srcDir string, w io.Writer, form outputForm, opt OutputOptions) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var sink io.Writer = bw
	var closers []io.Closer // outermost layer first
	if form.encrypt {
		ew, err := NewEncryptWriter(bw, opt.Passphrase, opt.KDF, opt.Iter)
		if err != nil {
			return err
		}
		closers = append(closers, ew)
		sink = ew
	}
	switch form.compress {
	case "gzip":
		gw, err := gzip.NewWriterLevel(sink, gzip.DefaultCompression)
		if err != nil {
			return err
		}
		closers = append(closers, gw)
		sink = gw
	case "zstd":
		zw, err := zstd.NewWriter(sink, zstd.WithEncoderLevel(zstd.SpeedDefault))
		if err != nil {
			return err
		}
		closers = append(closers, zw)
		sink = zw
	}
	err := PackTar(ctx, srcDir, sink, opt.Mtime)
	for i := len(closers) - 1; i >= 0; i-- {
		if cerr := closers[i].Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// moveInto renames src to the empty staging directory dst and reports
// whether it did. os.Rename will not replace an existing directory, so dst is
// removed first and, if the rename fails (src on another file system),
// made again for the caller to copy into.
func moveInto(src, dst string) (bool, error) {
	if err := os.Remove(dst); err != nil {
		return false, nil // not empty or not ours to remove: copy instead
	}
	if err := os.Rename(src, dst); err == nil {
		return true, nil
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		return false, err
	}
	return false, nil
}

// checkNotNested refuses outputs that would end up inside the tree being
// written (the output would pack or copy itself) and directory outputs that
// contain the source (replacing them would delete it).
func checkNotNested(srcDir, out string, dirForm bool) error {
	src, err := realAbs(srcDir)
	if err != nil {
		return err
	}
	dst, err := realAbs(out)
	if err != nil {
		return err
	}
	if within(dst, src) {
		return fmt.Errorf("output %s is inside the tree it would be made from (%s)", out, srcDir)
	}
	if dirForm && within(src, dst) {
		return fmt.Errorf("output directory %s contains the tree it would be made from (%s)", out, srcDir)
	}
	return nil
}

// realAbs returns p made absolute with symbolic links resolved as far as the
// path exists.
func realAbs(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && filepath.IsLocal(rel) // "." is local too
}

// copyTree copies the files and directories under src into dst, which
// exists. Symbolic links and special files are an error.
func copyTree(ctx context.Context, src, dst string) error {
	buf := make([]byte, copyBufSize)
	return filepath.WalkDir(src, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		target := filepath.Join(dst, rel)
		switch t := de.Type(); {
		case t.IsDir():
			return os.Mkdir(target, 0o755)
		case !t.IsRegular():
			return fmt.Errorf("%s: cannot copy %s (only files and directories are copied)", p, t)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		outf, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		// No fsync per file: for trees of many small files it would cost
		// more than the conversion. The directory only gets its final name
		// once everything is written, which is what protects the user from
		// a partial output after an error.
		_, err = copyCtx(ctx, outf, in, buf)
		if cerr := outf.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
}

// IsDirectoryOutput reports whether WriteOutput writes out as a directory
// (rather than as an archive file), judging by its name.
func IsDirectoryOutput(out string) bool { return formFor(out).dir }
