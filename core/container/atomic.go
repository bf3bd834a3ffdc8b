package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrOutputExists is returned when an output would replace an existing file
// or non-empty directory and overwriting was not asked for.
var ErrOutputExists = errors.New("already exists; choose another output or pass --overwrite")

// AtomicDir builds an output directory in a hidden temporary sibling of its
// final path (same parent, so on the same file system) and moves it into
// place only on Commit. Until then the final path is untouched, so a failed
// or interrupted run never leaves a directory that looks complete.
type AtomicDir struct {
	final     string
	tmp       string
	overwrite bool
	done      bool
}

// NewAtomicDir starts building the directory final. Unless overwrite is
// set, it fails at once if final exists and is not an empty directory, so
// a long run does not end with nowhere to put its result. The parent of
// final is created if missing.
func NewAtomicDir(final string, overwrite bool) (*AtomicDir, error) {
	final = filepath.Clean(final)
	if !overwrite {
		if err := checkFreeDir(final); err != nil {
			return nil, err
		}
	}
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(final)+".tmp-")
	if err != nil {
		return nil, err
	}
	return &AtomicDir{final: final, tmp: tmp, overwrite: overwrite}, nil
}

// Dir is the directory to write into; it becomes the final path on Commit.
func (d *AtomicDir) Dir() string { return d.tmp }

// checkFreeDir fails if final exists and is anything but an empty directory.
func checkFreeDir(final string) error {
	fi, err := os.Lstat(final)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w (it is a file, not a directory)", final, ErrOutputExists)
	}
	empty, err := isEmptyDir(final)
	if err != nil {
		return err
	}
	if !empty {
		return fmt.Errorf("%s: %w (it is a non-empty directory)", final, ErrOutputExists)
	}
	return nil
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if err == io.EOF {
		return true, nil
	}
	return false, err
}

// Commit moves the directory into place. An empty directory at the final
// path is replaced; anything else is replaced only if overwrite was set, and
// then the old content is moved aside first and deleted only once the new
// one is in place. The directory is given mode 0755.
func (d *AtomicDir) Commit() error {
	if d.done {
		return errors.New("atomic directory already committed or aborted")
	}
	if err := os.Chmod(d.tmp, 0o755); err != nil {
		return err
	}
	fi, err := os.Lstat(d.final)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Nothing in the way.
	case err != nil:
		return err
	case fi.IsDir():
		empty, err := isEmptyDir(d.final)
		if err != nil {
			return err
		}
		if empty {
			if err := os.Remove(d.final); err != nil {
				return err
			}
			break
		}
		if !d.overwrite {
			return fmt.Errorf("%s: %w (it is a non-empty directory)", d.final, ErrOutputExists)
		}
		return d.swap()
	default:
		if !d.overwrite {
			return fmt.Errorf("%s: %w (it is a file, not a directory)", d.final, ErrOutputExists)
		}
		return d.swap()
	}
	if err := os.Rename(d.tmp, d.final); err != nil {
		return err
	}
	d.done = true
	return syncDir(filepath.Dir(d.final))
}

// swap replaces an existing final path: move it aside, move ours in, and
// only then delete the old one, restoring it if our rename fails.
func (d *AtomicDir) swap() error {
	old, err := os.MkdirTemp(filepath.Dir(d.final), "."+filepath.Base(d.final)+".old-")
	if err != nil {
		return err
	}
	aside := filepath.Join(old, "x")
	if err := os.Rename(d.final, aside); err != nil {
		os.Remove(old)
		return err
	}
	if err := os.Rename(d.tmp, d.final); err != nil {
		if rerr := os.Rename(aside, d.final); rerr != nil {
			return fmt.Errorf("%w (and putting the old %s back failed: %v; it is in %s)", err, d.final, rerr, aside)
		}
		os.Remove(old)
		return err
	}
	d.done = true
	if err := syncDir(filepath.Dir(d.final)); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// Abort removes the temporary directory and everything in it. It does
// nothing after Commit or a previous Abort.
func (d *AtomicDir) Abort() error {
	if d.done {
		return nil
	}
	d.done = true
	return os.RemoveAll(d.tmp)
}

// AtomicFile writes a file under a hidden temporary name next to its final
// path and renames it into place on Commit, after flushing it to disk.
type AtomicFile struct {
	f         *os.File
	final     string
	overwrite bool
	done      bool
}

// NewAtomicFile starts writing the file final. Unless overwrite is set it
// fails at once if final exists. The parent of final is created if missing.
func NewAtomicFile(final string, overwrite bool) (*AtomicFile, error) {
	final = filepath.Clean(final)
	if fi, err := os.Lstat(final); err == nil {
		if fi.IsDir() {
			return nil, fmt.Errorf("%s: %w (it is a directory)", final, ErrOutputExists)
		}
		if !overwrite {
			return nil, fmt.Errorf("%s: %w", final, ErrOutputExists)
		}
	}
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(parent, "."+filepath.Base(final)+".tmp-")
	if err != nil {
		return nil, err
	}
	return &AtomicFile{f: f, final: final, overwrite: overwrite}, nil
}

// Write writes to the temporary file.
func (a *AtomicFile) Write(p []byte) (int, error) {
	if a.done {
		return 0, errors.New("write to a committed or aborted atomic file")
	}
	return a.f.Write(p)
}

// Name returns the temporary file's path (useful in error messages).
func (a *AtomicFile) Name() string { return a.f.Name() }

// Commit flushes the file to disk, gives it mode 0644 and renames it to the
// final path. Without overwrite, an existing final path is never replaced,
// even one that appeared while the file was being written: the file is
// linked into place, which fails if the name is taken. On error the
// temporary file is removed.
func (a *AtomicFile) Commit() (err error) {
	if a.done {
		return errors.New("atomic file already committed or aborted")
	}
	a.done = true
	tmp := a.f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := a.f.Chmod(0o644); err != nil {
		a.f.Close()
		return err
	}
	if err := a.f.Sync(); err != nil {
		a.f.Close()
		return err
	}
	if err := a.f.Close(); err != nil {
		return err
	}
	if a.overwrite {
		if err := os.Rename(tmp, a.final); err != nil {
			return err
		}
	} else if err := os.Link(tmp, a.final); err == nil {
		os.Remove(tmp)
	} else if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s: %w", a.final, ErrOutputExists)
	} else {
		// No hard links on this file system: check, then rename; the
		// window between the two is the best that can be done here.
		if _, serr := os.Lstat(a.final); serr == nil {
			return fmt.Errorf("%s: %w", a.final, ErrOutputExists)
		}
		if err := os.Rename(tmp, a.final); err != nil {
			return err
		}
	}
	return syncDir(filepath.Dir(a.final))
}

// Abort closes and removes the temporary file. It does nothing after Commit
// or a previous Abort.
func (a *AtomicFile) Abort() error {
	if a.done {
		return nil
	}
	a.done = true
	a.f.Close()
	return os.Remove(a.f.Name())
}

// syncDir makes a rename in dir durable. Some file systems cannot sync a
// directory; that is not worth failing a finished run for.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	_ = f.Sync()
	return nil
}
