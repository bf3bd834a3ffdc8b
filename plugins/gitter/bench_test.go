package gitter

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
)

// writeRESTDump writes a realistic REST dump of n messages: full user
// objects, html, mentions, a thread every 50 messages, code, links and
// line breaks in some texts.
func writeRESTDump(tb testing.TB, path string, n int) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	texts := []string{
		"Has anyone tried the new release? It seems to break the build on Windows",
		"@kapilt I think so, see #123 and https://example.com/docs/page_one.",
		"Try this:\n```js\nconst a = require('a')\n```\nthen restart",
		"thanks, that worked!",
		"Line one\nline two\nline three with `code` and **bold**",
	}
	w.WriteString("[\n")
	for i := range n {
		if i > 0 {
			w.WriteString(",\n")
		}
		text := texts[i%len(texts)]
		parent := ""
		if i%50 == 7 {
			parent = fmt.Sprintf(`"parentId":"5f%022x",`, i-1)
		}
		fmt.Fprintf(w, `{"id":"5f%022x","text":%q,"html":%q,"sent":"2020-03-23T13:18:08.800Z",%s"fromUser":{"id":"5e2f7e72d73408ce4fd7%04x","username":"user%d","displayName":"User Number %d","url":"/user%d","avatarUrl":"https://avatars-01.gitter.im/gh/uv/4/user%d","avatarUrlSmall":"https://avatars1.githubusercontent.com/u/32506591?v=4&s=60","avatarUrlMedium":"https://avatars1.githubusercontent.com/u/32506591?v=4&s=128","v":6,"gv":"4"},"unread":false,"readBy":3,"urls":[],"mentions":[{"screenName":"kapilt","userId":"57124a46187bb6f0eadfbe3c","userIds":[]}],"issues":[],"meta":[],"v":1}`,
			i, text, "<p>"+text+"</p>", parent, i%500, i%500, i%500, i%500, i%500)
	}
	w.WriteString("\n]\n")
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return st.Size()
}

// BenchmarkReadREST reads a 100k-message REST dump into a sink that only
// counts, so it measures the adapter alone (the host's validation and
// storage are not included).
func BenchmarkReadREST(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	size := writeRESTDump(b, filepath.Join(dir, "room.json"), n)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		var s countSink
		req := &sdk.ReadRequest{Inputs: []sdk.Input{{Name: "room.json", FS: os.DirFS(dir), Entry: "room.json"}}}
		if err := (&Source{}).Read(context.Background(), req, &s); err != nil {
			b.Fatal(err)
		}
		if s.messages != n {
			b.Fatalf("%d messages", s.messages)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	// On a busy machine wall time says little; CPU time is what the
	// adapter costs (GC work on other cores included).
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "msgs/cpu-s")
	}
}
