package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/migrate-chat/migrate/core/jobs"
	"github.com/migrate-chat/migrate/core/service"
)

// Environment variables the service reads, so that secrets stay out of
// the process list.
const (
	databaseEnv = "MIGRATE_DATABASE"
	dataDirEnv  = "MIGRATE_DATA_DIR"
)

type serveFlags struct {
	listen, dataDir, database, tokenFile, newToken string
	workers                                        int
	workerOnly, noWorkers                          bool
	smtp, smtpFrom, smtpUser, smtpPassFile         string
	webhookSecretFile, baseURL                     string
	maxInput                                       int64
	fetchTimeout                                   time.Duration
	retention                                      string
	maxAttempts                                    int
	lease, heartbeat                               time.Duration
}

func (a *app) serveCommand() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve --data-dir DIR [--listen ADDR] [--database postgres://…]",
		Short: "Run conversions as jobs: an HTTP API, a web page and workers",
		Long: `serve runs conversions as jobs. It answers an HTTP JSON API (api/openapi.yaml)
and serves a web page at / for submitting conversions (an upload or an http(s)
URL to fetch), watching their progress, cancelling them, reading the report and
downloading the result. Workers in the same process run the jobs.

The queue lives in DIR/queue.sqlite unless --database names a PostgreSQL
server ($` + databaseEnv + ` keeps its password out of the process list); then
any number of 'migrate serve' processes on several machines share it, each
with workers (--worker-only for machines without HTTP, --no-workers for a front
end). Machines that share a queue must share the data directory too, and the
server key ($` + jobs.ServerKeyEnv + ` or DIR/server.key) that seals passphrases.

API tokens: 'migrate serve --token-file F --new-token OWNER' prints a new
token and stores its hash in F. Without --token-file the service only listens
on loopback and every caller is the owner "local".`,
		Example: `  migrate serve --data-dir /var/lib/migrate --token-file /etc/migrate/tokens
  migrate serve --token-file tokens --new-token support
  MIGRATE_DATABASE=postgres://migrate:…@db/migrate migrate serve --data-dir /shared/migrate --worker-only --workers 4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to serve HTTP on")
	fl.StringVar(&f.dataDir, "data-dir", "", "directory of the jobs' files, the server key and the embedded queue (also: $"+dataDirEnv+")")
	fl.StringVar(&f.database, "database", "", "a postgres:// URL of a queue shared by several machines (also: $"+databaseEnv+"); default: DIR/queue.sqlite")
	fl.IntVar(&f.workers, "workers", 1, "conversions this process runs at once")
	fl.BoolVar(&f.workerOnly, "worker-only", false, "run workers without the HTTP API")
	fl.BoolVar(&f.noWorkers, "no-workers", false, "serve the HTTP API without running conversions")
	fl.StringVar(&f.tokenFile, "token-file", "", "file of API token hashes, one 'OWNER SHA256' a line")
	fl.StringVar(&f.newToken, "new-token", "", "make an API token for this owner, add it to --token-file, print it and exit")
	fl.StringVar(&f.smtp, "smtp", "", "mail server host:port for --notify mail")
	fl.StringVar(&f.smtpFrom, "smtp-from", "", "sender address of notification mail")
	fl.StringVar(&f.smtpUser, "smtp-user", "", "user name at the mail server")
	fl.StringVar(&f.smtpPassFile, "smtp-password-file", "", "file holding the mail server password")
	fl.StringVar(&f.webhookSecretFile, "webhook-secret-file", "", "file holding a secret that signs webhook bodies (X-Migrate-Signature)")
	fl.StringVar(&f.baseURL, "base-url", "", "the web page's public address, for links in notification mail")
	fl.Int64Var(&f.maxInput, "max-input-bytes", jobs.DefaultMaxInputBytes, "largest upload or fetch of one job, in bytes")
	fl.DurationVar(&f.fetchTimeout, "fetch-timeout", jobs.DefaultFetchTimeout, "longest fetch of one input URL")
	fl.StringVar(&f.retention, "retention", "30d", "purge jobs' files this long after they end (days, or 36h; 0 keeps them)")
	fl.IntVar(&f.maxAttempts, "max-attempts", jobs.DefaultMaxAttempts, "times a job is started before a worker that keeps dying during it makes it fail")
	fl.DurationVar(&f.lease, "lease", jobs.DefaultLease, "how long a silent worker keeps its job before another takes it")
	fl.DurationVar(&f.heartbeat, "heartbeat", jobs.DefaultHeartbeat, "how often a worker renews its lease and looks for a cancel")
	_ = fl.MarkHidden("lease")
	_ = fl.MarkHidden("heartbeat")
	return cmd
}

func (a *app) serve(ctx context.Context, f *serveFlags) error {
	if f.newToken != "" {
		if f.tokenFile == "" {
			return usagef("--new-token needs --token-file: the file the token's hash is added to")
		}
		tok, err := service.AddToken(f.tokenFile, f.newToken)
		if err != nil {
			return usagef("--new-token: %v", err)
		}
		fmt.Fprintf(a.stdout, "%s\n", tok)
		fmt.Fprintf(a.stderr, "Token for %s added to %s. It is shown only now: keep it in a file and pass it with 'migrate jobs --token-file'.\n", f.newToken, f.tokenFile)
		return nil
	}
	if f.workerOnly && f.noWorkers {
		return usagef("--worker-only and --no-workers together leave nothing to run")
	}
	dataDir := f.dataDir
	if dataDir == "" && a.getenv != nil {
		dataDir = a.getenv(dataDirEnv)
	}
	if dataDir == "" {
		return usagef("--data-dir is required: where jobs' files and the queue live")
	}
	database := f.database
	if database == "" && a.getenv != nil {
		database = a.getenv(databaseEnv)
	}
	retention, err := parseRetention(f.retention)
	if err != nil {
		return err
	}
	var tokens *service.Tokens
	if !f.workerOnly {
		if f.tokenFile != "" {
			if tokens, err = service.LoadTokens(f.tokenFile); err != nil {
				return err
			}
		} else if !loopback(f.listen) {
			return usagef("--listen %s is reachable from other machines: give --token-file (make tokens with --new-token OWNER)", f.listen)
		}
	}
	workers := f.workers
	if f.noWorkers {
		workers = 0
	}
	if workers < 0 {
		return usagef("--workers %d: give 0 or more", workers)
	}
	notifier, err := a.notifier(f)
	if err != nil {
		return err
	}
	serverKey := ""
	if a.getenv != nil {
		serverKey = a.getenv(jobs.ServerKeyEnv)
	}
	q, err := jobs.Open(ctx, jobs.Config{
		DataDir: dataDir, Database: database, Workers: workers,
		MaxAttempts: f.maxAttempts, Lease: f.lease, Heartbeat: f.heartbeat,
		MaxInputBytes: f.maxInput, FetchTimeout: f.fetchTimeout, Retention: retention,
		Notify: notifier, ServerKey: serverKey, Log: a.log,
	})
	if err != nil {
		return err
	}
	if err := q.Start(ctx); err != nil {
		_ = q.Close(context.Background())
		return err
	}
	defer func() {
		// Runs in progress go back to the queue and start again on the
		// next worker; give them a moment to say so.
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := q.Close(sctx); err != nil {
			a.log.Warn().Err(err).Msg("stopping the workers")
		}
	}()
	a.log.Info().Str("data_dir", dataDir).Bool("postgres", database != "").Int("workers", workers).Msg("queue ready")

	if f.workerOnly {
		<-ctx.Done()
		a.log.Info().Msg("stopping")
		return nil
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", f.listen, err)
	}
	srv := &http.Server{
		Handler: (&service.Server{Queue: q, Tokens: tokens, MaxInputBytes: f.maxInput, Version: versionString(), Log: a.log}).Handler(),
		// Uploads and downloads are long; only the headers are bounded.
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	a.log.Info().Str("addr", "http://"+ln.Addr().String()).Bool("auth", tokens != nil).Msg("listening")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info().Msg("stopping")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func (a *app) notifier(f *serveFlags) (*jobs.Notifier, error) {
	n := &jobs.Notifier{SMTPAddr: f.smtp, From: f.smtpFrom, Username: f.smtpUser, BaseURL: f.baseURL, Log: a.log}
	if f.smtp != "" {
		if _, _, err := net.SplitHostPort(f.smtp); err != nil {
			return nil, usagef("--smtp %q: give host:port", f.smtp)
		}
		if f.smtpFrom == "" {
			return nil, usagef("--smtp needs --smtp-from: the sender of notification mail")
		}
	}
	if f.smtpPassFile != "" {
		b, err := os.ReadFile(f.smtpPassFile)
		if err != nil {
			return nil, fmt.Errorf("--smtp-password-file: %w", err)
		}
		n.Password = string(bytes.TrimRight(b, "\r\n"))
	}
	if f.webhookSecretFile != "" {
		b, err := os.ReadFile(f.webhookSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--webhook-secret-file: %w", err)
		}
		n.WebhookSecret = bytes.TrimRight(b, "\r\n")
	}
	return n, nil
}

func parseRetention(s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	d, err := jobs.ParseAge(s)
	if err != nil {
		return 0, usagef("--retention: %v", err)
	}
	return d, nil
}

// loopback reports whether addr only listens on this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
