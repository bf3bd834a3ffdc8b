package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/rs/zerolog"
	_ "modernc.org/sqlite" // the embedded queue's database

	"github.com/migrate-chat/migrate/core/container"
	"github.com/migrate-chat/migrate/core/pipeline"
	"github.com/migrate-chat/migrate/sdk"
)

// Defaults for Config fields left zero.
const (
	DefaultMaxAttempts   = 3
	DefaultLease         = 15 * time.Second
	DefaultHeartbeat     = time.Second
	DefaultMaxInputBytes = 50 << 30
	DefaultFetchTimeout  = 6 * time.Hour
	queueName            = "conversions"
)

// Config configures a Queue.
type Config struct {
	// DataDir holds the jobs' files, the server key and, without Database,
	// the SQLite queue. Machines that share a PostgreSQL queue must share
	// it too (a network file system).
	DataDir string
	// Database is a postgres:// URL; empty means the embedded SQLite file
	// DataDir/queue.sqlite.
	Database string
	// Workers is how many conversions this process runs at once; 0 runs
	// none (the process only takes submissions and answers questions).
	Workers int
	// MaxAttempts is how many times a job is started before a worker that
	// keeps dying during it makes it fail.
	MaxAttempts int
	// Lease is how long a running job stays its worker's without a
	// heartbeat; Heartbeat is how often the worker renews it (and looks
	// for a cancel). A job whose lease lapses is started again.
	Lease, Heartbeat time.Duration
	// MaxInputBytes bounds one job's uploads and fetches together.
	MaxInputBytes int64
	// FetchTimeout bounds the fetch of one input URL.
	FetchTimeout time.Duration
	// Retention purges jobs that ended longer ago than this, hourly; 0
	// keeps them until purged by hand.
	Retention time.Duration
	// Notify sends the notices of finished jobs; nil sends none.
	Notify *Notifier
	// ServerKey is the key sealing passphrases at rest (32 bytes, base64
	// or hex); empty means $MIGRATE_SERVER_KEY's value should be passed
	// here by the caller, or DataDir/server.key (made on first use).
	ServerKey string
	// HTTPClient fetches input URLs; nil means a client that follows at
	// most five redirects, all http(s).
	HTTPClient *http.Client
	// Resolver finds adapters; nil means the built-in ones.
	Resolver pipeline.Resolver
	Limits   container.Limits
	Log      zerolog.Logger
}

// Queue submits, runs and answers for jobs.
type Queue struct {
	cfg      Config
	st       *store
	seal     *sealer
	back     backend
	id       string
	closeDB  func()
	adapters map[string]sdk.Manifest

	mu      sync.Mutex
	stop    context.CancelFunc
	done    chan struct{}
	started bool
}

// backend is the part of River's client the queue uses, the same for both
// of River's drivers.
type backend interface {
	insert(ctx context.Context, args convertArgs) (int64, error)
	cancel(ctx context.Context, riverID int64) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
}

type riverBackend[TTx any] struct{ c *river.Client[TTx] }

func (b riverBackend[TTx]) insert(ctx context.Context, args convertArgs) (int64, error) {
	res, err := b.c.Insert(ctx, args, nil)
	if err != nil {
		return 0, err
	}
	return res.Job.ID, nil
}

func (b riverBackend[TTx]) cancel(ctx context.Context, id int64) error {
	_, err := b.c.JobCancel(ctx, id)
	return err
}

func (b riverBackend[TTx]) start(ctx context.Context) error { return b.c.Start(ctx) }

func (b riverBackend[TTx]) stop(ctx context.Context) error { return b.c.StopAndCancel(ctx) }

// convertArgs is the River job: which job, which run of it. A run is
// superseded when the job is handed to the queue again, and River jobs
// of older runs then do nothing.
type convertArgs struct {
	JobID string `json:"job_id"`
	Run   int    `json:"run"`
}

func (convertArgs) Kind() string { return "migrate_convert" }

// InsertOpts makes inserting the same run twice harmless, so that the
// reconciler may re-insert whatever it is unsure about.
func (convertArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type riverWorker struct {
	river.WorkerDefaults[convertArgs]
	q *Queue
}

// Timeout is none: conversions take as long as they take, and the lease
// tells a live worker from a dead one.
func (w *riverWorker) Timeout(*river.Job[convertArgs]) time.Duration { return -1 }

func (w *riverWorker) Work(ctx context.Context, j *river.Job[convertArgs]) error {
	return w.q.work(ctx, j.Args)
}

// Open opens (creating if need be) the queue's database and the data
// directory. Call Start to run workers and the upkeep, and Close at the end.
func Open(ctx context.Context, cfg Config) (*Queue, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("no data directory given: pass --data-dir")
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.Heartbeat*3 > cfg.Lease {
		return nil, fmt.Errorf("the heartbeat (%s) must be at most a third of the lease (%s)", cfg.Heartbeat, cfg.Lease)
	}
	if cfg.MaxInputBytes <= 0 {
		cfg.MaxInputBytes = DefaultMaxInputBytes
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = DefaultFetchTimeout
	}
	for _, d := range []string{cfg.DataDir, filepath.Join(cfg.DataDir, "jobs"), filepath.Join(cfg.DataDir, "staging")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	seal, err := loadKey(cfg.DataDir, cfg.ServerKey)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	q := &Queue{cfg: cfg, seal: seal, id: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), randomID(4)), adapters: manifests(cfg.Resolver)}

	workers := river.NewWorkers()
	river.AddWorker(workers, &riverWorker{q: q})
	rcfg := &river.Config{
		Workers:     workers,
		JobTimeout:  -1,
		MaxAttempts: 25,
		// River's own log lines are for operators: warnings and worse.
		Logger:            slog.New(slog.NewJSONHandler(cfg.Log, &slog.HandlerOptions{Level: slog.LevelWarn})),
		FetchPollInterval: 200 * time.Millisecond,
		FetchCooldown:     20 * time.Millisecond,
	}
	if cfg.Workers > 0 {
		rcfg.Queues = map[string]river.QueueConfig{queueName: {MaxWorkers: cfg.Workers}}
	}

	if cfg.Database == "" {
		path := filepath.Join(cfg.DataDir, "queue.sqlite")
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(15000)&_pragma=synchronous(NORMAL)")
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", path, err)
		}
		// SQLite runs one statement at a time; one connection makes
		// River and the job rows wait their turn instead of failing
		// with SQLITE_BUSY.
		db.SetMaxOpenConns(1)
		q.closeDB = func() { _ = db.Close() }
		q.st = &store{db: db}
		drv := riversqlite.New(db)
		if err := migrateAll(ctx, drv, q.st, nil); err != nil {
			q.closeDB()
			return nil, fmt.Errorf("preparing the queue in %s: %w", path, err)
		}
		c, err := river.NewClient(drv, rcfg)
		if err != nil {
			q.closeDB()
			return nil, err
		}
		q.back = riverBackend[*sql.Tx]{c}
		return q, nil
	}

	if !strings.HasPrefix(cfg.Database, "postgres://") && !strings.HasPrefix(cfg.Database, "postgresql://") {
		return nil, fmt.Errorf("--database %q: give a postgres:// URL, or nothing for the embedded queue", redactURL(cfg.Database))
	}
	pool, err := pgxpool.New(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("--database %s: %w", redactURL(cfg.Database), err)
	}
	db := stdlib.OpenDBFromPool(pool)
	q.closeDB = func() { _ = db.Close(); pool.Close() }
	q.st = &store{db: db, pg: true}
	drv := riverpgxv5.New(pool)
	lock := func(ctx context.Context) (func(), error) {
		// Several machines may start at once; one migrates at a time.
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727030117)`); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return func() {
			_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(727030117)`)
			_ = conn.Close()
		}, nil
	}
	if err := migrateAll(ctx, drv, q.st, lock); err != nil {
		q.closeDB()
		return nil, fmt.Errorf("preparing the queue in %s: %w", redactURL(cfg.Database), err)
	}
	c, err := river.NewClient(drv, rcfg)
	if err != nil {
		q.closeDB()
		return nil, err
	}
	q.back = riverBackend[pgxTx]{c}
	return q, nil
}

// pgxTx is the transaction type of River's pgx driver.
type pgxTx = pgx.Tx

func migrateAll[TTx any](ctx context.Context, drv riverdriver.Driver[TTx], st *store, lock func(context.Context) (func(), error)) error {
	if lock != nil {
		unlock, err := lock(ctx)
		if err != nil {
			return err
		}
		defer unlock()
	}
	m, err := rivermigrate.New(drv, nil)
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return err
	}
	return st.migrate(ctx)
}

// redactURL hides a database URL's password from messages.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				return s[:i+3] + rest[:c] + ":xxxxx" + rest[at:]
			}
		}
	}
	return s
}

// Adapters lists the systems jobs may convert between.
func (q *Queue) Adapters() []pipeline.AdapterInfo {
	if q.cfg.Resolver != nil {
		l, _ := pipeline.ListAdapters(context.Background(), q.cfg.Resolver)
		return l
	}
	return pipeline.Adapters()
}

// Start runs the workers (when Config.Workers > 0) and the upkeep: handing
// jobs of dead workers back to the queue, and purging old jobs when a
// retention is set.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return nil
	}
	// A process without workers only inserts: River's client then has
	// nothing to start.
	if q.cfg.Workers > 0 {
		if err := q.back.start(ctx); err != nil {
			return fmt.Errorf("starting the queue: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	q.stop, q.done, q.started = cancel, make(chan struct{}), true
	go q.upkeep(ctx)
	return nil
}

// Close stops the workers, handing the runs they were in back to the queue
// (they start again on the next worker), and closes the database.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	started := q.started
	q.started = false
	q.mu.Unlock()
	var err error
	if started {
		q.stop()
		<-q.done
		if q.cfg.Workers > 0 {
			err = q.back.stop(ctx)
		}
	}
	q.closeDB()
	return err
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// jobDir is where a job's files live.
func (q *Queue) jobDir(id string) string { return filepath.Join(q.cfg.DataDir, "jobs", id) }

// Staging collects uploaded files before the job that owns them exists.
type Staging struct {
	dir   string
	limit int64
	used  int64
	files []Input
}

// NewStaging makes a place for the files of one submission.
func (q *Queue) NewStaging() (*Staging, error) {
	dir, err := os.MkdirTemp(filepath.Join(q.cfg.DataDir, "staging"), "upload-")
	if err != nil {
		return nil, err
	}
	return &Staging{dir: dir, limit: q.cfg.MaxInputBytes}, nil
}

// LimitError reports an input larger than the server accepts.
type LimitError struct{ Limit int64 }

func (e *LimitError) Error() string {
	return fmt.Sprintf("the inputs are larger than this server accepts (%d bytes); ask its operator to raise --max-input-bytes", e.Limit)
}

// Add stores one uploaded file under a safe version of name.
func (s *Staging) Add(name string, r io.Reader) error {
	name = safeName(name, len(s.files))
	for _, f := range s.files {
		if f.Name == name {
			name = fmt.Sprintf("%d-%s", len(s.files)+1, name)
		}
	}
	f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, s.limit-s.used+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	s.used += n
	if err == nil && s.used > s.limit {
		err = &LimitError{Limit: s.limit}
	}
	if err != nil {
		return err
	}
	s.files = append(s.files, Input{Name: name, Size: n})
	return nil
}

// Len is how many files were added.
func (s *Staging) Len() int { return len(s.files) }

// Discard removes what was staged; it does nothing after a Submit took it.
func (s *Staging) Discard() {
	if s != nil && s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// safeName keeps the last element of an uploaded name, and only characters
// that mean nothing to a shell or a file system.
func safeName(name string, i int) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if s == "" {
		s = fmt.Sprintf("input-%d", i+1)
	}
	if len(s) > 200 {
		s = s[len(s)-200:]
	}
	return s
}

// Submit queues a conversion. Files staged in st (which may be nil when
// every input is a URL) become the job's; the passphrases are sealed with
// the server key.
func (q *Queue) Submit(ctx context.Context, owner string, spec Spec, sec *Secrets, st *Staging) (*Job, error) {
	defer st.Discard()
	if owner == "" {
		return nil, errors.New("a job needs an owner")
	}
	n := 0
	if st != nil {
		n = len(st.files)
	}
	if _, _, err := spec.check(q.adapters, n > 0); err != nil {
		return nil, err
	}
	id := "j" + time.Now().UTC().Format("20060102") + "-" + randomID(10)
	dir := q.jobDir(id)
	if err := os.MkdirAll(filepath.Join(dir, "output"), 0o700); err != nil {
		return nil, err
	}
	var inputs []Input
	if st != nil && n > 0 {
		if err := os.Rename(st.dir, filepath.Join(dir, "input")); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("keeping the uploaded files: %w", err)
		}
		st.dir = ""
		inputs = append(inputs, st.files...)
	} else if err := os.MkdirAll(filepath.Join(dir, "input"), 0o700); err != nil {
		return nil, err
	}
	for i, u := range spec.URLs {
		inputs = append(inputs, Input{Name: urlFileName(u, len(inputs)+i), URL: u})
	}
	sealed, err := q.seal.seal(id, sec)
	if err != nil {
		return nil, err
	}
	r := &row{id: id, owner: owner, state: StateQueued, spec: spec, inputs: inputs, secret: sealed, max: q.cfg.MaxAttempts, created: ms(time.Now())}
	if err := q.st.insert(ctx, r); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("recording the job: %w", err)
	}
	// Should this fail or the process die here, the upkeep enqueues the
	// row later: a queued row without a River job is never forgotten.
	if err := q.enqueue(ctx, id, 0); err != nil {
		q.cfg.Log.Warn().Err(err).Str("job", id).Msg("the job is recorded but not yet queued; the upkeep will queue it")
	}
	q.cfg.Log.Info().Str("job", id).Str("owner", owner).Str("from", spec.From).Str("to", spec.To).Int("inputs", len(inputs)).Msg("job submitted")
	return q.Get(ctx, "", id)
}

func (q *Queue) enqueue(ctx context.Context, id string, run int) error {
	rid, err := q.back.insert(ctx, convertArgs{JobID: id, Run: run})
	if err != nil {
		return err
	}
	return q.st.setRiverID(ctx, id, run, rid)
}

// Get returns a job; owner "" means any owner (the local command line).
func (q *Queue) Get(ctx context.Context, owner, id string) (*Job, error) {
	r, err := q.st.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if owner != "" && r.owner != owner {
		return nil, ErrNotFound
	}
	return r.job(), nil
}

// List returns the newest jobs first, at most limit of them.
func (q *Queue) List(ctx context.Context, owner string, limit int) ([]*Job, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var rows []*row
	var err error
	if owner == "" {
		rows, err = q.st.query(ctx, `ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
	} else {
		rows, err = q.st.query(ctx, `WHERE owner = ? ORDER BY created_at DESC, id DESC LIMIT ?`, owner, limit)
	}
	if err != nil {
		return nil, err
	}
	out := make([]*Job, len(rows))
	for i, r := range rows {
		out[i] = r.job()
	}
	return out, nil
}

// Cancel stops a job: a queued one ends at once, a running one within a
// heartbeat, when its worker has cleaned up.
func (q *Queue) Cancel(ctx context.Context, owner, id string) (*Job, error) {
	j, err := q.Get(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if j.State.Final() {
		return j, ErrFinal
	}
	if _, err := q.st.requestCancel(ctx, id); err != nil {
		return nil, err
	}
	if ok, err := q.st.endUnstarted(ctx, id, []State{StateQueued}, StateCancelled, "cancelled before it started", ms(time.Now())); err != nil {
		return nil, err
	} else if ok {
		q.cfg.Log.Info().Str("job", id).Msg("job cancelled while queued")
		q.afterEnd(ctx, id, nil)
	}
	if r, err := q.st.get(ctx, id); err == nil && r.riverID.Valid {
		// River's own cancel reaches a worker of this process at once
		// and keeps the River row from running later.
		if err := q.back.cancel(ctx, r.riverID.Int64); err != nil && !errors.Is(err, river.ErrNotFound) {
			q.cfg.Log.Debug().Err(err).Str("job", id).Msg("River cancel")
		}
	}
	return q.Get(ctx, owner, id)
}

// Wait polls a job until it ends or ctx is done, calling each (when not
// nil) with every state seen.
func (q *Queue) Wait(ctx context.Context, id string, every time.Duration, each func(*Job)) (*Job, error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		j, err := q.Get(ctx, "", id)
		if err != nil {
			return nil, err
		}
		if each != nil {
			each(j)
		}
		if j.State.Final() {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-t.C:
		}
	}
}

// File names a job's file for download.
type File struct {
	Path string
	Name string
	Job  *Job
}

// Output returns the job's output file.
func (q *Queue) Output(ctx context.Context, owner, id string) (*File, error) {
	j, err := q.Get(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if j.Purged != nil {
		return nil, ErrPurged
	}
	if j.Result == nil || j.Result.Output == "" {
		return nil, fmt.Errorf("job %s has no output (it is %s)", id, j.State)
	}
	return &File{Path: filepath.Join(q.jobDir(id), "output", j.Result.Output), Name: j.Result.Output, Job: j}, nil
}

// Report returns the job's report in format "json", "html" or "txt".
func (q *Queue) Report(ctx context.Context, owner, id, format string) (*File, error) {
	j, err := q.Get(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if j.Purged != nil {
		return nil, ErrPurged
	}
	switch format {
	case "json", "html", "txt":
	default:
		return nil, fmt.Errorf("report format %q: want json, html or txt", format)
	}
	if j.Result == nil || !j.Result.Report {
		return nil, fmt.Errorf("job %s has no report yet (it is %s)", id, j.State)
	}
	return &File{Path: filepath.Join(q.jobDir(id), "report."+format), Name: id + "-report." + format, Job: j}, nil
}

// Log returns the job's log (JSON lines).
func (q *Queue) Log(ctx context.Context, owner, id string) (*File, error) {
	j, err := q.Get(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if j.Purged != nil {
		return nil, ErrPurged
	}
	return &File{Path: filepath.Join(q.jobDir(id), "job.log"), Name: id + ".log", Job: j}, nil
}

// Purge removes the files of jobs (of owner, or of everyone when owner is
// "") that ended more than olderThan ago, and staged uploads left over by
// interrupted submissions. The job rows stay, marked purged, so that the
// history still shows what ran. It returns the purged jobs' IDs.
func (q *Queue) Purge(ctx context.Context, owner string, olderThan time.Duration) ([]string, error) {
	before := ms(time.Now().Add(-olderThan))
	var rows []*row
	var err error
	final := `state IN ('succeeded', 'succeeded_with_warnings', 'failed', 'cancelled') AND purged_at = 0 AND finished_at > 0 AND finished_at <= ?`
	if owner == "" {
		rows, err = q.st.query(ctx, `WHERE `+final, before)
	} else {
		rows, err = q.st.query(ctx, `WHERE owner = ? AND `+final, owner, before)
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range rows {
		if err := os.RemoveAll(q.jobDir(r.id)); err != nil {
			return ids, fmt.Errorf("purging job %s: %w", r.id, err)
		}
		if err := q.st.markPurged(ctx, r.id, ms(time.Now())); err != nil {
			return ids, err
		}
		ids = append(ids, r.id)
	}
	if owner == "" {
		q.purgeStaging(olderThan)
	}
	if len(ids) > 0 {
		q.cfg.Log.Info().Strs("jobs", ids).Dur("older_than", olderThan).Msg("purged")
	}
	return ids, nil
}

func (q *Queue) purgeStaging(olderThan time.Duration) {
	// A staging directory lives as long as one upload; one a day old
	// belongs to a submission that died.
	if olderThan < 24*time.Hour {
		olderThan = 24 * time.Hour
	}
	dir := filepath.Join(q.cfg.DataDir, "staging")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > olderThan {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// upkeep runs in every started process: it hands the jobs of dead workers
// back to the queue, queues rows that never reached River, and purges.
func (q *Queue) upkeep(ctx context.Context) {
	defer close(q.done)
	every := q.cfg.Lease / 3
	t := time.NewTicker(every)
	defer t.Stop()
	lastPurge := time.Time{}
	for {
		q.reconcile(ctx)
		if q.cfg.Retention > 0 && time.Since(lastPurge) > time.Hour {
			lastPurge = time.Now()
			if _, err := q.Purge(ctx, "", q.cfg.Retention); err != nil && ctx.Err() == nil {
				q.cfg.Log.Error().Err(err).Msg("purging old jobs")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (q *Queue) reconcile(ctx context.Context) {
	now := ms(time.Now())
	stale, err := q.st.query(ctx, `WHERE state = 'running' AND lease_until < ?`, now)
	if err != nil {
		if ctx.Err() == nil {
			q.cfg.Log.Warn().Err(err).Msg("looking for stopped workers")
		}
		return
	}
	for _, r := range stale {
		if r.cancelRequested {
			if ok, _ := q.st.endUnstarted(ctx, r.id, []State{StateRunning}, StateCancelled, "cancelled; the worker running it had stopped", now); ok {
				q.cleanRun(r.id, true)
				q.afterEnd(ctx, r.id, nil)
			}
			continue
		}
		if r.attempts >= r.max {
			msg := fmt.Sprintf("the worker running this job stopped without finishing it, %d times out of %d attempts; giving up", r.attempts, r.max)
			if ok, _ := q.st.endUnstarted(ctx, r.id, []State{StateRunning}, StateFailed, msg, now); ok {
				q.cfg.Log.Warn().Str("job", r.id).Msg(msg)
				q.cleanRun(r.id, true)
				q.afterEnd(ctx, r.id, nil)
			}
			continue
		}
		if ok, _ := q.st.requeue(ctx, r.id, r.run, now); ok {
			q.cfg.Log.Warn().Str("job", r.id).Str("worker", r.leaseOwner).Int("attempt", r.attempts).Msg("the worker running this job stopped; queued again")
			if err := q.enqueue(ctx, r.id, r.run+1); err != nil {
				q.cfg.Log.Warn().Err(err).Str("job", r.id).Msg("queueing again; will retry")
			}
		}
	}
	orphans, err := q.st.query(ctx, `WHERE state = 'queued' AND river_id IS NULL AND created_at < ?`, now-int64(q.cfg.Lease/time.Millisecond))
	if err != nil {
		return
	}
	for _, r := range orphans {
		if err := q.enqueue(ctx, r.id, r.run); err != nil && ctx.Err() == nil {
			q.cfg.Log.Warn().Err(err).Str("job", r.id).Msg("queueing a recorded job")
		}
	}
}
