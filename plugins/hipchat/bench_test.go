package hipchat

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// countSink counts what a source emits and throws it away, so that the
// benchmark measures reading, not the test harness's schema checks.
type countSink struct{ messages, other int }

func (s *countSink) Emit(rec sdk.Record) error {
	if rec.RecordKind() == sdk.KindMessage {
		s.messages++
	} else {
		s.other++
	}
	return nil
}
func (s *countSink) PutBlob(r io.Reader, ct string) (sdk.BlobRef, error) {
	n, err := io.Copy(io.Discard, r)
	return sdk.BlobRef{SHA256: "0000000000000000000000000000000000000000000000000000000000000000", Size: n}, err
}
func (s *countSink) Notice(sdk.Notice)        {}
func (s *countSink) Progress(done, all int64) {}

// writeBigHistory writes an export whose one room has n messages, newest
// first, with the mix of records a busy room has.
func writeBigHistory(tb testing.TB, dir string, n int) {
	tb.Helper()
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "rooms", "10"), 0o755))
	var users []byte
	users = append(users, '[')
	for i := 1; i <= 50; i++ {
		if i > 1 {
			users = append(users, ',')
		}
		users = fmt.Appendf(users, `{"User": {"id": %d, "name": "User %d", "mention_name": "U%d", "email": "u%d@example.com"}}`, i, i, i, i)
	}
	users = append(users, ']')
	must(os.WriteFile(filepath.Join(dir, "users.json"), users, 0o644))
	must(os.WriteFile(filepath.Join(dir, "rooms.json"), []byte(`[{"Room": {"id": 10, "name": "Big", "privacy": "public"}}]`), 0o644))
	must(os.WriteFile(filepath.Join(dir, "emoticons.json"), []byte(`[]`), 0o644))
	f, err := os.Create(filepath.Join(dir, "rooms", "10", "history.json"))
	must(err)
	w := bufio.NewWriter(f)
	w.WriteString("[\n")
	start := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := n - 1; i >= 0; i-- {
		ts := formatTime(start.Add(time.Duration(i) * 1500 * time.Millisecond))
		u := i%50 + 1
		switch i % 10 {
		case 0:
			fmt.Fprintf(w, `{"NotificationMessage": {"id": "n%d", "sender": "JIRA", "message": "<b>ABC-%d</b> moved to <a href=\"https://jira.example.com/browse/ABC-%d\">Done</a>", "message_format": "html", "color": "green", "timestamp": %q, "attachment": null}}`, i, i, i, ts)
		case 1:
			fmt.Fprintf(w, `{"UserMessage": {"id": "m%d", "sender": {"id": %d, "mention_name": "U%d", "name": "User %d"}, "message": "/code for i := range %d { fmt.Println(i) }", "mentions": [], "timestamp": %q, "attachment": null, "attachment_path": null}}`, i, u, u, u, i, ts)
		default:
			fmt.Fprintf(w, `{"UserMessage": {"id": "m%d", "sender": {"id": %d, "mention_name": "U%d", "name": "User %d"}, "message": "message %d for @U%d (thumbsup) with some more words to make it a typical chat line", "mentions": [%d], "timestamp": %q, "attachment": null, "attachment_path": null}}`, i, u, u, u, i, (u%50)+1, (u%50)+1, ts)
		}
		if i > 0 {
			w.WriteString(",\n")
		}
	}
	w.WriteString("\n]\n")
	must(w.Flush())
	must(f.Close())
}

// BenchmarkReadRoomHistory reads a room history of 100,000 messages.
func BenchmarkReadRoomHistory(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	writeBigHistory(b, dir, n)
	st, _ := os.Stat(filepath.Join(dir, "rooms", "10", "history.json"))
	b.SetBytes(st.Size())
	req := &sdk.ReadRequest{Inputs: []sdk.Input{{Name: "big", FS: os.DirFS(dir)}}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b.ResetTimer()
	for b.Loop() {
		sink := &countSink{}
		if err := (&Server{}).Read(context.Background(), req, sink); err != nil {
			b.Fatal(err)
		}
		if sink.messages != n {
			b.Fatalf("%d messages read, want %d", sink.messages, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// heapSink samples the live heap while a source emits.
type heapSink struct {
	countSink
	peak uint64
}

func (s *heapSink) Emit(rec sdk.Record) error {
	if s.messages%5000 == 0 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.peak = max(s.peak, ms.HeapAlloc)
	}
	return s.countSink.Emit(rec)
}

// TestReadMemoryIsFlat: reading five times the messages does not need
// more memory.
func TestReadMemoryIsFlat(t *testing.T) {
	peak := func(n int) uint64 {
		dir := t.TempDir()
		writeBigHistory(t, dir, n)
		req := &sdk.ReadRequest{Inputs: []sdk.Input{{Name: "big", FS: os.DirFS(dir)}}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		sink := &heapSink{}
		if err := (&Server{}).Read(context.Background(), req, sink); err != nil {
			t.Fatal(err)
		}
		if sink.messages != n {
			t.Fatalf("%d messages, want %d", sink.messages, n)
		}
		return sink.peak
	}
	small, big := peak(10_000), peak(50_000)
	t.Logf("peak heap: %d KiB for 10k messages, %d KiB for 50k", small>>10, big>>10)
	if big > small+8<<20 {
		t.Errorf("peak heap grew from %d KiB to %d KiB with five times the messages", small>>10, big>>10)
	}
}
