package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/core/archive"
	"github.com/migrate-chat/migrate/sdk"
)

func TestFetcherDownloadsRetriesAndReports(t *testing.T) {
	var flaky atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/ok.png"):
			w.Header().Set("Content-Type", "image/png")
			fmt.Fprint(w, "PNGDATA")
		case strings.HasSuffix(r.URL.Path, "/flaky.txt"):
			if flaky.Add(1) < 3 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, "eventually")
		case strings.HasSuffix(r.URL.Path, "/big.bin"):
			w.Write(make([]byte, 4096))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	dir := filepath.Join(t.TempDir(), "a")
	w, err := archive.Create(dir, archive.WriterOptions{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	f := New(context.Background(), w, Options{Workers: 2, MaxBytes: 1024, Backoff: time.Millisecond, Avatars: true})
	now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := []sdk.Record{
		&sdk.Workspace{ID: "w", Name: "W", SourceSystem: "gitter"},
		&sdk.User{ID: "u", Role: sdk.RoleMember, AvatarURL: srv.URL + "/ok.png"},
		&sdk.Room{ID: "r", Name: "room"},
		&sdk.Message{ID: "m", Kind: sdk.MessageNormal, Room: "r", Sender: "u", SentAt: now, Body: "files",
			Attachments: []string{"a1", "a2", "a3", "a4"}},
		&sdk.Attachment{ID: "a1", Message: "m", Name: "ok.png", URL: srv.URL + "/files/ok.png"},
		&sdk.Attachment{ID: "a2", Message: "m", Name: "flaky.txt", URL: srv.URL + "/files/flaky.txt"},
		&sdk.Attachment{ID: "a3", Message: "m", Name: "gone.txt", URL: srv.URL + "/files/gone.txt"},
		&sdk.Attachment{ID: "a4", Message: "m", Name: "big.bin", URL: srv.URL + "/files/big.bin"},
	}
	for _, r := range recs {
		if err := f.Emit(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rd, err := archive.Open(dir, archive.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[string]*sdk.Attachment{}
	for a, err := range rd.Attachments() {
		if err != nil {
			t.Fatal(err)
		}
		got[a.ID] = a
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	if a := got["a1"]; a.SHA256 != sum("PNGDATA") || a.ContentType != "image/png" || a.Size != 7 {
		t.Errorf("a1 = %+v", a)
	}
	if a := got["a2"]; a.SHA256 != sum("eventually") {
		t.Errorf("a2 was not retried into success: %+v", a)
	}
	for _, id := range []string{"a3", "a4"} {
		if a := got[id]; a == nil || a.SHA256 != "" || a.URL == "" {
			t.Errorf("%s should keep its link and no content: %+v", id, a)
		}
	}
	for u, err := range rd.Users() {
		if err != nil {
			t.Fatal(err)
		}
		if u.Avatar == nil || u.Avatar.SHA256 != sum("PNGDATA") {
			t.Errorf("avatar not fetched: %+v", u)
		}
	}
	var failed []string
	for _, n := range w.Notices() {
		if n.Code == "download-failed" {
			failed = append(failed, n.Record)
		}
	}
	if strings.Join(failed, ",") != "a3,a4" && strings.Join(failed, ",") != "a4,a3" {
		t.Errorf("download failures reported for %v, want a3 and a4", failed)
	}
	entries, _ := os.ReadDir(os.TempDir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "migrate-fetch-") {
			t.Errorf("left a download behind: %s", e.Name())
		}
	}
}

func TestFetcherStopsOnCancel(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	dir := filepath.Join(t.TempDir(), "a")
	w, err := archive.Create(dir, archive.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	ctx, cancel := context.WithCancel(context.Background())
	f := New(ctx, w, Options{Workers: 1, Backoff: time.Millisecond})
	done := make(chan error, 1)
	go func() {
		for i := range 3 {
			if err := f.Emit(&sdk.Attachment{ID: fmt.Sprint(i), Message: "m", Name: "x", URL: srv.URL + "/x"}); err != nil {
				done <- err
				return
			}
		}
		done <- f.Close()
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling did not stop the downloads")
	}
}
