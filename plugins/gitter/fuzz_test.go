package gitter

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/migrate-chat/migrate/sdk"
)

// readBytes runs the source over one in-memory file. It must never
// panic; errors must name the file.
func readBytes(t *testing.T, name string, data []byte) *countSink {
	var s countSink
	fsys := fstest.MapFS{name: {Data: data}}
	req := &sdk.ReadRequest{Inputs: []sdk.Input{{Name: name, FS: fsys, Entry: name}}}
	if err := (&Source{}).Read(context.Background(), req, &s); err != nil {
		if !strings.Contains(err.Error(), name) && !strings.Contains(err.Error(), "no Gitter export") {
			t.Fatalf("error does not name the file: %v", err)
		}
		return nil
	}
	return &s
}

func seed(f *testing.F, files ...string) {
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzREST(f *testing.F) {
	seed(f, "testdata/rest/org/room.json", "testdata/bad/mixed.json", "testdata/items/page.json",
		"testdata/fixtures/zulip__zulip-issue-9374/archive-gitter-record.json")
	f.Add([]byte(`[{"id":"5f0000000000000000000001","text":"\ud83d\ude00 \u00e9","sent":"2020-01-01T00:00:00.000Z","fromUser":"x"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := readBytes(t, "room.json", data)
		// When encoding/json reads the input as an array of objects, every
		// element is either emitted or reported as skipped.
		var arr []map[string]json.RawMessage
		if s != nil && json.Unmarshal(data, &arr) == nil && len(arr) > 0 {
			if s.messages+s.skipped != len(arr) {
				t.Fatalf("%d elements, %d emitted + %d skipped", len(arr), s.messages, s.skipped)
			}
		}
	})
}

func FuzzNDJSON(f *testing.F) {
	seed(f, "testdata/ndjson/scala-build/messages.ndjson", "testdata/bad/mixed.ndjson", "testdata/ndjson/scala-build/users.ndjson")
	f.Fuzz(func(t *testing.T, data []byte) {
		readBytes(t, "messages.ndjson", data)
	})
}

func FuzzMatrix(f *testing.F) {
	seed(f, "testdata/matrix/scala-export.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		readBytes(t, "export.json", data)
	})
}

func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"a\nb", "#T\n$$\nx\n$$", "```\nx```", "@a_b see #1 o/r#2 https://x.y/(z).", "<b>|a|\n|-|", "1) x\n2) y\\", "[![i](https://files.gitter.im/a/b/c/thumb/i.png)](https://files.gitter.im/a/b/c/i.png)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tr := &translator{repo: "o/r"}
		out := tr.translate(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("valid input became invalid UTF-8: %q -> %q", s, out)
		}
		// Translation only adds markup: every non-space byte of the input
		// is still there, in order.
		in := strings.ReplaceAll(s, "\r", "")
		j := 0
		for i := 0; i < len(in); i++ {
			c := in[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '$' {
				continue
			}
			k := strings.IndexByte(out[j:], c)
			if k < 0 {
				t.Fatalf("byte %q of the input (offset %d) is missing: %q -> %q", c, i, s, out)
			}
			j += k + 1
		}
		for _, u := range tr.files {
			if !strings.Contains(u, filesHost) {
				t.Fatalf("not a file URL: %q", u)
			}
		}
	})
}

// FuzzJSONReader checks the reader's strings against encoding/json.
func FuzzJSONReader(f *testing.F) {
	for _, s := range []string{`"abc"`, `"\u00e9\ud83d\ude00"`, `"a\"b\\c\/\n"`, `"\ud800"`, `"` + strings.Repeat("x", 700) + `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want string
		wantErr := json.Unmarshal(data, &want) != nil
		j := newJSONReader(bytes.NewReader(data), 16)
		got, err := j.readString(nil)
		if err == nil {
			if _, e := j.peek(); e == nil {
				err = j.errorf("trailing data")
			}
		}
		if wantErr != (err != nil) {
			t.Fatalf("%q: encoding/json error %v, reader error %v", data, wantErr, err)
		}
		if err == nil && string(got) != want {
			t.Fatalf("%q: got %q, want %q", data, got, want)
		}
	})
}
