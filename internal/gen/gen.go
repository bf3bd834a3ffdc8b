package gen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Stats reports what a generation run produced.
type Stats struct {
	Format   string
	Messages int64
	Users    int
	Rooms    int
	// Bytes is the size of everything written.
	Bytes int64
	// Files counts attachment files written (formats that carry content).
	Files    int64
	Duration time.Duration
	// Path is the file or directory produced (formats that name their own
	// file inside a directory say where it went).
	Path string
}

// formatFunc writes one format. out is the path the user named.
type formatFunc func(ctx context.Context, g *generator, out string) (string, error)

type formatInfo struct {
	fn     formatFunc
	direct bool // has direct messages
	doc    string
}

var formats = map[string]formatInfo{}

func register(name string, direct bool, doc string, fn formatFunc) {
	formats[name] = formatInfo{fn: fn, direct: direct, doc: doc}
}

// Formats lists the formats Generate knows, sorted.
func Formats() []string {
	var out []string
	for k := range formats {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FormatDoc describes a format in one line.
func FormatDoc(name string) string { return formats[name].doc }

// generator carries one run's world, counters and progress reporting.
type generator struct {
	*world
	format   string
	done     int64
	nextTick int64
	files    int64
}

// tick counts one generated message and reports progress now and then.
func (g *generator) tick() {
	g.done++
	if g.done >= g.nextTick {
		g.nextTick = g.done + 100_000
		if g.cfg.Progress != nil {
			g.cfg.Progress(g.done, g.cfg.Messages)
		}
	}
}

// Generate writes format into out. It is deterministic: the same format,
// Config and seed give the same content (encrypted archives differ only in
// their random salt; their decrypted bytes are identical).
func Generate(ctx context.Context, format string, cfg Config, out string) (Stats, error) {
	fi, ok := formats[format]
	if !ok {
		return Stats{}, fmt.Errorf("unknown format %q; known formats: %s", format, strings.Join(Formats(), ", "))
	}
	start := time.Now()
	cfg = cfg.withDefaults(format)
	g := &generator{world: newWorld(cfg, fi.direct), format: format}
	path, err := fi.fn(ctx, g, out)
	if err != nil {
		return Stats{}, fmt.Errorf("generate %s into %s: %w", format, out, err)
	}
	if cfg.Progress != nil {
		cfg.Progress(g.done, cfg.Messages)
	}
	st := Stats{Format: format, Messages: cfg.Messages, Users: cfg.Users, Rooms: cfg.Rooms,
		Files: g.files, Duration: time.Since(start), Path: path}
	st.Bytes, err = sizeOf(path)
	return st, err
}

// sizeOf totals the bytes of a file or directory tree.
func sizeOf(path string) (int64, error) {
	var n int64
	err := filepath.WalkDir(path, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// fileWriter creates path (and its directory) and hands a buffered writer
// to fn; the file is closed and checked.
func writeFile(path string, fn func(w io.Writer) error) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fn(bw); err != nil {
		return err
	}
	return bw.Flush()
}
