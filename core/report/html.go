package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// HTMLLimit is how many entries of each list WriteHTML shows.
const HTMLLimit = 1000

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"title": func(k sdk.Kind) string { return strings.ToUpper(string(k[:1])) + string(k[1:]) + "s" },
	"time":  func(t time.Time) string { return t.Format("2006-01-02 15:04:05 MST") },
}).Parse(htmlSource))

type htmlAccount struct {
	Kind  sdk.Kind
	A     *Account
	Lost  int64
	Head  []Loss
	Extra int64
}

type htmlData struct {
	R          *Report
	Headline   string
	Accounts   []htmlAccount
	Notices    []sdk.Notice
	MoreNotice int64
	Warnings   int64
	Errors     int64
	Duration   string
}

// WriteHTML writes the report as one self-contained HTML page, plain
// enough to mail, listing the outcome, the account, and up to HTMLLimit
// entries of each list.
func (r *Report) WriteHTML(w io.Writer) error {
	r.mu.Lock()
	d := htmlData{R: r, Headline: r.headline(), Warnings: r.warnings, Errors: r.errors}
	if !r.FinishedAt.IsZero() {
		d.Duration = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
	}
	for _, k := range Kinds {
		a := r.accounts[k]
		head := a.notImported.head()
		if len(head) > HTMLLimit {
			head = head[:HTMLLimit]
		}
		d.Accounts = append(d.Accounts, htmlAccount{Kind: k, A: a, Lost: a.notImported.len(), Head: head,
			Extra: a.notImported.len() - int64(len(head))})
	}
	d.Notices = r.notices.head()
	if len(d.Notices) > HTMLLimit {
		d.Notices = d.Notices[:HTMLLimit]
	}
	d.MoreNotice = r.notices.len() - int64(len(d.Notices))
	var buf bytes.Buffer
	err := htmlTemplate.Execute(&buf, d)
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("report: rendering HTML: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}
