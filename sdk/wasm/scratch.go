//go:build !wasip1

package wasm

import (
	"io/fs"
	"os"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
)

// scratchGuestPath is where an instance sees its scratch directory, and
// what its TMPDIR names, so os.MkdirTemp and os.CreateTemp work.
const scratchGuestPath = "/tmp"

// scratch is an instance's private writable directory, for adapters that
// spill to disk.
//
// wazero's writable mount lets a guest escape through a symbolic link:
// the guest makes a link to "../../.." and follows it. wazero cleans ".."
// out of the paths it is given, so links (and hard links) are the only way
// out, and this mount refuses to make either. The directory is new, empty
// and private (0700) to this instance, so no link exists in it that the
// guest did not make. Bytes written are counted against a limit, so a
// guest cannot fill the host's disk.
type scratch struct {
	dir string
	fs  *scratchFS
}

func newScratch(parent string, limit int64) (*scratch, error) {
	dir, err := os.MkdirTemp(parent, "migrate-wasm-scratch-")
	if err != nil {
		return nil, err
	}
	return &scratch{dir: dir, fs: &scratchFS{FS: sysfs.DirFS(dir), limit: limit}}, nil
}

func (s *scratch) fsConfig() wazero.FSConfig {
	return wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(s.fs, scratchGuestPath)
}

func (s *scratch) remove() { os.RemoveAll(s.dir) }

type scratchFS struct {
	experimentalsys.FS
	limit   int64
	written atomic.Int64
}

// Symlink refuses: a link is the one way out of a mounted directory.
func (s *scratchFS) Symlink(string, string) experimentalsys.Errno { return experimentalsys.EPERM }

// Link refuses for the same reason.
func (s *scratchFS) Link(string, string) experimentalsys.Errno { return experimentalsys.EPERM }

func (s *scratchFS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	f, e := s.FS.OpenFile(p, flag, perm&0o700)
	if e != 0 {
		return nil, e
	}
	return &scratchFile{File: f, fs: s}, 0
}

// charge counts n more bytes written, refusing them past the limit.
func (s *scratchFS) charge(n int) experimentalsys.Errno {
	if s.written.Add(int64(n)) > s.limit {
		return experimentalsys.EIO // WASI has no ENOSPC
	}
	return 0
}

// scratchFile counts what is written through it.
type scratchFile struct {
	experimentalsys.File
	fs *scratchFS
}

func (f *scratchFile) Write(b []byte) (int, experimentalsys.Errno) {
	if e := f.fs.charge(len(b)); e != 0 {
		return 0, e
	}
	return f.File.Write(b)
}

func (f *scratchFile) Pwrite(b []byte, off int64) (int, experimentalsys.Errno) {
	if e := f.fs.charge(len(b)); e != 0 {
		return 0, e
	}
	return f.File.Pwrite(b, off)
}
