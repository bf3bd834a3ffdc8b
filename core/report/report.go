package report

import (
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// Status is how a run ended, as HipChat's import e-mail put it.
type Status string

// Run statuses.
const (
	StatusSucceeded    Status = "succeeded"
	StatusWithWarnings Status = "succeeded_with_warnings"
	StatusFailed       Status = "failed"
	// StatusRunning is the status of a report that has not been finished.
	StatusRunning Status = "running"
)

// Process exit codes for the command line.
const (
	ExitSucceeded    = 0  // the run succeeded
	ExitWithWarnings = 1  // the run succeeded with warnings
	ExitFailed       = 2  // the run failed
	ExitUsage        = 64 // the command was used wrongly (sysexits EX_USAGE)
)

// Kinds lists the kinds that have an account, in dependency order. The
// workspace record has none: there is exactly one.
var Kinds = []sdk.Kind{sdk.KindUser, sdk.KindRoom, sdk.KindConversation, sdk.KindEmoji, sdk.KindMessage, sdk.KindAttachment}

// DefaultLimit is how many entries of each list a report keeps in memory
// when Options.Limit is 0.
const DefaultLimit = 10000

// Options tune a report's memory use.
type Options struct {
	// Limit is how many entries of each list (records not imported, per
	// kind; notices) stay in memory; the rest go to a temporary file.
	Limit int
	// SpillDir is where the temporary files go; "" means os.TempDir().
	SpillDir string
}

// Loss is one record that was not imported, and why.
type Loss struct {
	// ID is the record's identifier as its source spelled it.
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Account is the account of one record kind.
type Account struct {
	// In counts the records the sources read, including those a source
	// could not emit.
	In int64
	// Written counts the records that reach the target, including those
	// merged into a record the target already holds.
	Written int64
	// Merged counts, among Written, the records mapped onto a record the
	// target already held (or onto one read earlier in the same run).
	Merged int64
	// Existing counts the records the target already held; they are not
	// part of the account.
	Existing int64

	notImported spillList[Loss]
}

// NotImportedCount is the number of records not imported.
func (a *Account) NotImportedCount() int64 { return a.notImported.len() }

// NotImported yields every record not imported, in the order lost.
func (a *Account) NotImported() iter.Seq2[Loss, error] { return a.notImported.all() }

// NotImportedHead is the part of the list held in memory.
func (a *Account) NotImportedHead() []Loss { return a.notImported.head() }

// Closes reports whether every record in is either written or listed as
// not imported.
func (a *Account) Closes() bool {
	return a.In == a.Written+a.notImported.len() && a.Merged <= a.Written && a.Written >= 0
}

// Report is the account of one run. Its methods are safe for concurrent
// use, since targets may report from their own goroutines.
type Report struct {
	mu sync.Mutex

	// Status is StatusRunning until Finish.
	Status Status
	// Source and Target name the adapters ("gitter", "pixtoome").
	Source string
	Target string
	// Inputs are the inputs as the user named them; Into is the existing
	// target export merged into, if any; Output is where the result went.
	Inputs []string
	Into   string
	Output string
	DryRun bool

	StartedAt  time.Time
	FinishedAt time.Time
	// Err says why a failed run failed.
	Err string

	accounts map[sdk.Kind]*Account
	notices  spillList[sdk.Notice]
	warnings int64
	errors   int64
	opts     Options
}

// New starts a report for a run from source to target.
func New(source, target string, opts Options) *Report {
	if opts.Limit <= 0 {
		opts.Limit = DefaultLimit
	}
	r := &Report{
		Status:    StatusRunning,
		Source:    source,
		Target:    target,
		StartedAt: time.Now().UTC(),
		accounts:  make(map[sdk.Kind]*Account, len(Kinds)),
		notices:   spillList[sdk.Notice]{limit: opts.Limit, dir: opts.SpillDir},
		opts:      opts,
	}
	for _, k := range Kinds {
		r.accounts[k] = &Account{notImported: spillList[Loss]{limit: opts.Limit, dir: opts.SpillDir}}
	}
	return r
}

// Account returns the account of a kind; it panics on a kind without one
// (the workspace), which is a programming error.
func (r *Report) Account(k sdk.Kind) *Account {
	a, ok := r.accounts[k]
	if !ok {
		panic(fmt.Sprintf("report: no account for kind %q", k))
	}
	return a
}

// Count adds to an account's counters under the report's lock.
func (r *Report) Count(k sdk.Kind, in, written, merged int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.Account(k)
	a.In += in
	a.Written += written
	a.Merged += merged
}

// SetExisting records how many records of a kind the target already held.
func (r *Report) SetExisting(k sdk.Kind, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Account(k).Existing = n
}

// Lose lists a record as not imported. It does not count the record in;
// the caller has counted it already.
func (r *Report) Lose(k sdk.Kind, id, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Account(k).notImported.add(Loss{ID: id, Reason: reason})
}

// Notify records a notice without touching any account.
func (r *Report) Notify(n sdk.Notice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notify(n)
}

func (r *Report) notify(n sdk.Notice) {
	if n.Level == "" {
		n.Level = sdk.LevelWarning
	}
	if n.Level == sdk.LevelError {
		r.errors++
	} else {
		r.warnings++
	}
	r.notices.add(n)
}

// SourceNotice records a notice a source reported. A skipped record never
// reached the canonical data, so it is counted in and listed as not
// imported here.
func (r *Report) SourceNotice(n sdk.Notice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notify(n)
	if a, ok := r.accounts[n.Kind]; ok && n.Skipped {
		a.In++
		a.notImported.add(Loss{ID: n.Record, Reason: n.Message})
	}
}

// TargetNotice records a notice a target reported. A skipped record was
// counted as written by the engine, so it moves from written to not
// imported.
func (r *Report) TargetNotice(n sdk.Notice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notify(n)
	if a, ok := r.accounts[n.Kind]; ok && n.Skipped {
		a.Written--
		a.notImported.add(Loss{ID: n.Record, Reason: n.Message})
	}
}

// Notices yields every notice in the order reported.
func (r *Report) Notices() iter.Seq2[sdk.Notice, error] { return r.notices.all() }

// NoticesHead is the part of the notice list held in memory.
func (r *Report) NoticesHead() []sdk.Notice { return r.notices.head() }

// NoticeCount reports how many warnings and errors were recorded.
func (r *Report) NoticeCount() (warnings, errors int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.warnings, r.errors
}

// Check reports, as one error, every account that does not close.
func (r *Report) Check() error {
	var bad []string
	for _, k := range Kinds {
		a := r.accounts[k]
		if !a.Closes() {
			bad = append(bad, fmt.Sprintf("%s: %d in, %d written (%d merged), %d not imported",
				k, a.In, a.Written, a.Merged, a.notImported.len()))
		}
	}
	if len(bad) > 0 {
		return errors.New("the account does not close for " + strings.Join(bad, "; "))
	}
	return nil
}

// Finish ends the run: it records the end time and sets the status. The
// run failed when err is not nil or an account does not close; it
// succeeded with warnings when anything was noticed or not imported.
func (r *Report) Finish(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.FinishedAt = time.Now().UTC()
	if cerr := r.Check(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	for _, a := range r.accounts {
		if a.notImported.err != nil {
			err = errors.Join(err, a.notImported.err)
		}
	}
	if r.notices.err != nil {
		err = errors.Join(err, r.notices.err)
	}
	switch {
	case err != nil:
		r.Status = StatusFailed
		r.Err = err.Error()
	case r.warnings+r.errors > 0 || r.lost() > 0:
		r.Status = StatusWithWarnings
	default:
		r.Status = StatusSucceeded
	}
}

func (r *Report) lost() int64 {
	var n int64
	for _, a := range r.accounts {
		n += a.notImported.len()
	}
	return n
}

// ExitCode is the process exit code for the report's status.
func (r *Report) ExitCode() int {
	switch r.Status {
	case StatusSucceeded:
		return ExitSucceeded
	case StatusWithWarnings:
		return ExitWithWarnings
	}
	return ExitFailed
}

// Close removes the report's temporary files. Write the report first.
func (r *Report) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.notices.close()
	for _, a := range r.accounts {
		err = errors.Join(err, a.notImported.close())
	}
	return err
}

// Text is the status as HipChat's e-mail worded it.
func (s Status) Text() string {
	switch s {
	case StatusSucceeded:
		return "succeeded"
	case StatusWithWarnings:
		return "succeeded with warnings"
	case StatusFailed:
		return "failed"
	}
	return "is running"
}
