package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/core/container"
	"github.com/migrate-chat/migrate/core/jobs"
)

// Client calls a migrate server's API.
type Client struct {
	// BaseURL is the server's address, such as http://127.0.0.1:8080.
	BaseURL string
	Token   string
	// HTTP is the client used; nil means one without an overall timeout
	// (uploads and downloads can be large), but with connection timeouts.
	HTTP *http.Client
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: 10 * time.Minute, TLSHandshakeTimeout: 30 * time.Second}}
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, ctype string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var e Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return nil, &APIError{Status: resp.StatusCode, Msg: e.Error}
	}
	return resp, nil
}

// APIError is an error answer of the server.
type APIError struct {
	Status int
	Msg    string
}

func (e *APIError) Error() string { return fmt.Sprintf("the server answered %d: %s", e.Status, e.Msg) }

func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ctype := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	resp, err := c.do(ctx, method, path, body, ctype)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

// Submit sends a conversion: local files are uploaded (a directory as a
// .tar.gz made on the fly), spec.URLs are fetched by the server.
func (c *Client) Submit(ctx context.Context, spec jobs.Spec, passphrase, outputPassphrase []byte, files []string) (*jobs.Job, error) {
	var j jobs.Job
	if len(files) == 0 {
		err := c.doJSON(ctx, http.MethodPost, "/api/v1/jobs", Submission{Spec: spec, Passphrase: string(passphrase), OutputPassphrase: string(outputPassphrase)}, &j)
		return &j, err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writeSubmission(ctx, mw, spec, passphrase, outputPassphrase, files))
	}()
	resp, err := c.do(ctx, http.MethodPost, "/api/v1/jobs", pr, mw.FormDataContentType())
	_ = pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return &j, json.NewDecoder(resp.Body).Decode(&j)
}

func writeSubmission(ctx context.Context, mw *multipart.Writer, spec jobs.Spec, pass, outPass []byte, files []string) error {
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if err := mw.WriteField("spec", string(b)); err != nil {
		return err
	}
	if len(pass) > 0 {
		if err := mw.WriteField("passphrase", string(pass)); err != nil {
			return err
		}
	}
	if len(outPass) > 0 {
		if err := mw.WriteField("output_passphrase", string(outPass)); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := writeFilePart(ctx, mw, f); err != nil {
			return err
		}
	}
	return mw.Close()
}

func writeFilePart(ctx context.Context, mw *multipart.Writer, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		w, err := mw.CreateFormFile("input", filepath.Base(filepath.Clean(path))+".tar.gz")
		if err != nil {
			return err
		}
		zw := gzip.NewWriter(w)
		if err := container.PackTar(ctx, path, zw, time.Time{}); err != nil {
			return fmt.Errorf("packing %s: %w", path, err)
		}
		return zw.Close()
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := mw.CreateFormFile("input", filepath.Base(path))
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}

// Get returns a job.
func (c *Client) Get(ctx context.Context, id string) (*jobs.Job, error) {
	var j jobs.Job
	return &j, c.doJSON(ctx, http.MethodGet, "/api/v1/jobs/"+url.PathEscape(id), nil, &j)
}

// List returns the caller's newest jobs.
func (c *Client) List(ctx context.Context, limit int) ([]*jobs.Job, error) {
	var l JobList
	err := c.doJSON(ctx, http.MethodGet, fmt.Sprintf("/api/v1/jobs?limit=%d", limit), nil, &l)
	return l.Jobs, err
}

// Cancel cancels a job.
func (c *Client) Cancel(ctx context.Context, id string) (*jobs.Job, error) {
	var j jobs.Job
	return &j, c.doJSON(ctx, http.MethodPost, "/api/v1/jobs/"+url.PathEscape(id)+"/cancel", nil, &j)
}

// Purge purges the caller's jobs that ended more than olderThan ago
// ("7", "7d", "36h").
func (c *Client) Purge(ctx context.Context, olderThan string) ([]string, error) {
	var res PurgeResult
	err := c.doJSON(ctx, http.MethodPost, "/api/v1/purge", PurgeRequest{OlderThan: olderThan}, &res)
	return res.Purged, err
}

// Download copies a job's output ("output"), report ("report.json",
// "report.html", "report.txt") or log ("log") to w.
func (c *Client) Download(ctx context.Context, id, what string, w io.Writer) error {
	path := "/api/v1/jobs/" + url.PathEscape(id) + "/"
	switch what {
	case "output", "log":
		path += what
	case "report.json", "report.html", "report.txt":
		path += "report?format=" + strings.TrimPrefix(what, "report.")
	default:
		return fmt.Errorf("download %q: want output, report.json, report.html, report.txt or log", what)
	}
	resp, err := c.do(ctx, http.MethodGet, path, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(w, resp.Body)
	return err
}
