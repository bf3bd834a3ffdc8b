package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/migrate-chat/migrate/core/container"
	"github.com/migrate-chat/migrate/core/jobs"
)

const sampleArchive = "../../testdata/sample-archive"

type env struct {
	q      *jobs.Queue
	srv    *httptest.Server
	tokens map[string]string // owner → token
	dir    string
}

// newEnv runs the API over a real SQLite queue with workers, and makes a
// token for alice and one for bob.
func newEnv(t *testing.T, maxInput int64) *env {
	t.Helper()
	dir := t.TempDir()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	q, err := jobs.Open(context.Background(), jobs.Config{DataDir: filepath.Join(dir, "data"), Workers: 2, MaxInputBytes: maxInput,
		Lease: 1500 * time.Millisecond, Heartbeat: 200 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = q.Close(ctx)
	})
	tf := filepath.Join(dir, "tokens")
	e := &env{q: q, tokens: map[string]string{}, dir: dir}
	for _, owner := range []string{"alice", "bob"} {
		tok, err := AddToken(tf, owner)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[owner] = tok
	}
	tokens, err := LoadTokens(tf)
	if err != nil {
		t.Fatal(err)
	}
	if maxInput == 0 {
		maxInput = jobs.DefaultMaxInputBytes
	}
	e.srv = httptest.NewServer((&Server{Queue: q, Tokens: tokens, MaxInputBytes: maxInput, Version: "test", Log: log}).Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) client(owner string) *Client {
	return &Client{BaseURL: e.srv.URL, Token: e.tokens[owner]}
}

func waitJob(t *testing.T, c *Client, id string) *jobs.Job {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		j, err := c.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State.Final() {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s", id, j.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSubmitUploadDownload(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	alice := e.client("alice")
	// A directory goes up as a .tar.gz made on the fly.
	j, err := alice.Submit(ctx, jobs.Spec{From: "archive", To: "archive"}, nil, nil, []string{sampleArchive})
	if err != nil {
		t.Fatal(err)
	}
	if j.Owner != "alice" || j.Inputs[0].Name != "sample-archive.tar.gz" {
		t.Fatalf("job %+v", j)
	}
	j = waitJob(t, alice, j.ID)
	if j.State != jobs.StateSucceeded {
		t.Fatalf("state %s: %s", j.State, j.Error)
	}
	var out bytes.Buffer
	if err := alice.Download(ctx, j.ID, "output", &out); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "out.tar.gz")
	if err := os.WriteFile(p, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := container.Unwrap(ctx, p, container.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("the download is not a readable archive: %v", err)
	}
	defer u.Close()
	if _, err := os.Stat(filepath.Join(u.Dir, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"report.json", "report.html", "report.txt", "log"} {
		var b bytes.Buffer
		if err := alice.Download(ctx, j.ID, what, &b); err != nil || b.Len() == 0 {
			t.Errorf("%s: %v (%d bytes)", what, err, b.Len())
		}
	}
	var rep map[string]any
	var b bytes.Buffer
	_ = alice.Download(ctx, j.ID, "report.json", &b)
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil || rep["status"] != "succeeded" {
		t.Errorf("report.json: %v %v", err, rep["status"])
	}
	l, err := alice.List(ctx, 10)
	if err != nil || len(l) != 1 || l[0].ID != j.ID {
		t.Fatalf("list: %v %v", l, err)
	}

	// Bob sees none of it.
	bob := e.client("bob")
	var ae *APIError
	if _, err := bob.Get(ctx, j.ID); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("bob's get: %v", err)
	}
	if err := bob.Download(ctx, j.ID, "output", io.Discard); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("bob's download: %v", err)
	}
	if _, err := bob.Cancel(ctx, j.ID); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("bob's cancel: %v", err)
	}
	if l, _ := bob.List(ctx, 10); len(l) != 0 {
		t.Errorf("bob lists %d jobs", len(l))
	}
	if ids, err := bob.Purge(ctx, "0"); err != nil || len(ids) != 0 {
		t.Errorf("bob's purge: %v %v", ids, err)
	}
	// Alice cannot cancel a finished job, and can purge it.
	if _, err := alice.Cancel(ctx, j.ID); !errors.As(err, &ae) || ae.Status != 409 {
		t.Errorf("cancelling a finished job: %v", err)
	}
	if ids, err := alice.Purge(ctx, "0d"); err != nil || len(ids) != 1 {
		t.Errorf("alice's purge: %v %v", ids, err)
	}
	if err := alice.Download(ctx, j.ID, "output", io.Discard); !errors.As(err, &ae) || ae.Status != 410 {
		t.Errorf("download after purge: %v", err)
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, 0)
	for _, tok := range []string{"", "mgt_nope", e.tokens["alice"] + "x"} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/jobs", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("token %q: %d", tok, resp.StatusCode)
		}
	}
	// The page and /info are open: the page asks for the token.
	for _, p := range []string{"/", "/app.js", "/api/v1/info"} {
		resp, err := http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	// The token file holds hashes only.
	b, _ := os.ReadFile(filepath.Join(e.dir, "tokens"))
	if strings.Contains(string(b), e.tokens["alice"]) || strings.Contains(string(b), strings.TrimPrefix(e.tokens["alice"], "mgt_")) {
		t.Error("the token file holds a token in the clear")
	}
	// A token added to the file later works without a restart.
	tok, err := AddToken(filepath.Join(e.dir, "tokens"), "carol")
	if err != nil {
		t.Fatal(err)
	}
	// (mtime granularity: make the change visible)
	future := time.Now().Add(2 * time.Second)
	_ = os.Chtimes(filepath.Join(e.dir, "tokens"), future, future)
	if _, err := (&Client{BaseURL: e.srv.URL, Token: tok}).List(context.Background(), 1); err != nil {
		t.Errorf("a token added while running: %v", err)
	}
}

func TestSubmitErrors(t *testing.T) {
	e := newEnv(t, 2000)
	ctx := context.Background()
	alice := e.client("alice")
	var ae *APIError
	if _, err := alice.Submit(ctx, jobs.Spec{From: "nope", To: "archive", URLs: []string{"http://127.0.0.1:1/x"}}, nil, nil, nil); !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(ae.Msg, "unknown source") {
		t.Errorf("unknown source: %v", err)
	}
	if _, err := alice.Submit(ctx, jobs.Spec{From: "archive", To: "archive", URLs: []string{"file:///etc/passwd"}}, nil, nil, nil); !errors.As(err, &ae) || ae.Status != 400 {
		t.Errorf("file URL: %v", err)
	}
	// Larger than the server takes: 413, and nothing left staged.
	big := filepath.Join(t.TempDir(), "big.json")
	_ = os.WriteFile(big, make([]byte, 5000), 0o600)
	if _, err := alice.Submit(ctx, jobs.Spec{From: "archive", To: "archive"}, nil, nil, []string{big}); !errors.As(err, &ae) || ae.Status != 413 {
		t.Errorf("oversized upload: %v", err)
	}
	staged, _ := os.ReadDir(filepath.Join(e.dir, "data", "staging"))
	if len(staged) != 0 {
		t.Errorf("%d staged uploads left after a refused one", len(staged))
	}
	// Unknown multipart fields are refused rather than ignored.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("spec", `{"from":"archive","to":"archive"}`)
	_ = mw.WriteField("pasphrase", "typo")
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/jobs", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.tokens["alice"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("typo'd field: %d", resp.StatusCode)
	}
}

func TestSignedLinks(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	alice := e.client("alice")
	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	_ = container.PackTar(ctx, sampleArchive, zw, time.Time{})
	_ = zw.Close()
	p := filepath.Join(t.TempDir(), "s.tar.gz")
	_ = os.WriteFile(p, tgz.Bytes(), 0o600)
	j, err := alice.Submit(ctx, jobs.Spec{From: "archive", To: "archive"}, nil, nil, []string{p})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, alice, j.ID)
	var link Link
	if err := alice.doJSON(ctx, "POST", "/api/v1/jobs/"+j.ID+"/link?file=output", nil, &link); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(link.URL, e.tokens["alice"]) {
		t.Fatal("the link carries the token")
	}
	get := func(u string) int {
		resp, err := http.Get(e.srv.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	if code := get(link.URL); code != 200 {
		t.Fatalf("signed link: %d", code)
	}
	for _, bad := range []string{
		strings.Replace(link.URL, "/output?", "/log?", 1),          // another file
		strings.Replace(link.URL, "owner=alice", "owner=bob", 1),   // another owner
		strings.Replace(link.URL, "exp=", "exp=9", 1),              // a later expiry
		strings.Replace(link.URL, "/dl/"+j.ID, "/dl/"+j.ID+"x", 1), // another job
	} {
		if code := get(bad); code != 403 {
			t.Errorf("tampered link %s: %d, want 403", bad, code)
		}
	}
	// Bob cannot get a link to alice's job.
	var l Link
	var ae *APIError
	if err := e.client("bob").doJSON(ctx, "POST", "/api/v1/jobs/"+j.ID+"/link?file=output", nil, &l); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("bob's link: %v", err)
	}
}
