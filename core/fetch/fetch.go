// Package fetch downloads the files an export only links to (attachments on
// files.gitter.im, avatars on a CDN) so that they live on in the target.
// Adapters never touch the network; the host wraps the source's Sink with a
// Fetcher, which downloads in parallel, bounded in size, retried, and with
// progress, and hands each record on with its blob filled in.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// Options bound what a Fetcher does.
type Options struct {
	// Client does the requests; nil means a client with sane timeouts.
	Client *http.Client
	// Workers is how many downloads run at once (default 4).
	Workers int
	// MaxBytes bounds one file (default 1 GiB); larger files are reported
	// and left as links.
	MaxBytes int64
	// Retries is how many times a failed download is tried again on
	// network errors and 5xx/429 answers (default 3), with backoff.
	Retries int
	// Backoff is the first wait between tries (default 1 s), doubled each
	// time.
	Backoff time.Duration
	// TempDir holds downloads in flight.
	TempDir string
	// Avatars also downloads users' avatar URLs.
	Avatars bool
	// OnProgress reports finished downloads.
	OnProgress func(done, total int64)
}

// Fetcher is an sdk.Sink that downloads linked files before passing
// records on to the next Sink. Its methods are called from one goroutine,
// as a Sink's are; downloads run on its own workers.
type Fetcher struct {
	next sdk.Sink
	opt  Options
	ctx  context.Context

	jobs    chan job
	results chan result
	wg      sync.WaitGroup
	pending int
	done    int64
	total   int64
	err     error
}

type job struct {
	rec sdk.Record
	url string
}

type result struct {
	job
	file        string
	size        int64
	contentType string
	err         error
}

// New starts a Fetcher in front of next. Call Close when the source is
// done, before closing next.
func New(ctx context.Context, next sdk.Sink, opt Options) *Fetcher {
	if opt.Workers <= 0 {
		opt.Workers = 4
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 1 << 30
	}
	if opt.Retries < 0 {
		opt.Retries = 0
	} else if opt.Retries == 0 {
		opt.Retries = 3
	}
	if opt.Backoff <= 0 {
		opt.Backoff = time.Second
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: 10 * time.Minute}
	}
	f := &Fetcher{next: next, opt: opt, ctx: ctx, jobs: make(chan job), results: make(chan result, opt.Workers)}
	for range opt.Workers {
		f.wg.Add(1)
		go f.worker()
	}
	return f
}

func (f *Fetcher) worker() {
	defer f.wg.Done()
	for j := range f.jobs {
		file, size, ct, err := f.download(j.url)
		f.results <- result{job: j, file: file, size: size, contentType: ct, err: err}
	}
}

// Emit implements sdk.Sink: attachments with a URL and no content, and
// (with Options.Avatars) users with an avatar URL and no avatar, are held
// back until their file is downloaded.
func (f *Fetcher) Emit(rec sdk.Record) error {
	if f.err != nil {
		return f.err
	}
	var u string
	switch r := rec.(type) {
	case *sdk.Attachment:
		if r.SHA256 == "" && fetchable(r.URL) {
			u = r.URL
		}
	case *sdk.User:
		if f.opt.Avatars && r.Avatar == nil && fetchable(r.AvatarURL) {
			u = r.AvatarURL
		}
	}
	if u == "" {
		return f.next.Emit(rec)
	}
	f.total++
	for {
		select {
		case f.jobs <- job{rec: rec, url: u}:
			f.pending++
			return f.err
		case res := <-f.results:
			f.finish(res)
			if f.err != nil {
				return f.err
			}
		case <-f.ctx.Done():
			return f.ctx.Err()
		}
	}
}

func fetchable(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}

// finish hands a downloaded record on. A failed download is not fatal: the
// record keeps its link and the report says the file could not be fetched.
func (f *Fetcher) finish(res result) {
	f.pending--
	f.done++
	if f.opt.OnProgress != nil {
		f.opt.OnProgress(f.done, f.total)
	}
	if res.file != "" {
		defer os.Remove(res.file)
	}
	kind, id := res.rec.RecordKind(), res.rec.RecordID()
	if res.err == nil {
		fh, err := os.Open(res.file)
		if err != nil {
			res.err = err
		} else {
			ref, err := f.next.PutBlob(fh, res.contentType)
			fh.Close()
			if err != nil {
				f.err = err
				return
			}
			switch r := res.rec.(type) {
			case *sdk.Attachment:
				r.SHA256, r.Size = ref.SHA256, ref.Size
				if r.ContentType == "" {
					r.ContentType = res.contentType
				}
			case *sdk.User:
				r.Avatar = &ref
			}
		}
	}
	if res.err != nil {
		what := "attachment"
		if kind == sdk.KindUser {
			what = "avatar"
		}
		f.next.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "download-failed", Kind: kind, Record: id,
			Message: fmt.Sprintf("Couldn't download the %s %s: %v. The link is kept instead.", what, res.url, res.err)})
	}
	if err := f.next.Emit(res.rec); err != nil && f.err == nil {
		f.err = err
	}
}

// PutBlob implements sdk.Sink.
func (f *Fetcher) PutBlob(r io.Reader, contentType string) (sdk.BlobRef, error) {
	return f.next.PutBlob(r, contentType)
}

// Notice implements sdk.Sink.
func (f *Fetcher) Notice(n sdk.Notice) { f.next.Notice(n) }

// Progress implements sdk.Sink.
func (f *Fetcher) Progress(done, total int64) { f.next.Progress(done, total) }

// Close waits for the downloads in flight and hands their records on.
func (f *Fetcher) Close() error {
	close(f.jobs)
	go func() { f.wg.Wait(); close(f.results) }()
	for res := range f.results {
		if f.err == nil {
			f.finish(res)
		} else if res.file != "" {
			os.Remove(res.file)
		}
	}
	return f.err
}

// errTooLarge is not retried.
var errTooLarge = errors.New("too large")

func (f *Fetcher) download(u string) (file string, size int64, contentType string, err error) {
	wait := f.opt.Backoff
	for attempt := 0; ; attempt++ {
		file, size, contentType, err = f.tryDownload(u)
		if err == nil || attempt >= f.opt.Retries || !retryable(err) {
			return file, size, contentType, err
		}
		select {
		case <-time.After(wait):
		case <-f.ctx.Done():
			return "", 0, "", f.ctx.Err()
		}
		wait *= 2
	}
}

type statusError struct{ code int }

func (e statusError) Error() string {
	return fmt.Sprintf("the server answered %d %s", e.code, http.StatusText(e.code))
}

func retryable(err error) bool {
	var se statusError
	if errors.As(err, &se) {
		return se.code >= 500 || se.code == http.StatusTooManyRequests
	}
	return !errors.Is(err, errTooLarge) && !errors.Is(err, context.Canceled)
}

func (f *Fetcher) tryDownload(u string) (string, int64, string, error) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, "", err
	}
	resp, err := f.opt.Client.Do(req)
	if err != nil {
		return "", 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, "", statusError{resp.StatusCode}
	}
	if resp.ContentLength > f.opt.MaxBytes {
		return "", 0, "", fmt.Errorf("%w: %d bytes, the limit is %d", errTooLarge, resp.ContentLength, f.opt.MaxBytes)
	}
	tmp, err := os.CreateTemp(f.opt.TempDir, "migrate-fetch-")
	if err != nil {
		return "", 0, "", err
	}
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, f.opt.MaxBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > f.opt.MaxBytes {
		err = fmt.Errorf("%w: more than %d bytes", errTooLarge, f.opt.MaxBytes)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", 0, "", err
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		ct = mt
	} else {
		ct = mime.TypeByExtension(strings.ToLower(path.Ext(req.URL.Path)))
	}
	return tmp.Name(), n, ct, nil
}
