package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// progress shows how far a long step has got: a bar redrawn in place on a
// terminal, or a log line every few seconds elsewhere, so that a run of
// hours never looks hung.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	log      zerolog.Logger
	tty      bool
	step     string
	unit     string
	start    time.Time
	last     time.Time
	drawn    bool
	interval time.Duration
}

func newProgress(w io.Writer, log zerolog.Logger, tty bool) *progress {
	iv := 5 * time.Second
	if tty {
		iv = 150 * time.Millisecond
	}
	return &progress{w: w, log: log, tty: tty, interval: iv}
}

// Begin starts a new step; unit names what done/total count ("bytes",
// "messages").
func (p *progress) Begin(step, unit string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.step, p.unit = step, unit
	p.start = time.Now()
	p.last = time.Time{}
}

// Update reports progress; it is cheap enough to call for every record.
func (p *progress) Update(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < p.interval {
		return
	}
	// Nothing worth showing for steps that finish within a couple of
	// seconds.
	if now.Sub(p.start) < 2*time.Second {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(done) / elapsed
	if p.tty {
		line := fmt.Sprintf("%s: %s", p.step, amount(done, p.unit))
		if total > 0 {
			frac := min(float64(done)/float64(total), 1)
			const width = 30
			n := int(frac * width)
			bar := make([]byte, width)
			for i := range bar {
				if i < n {
					bar[i] = '='
				} else {
					bar[i] = ' '
				}
			}
			eta := ""
			if rate > 0 {
				eta = " ETA " + (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
			}
			line = fmt.Sprintf("%s [%s] %3.0f%% %s/%s%s", p.step, bar, frac*100, amount(done, p.unit), amount(total, p.unit), eta)
		}
		line += fmt.Sprintf(" (%s/s)", amount(int64(rate), p.unit))
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
		return
	}
	ev := p.log.Info().Str("step", p.step).Int64("done", done).Str("unit", p.unit).Float64("per_second", rate)
	if total > 0 {
		ev = ev.Int64("total", total).Float64("percent", float64(done)*100/float64(total))
	}
	ev.Msg("progress")
}

// End finishes the step.
func (p *progress) End() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progress) clearLocked() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func amount(n int64, unit string) string {
	if unit == "bytes" {
		const k = 1024
		switch {
		case n >= k*k*k:
			return fmt.Sprintf("%.1f GiB", float64(n)/(k*k*k))
		case n >= k*k:
			return fmt.Sprintf("%.1f MiB", float64(n)/(k*k))
		case n >= k:
			return fmt.Sprintf("%.1f KiB", float64(n)/k)
		}
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%d %s", n, unit)
}
