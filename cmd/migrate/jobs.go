package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/migrate-chat/migrate/core/container"
	"github.com/migrate-chat/migrate/core/jobs"
	"github.com/migrate-chat/migrate/core/service"
)

const tokenEnv = "MIGRATE_TOKEN"

// jobsFlags say where the jobs are: a server, or a data directory.
type jobsFlags struct {
	server, tokenFile, dataDir string
	jsonOut                    bool
	// HipChat's spellings: hipchat export --check / --cancel /
	// --purge-older-than.
	check, cancel, purgeOlder string
}

// jobsClient is what the verbs need, from a server or from a local queue.
type jobsClient interface {
	Submit(ctx context.Context, spec jobs.Spec, pass, outPass []byte, files []string) (*jobs.Job, error)
	Get(ctx context.Context, id string) (*jobs.Job, error)
	List(ctx context.Context, limit int) ([]*jobs.Job, error)
	Cancel(ctx context.Context, id string) (*jobs.Job, error)
	Purge(ctx context.Context, olderThan string) ([]string, error)
	Download(ctx context.Context, id, what string, w io.Writer) error
}

func (a *app) jobsCommand() *cobra.Command {
	f := &jobsFlags{}
	cmd := &cobra.Command{
		Use:   "jobs submit|check|cancel|list|purge|download",
		Short: "Submit conversions to a migrate server and follow them",
		Long: `jobs talks to a 'migrate serve' (--server URL --token-file F) or, with
--data-dir, works on a data directory directly, running a submitted job in this
process unless --detach is given.

The verbs follow HipChat's CLI: 'migrate jobs --check [ID]' is 'jobs check',
'--cancel ID' is 'jobs cancel', '--purge-older-than 7' is 'jobs purge
--older-than 7d', and 'jobs submit --notify' mails the report at the end.

Exit codes of check --wait and submit --wait: 0 succeeded, 1 succeeded with
warnings, 2 failed or cancelled.`,
		Example: `  migrate jobs --server https://migrate.example.com --token-file tok submit --from hipchat-server --to pixtoome \
      --url https://files.example.com/export.tar.gz.aes --passphrase-file pw --notify admin@example.com
  migrate jobs --server https://migrate.example.com --token-file tok --check j20250101-abcd
  migrate jobs --data-dir /var/lib/migrate submit --from archive --to archive testdata/sample-archive
  migrate jobs --data-dir /var/lib/migrate --purge-older-than 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case cmd.Flags().Changed("check"):
				var args []string
				if f.check != "" && f.check != "latest" {
					args = []string{f.check}
				}
				return a.jobsCheck(cmd.Context(), f, args, false)
			case f.cancel != "":
				return a.jobsCancel(cmd.Context(), f, f.cancel)
			case f.purgeOlder != "":
				return a.jobsPurge(cmd.Context(), f, f.purgeOlder)
			}
			return cmd.Help()
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", "", "the migrate server's address, such as https://migrate.example.com")
	pf.StringVar(&f.tokenFile, "token-file", "", "file holding the API token (also: $"+tokenEnv+")")
	pf.StringVar(&f.dataDir, "data-dir", "", "work on this data directory instead of a server")
	pf.BoolVar(&f.jsonOut, "json", false, "print jobs as JSON")
	fl := cmd.Flags()
	fl.StringVarP(&f.check, "check", "c", "", "show a job's status (the latest job when no ID is given)")
	fl.Lookup("check").NoOptDefVal = "latest"
	fl.StringVar(&f.cancel, "cancel", "", "cancel a job")
	fl.StringVar(&f.purgeOlder, "purge-older-than", "", "purge jobs that ended more than this many days ago (7, 7d, 36h)")

	cmd.AddCommand(a.jobsSubmitCommand(f), a.jobsCheckCommand(f), a.jobsCancelCommand(f),
		a.jobsListCommand(f), a.jobsPurgeCommand(f), a.jobsDownloadCommand(f))
	return cmd
}

// client connects to the server or opens the data directory. The returned
// function releases it.
func (a *app) jobsClient(ctx context.Context, f *jobsFlags, workers int) (jobsClient, func(), error) {
	switch {
	case f.server != "" && f.dataDir != "":
		return nil, nil, usagef("give --server or --data-dir, not both")
	case f.server != "":
		tok := ""
		if f.tokenFile != "" {
			b, err := os.ReadFile(f.tokenFile)
			if err != nil {
				return nil, nil, usagef("--token-file: %v", err)
			}
			tok = strings.TrimSpace(string(b))
		} else if a.getenv != nil {
			tok = a.getenv(tokenEnv)
		}
		return &service.Client{BaseURL: f.server, Token: tok}, func() {}, nil
	case f.dataDir != "":
		serverKey, database := "", ""
		if a.getenv != nil {
			serverKey, database = a.getenv(jobs.ServerKeyEnv), a.getenv(databaseEnv)
		}
		q, err := jobs.Open(ctx, jobs.Config{DataDir: f.dataDir, Database: database, Workers: workers, ServerKey: serverKey, Log: a.log, Notify: &jobs.Notifier{Log: a.log}})
		if err != nil {
			return nil, nil, err
		}
		if workers > 0 {
			if err := q.Start(ctx); err != nil {
				_ = q.Close(context.Background())
				return nil, nil, err
			}
		}
		lc := &localClient{q: q, owner: localOwner()}
		return lc, func() {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = q.Close(sctx)
		}, nil
	}
	return nil, nil, usagef("say where the jobs are: --server URL (with --token-file) or --data-dir DIR")
}

func localOwner() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "local"
}

// localClient runs the verbs on a data directory.
type localClient struct {
	q     *jobs.Queue
	owner string
}

func (c *localClient) Submit(ctx context.Context, spec jobs.Spec, pass, outPass []byte, files []string) (*jobs.Job, error) {
	var st *jobs.Staging
	if len(files) > 0 {
		var err error
		if st, err = c.q.NewStaging(); err != nil {
			return nil, err
		}
		for _, p := range files {
			if err := stageFile(ctx, st, p); err != nil {
				st.Discard()
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
	}
	return c.q.Submit(ctx, c.owner, spec, &jobs.Secrets{Passphrase: pass, OutputPassphrase: outPass}, st)
}

// stageFile copies an input into the job's staging area; a directory goes
// in as a .tar.gz, as it would be uploaded.
func stageFile(ctx context.Context, st *jobs.Staging, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		pr, pw := io.Pipe()
		go func() {
			zw := gzip.NewWriter(pw)
			err := container.PackTar(ctx, path, zw, time.Time{})
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
			pw.CloseWithError(err)
		}()
		err := st.Add(filepath.Base(filepath.Clean(path))+".tar.gz", pr)
		_ = pr.CloseWithError(io.ErrClosedPipe)
		return err
	}
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	return st.Add(filepath.Base(path), fh)
}

func (c *localClient) Get(ctx context.Context, id string) (*jobs.Job, error) {
	return c.q.Get(ctx, "", id)
}

func (c *localClient) List(ctx context.Context, limit int) ([]*jobs.Job, error) {
	return c.q.List(ctx, "", limit)
}

func (c *localClient) Cancel(ctx context.Context, id string) (*jobs.Job, error) {
	return c.q.Cancel(ctx, "", id)
}

func (c *localClient) Purge(ctx context.Context, olderThan string) ([]string, error) {
	age, err := jobs.ParseAge(olderThan)
	if err != nil {
		return nil, usagef("--older-than: %v", err)
	}
	return c.q.Purge(ctx, "", age)
}

func (c *localClient) Download(ctx context.Context, id, what string, w io.Writer) error {
	var f *jobs.File
	var err error
	switch what {
	case "output":
		f, err = c.q.Output(ctx, "", id)
	case "log":
		f, err = c.q.Log(ctx, "", id)
	case "report.json", "report.html", "report.txt":
		f, err = c.q.Report(ctx, "", id, strings.TrimPrefix(what, "report."))
	default:
		return usagef("download %q: want output, report.json, report.html, report.txt or log", what)
	}
	if err != nil {
		return err
	}
	fh, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer fh.Close()
	_, err = io.Copy(w, fh)
	return err
}

type submitFlags struct {
	from, to, outputName, admin, webhook, kdf string
	urls, notify, generic                     []string
	wait, detach, download                    bool
}

func (a *app) jobsSubmitCommand(f *jobsFlags) *cobra.Command {
	s := &submitFlags{}
	cmd := &cobra.Command{
		Use:   "submit --from SRC --to DST [INPUT...] [--url URL...]",
		Short: "Submit a conversion",
		Long: `submit queues a conversion. Inputs are local files or directories (uploaded;
a directory goes as a .tar.gz) and/or http(s) URLs the server fetches, as
HipChat's 'import -u URL' did. The passphrase comes from --passphrase-file or
$` + passphraseEnv + ` and travels to the server to be sealed with its key until the
run ends.`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.jobsSubmit(cmd, f, s, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&s.from, "from", "", "source system (see 'migrate adapters')")
	fl.StringVar(&s.to, "to", "", "target system")
	fl.StringArrayVarP(&s.urls, "url", "u", nil, "http(s) URL to fetch an input from (repeatable)")
	fl.StringVar(&s.outputName, "output-name", "", "the output file's name (.tar.gz, .tar.zst, .tar.gz.aes)")
	fl.StringVar(&s.admin, "admin", "", "the user who owns rooms whose owner was not imported")
	fl.StringVar(&s.kdf, "output-kdf", "", "key derivation of an encrypted output: md5, sha256 or pbkdf2")
	fl.BoolVar(&s.download, "download-attachments", false, "download files the export only links to")
	fl.StringSliceVar(&s.notify, "notify", nil, "e-mail addresses told when the job ends (comma-separated or repeated)")
	fl.StringVar(&s.webhook, "webhook", "", "http(s) URL that receives the finished job as JSON")
	fl.StringArrayVarP(&s.generic, "option", "O", nil, "adapter option as name=value, for the source or the target (repeatable)")
	fl.BoolVar(&s.wait, "wait", false, "wait for the job to end, showing its progress")
	fl.BoolVar(&s.detach, "detach", false, "with --data-dir: queue the job for a 'migrate serve' on that directory instead of running it here")
	return cmd
}

func (a *app) jobsSubmit(cmd *cobra.Command, f *jobsFlags, s *submitFlags, inputs []string) error {
	ctx := cmd.Context()
	if s.from == "" || s.to == "" {
		return usagef("--from and --to are required (see 'migrate adapters')")
	}
	if len(inputs) == 0 && len(s.urls) == 0 {
		return usagef("no input: name export files or directories, or give --url")
	}
	for _, in := range inputs {
		if _, err := os.Stat(in); err != nil {
			return usagef("input %s: %v", in, errors.Unwrap(err))
		}
	}
	spec := jobs.Spec{From: s.from, To: s.to, URLs: s.urls, OutputName: s.outputName, Admin: s.admin,
		OutputKDF: s.kdf, Download: s.download, Notify: s.notify, Webhook: s.webhook}
	if len(s.generic) > 0 {
		srcOpts, tgtOpts, err := splitOptions(s.from, s.to, s.generic)
		if err != nil {
			return err
		}
		spec.SourceOptions, spec.TargetOptions = srcOpts, tgtOpts
	}
	var pass, outPass []byte
	// The passphrase is sent only when one was given: the server cannot
	// ask for it later, and most inputs need none.
	if a.pass != nil && (a.pass.file != "" || a.pass.flagSet || (a.getenv != nil && a.getenv(passphraseEnv) != "")) {
		p, err := a.pass.Get()
		if err != nil {
			return err
		}
		pass = p
	}
	if a.outPassFile != "" {
		op := &passphraseSource{file: a.outPassFile}
		p, err := op.Get()
		if err != nil {
			return err
		}
		outPass = bytes.Clone(p)
		op.Wipe()
		defer clear(outPass)
	}
	local := f.dataDir != ""
	workers := 0
	if local && !s.detach {
		workers = 1
	}
	c, done, err := a.jobsClient(ctx, f, workers)
	if err != nil {
		return err
	}
	defer done()
	j, err := c.Submit(ctx, spec, pass, outPass, inputs)
	if err != nil {
		return submitError(err)
	}
	if f.jsonOut && !(s.wait || workers > 0) {
		return printJSON(a.stdout, j)
	}
	fmt.Fprintf(a.stderr, "Submitted job %s.\n", j.ID)
	if !f.jsonOut {
		fmt.Fprintln(a.stdout, j.ID)
	}
	if s.wait || workers > 0 {
		return a.follow(ctx, c, f, j.ID)
	}
	return nil
}

func submitError(err error) error {
	var se *jobs.SpecError
	var ae *service.APIError
	if errors.As(err, &se) {
		return usagef("%s", se.Msg)
	}
	if errors.As(err, &ae) && ae.Status == 400 {
		return usagef("%s", ae.Msg)
	}
	return err
}

// splitOptions sorts -O name=value options to the adapter that declares
// them, as the values are typed on a command line.
func splitOptions(from, to string, generic []string) (src, tgt map[string]any, err error) {
	srcM, _ := lookupManifest(from)
	tgtM, _ := lookupManifest(to)
	src, tgt = map[string]any{}, map[string]any{}
	for _, kv := range generic {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, nil, usagef("--option %q: write name=value", kv)
		}
		placed := false
		for _, o := range srcM.Options {
			if o.Name == k && (o.Role == "" || o.Role == "source") {
				src[k], placed = v, true
			}
		}
		for _, o := range tgtM.Options {
			if o.Name == k && (o.Role == "" || o.Role == "target") {
				tgt[k], placed = v, true
			}
		}
		if !placed {
			return nil, nil, usagef("-O %s: neither %s nor %s declares it", k, from, to)
		}
	}
	return src, tgt, nil
}

// follow waits for a job to end, printing its progress, and exits as a
// conversion would.
func (a *app) follow(ctx context.Context, c jobsClient, f *jobsFlags, id string) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := ""
	for {
		j, err := c.Get(ctx, id)
		if err != nil {
			return err
		}
		if line := statusLine(j); line != last && !f.jsonOut {
			fmt.Fprintln(a.stderr, line)
			last = line
		}
		if j.State.Final() {
			if f.jsonOut {
				if err := printJSON(a.stdout, j); err != nil {
					return err
				}
			} else {
				a.printJob(j)
			}
			return jobExit(j)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting; job %s goes on (see 'migrate jobs check %s'): %w", id, id, ctx.Err())
		case <-t.C:
		}
	}
}

func jobExit(j *jobs.Job) error {
	switch j.State {
	case jobs.StateSucceeded:
		return nil
	case jobs.StateWithWarnings:
		return exitError{exitWarnings}
	}
	return exitError{exitFailed}
}

func statusLine(j *jobs.Job) string {
	s := fmt.Sprintf("%s: %s", j.ID, strings.ReplaceAll(string(j.State), "_", " "))
	if j.CancelRequested && !j.State.Final() {
		s += " (cancelling)"
	}
	if p := j.Progress; p != nil && !j.State.Final() {
		s += " — " + p.Step
		if p.Total > 0 {
			s += fmt.Sprintf(": %s of %s", amount(p.Done, p.Unit), amount(p.Total, p.Unit))
		} else if p.Done > 0 {
			s += ": " + amount(p.Done, p.Unit)
		}
	}
	return s
}

func (a *app) printJob(j *jobs.Job) {
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Job\t%s\n", j.ID)
	fmt.Fprintf(w, "State\t%s\n", strings.ReplaceAll(string(j.State), "_", " "))
	fmt.Fprintf(w, "Conversion\t%s → %s\n", j.Spec.From, j.Spec.To)
	for _, in := range j.Inputs {
		src := ""
		if in.URL != "" {
			src = " from " + in.URL
		}
		fmt.Fprintf(w, "Input\t%s (%s)%s\n", in.Name, amount(in.Size, "bytes"), src)
	}
	if p := j.Progress; p != nil && !j.State.Final() {
		fmt.Fprintf(w, "Step\t%s\n", strings.TrimPrefix(statusLine(j), fmt.Sprintf("%s: %s — ", j.ID, strings.ReplaceAll(string(j.State), "_", " "))))
	}
	fmt.Fprintf(w, "Created\t%s\n", j.Created.Local().Format(time.DateTime))
	if j.Finished != nil {
		fmt.Fprintf(w, "Ended\t%s\n", j.Finished.Local().Format(time.DateTime))
	}
	if j.Result != nil {
		if j.Result.Output != "" {
			fmt.Fprintf(w, "Output\t%s (%s)\n", j.Result.Output, amount(j.Result.OutputSize, "bytes"))
		}
		fmt.Fprintf(w, "Notices\t%d warnings, %d errors\n", j.Result.Warnings, j.Result.Errors)
	}
	if j.Error != "" {
		fmt.Fprintf(w, "Error\t%s\n", j.Error)
	}
	if j.Notified != "" {
		fmt.Fprintf(w, "Notified\t%s\n", j.Notified)
	}
	if j.Purged != nil {
		fmt.Fprintf(w, "Purged\t%s\n", j.Purged.Local().Format(time.DateTime))
	}
	_ = w.Flush()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *app) jobsCheckCommand(f *jobsFlags) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "check [ID]",
		Short: "Show a job's status (the latest job without an ID)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.jobsCheck(cmd.Context(), f, args, wait)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the job to end, showing its progress")
	return cmd
}

func (a *app) jobsCheck(ctx context.Context, f *jobsFlags, args []string, wait bool) error {
	c, done, err := a.jobsClient(ctx, f, 0)
	if err != nil {
		return err
	}
	defer done()
	id := ""
	if len(args) == 1 {
		id = args[0]
	} else {
		l, err := c.List(ctx, 1)
		if err != nil {
			return err
		}
		if len(l) == 0 {
			return errors.New("there are no jobs yet")
		}
		id = l[0].ID
	}
	if wait {
		return a.follow(ctx, c, f, id)
	}
	j, err := c.Get(ctx, id)
	if err != nil {
		return err
	}
	if f.jsonOut {
		return printJSON(a.stdout, j)
	}
	a.printJob(j)
	return nil
}

func (a *app) jobsCancelCommand(f *jobsFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a job",
		Args:  cobra.ExactArgs(1),
		RunE:  func(cmd *cobra.Command, args []string) error { return a.jobsCancel(cmd.Context(), f, args[0]) },
	}
}

func (a *app) jobsCancel(ctx context.Context, f *jobsFlags, id string) error {
	c, done, err := a.jobsClient(ctx, f, 0)
	if err != nil {
		return err
	}
	defer done()
	j, err := c.Cancel(ctx, id)
	var ae *service.APIError
	if errors.Is(err, jobs.ErrFinal) || (errors.As(err, &ae) && ae.Status == 409) {
		return fmt.Errorf("job %s has already ended; nothing to cancel", id)
	}
	if err != nil {
		return err
	}
	if f.jsonOut {
		return printJSON(a.stdout, j)
	}
	if j.State == jobs.StateCancelled {
		fmt.Fprintf(a.stdout, "Job %s is cancelled.\n", id)
	} else {
		fmt.Fprintf(a.stdout, "Job %s is being cancelled; its worker stops within seconds ('migrate jobs check %s').\n", id, id)
	}
	return nil
}

func (a *app) jobsListCommand(f *jobsFlags) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, done, err := a.jobsClient(cmd.Context(), f, 0)
			if err != nil {
				return err
			}
			defer done()
			l, err := c.List(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if f.jsonOut {
				return printJSON(a.stdout, l)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "JOB\tCONVERSION\tSTATE\tCREATED")
			for _, j := range l {
				fmt.Fprintf(w, "%s\t%s → %s\t%s\t%s\n", j.ID, j.Spec.From, j.Spec.To, strings.ReplaceAll(string(j.State), "_", " "), j.Created.Local().Format(time.DateTime))
			}
			return w.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "how many jobs to list")
	return cmd
}

func (a *app) jobsPurgeCommand(f *jobsFlags) *cobra.Command {
	var older string
	cmd := &cobra.Command{
		Use:   "purge --older-than AGE",
		Short: "Remove the files of jobs that ended more than AGE ago (7, 7d, 36h)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if older == "" {
				return usagef("--older-than is required, such as --older-than 7d")
			}
			return a.jobsPurge(cmd.Context(), f, older)
		},
	}
	cmd.Flags().StringVar(&older, "older-than", "", "age: days (7 or 7d), weeks (2w) or hours (36h)")
	return cmd
}

func (a *app) jobsPurge(ctx context.Context, f *jobsFlags, older string) error {
	if _, err := jobs.ParseAge(older); err != nil {
		return usagef("%v", err)
	}
	c, done, err := a.jobsClient(ctx, f, 0)
	if err != nil {
		return err
	}
	defer done()
	ids, err := c.Purge(ctx, older)
	if err != nil {
		return err
	}
	if f.jsonOut {
		return printJSON(a.stdout, ids)
	}
	fmt.Fprintf(a.stdout, "Purged %d jobs.\n", len(ids))
	for _, id := range ids {
		fmt.Fprintln(a.stdout, id)
	}
	return nil
}

func (a *app) jobsDownloadCommand(f *jobsFlags) *cobra.Command {
	var what, out string
	cmd := &cobra.Command{
		Use:   "download ID [--what output|report.json|report.html|report.txt|log] [-o FILE]",
		Short: "Download a job's output, report or log",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, done, err := a.jobsClient(ctx, f, 0)
			if err != nil {
				return err
			}
			defer done()
			id := args[0]
			if out == "" {
				out = id + "-" + what
				if what == "output" {
					j, err := c.Get(ctx, id)
					if err != nil {
						return err
					}
					if j.Result == nil || j.Result.Output == "" {
						return fmt.Errorf("job %s has no output (it is %s)", id, j.State)
					}
					out = j.Result.Output
				}
			}
			if out == "-" {
				return c.Download(ctx, id, what, a.stdout)
			}
			af, err := container.NewAtomicFile(out, false)
			if err != nil {
				return err
			}
			if err := c.Download(ctx, id, what, af); err != nil {
				_ = af.Abort()
				return err
			}
			if err := af.Commit(); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "Wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&what, "what", "output", "what to download: output, report.json, report.html, report.txt or log")
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write it; - for standard output (default: the output's name, in this directory)")
	return cmd
}
