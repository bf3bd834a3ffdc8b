package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"time"
)

// fetchClient follows at most five redirects, each to http(s).
var fetchClient = &http.Client{
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("more than 5 redirects")
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirected to a %s: URL; only http and https are fetched", req.URL.Scheme)
		}
		return nil
	},
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		IdleConnTimeout:       90 * time.Second,
	},
}

// fetch downloads an input URL to dst, at most limit bytes and within the
// fetch timeout. The file appears under its name only when complete.
func (q *Queue) fetch(ctx context.Context, rawURL, dst string, limit int64, prog *progressRecorder) (int64, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, q.cfg.FetchTimeout, fmt.Errorf("fetching %s took longer than %s", rawURL, q.cfg.FetchTimeout))
	defer cancel()
	wrap := func(err error) error {
		if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
			err = c
		}
		return fmt.Errorf("fetching the input %s: %w", redactQuery(rawURL), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, wrap(err)
	}
	client := q.cfg.HTTPClient
	if client == nil {
		client = fetchClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, wrap(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, wrap(fmt.Errorf("the server answered %s; check the URL and that the file is still there", resp.Status))
	}
	if resp.ContentLength > limit {
		return 0, wrap(fmt.Errorf("the file is %d bytes, more than this server accepts (%d)", resp.ContentLength, limit))
	}
	prog.Begin("fetching "+filepath.Base(dst), "bytes")
	tmp := dst + ".part"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	n, err := io.Copy(f, &countingReader{r: io.LimitReader(resp.Body, limit+1), total: resp.ContentLength, prog: prog})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, wrap(err)
	}
	if n > limit {
		return 0, wrap(fmt.Errorf("the file is more than %d bytes, the most this server accepts", limit))
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return 0, wrap(fmt.Errorf("the download stopped after %d of %d bytes", n, resp.ContentLength))
	}
	if err := os.Rename(tmp, dst); err != nil {
		return 0, err
	}
	return n, nil
}

type countingReader struct {
	r     io.Reader
	n     int64
	total int64
	prog  *progressRecorder
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	total := c.total
	if total < 0 {
		total = 0
	}
	c.prog.Update(c.n, total)
	return n, err
}

// urlFileName names a fetched input after the URL's last path element,
// which keeps a suffix that tells a reader what the file is.
func urlFileName(raw string, i int) string {
	u, err := url.Parse(raw)
	name := ""
	if err == nil {
		name = path.Base(u.Path)
	}
	if name == "/" || name == "." {
		name = ""
	}
	return safeName(fmt.Sprintf("%d-%s", i+1, name), i)
}

// redactQuery drops a URL's query and user information, where signed
// download links keep their credentials.
func redactQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}
