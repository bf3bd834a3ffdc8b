package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// TextLimit is how many entries of each list WriteText shows.
const TextLimit = 20

// WriteText writes a short summary for a terminal: the outcome, the
// account table, and the first entries of each list.
func (r *Report) WriteText(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.headline())
	if r.Err != "" {
		fmt.Fprintf(&b, "Error: %s\n", r.Err)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tin\twritten\tmerged\tnot imported\talready there\t")
	for _, k := range Kinds {
		a := r.accounts[k]
		fmt.Fprintf(tw, "%ss\t%d\t%d\t%d\t%d\t%d\t\n", k, a.In, a.Written, a.Merged, a.notImported.len(), a.Existing)
	}
	tw.Flush()

	for _, k := range Kinds {
		a := r.accounts[k]
		if a.notImported.len() == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%ss not imported (%d):\n", strings.ToUpper(string(k[:1]))+string(k[1:]), a.notImported.len())
		for i, l := range a.notImported.head() {
			if i == TextLimit {
				break
			}
			fmt.Fprintf(&b, "  %s: %s\n", l.ID, l.Reason)
		}
		if rest := a.notImported.len() - TextLimit; rest > 0 {
			fmt.Fprintf(&b, "  … and %d more (the JSON report lists them all)\n", rest)
		}
	}
	if n := r.notices.len(); n > 0 {
		fmt.Fprintf(&b, "\nWarnings and errors (%d warnings, %d errors):\n", r.warnings, r.errors)
		for i, nt := range r.notices.head() {
			if i == TextLimit {
				break
			}
			fmt.Fprintf(&b, "  %-7s %s\n", nt.Level, nt.Message)
		}
		if rest := n - TextLimit; rest > 0 {
			fmt.Fprintf(&b, "  … and %d more (the JSON report lists them all)\n", rest)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// headline is the one-line outcome, in the words of HipChat's e-mail.
func (r *Report) headline() string {
	what := "Import"
	if r.DryRun {
		what = "Dry run of the import"
	}
	var from string
	switch {
	case r.Source != "" && r.Target != "":
		from = fmt.Sprintf(" from %s to %s", r.Source, r.Target)
	case r.Source != "":
		from = " from " + r.Source
	case r.Target != "":
		from = " to " + r.Target
	}
	s := fmt.Sprintf("%s%s %s", what, from, r.Status.Text())
	if !r.FinishedAt.IsZero() {
		s += fmt.Sprintf(" in %s", r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	}
	return s + "."
}
