package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// store keeps the job rows, in the same database as River's tables. Its SQL
// is the common part of SQLite and PostgreSQL; times are Unix milliseconds
// so that both store them the same way.
type store struct {
	db *sql.DB
	pg bool
}

const schemaSQL = `
CREATE TABLE IF NOT EXISTS migrate_job (
	id               TEXT PRIMARY KEY,
	owner            TEXT NOT NULL,
	state            TEXT NOT NULL,
	spec             TEXT NOT NULL,
	inputs           TEXT NOT NULL,
	secret           TEXT NOT NULL DEFAULT '',
	run              INTEGER NOT NULL DEFAULT 0,
	river_id         BIGINT,
	attempts         INTEGER NOT NULL DEFAULT 0,
	max_attempts     INTEGER NOT NULL,
	lease_owner      TEXT NOT NULL DEFAULT '',
	lease_until      BIGINT NOT NULL DEFAULT 0,
	cancel_requested INTEGER NOT NULL DEFAULT 0,
	progress         TEXT NOT NULL DEFAULT '',
	error            TEXT NOT NULL DEFAULT '',
	result           TEXT NOT NULL DEFAULT '',
	notified         TEXT NOT NULL DEFAULT '',
	created_at       BIGINT NOT NULL,
	started_at       BIGINT NOT NULL DEFAULT 0,
	finished_at      BIGINT NOT NULL DEFAULT 0,
	purged_at        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS migrate_job_owner ON migrate_job (owner, created_at);
CREATE INDEX IF NOT EXISTS migrate_job_state ON migrate_job (state);
`

func (s *store) migrate(ctx context.Context) error {
	for stmt := range strings.SplitSeq(schemaSQL, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// q turns ? placeholders into PostgreSQL's $n.
func (s *store) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (s *store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// row is a job as stored.
type row struct {
	id, owner       string
	state           State
	spec            Spec
	inputs          []Input
	secret          string
	run             int
	riverID         sql.NullInt64
	attempts, max   int
	leaseOwner      string
	leaseUntil      int64
	cancelRequested bool
	progress        *Progress
	err             string
	result          *Result
	notified        string
	created         int64
	started         int64
	finished        int64
	purged          int64
}

const rowColumns = `id, owner, state, spec, inputs, secret, run, river_id, attempts, max_attempts, lease_owner, lease_until,
	cancel_requested, progress, error, result, notified, created_at, started_at, finished_at, purged_at`

type scanner interface{ Scan(...any) error }

func scanRow(sc scanner) (*row, error) {
	var r row
	var spec, inputs, progress, result string
	var cancel int
	if err := sc.Scan(&r.id, &r.owner, &r.state, &spec, &inputs, &r.secret, &r.run, &r.riverID, &r.attempts, &r.max,
		&r.leaseOwner, &r.leaseUntil, &cancel, &progress, &r.err, &result, &r.notified, &r.created, &r.started, &r.finished, &r.purged); err != nil {
		return nil, err
	}
	r.cancelRequested = cancel != 0
	if err := json.Unmarshal([]byte(spec), &r.spec); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(inputs), &r.inputs); err != nil {
		return nil, err
	}
	if progress != "" {
		r.progress = new(Progress)
		if err := json.Unmarshal([]byte(progress), r.progress); err != nil {
			return nil, err
		}
	}
	if result != "" {
		r.result = new(Result)
		if err := json.Unmarshal([]byte(result), r.result); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) *time.Time {
	if v == 0 {
		return nil
	}
	t := time.UnixMilli(v).UTC()
	return &t
}

func (r *row) job() *Job {
	return &Job{
		ID: r.id, Owner: r.owner, State: r.state, Spec: r.spec, Inputs: r.inputs,
		Progress: r.progress, Result: r.result, Error: r.err, Attempts: r.attempts,
		Created: *fromMS(r.created), Started: fromMS(r.started), Finished: fromMS(r.finished), Purged: fromMS(r.purged),
		CancelRequested: r.cancelRequested, Notified: r.notified,
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own plain structs are marshalled
	}
	return string(b)
}

func (s *store) insert(ctx context.Context, r *row) error {
	_, err := s.exec(ctx, `INSERT INTO migrate_job (id, owner, state, spec, inputs, secret, max_attempts, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.id, r.owner, string(r.state), mustJSON(r.spec), mustJSON(r.inputs), r.secret, r.max, r.created)
	return err
}

func (s *store) get(ctx context.Context, id string) (*row, error) {
	r, err := scanRow(s.db.QueryRowContext(ctx, s.q(`SELECT `+rowColumns+` FROM migrate_job WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

func (s *store) query(ctx context.Context, query string, args ...any) ([]*row, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+rowColumns+` FROM migrate_job `+query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *store) setInputs(ctx context.Context, id string, in []Input) error {
	_, err := s.exec(ctx, `UPDATE migrate_job SET inputs = ? WHERE id = ?`, mustJSON(in), id)
	return err
}

func (s *store) setRiverID(ctx context.Context, id string, run int, riverID int64) error {
	_, err := s.exec(ctx, `UPDATE migrate_job SET river_id = ? WHERE id = ? AND run = ?`, riverID, id, run)
	return err
}

// claim makes worker the job's runner for this run, when no live worker
// holds it. It counts an attempt.
func (s *store) claim(ctx context.Context, id string, run int, worker string, now, until int64) (bool, error) {
	n, err := s.exec(ctx, `UPDATE migrate_job SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1,
			started_at = CASE WHEN started_at = 0 THEN ? ELSE started_at END, error = ''
		WHERE id = ? AND run = ? AND state IN ('queued', 'running') AND cancel_requested = 0 AND lease_until < ?`,
		worker, until, now, id, run, now)
	return n == 1, err
}

// heartbeat renews the lease and stores the progress; it reports whether a
// cancel was asked for, and whether worker still holds the job.
func (s *store) heartbeat(ctx context.Context, id, worker string, until int64, p *Progress) (cancel, held bool, err error) {
	prog := ""
	if p != nil {
		prog = mustJSON(p)
	}
	n, err := s.exec(ctx, `UPDATE migrate_job SET lease_until = ?, progress = ? WHERE id = ? AND lease_owner = ? AND state = 'running'`,
		until, prog, id, worker)
	if err != nil {
		return false, true, err
	}
	var c int
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT cancel_requested FROM migrate_job WHERE id = ?`), id).Scan(&c); err != nil {
		return false, n == 1, err
	}
	return c != 0, n == 1, nil
}

// finish records the end of a run by the worker that holds it, and wipes
// the sealed passphrase.
func (s *store) finish(ctx context.Context, id, worker string, state State, msg string, res *Result, p *Progress, now int64) (bool, error) {
	result := ""
	if res != nil {
		result = mustJSON(res)
	}
	prog := ""
	if p != nil {
		prog = mustJSON(p)
	}
	n, err := s.exec(ctx, `UPDATE migrate_job SET state = ?, error = ?, result = ?, progress = ?, secret = '', lease_owner = '', lease_until = 0, finished_at = ?
		WHERE id = ? AND lease_owner = ? AND state = 'running'`,
		string(state), msg, result, prog, now, id, worker)
	return n == 1, err
}

// release hands a run interrupted by a shutdown back to the queue without
// counting it as an attempt.
func (s *store) release(ctx context.Context, id, worker string) error {
	_, err := s.exec(ctx, `UPDATE migrate_job SET state = 'queued', lease_owner = '', lease_until = 0, attempts = attempts - 1
		WHERE id = ? AND lease_owner = ? AND state = 'running'`, id, worker)
	return err
}

// endUnstarted ends a job that no worker holds: cancelled while queued, or
// failed by the reconciler.
func (s *store) endUnstarted(ctx context.Context, id string, from []State, state State, msg string, now int64) (bool, error) {
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(from)), ", ")
	args := []any{string(state), msg, now, id}
	for _, f := range from {
		args = append(args, string(f))
	}
	args = append(args, now)
	n, err := s.exec(ctx, `UPDATE migrate_job SET state = ?, error = ?, secret = '', lease_owner = '', lease_until = 0, finished_at = ?
		WHERE id = ? AND state IN (`+ph+`) AND lease_until < ?`, args...)
	return n == 1, err
}

func (s *store) requestCancel(ctx context.Context, id string) (bool, error) {
	n, err := s.exec(ctx, `UPDATE migrate_job SET cancel_requested = 1 WHERE id = ? AND state IN ('queued', 'running')`, id)
	return n == 1, err
}

// requeue gives a job whose worker stopped renewing its lease a new run.
func (s *store) requeue(ctx context.Context, id string, run int, now int64) (bool, error) {
	n, err := s.exec(ctx, `UPDATE migrate_job SET state = 'queued', run = run + 1, river_id = NULL, lease_owner = '', lease_until = 0
		WHERE id = ? AND run = ? AND state = 'running' AND lease_until < ?`, id, run, now)
	return n == 1, err
}

func (s *store) setNotified(ctx context.Context, id, text string) error {
	_, err := s.exec(ctx, `UPDATE migrate_job SET notified = ? WHERE id = ?`, text, id)
	return err
}

func (s *store) markPurged(ctx context.Context, id string, now int64) error {
	_, err := s.exec(ctx, `UPDATE migrate_job SET purged_at = ? WHERE id = ?`, now, id)
	return err
}
