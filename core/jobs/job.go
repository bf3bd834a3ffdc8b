package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/core/pipeline"
	"github.com/migrate-chat/migrate/sdk"
)

// State is where a job is in its life.
type State string

// Job states. The last four are final.
const (
	StateQueued       State = "queued"
	StateRunning      State = "running"
	StateSucceeded    State = "succeeded"
	StateWithWarnings State = "succeeded_with_warnings"
	StateFailed       State = "failed"
	StateCancelled    State = "cancelled"
)

// Final reports whether the job has ended.
func (s State) Final() bool {
	switch s {
	case StateSucceeded, StateWithWarnings, StateFailed, StateCancelled:
		return true
	}
	return false
}

// Spec is what a submitter asks for: everything about a conversion except
// its input files and its secrets.
type Spec struct {
	From string `json:"from"`
	To   string `json:"to"`
	// SourceOptions and TargetOptions are the adapters' declared options;
	// values may be JSON values of the declared type or strings as they
	// would be typed on the command line.
	SourceOptions map[string]any `json:"source_options,omitempty"`
	TargetOptions map[string]any `json:"target_options,omitempty"`
	// URLs are http(s) addresses to fetch inputs from, in order, after any
	// uploaded files.
	URLs []string `json:"urls,omitempty"`
	// OutputName is the output file's name; its suffix chooses its form
	// (.tar.gz, .tar.zst, .tar.gz.aes). Empty means a name made from the
	// target.
	OutputName string `json:"output_name,omitempty"`
	// OutputKDF is the key derivation of an encrypted output.
	OutputKDF string `json:"output_kdf,omitempty"`
	Admin     string `json:"admin,omitempty"`
	// Download fetches files the export only links to.
	Download bool `json:"download_attachments,omitempty"`
	// Notify lists e-mail addresses told when the job ends.
	Notify []string `json:"notify,omitempty"`
	// Webhook is an http(s) URL that receives the finished job as JSON.
	Webhook string `json:"webhook,omitempty"`
}

// Secrets are the passphrases of a job. They are sealed with the server
// key while the job waits or runs and wiped when it ends.
type Secrets struct {
	Passphrase       []byte `json:"passphrase,omitempty"`
	OutputPassphrase []byte `json:"output_passphrase,omitempty"`
}

func (s *Secrets) wipe() {
	if s == nil {
		return
	}
	clear(s.Passphrase)
	clear(s.OutputPassphrase)
}

func (s *Secrets) empty() bool {
	return s == nil || (len(s.Passphrase) == 0 && len(s.OutputPassphrase) == 0)
}

// Input is one input file of a job.
type Input struct {
	// Name is the file's name in the job's input directory.
	Name string `json:"name"`
	// URL is where it is fetched from; empty for an upload.
	URL string `json:"url,omitempty"`
	// Size is its size in bytes once it is there.
	Size int64 `json:"size,omitempty"`
}

// Progress is the latest step a running job reported.
type Progress struct {
	Step string `json:"step"`
	// Unit is what Done and Total count ("bytes", "messages").
	Unit  string `json:"unit,omitempty"`
	Done  int64  `json:"done"`
	Total int64  `json:"total,omitempty"`
	// Steps counts the steps begun so far.
	Steps int `json:"steps"`
}

// Result is what a finished run produced.
type Result struct {
	// Output is the output file's name; empty when there is none.
	Output     string `json:"output,omitempty"`
	OutputSize int64  `json:"output_size,omitempty"`
	// Report is true when report.json and report.html exist.
	Report bool `json:"report"`
	// Warnings and Errors count the report's notices.
	Warnings int64 `json:"warnings"`
	Errors   int64 `json:"errors"`
	// Counts are the converted workspace's record counts by kind.
	Counts map[string]int64 `json:"counts,omitempty"`
}

// Job is a job as status calls show it.
type Job struct {
	ID       string     `json:"id"`
	Owner    string     `json:"owner"`
	State    State      `json:"state"`
	Spec     Spec       `json:"spec"`
	Inputs   []Input    `json:"inputs"`
	Progress *Progress  `json:"progress,omitempty"`
	Result   *Result    `json:"result,omitempty"`
	Error    string     `json:"error,omitempty"`
	Attempts int        `json:"attempts"`
	Created  time.Time  `json:"created_at"`
	Started  *time.Time `json:"started_at,omitempty"`
	Finished *time.Time `json:"finished_at,omitempty"`
	Purged   *time.Time `json:"purged_at,omitempty"`
	// CancelRequested is true once someone asked to cancel the job.
	CancelRequested bool `json:"cancel_requested,omitempty"`
	// Notified says how the notifications went, once sent.
	Notified string `json:"notified,omitempty"`
}

// ErrNotFound is returned for a job that does not exist or belongs to
// someone else; the two are not told apart, so that job IDs leak nothing.
var ErrNotFound = errors.New("no such job")

// ErrFinal is returned when cancelling a job that has already ended.
var ErrFinal = errors.New("the job has already ended")

// ErrPurged is returned when a purged job's files are asked for.
var ErrPurged = errors.New("the job's files were purged")

// SpecError is a submission that cannot run as asked; its message says
// what to change.
type SpecError struct{ Msg string }

func (e *SpecError) Error() string { return e.Msg }

func specErrorf(format string, a ...any) error { return &SpecError{fmt.Sprintf(format, a...)} }

// manifests returns the adapters a job may name.
func manifests(r pipeline.Resolver) map[string]sdk.Manifest {
	var list []pipeline.AdapterInfo
	if r == nil {
		list = pipeline.Adapters()
	} else {
		list, _ = pipeline.ListAdapters(context.Background(), r)
	}
	out := make(map[string]sdk.Manifest, len(list))
	for _, a := range list {
		out[a.Manifest.Name] = a.Manifest
	}
	return out
}

// check validates a spec against the adapters before anything is stored,
// and returns the adapters' options in their declared types.
func (s *Spec) check(adapters map[string]sdk.Manifest, haveUploads bool) (src, tgt sdk.Options, err error) {
	srcM, ok := adapters[s.From]
	if !ok {
		return nil, nil, specErrorf("unknown source %q: choose one of %s", s.From, names(adapters, true))
	}
	if !srcM.Source {
		return nil, nil, specErrorf("%s can only be written, not read: choose one of %s", s.From, names(adapters, true))
	}
	tgtM, ok := adapters[s.To]
	if !ok {
		return nil, nil, specErrorf("unknown target %q: choose one of %s", s.To, names(adapters, false))
	}
	if !tgtM.Target {
		return nil, nil, specErrorf("%s can only be read, not written: choose one of %s", s.To, names(adapters, false))
	}
	if !haveUploads && len(s.URLs) == 0 {
		return nil, nil, specErrorf("no input: upload the export or give an http(s) URL to fetch it from")
	}
	for _, u := range s.URLs {
		if err := checkHTTPURL(u); err != nil {
			return nil, nil, specErrorf("input URL %q: %v", u, err)
		}
	}
	if s.Webhook != "" {
		if err := checkHTTPURL(s.Webhook); err != nil {
			return nil, nil, specErrorf("webhook %q: %v", s.Webhook, err)
		}
	}
	for _, addr := range s.Notify {
		if _, err := mail.ParseAddress(addr); err != nil {
			return nil, nil, specErrorf("notify address %q: %v", addr, err)
		}
	}
	if s.OutputName == "" {
		s.OutputName = "converted-" + s.To + ".tar.gz"
		if tgtM.Output.PassphraseRequired {
			s.OutputName += ".aes"
		}
	}
	if err := checkOutputName(s.OutputName, tgtM); err != nil {
		return nil, nil, err
	}
	if src, err = coerceOptions(srcM, "source", s.SourceOptions); err != nil {
		return nil, nil, err
	}
	if tgt, err = coerceOptions(tgtM, "target", s.TargetOptions); err != nil {
		return nil, nil, err
	}
	return src, tgt, nil
}

func names(adapters map[string]sdk.Manifest, source bool) string {
	var out []string
	for n, m := range adapters {
		if (source && m.Source) || (!source && m.Target) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("only http:// and https:// URLs are fetched")
	}
	if u.Host == "" {
		return errors.New("the URL names no host")
	}
	return nil
}

// checkOutputName keeps the output a single file inside the job's output
// directory, in a form a download can carry.
func checkOutputName(name string, m sdk.Manifest) error {
	if name != filepath.Base(name) || strings.ContainsAny(name, `/\`) || name == "." || name == ".." || strings.HasPrefix(name, ".") {
		return specErrorf("output name %q: give a plain file name such as converted.tar.gz", name)
	}
	lower := strings.ToLower(name)
	ok := false
	for _, suf := range []string{".tar.gz", ".tgz", ".tar.zst", ".tzst", ".tar", ".tar.gz.aes", ".tgz.aes", ".tar.zst.aes", ".tar.aes"} {
		if strings.HasSuffix(lower, suf) {
			ok = true
		}
	}
	if !ok {
		return specErrorf("output name %q: end it in .tar.gz, .tar.zst or .tar.gz.aes so that it downloads as one file", name)
	}
	if m.Output.PassphraseRequired && !strings.HasSuffix(lower, ".aes") {
		return specErrorf("%s writes an encrypted archive: name the output like %s.aes", m.Name, name)
	}
	return nil
}

// coerceOptions turns submitted option values into the types the adapter
// declared. Strings are accepted for every type, as a web form sends them.
func coerceOptions(m sdk.Manifest, role string, in map[string]any) (sdk.Options, error) {
	out := sdk.Options{}
	decl := map[string]sdk.Option{}
	for _, o := range m.Options {
		if o.Role == "" || o.Role == role {
			decl[o.Name] = o
		}
	}
	for name, v := range in {
		o, ok := decl[name]
		if !ok {
			return nil, specErrorf("%s has no %s option %q", m.Name, role, name)
		}
		cv, err := coerce(o, v)
		if err != nil {
			return nil, specErrorf("%s option %q: %v", m.Name, name, err)
		}
		out[name] = cv
	}
	return out, nil
}

func coerce(o sdk.Option, v any) (any, error) {
	s, isString := v.(string)
	switch o.Type {
	case sdk.OptionBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if isString {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, fmt.Errorf("want true or false, not %q", s)
			}
			return b, nil
		}
		return nil, errors.New("want true or false")
	case sdk.OptionInt:
		switch n := v.(type) {
		case float64:
			if n != float64(int64(n)) {
				return nil, fmt.Errorf("want a whole number, not %v", n)
			}
			return int64(n), nil
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("want a whole number, not %q", n)
			}
			return i, nil
		}
		return nil, errors.New("want a whole number")
	case sdk.OptionStrings:
		switch l := v.(type) {
		case []string:
			return l, nil
		case []any:
			out := make([]string, 0, len(l))
			for _, e := range l {
				es, ok := e.(string)
				if !ok {
					return nil, errors.New("want a list of strings")
				}
				out = append(out, es)
			}
			return out, nil
		case string:
			if l == "" {
				return []string{}, nil
			}
			parts := strings.Split(l, ",")
			for i := range parts {
				parts[i] = strings.TrimSpace(parts[i])
			}
			return parts, nil
		}
		return nil, errors.New("want a list of strings")
	case sdk.OptionFile:
		// A file option travels as the file's content.
		if isString {
			return []byte(s), nil
		}
		return nil, errors.New("want the file's content as a string")
	}
	if isString {
		return s, nil
	}
	return nil, errors.New("want a string")
}
