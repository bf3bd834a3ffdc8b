package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// LogWriter receives an adapter's standard error. Lines that are JSON log
// records (what the guest side writes) are re-logged on the current
// logger at their level with their attributes; other lines (a panic, a
// stray print) are logged as warnings. The last lines are kept, so that
// a crash can be explained with what the adapter said before it died.
type LogWriter struct {
	mu      sync.Mutex
	log     *slog.Logger
	partial []byte
	tail    []string
	// heads are the first lines that say why a program died ("panic:",
	// "fatal error:"), kept even when a stack dump follows.
	heads []string
}

// tailLines is how many lines of standard error a crash report quotes.
const tailLines = 12

// NewLogWriter returns a LogWriter logging to log (nil discards).
func NewLogWriter(log *slog.Logger) *LogWriter { return &LogWriter{log: log} }

// SetLogger changes where lines go from now on.
func (w *LogWriter) SetLogger(log *slog.Logger) {
	w.mu.Lock()
	w.log = log
	w.mu.Unlock()
}

// Write implements io.Writer.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			if len(w.partial) > 64<<10 {
				w.line(w.partial)
				w.partial = w.partial[:0]
			}
			break
		}
		w.partial = append(w.partial, p[:i]...)
		w.line(w.partial)
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

// Flush logs a last line that had no newline.
func (w *LogWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.line(w.partial)
		w.partial = w.partial[:0]
	}
}

// Tail returns the last lines the adapter wrote that were not structured
// log records, or the messages of its last error records, joined.
func (w *LogWriter) Tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := append([]string(nil), w.heads...)
	for _, l := range w.tail {
		if !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// stackLine reports whether a line is part of a goroutine dump, which
// says where, not why.
func stackLine(s string) bool {
	return strings.HasPrefix(s, "\t") || strings.HasPrefix(s, "goroutine ") || strings.HasPrefix(s, "created by ") ||
		(strings.HasSuffix(s, ")") && (strings.Contains(s, "(0x") || strings.Contains(s, "({") || strings.HasSuffix(s, "()")))
}

func (w *LogWriter) keep(s string) {
	if len(w.tail) == tailLines {
		copy(w.tail, w.tail[1:])
		w.tail = w.tail[:tailLines-1]
	}
	w.tail = append(w.tail, s)
}

func (w *LogWriter) line(b []byte) {
	s := strings.TrimRight(string(b), "\r")
	if strings.TrimSpace(s) == "" {
		return
	}
	if len(b) > 0 && b[0] == '{' {
		var rec map[string]any
		if json.Unmarshal(b, &rec) == nil {
			if msg, ok := rec["msg"].(string); ok {
				w.structured(msg, rec)
				return
			}
		}
	}
	if (strings.HasPrefix(s, "panic:") || strings.HasPrefix(s, "fatal error:") || strings.HasPrefix(s, "runtime: ")) && len(w.heads) < 4 {
		w.heads = append(w.heads, s)
	}
	if !stackLine(s) {
		w.keep(s)
	}
	if w.log != nil {
		w.log.Warn(s, "stream", "stderr")
	}
}

func (w *LogWriter) structured(msg string, rec map[string]any) {
	var level slog.Level
	if l, ok := rec["level"].(string); ok {
		_ = level.UnmarshalText([]byte(l))
	}
	if level >= slog.LevelError {
		w.keep(msg)
		if p, ok := rec["panic"].(string); ok {
			w.keep("panic: " + p)
		}
	}
	if w.log == nil {
		return
	}
	attrs := make([]any, 0, 2*len(rec))
	for k, v := range rec {
		switch k {
		case "time", "level", "msg":
			continue
		}
		attrs = append(attrs, k, v)
	}
	w.log.Log(context.Background(), level, msg, attrs...)
}
