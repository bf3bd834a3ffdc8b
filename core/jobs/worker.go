package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/migrate-chat/migrate/core/pipeline"
	"github.com/migrate-chat/migrate/core/report"
)

var (
	errCancelRequested = errors.New("cancelled on request")
	errLeaseLost       = errors.New("the job was handed to another worker")
	errNoPassphrase    = errors.New("this input is encrypted and the job was submitted without a passphrase: submit it again with the archive's passphrase")
)

// work is one River job: one run of a conversion job.
func (q *Queue) work(ctx context.Context, args convertArgs) error {
	r, err := q.st.get(ctx, args.JobID)
	if errors.Is(err, ErrNotFound) {
		return nil // purged or never committed: nothing to do
	}
	if err != nil {
		return err
	}
	if r.run != args.Run || r.state.Final() {
		return nil // superseded by a later run, or already over
	}
	now := time.Now()
	if r.cancelRequested {
		if ok, _ := q.st.endUnstarted(ctx, r.id, []State{StateQueued}, StateCancelled, "cancelled before it started", ms(now)); ok {
			q.afterEnd(ctx, r.id, nil)
		}
		return nil
	}
	ok, err := q.st.claim(ctx, r.id, r.run, q.id, ms(now), ms(now.Add(q.cfg.Lease)))
	if err != nil {
		return err
	}
	if !ok {
		// A live worker holds the job: River's rescuer took a long run
		// for a stuck one. Look again once that lease could lapse.
		return river.JobSnooze(q.cfg.Lease)
	}
	if r, err = q.st.get(ctx, r.id); err != nil {
		return err
	}
	if r.attempts > r.max {
		msg := fmt.Sprintf("the job was started %d times without finishing; giving up", r.attempts-1)
		if ok, _ := q.st.finish(ctx, r.id, q.id, StateFailed, msg, nil, r.progress, ms(time.Now())); ok {
			q.afterEnd(ctx, r.id, nil)
		}
		return nil
	}
	return q.run(ctx, r)
}

func (q *Queue) run(ctx context.Context, r *row) error {
	dir := q.jobDir(r.id)
	logf, err := os.OpenFile(filepath.Join(dir, "job.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		_ = q.st.release(context.WithoutCancel(ctx), r.id, q.id)
		return fmt.Errorf("job %s: opening its log: %w", r.id, err)
	}
	defer logf.Close()
	jlog := zerolog.New(logf).With().Timestamp().Str("job", r.id).Logger()
	jlog.Info().Int("attempt", r.attempts).Str("worker", q.id).Str("from", r.spec.From).Str("to", r.spec.To).Msg("run started")
	q.cfg.Log.Info().Str("job", r.id).Int("attempt", r.attempts).Msg("run started")

	prog := &progressRecorder{}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var lost atomic.Bool
	stopBeat := make(chan struct{})
	beatDone := make(chan struct{})
	bg := context.WithoutCancel(ctx)
	go func() {
		defer close(beatDone)
		t := time.NewTicker(q.cfg.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-stopBeat:
				return
			case <-t.C:
			}
			hctx, hcancel := context.WithTimeout(bg, q.cfg.Lease/2)
			cancelled, held, err := q.st.heartbeat(hctx, r.id, q.id, ms(time.Now().Add(q.cfg.Lease)), prog.snapshot())
			hcancel()
			switch {
			case err != nil:
				jlog.Warn().Err(err).Msg("heartbeat failed; retrying")
			case !held:
				lost.Store(true)
				cancel(errLeaseLost)
				return
			case cancelled:
				cancel(errCancelRequested)
			}
		}
	}()

	// Whatever a dead earlier run left goes first.
	q.cleanWork(r.id, r.attempts-1)
	res, runErr := q.execute(runCtx, r, prog, jlog)
	close(stopBeat)
	<-beatDone
	cause := context.Cause(runCtx)
	if res != nil && res.Report != nil {
		defer res.Report.Close()
	}
	now := ms(time.Now())
	cur, gerr := q.st.get(bg, r.id)
	switch {
	case lost.Load():
		jlog.Warn().Msg("the lease was lost (the heartbeat could not be written in time); another worker runs the job now")
		q.cleanWork(r.id, r.attempts)
		return nil
	case errors.Is(cause, errCancelRequested) || (gerr == nil && cur.cancelRequested):
		q.cleanWork(r.id, r.attempts)
		_ = os.RemoveAll(filepath.Join(dir, "output", r.spec.OutputName))
		if ok, err := q.st.finish(bg, r.id, q.id, StateCancelled, "cancelled while running; nothing was kept", nil, prog.snapshot(), now); err != nil {
			return err
		} else if ok {
			jlog.Info().Msg("cancelled")
			q.cfg.Log.Info().Str("job", r.id).Msg("job cancelled")
			q.afterEnd(bg, r.id, nil)
		}
		return nil
	case ctx.Err() != nil:
		// The worker is shutting down: the run goes back to the queue
		// whole and starts afresh on the next worker.
		q.cleanWork(r.id, r.attempts)
		jlog.Info().Msg("interrupted by a shutdown; queued again")
		if err := q.st.release(bg, r.id, q.id); err != nil {
			return err
		}
		return river.JobSnooze(0)
	}

	state := StateFailed
	msg := ""
	var result *Result
	if res != nil && res.Report != nil {
		result = &Result{Report: true}
		result.Warnings, result.Errors = res.Report.NoticeCount()
		if res.Output != "" {
			result.Output = filepath.Base(res.Output)
			if fi, err := os.Stat(res.Output); err == nil {
				result.OutputSize = fi.Size()
			}
		}
		if len(res.Counts) > 0 {
			result.Counts = map[string]int64{}
			for k, v := range res.Counts {
				result.Counts[string(k)] = v
			}
		}
		if runErr == nil {
			switch res.Report.Status {
			case report.StatusSucceeded:
				state = StateSucceeded
			case report.StatusWithWarnings:
				state = StateWithWarnings
			}
		}
		if res.Report.Status == report.StatusFailed && res.Report.Err != "" && runErr == nil {
			runErr = errors.New(res.Report.Err)
		}
	}
	if runErr != nil {
		state = StateFailed
		msg = strings.ReplaceAll(runErr.Error(), dir+string(filepath.Separator), "")
	}
	var text []byte
	if res != nil && res.Report != nil {
		var b bytes.Buffer
		if err := res.Report.WriteText(&b); err == nil {
			text = b.Bytes()
		}
	}
	q.cleanWork(r.id, r.attempts)
	ok, err := q.st.finish(bg, r.id, q.id, state, msg, result, prog.snapshot(), now)
	if err != nil {
		return err
	}
	if !ok {
		return nil // handed to another worker meanwhile
	}
	ev := jlog.Info()
	if state == StateFailed {
		ev = jlog.Error().Str("error", msg)
	}
	ev.Str("state", string(state)).Msg("run ended")
	q.cfg.Log.Info().Str("job", r.id).Str("state", string(state)).Msg("job ended")
	q.afterEnd(bg, r.id, text)
	return nil
}

// execute fetches the inputs, runs the pipeline and writes the reports.
func (q *Queue) execute(ctx context.Context, r *row, prog *progressRecorder, jlog zerolog.Logger) (*pipeline.Result, error) {
	dir := q.jobDir(r.id)
	work := q.workDir(r.id, r.attempts)
	_ = os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	var paths []string
	var budget int64 = q.cfg.MaxInputBytes
	for _, in := range r.inputs {
		if in.URL == "" {
			budget -= in.Size
		}
	}
	fetched := false
	for i, in := range r.inputs {
		p := filepath.Join(dir, "input", in.Name)
		if in.URL != "" {
			n, err := q.fetch(ctx, in.URL, p, budget, prog)
			if err != nil {
				return nil, err
			}
			budget -= n
			r.inputs[i].Size = n
			fetched = true
			jlog.Info().Str("input", in.Name).Int64("bytes", n).Msg("fetched")
		}
		paths = append(paths, p)
	}
	if fetched {
		if err := q.st.setInputs(context.WithoutCancel(ctx), r.id, r.inputs); err != nil {
			return nil, err
		}
	}

	sec, err := q.seal.open(r.id, r.secret)
	if err != nil {
		return nil, err
	}
	defer sec.wipe()
	spec := r.spec
	srcOpts, tgtOpts, err := spec.check(q.adapters, len(paths) > 0)
	if err != nil {
		return nil, err
	}
	pass := func() ([]byte, error) {
		if len(sec.Passphrase) == 0 {
			return nil, errNoPassphrase
		}
		return sec.Passphrase, nil
	}
	outPass := pass
	if len(sec.OutputPassphrase) > 0 {
		outPass = func() ([]byte, error) { return sec.OutputPassphrase, nil }
	}
	res, runErr := pipeline.Run(ctx, pipeline.Request{
		From: spec.From, To: spec.To, Inputs: paths,
		Output:        filepath.Join(dir, "output", spec.OutputName),
		SourceOptions: srcOpts, TargetOptions: tgtOpts,
		Passphrase: pass, OutputPassphrase: outPass, OutputKDF: spec.OutputKDF,
		Admin: spec.Admin, Overwrite: true, Validate: true,
		Download: spec.Download,
		Limits:   q.cfg.Limits, TempDir: work, Resolver: q.cfg.Resolver,
		Log: jlog, Progress: prog,
	})
	if res != nil && res.Report != nil {
		if err := writeReports(dir, res.Report); err != nil {
			jlog.Error().Err(err).Msg("writing the report")
			if runErr == nil {
				runErr = fmt.Errorf("writing the report: %w", err)
			}
		}
	}
	return res, runErr
}

func (q *Queue) workDir(id string, attempt int) string {
	return filepath.Join(q.jobDir(id), fmt.Sprintf("work-%d", attempt))
}

// cleanWork removes the scratch space of a run, and what earlier runs
// that died left: their scratch space and partial downloads.
func (q *Queue) cleanWork(id string, upTo int) {
	parts, _ := filepath.Glob(filepath.Join(q.jobDir(id), "input", "*.part"))
	for _, p := range parts {
		_ = os.Remove(p)
	}
	matches, _ := filepath.Glob(filepath.Join(q.jobDir(id), "work-*"))
	for _, m := range matches {
		var n int
		if _, err := fmt.Sscanf(filepath.Base(m), "work-%d", &n); err == nil && n <= upTo {
			_ = os.RemoveAll(m)
		}
	}
}

// cleanRun removes what a run that will not go on left: its scratch space
// and, when asked, any output.
func (q *Queue) cleanRun(id string, output bool) {
	q.cleanWork(id, 1<<30)
	if output {
		if r, err := q.st.get(context.Background(), id); err == nil && r.spec.OutputName != "" {
			_ = os.RemoveAll(filepath.Join(q.jobDir(id), "output", r.spec.OutputName))
		}
	}
}

// writeReports writes report.json, report.html and report.txt, each
// appearing only when complete.
func writeReports(dir string, rep *report.Report) error {
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{{"report.json", rep.WriteJSON}, {"report.html", rep.WriteHTML}, {"report.txt", rep.WriteText}} {
		if err := writeAtomic(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return nil
}

func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// afterEnd sends the notifications of a job that has just ended.
func (q *Queue) afterEnd(ctx context.Context, id string, reportText []byte) {
	if q.cfg.Notify == nil {
		return
	}
	j, err := q.Get(ctx, "", id)
	if err != nil || (len(j.Spec.Notify) == 0 && j.Spec.Webhook == "") {
		return
	}
	if reportText == nil && j.Result != nil && j.Result.Report {
		reportText, _ = os.ReadFile(filepath.Join(q.jobDir(id), "report.txt"))
	}
	summary := q.cfg.Notify.Send(ctx, j, reportText)
	if err := q.st.setNotified(ctx, id, summary); err != nil {
		q.cfg.Log.Warn().Err(err).Str("job", id).Msg("recording the notification")
	}
}

// progressRecorder keeps the latest progress of a run for the heartbeat
// to store; the pipeline calls it from its own goroutine.
type progressRecorder struct {
	mu sync.Mutex
	p  Progress
}

var _ pipeline.Progress = (*progressRecorder)(nil)

func (r *progressRecorder) Begin(step, unit string) {
	r.mu.Lock()
	r.p = Progress{Step: step, Unit: unit, Steps: r.p.Steps + 1}
	r.mu.Unlock()
}

func (r *progressRecorder) Update(done, total int64) {
	r.mu.Lock()
	r.p.Done, r.p.Total = done, total
	r.mu.Unlock()
}

func (r *progressRecorder) End() {}

func (r *progressRecorder) snapshot() *Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p.Steps == 0 {
		return nil
	}
	p := r.p
	return &p
}
