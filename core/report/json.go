package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// FormatVersion is the version of the JSON report format.
const FormatVersion = 1

// WriteJSON writes the report as one JSON object (the format
// schema/json/report.schema.json describes), streaming the lists so that a
// report with millions of records not imported needs no more memory than
// one with ten.
func (r *Report) WriteJSON(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	bw := bufio.NewWriterSize(w, 64<<10)
	jw := &jsonWriter{w: bw}
	jw.raw("{")
	jw.field("format_version", FormatVersion)
	jw.field("status", r.Status)
	jw.field("exit_code", r.ExitCode())
	jw.field("source", r.Source)
	jw.field("target", r.Target)
	inputs := r.Inputs
	if inputs == nil {
		inputs = []string{}
	}
	jw.field("inputs", inputs)
	if r.Into != "" {
		jw.field("into", r.Into)
	}
	if r.Output != "" {
		jw.field("output", r.Output)
	}
	jw.field("dry_run", r.DryRun)
	jw.field("started_at", r.StartedAt.Format(time.RFC3339Nano))
	if !r.FinishedAt.IsZero() {
		jw.field("finished_at", r.FinishedAt.Format(time.RFC3339Nano))
	}
	if r.Err != "" {
		jw.field("error", r.Err)
	}
	jw.field("warnings", r.warnings)
	jw.field("errors", r.errors)

	jw.raw(`,"accounts":{`)
	for i, k := range Kinds {
		a := r.accounts[k]
		if i > 0 {
			jw.raw(",")
		}
		jw.value(string(k))
		jw.raw(":{")
		jw.first = true
		jw.field("in", a.In)
		jw.field("written", a.Written)
		jw.field("merged", a.Merged)
		jw.field("existing", a.Existing)
		jw.field("not_imported_count", a.notImported.len())
		jw.raw(`,"not_imported":[`)
		n := 0
		for l, err := range a.notImported.all() {
			if err != nil {
				return err
			}
			if n > 0 {
				jw.raw(",")
			}
			jw.value(l)
			n++
		}
		jw.raw("]}")
	}
	jw.raw(`},"notices":[`)
	n := 0
	for nt, err := range r.notices.all() {
		if err != nil {
			return err
		}
		if n > 0 {
			jw.raw(",")
		}
		jw.value(nt)
		n++
	}
	jw.raw("]}\n")
	if jw.err != nil {
		return fmt.Errorf("report: writing JSON: %w", jw.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: writing JSON: %w", err)
	}
	return nil
}

// jsonWriter writes JSON piece by piece and remembers the first error.
type jsonWriter struct {
	w     *bufio.Writer
	err   error
	first bool
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
	if s == "{" {
		j.first = true
	}
}

func (j *jsonWriter) value(v any) {
	if j.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		j.err = err
		return
	}
	_, j.err = j.w.Write(b)
}

func (j *jsonWriter) field(name string, v any) {
	if !j.first {
		j.raw(",")
	}
	j.first = false
	j.value(name)
	j.raw(":")
	j.value(v)
}
