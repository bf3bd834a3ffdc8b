package service

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/migrate-chat/migrate/core/container"
)

// chromium returns Debian's Chromium; without it the test is skipped,
// except in CI, where .ci/services.sh installs it.
func chromium(t *testing.T) string {
	p := os.Getenv("MIGRATE_TEST_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Chromium at %s in CI: .ci/run must source .ci/services.sh", p)
		}
		t.Skipf("no Chromium at %s; `source .ci/services.sh` installs it and sets MIGRATE_TEST_CHROMIUM", p)
	}
	return p
}

// TestWebPage drives the page in headless Chromium the way support staff
// use it: enter the token, upload an export, watch it finish, read the
// report, download the result; then submit a URL that is slow to fetch,
// watch its progress move, and cancel it.
func TestWebPage(t *testing.T) {
	exe := chromium(t)
	e := newEnv(t, 0)

	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	if err := container.PackTar(context.Background(), sampleArchive, zw, time.Time{}); err != nil {
		t.Fatal(err)
	}
	_ = zw.Close()
	upload := filepath.Join(t.TempDir(), "sample.tar.gz")
	if err := os.WriteFile(upload, tgz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// A file server that sends a little, then trickles until released.
	var release atomic.Bool
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := tgz.Bytes()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		for i := 0; i < len(body); i += 64 {
			if release.Load() || r.Context().Err() != nil {
				return
			}
			_, _ = w.Write(body[i:min(i+64, len(body))])
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	}))
	defer slow.Close()
	defer release.Store(true)

	downloads := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	text := func(sel string) string {
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}
	waitText := func(sel, want string, within time.Duration) string {
		deadline := time.Now().Add(within)
		for {
			s := text(sel)
			if strings.Contains(s, want) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s shows %q, want %q", sel, s, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	steps := []struct {
		name string
		act  chromedp.Action[chromedp.Void]
	}{
		{"allow downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
			return err
		})},
		{"open the page", chromedp.Navigate(e.srv.URL + "/")},
		{"see the token field", chromedp.WaitVisible(chromedp.ID("token"))},
		{"type the token", chromedp.SendKeys(chromedp.ID("token"), e.tokens["alice"])},
		{"use it", chromedp.Click(chromedp.CSS("#token-form button"))},
		{"see the systems", chromedp.WaitReady(chromedp.CSS(`#from option[value="archive"]`))},
		{"pick the source", chromedp.SetValue(chromedp.ID("from"), "archive")},
		{"pick the target", chromedp.SetValue(chromedp.ID("to"), "archive")},
		{"choose the file", chromedp.SetUploadFiles(chromedp.ID("files"), []string{upload})},
		{"convert", chromedp.Click(chromedp.ID("submit"))},
		{"see the job", chromedp.WaitVisible(chromedp.ID("job"))},
	}
	// The first action starts the browser and ties it to its context: run
	// it on the test's context, not a step's.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatal(err)
	}
	var err error
	for _, st := range steps {
		sctx, scancel := context.WithTimeout(bctx, 30*time.Second)
		err = chromedp.Do(sctx, st.act)
		scancel()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	id := strings.TrimSpace(text("#job-id"))
	if !strings.HasPrefix(id, "j") {
		t.Fatalf("job id %q", id)
	}
	waitText("#job-state", "succeeded", 60*time.Second)
	waitText("#jobs tbody", id, 5*time.Second)

	// The report, shown in the page.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("show-report")), chromedp.WaitVisible(chromedp.ID("report"))); err != nil {
		t.Fatal(err)
	}
	reportText, err := chromedp.Run(bctx, chromedp.Poll[string](`(() => { const d = document.getElementById("report").contentDocument; return d && d.body && d.body.innerText.length > 0 ? d.body.innerText : null; })()`, chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(reportText), "succeeded") {
		t.Errorf("the report shown says:\n%.400s", reportText)
	}

	// The download, streamed by the browser to disk.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("download"))); err != nil {
		t.Fatal(err)
	}
	var got string
	deadline := time.Now().Add(20 * time.Second)
	for got == "" && time.Now().Before(deadline) {
		entries, _ := os.ReadDir(downloads)
		for _, en := range entries {
			if strings.HasSuffix(en.Name(), ".tar.gz") {
				got = filepath.Join(downloads, en.Name())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got == "" {
		t.Fatal("no download arrived")
	}
	u, err := container.Unwrap(ctx, got, container.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("the downloaded file is not a readable archive: %v", err)
	}
	u.Close()

	// A slow URL: the progress moves while we watch, then we cancel.
	err = chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.ID("urls"), slow.URL+"/export.tar.gz"),
		chromedp.Click(chromedp.ID("submit")),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitText("#job-state", "running", 30*time.Second)
	first := waitText("#job-count", "/", 10*time.Second)
	deadline = time.Now().Add(10 * time.Second)
	for text("#job-count") == first {
		if time.Now().After(deadline) {
			t.Fatalf("the progress stayed at %q", first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(text("#job-step"), "fetching") {
		t.Errorf("step %q, want the fetch", text("#job-step"))
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("cancel"))); err != nil {
		t.Fatal(err)
	}
	waitText("#job-state", "cancelled", 60*time.Second)
	disabled, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById("cancel").disabled && document.getElementById("download").disabled`))
	if err != nil {
		t.Fatal(err)
	}
	if !disabled {
		t.Error("cancel and download stay enabled on a cancelled job")
	}
	if os.Getenv("MIGRATE_TEST_SCREENSHOT") != "" {
		png, _ := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		_ = os.WriteFile(os.Getenv("MIGRATE_TEST_SCREENSHOT"), png, 0o644)
	}
}
