package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/schema"
	"github.com/migrate-chat/migrate/sdk"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// compileReportSchema compiles schema/json/report.schema.json on its own,
// since the schema package compiles only the record kinds.
func compileReportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := schema.Raw("report")
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	url := schema.BaseURL + "report.schema.json"
	if err := c.AddResource(url, bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	if err := s.Validate(v); err != nil {
		t.Fatalf("report does not match its schema: %v\n%s", err, b)
	}
	return v.(map[string]any)
}

func TestStatusAndExitCode(t *testing.T) {
	tests := []struct {
		name   string
		fill   func(r *Report)
		err    error
		status Status
		code   int
	}{
		{"clean", func(r *Report) { r.Count(sdk.KindUser, 2, 2, 1) }, nil, StatusSucceeded, ExitSucceeded},
		{"warning", func(r *Report) {
			r.Count(sdk.KindUser, 1, 1, 1)
			r.Notify(sdk.Notice{Level: sdk.LevelWarning, Code: "user-mapped", Message: "mapped"})
		}, nil, StatusWithWarnings, ExitWithWarnings},
		{"loss without notice", func(r *Report) {
			r.Count(sdk.KindMessage, 1, 0, 0)
			r.Lose(sdk.KindMessage, "m1", "sender not imported")
		}, nil, StatusWithWarnings, ExitWithWarnings},
		{"account does not close", func(r *Report) { r.Count(sdk.KindMessage, 3, 2, 0) }, nil, StatusFailed, ExitFailed},
		{"merged exceeds written", func(r *Report) { r.Count(sdk.KindRoom, 1, 1, 2) }, nil, StatusFailed, ExitFailed},
		{"run error", func(r *Report) {}, errors.New("target: disk full"), StatusFailed, ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New("gitter", "pixtoome", Options{})
			defer r.Close()
			tt.fill(r)
			r.Finish(tt.err)
			if r.Status != tt.status || r.ExitCode() != tt.code {
				t.Fatalf("status %s, exit %d; want %s, %d (err %q)", r.Status, r.ExitCode(), tt.status, tt.code, r.Err)
			}
			if tt.status == StatusFailed && r.Err == "" {
				t.Fatal("failed report says nothing about why")
			}
		})
	}
}

func TestSourceAndTargetSkips(t *testing.T) {
	r := New("hipchat-server", "pixtoome", Options{})
	defer r.Close()
	r.Count(sdk.KindMessage, 10, 10, 0)
	r.SourceNotice(sdk.Notice{Level: sdk.LevelWarning, Code: "bad-time", Message: "message m11 has no time", Kind: sdk.KindMessage, Record: "m11", Skipped: true})
	r.TargetNotice(sdk.Notice{Level: sdk.LevelError, Code: "too-long", Message: "message m3 is too long", Kind: sdk.KindMessage, Record: "m3", Skipped: true})
	r.SourceNotice(sdk.Notice{Level: sdk.LevelWarning, Code: "odd", Message: "an odd field"})
	a := r.Account(sdk.KindMessage)
	if a.In != 11 || a.Written != 9 || a.NotImportedCount() != 2 || !a.Closes() {
		t.Fatalf("account in=%d written=%d lost=%d", a.In, a.Written, a.NotImportedCount())
	}
	w, e := r.NoticeCount()
	if w != 2 || e != 1 {
		t.Fatalf("warnings %d errors %d", w, e)
	}
	r.Finish(nil)
	if r.Status != StatusWithWarnings {
		t.Fatalf("status %s: %s", r.Status, r.Err)
	}
}

// TestSpillKeepsEveryEntry loses more records than the in-memory limit and
// checks that the JSON report still lists every one, in order, that the
// text summary says how many more there are, and that Close removes the
// temporary file.
func TestSpillKeepsEveryEntry(t *testing.T) {
	dir := t.TempDir()
	r := New("gitter", "pixtoome", Options{Limit: 3, SpillDir: dir})
	const lost = 50
	r.Count(sdk.KindMessage, lost+5, 5, 0)
	for i := range lost {
		r.Lose(sdk.KindMessage, fmt.Sprintf("m%d", i), "the sender, u9, was not imported")
		r.Notify(sdk.Notice{Level: sdk.LevelWarning, Code: "c", Message: fmt.Sprintf("notice %d", i)})
	}
	if got := len(r.Account(sdk.KindMessage).NotImportedHead()); got != 3 {
		t.Fatalf("%d losses held in memory, want 3", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("want one spill file for the losses and one for the notices, got %d", len(ents))
	}
	r.Finish(nil)
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	v := validate(t, compileReportSchema(t), buf.Bytes())
	acc := v["accounts"].(map[string]any)["message"].(map[string]any)
	list := acc["not_imported"].([]any)
	if len(list) != lost || acc["not_imported_count"].(json.Number).String() != fmt.Sprint(lost) {
		t.Fatalf("JSON lists %d losses (count %v), want %d", len(list), acc["not_imported_count"], lost)
	}
	for i, l := range list {
		if id := l.(map[string]any)["id"]; id != fmt.Sprintf("m%d", i) {
			t.Fatalf("loss %d is %v", i, id)
		}
	}
	if n := len(v["notices"].([]any)); n != lost {
		t.Fatalf("JSON lists %d notices, want %d", n, lost)
	}
	var txt bytes.Buffer
	if err := r.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.String(), fmt.Sprintf("… and %d more", lost-TextLimit)) {
		t.Fatalf("text summary does not say how many more:\n%s", txt.String())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("Close left %d files in %s", len(ents), dir)
	}
}

func TestSpillDirUnwritableFailsTheRun(t *testing.T) {
	r := New("gitter", "pixtoome", Options{Limit: 1, SpillDir: filepath.Join(t.TempDir(), "missing")})
	defer r.Close()
	r.Count(sdk.KindUser, 2, 0, 0)
	r.Lose(sdk.KindUser, "u1", "no e-mail")
	r.Lose(sdk.KindUser, "u2", "no e-mail")
	r.Finish(nil)
	if r.Status != StatusFailed || !strings.Contains(r.Err, "spill") {
		t.Fatalf("status %s, error %q", r.Status, r.Err)
	}
}

func TestWriteFormats(t *testing.T) {
	r := New("hipchat-server", "hipchat-server", Options{})
	defer r.Close()
	r.Inputs = []string{"new.tar.gz.aes"}
	r.Into = "existing.tar.gz.aes"
	r.Output = "merged.tar.gz.aes"
	r.Count(sdk.KindUser, 2, 1, 1)
	r.Count(sdk.KindRoom, 1, 0, 0)
	r.Lose(sdk.KindUser, "7", "the user has no e-mail address")
	r.Lose(sdk.KindRoom, "<script>", "Failed to create room <script>: the room has no name")
	r.SetExisting(sdk.KindUser, 40)
	r.Notify(sdk.Notice{Level: sdk.LevelWarning, Code: "user-mapped", Kind: sdk.KindUser, Record: "3",
		Message: "A user you’re importing already exists. The user jane@example.com is now mapped to jane@example.com."})
	r.Notify(sdk.Notice{Level: sdk.LevelError, Code: "file-upload-failed", Kind: sdk.KindAttachment, Record: "a1",
		Message: "Failed to upload file: <b>.png"})
	r.Finish(nil)

	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	v := validate(t, compileReportSchema(t), js.Bytes())
	if v["status"] != "succeeded_with_warnings" || v["into"] != "existing.tar.gz.aes" {
		t.Fatalf("status %v into %v", v["status"], v["into"])
	}
	users := v["accounts"].(map[string]any)["user"].(map[string]any)
	if users["existing"].(json.Number).String() != "40" || users["merged"].(json.Number).String() != "1" {
		t.Fatalf("user account %v", users)
	}

	var txt bytes.Buffer
	if err := r.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Import from hipchat-server to hipchat-server succeeded with warnings",
		"7: the user has no e-mail address", "1 warnings, 1 errors", "The user jane@example.com is now mapped"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text summary lacks %q:\n%s", want, txt.String())
		}
	}

	var h bytes.Buffer
	if err := r.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	hs := h.String()
	for _, want := range []string{"<!DOCTYPE html>", "succeeded with warnings", "&lt;script&gt;", "Failed to upload file: &lt;b&gt;.png",
		"A user you’re importing already exists.", "existing.tar.gz.aes"} {
		if !strings.Contains(hs, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(hs, "<script>") || strings.Contains(hs, "<b>") {
		t.Error("HTML does not escape record text")
	}
	if strings.Contains(hs, "http://") || strings.Contains(hs, "https://") || strings.Contains(hs, "<link") {
		t.Error("HTML refers to outside resources; it must be self-contained")
	}
}

// TestSchemaRejectsBadReports makes sure the schema is not vacuous.
func TestSchemaRejectsBadReports(t *testing.T) {
	s := compileReportSchema(t)
	r := New("a", "b", Options{})
	defer r.Close()
	r.Finish(nil)
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	good := validate(t, s, buf.Bytes())
	breakers := map[string]func(m map[string]any){
		"unknown status":  func(m map[string]any) { m["status"] = "ok" },
		"missing account": func(m map[string]any) { delete(m["accounts"].(map[string]any), "emoji") },
		"negative in":     func(m map[string]any) { m["accounts"].(map[string]any)["user"].(map[string]any)["in"] = -1 },
		"extra field":     func(m map[string]any) { m["colour"] = "red" },
		"notice level": func(m map[string]any) {
			m["notices"] = []any{map[string]any{"level": "info", "code": "x", "message": "y"}}
		},
		"loss without cause": func(m map[string]any) {
			m["accounts"].(map[string]any)["room"].(map[string]any)["not_imported"] = []any{map[string]any{"id": "r"}}
		},
	}
	for name, br := range breakers {
		b, _ := json.Marshal(good)
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		br(m)
		if err := s.Validate(m); err == nil {
			t.Errorf("%s: schema accepts it", name)
		}
	}
}
