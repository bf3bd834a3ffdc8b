package archive

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// benchMessage fills m with a realistic message: a sentence or two, a
// mention now and then, a reaction now and then.
func benchMessage(m *sdk.Message, i int, at time.Time) {
	*m = sdk.Message{
		ID: "5f3a" + strconv.Itoa(1_000_000_000+i), Kind: sdk.MessageNormal, Room: "r" + strconv.Itoa(i%20),
		Sender: "u" + strconv.Itoa(i%50), SentAt: at,
		Body: "Deploy of build " + strconv.Itoa(i) + " finished; staging looks fine, please check the dashboards before lunch.",
	}
	if i%7 == 0 {
		m.Mentions = []sdk.Mention{{Kind: sdk.MentionUser, User: "u3", Text: "grace"}}
	}
	if i%11 == 0 {
		m.Reactions = []sdk.Reaction{{Emoji: "thumbs_up", Users: []string{"u1", "u2"}}}
	}
}

func benchHeader(tb testing.TB, w *Writer) {
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(w.Emit(&sdk.Workspace{ID: "w", Name: "Bench", SourceSystem: "gitter"}))
	for u := range 50 {
		must(w.Emit(&sdk.User{ID: "u" + strconv.Itoa(u), DisplayName: "User " + strconv.Itoa(u), Role: sdk.RoleMember}))
	}
	for r := range 20 {
		must(w.Emit(&sdk.Room{ID: "r" + strconv.Itoa(r), Name: "room-" + strconv.Itoa(r)}))
	}
}

func BenchmarkWriteMessages(b *testing.B) {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name     string
		validate bool
		shuffled bool
	}{{"validate=off", false, false}, {"validate=on", true, false}, {"validate=off/unsorted", false, true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			w, err := Create(filepath.Join(b.TempDir(), "a"), WriterOptions{Validate: bc.validate})
			if err != nil {
				b.Fatal(err)
			}
			benchHeader(b, w)
			var m sdk.Message
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				at := base.Add(time.Duration(i) * time.Second)
				if bc.shuffled {
					// Reverse blocks of 1000: every block is out of order.
					at = base.Add(time.Duration((i/1000)*1000+(999-i%1000)) * time.Second)
				}
				benchMessage(&m, i, at)
				if err := w.Emit(&m); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := w.Close(); err != nil {
				b.Fatal(err)
			}
			reportRates(b, int64(b.N), cpu0)
		})
	}
}

// benchArchive writes an archive of n messages once per benchmark.
func benchArchive(b *testing.B, n int) string {
	dir := filepath.Join(b.TempDir(), "a")
	w, err := Create(dir, WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	benchHeader(b, w)
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		m := new(sdk.Message)
		benchMessage(m, i, base.Add(time.Duration(i)*time.Second))
		if i%10 == 5 {
			m.ThreadRoot = "5f3a" + strconv.Itoa(1_000_000_000+i-5)
		}
		if err := w.Emit(m); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

const benchN = 100_000

func BenchmarkReadMessages(b *testing.B) {
	r, err := Open(benchArchive(b, benchN), ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		n := 0
		for _, err := range r.Messages() {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchN {
			b.Fatalf("read %d messages", n)
		}
	}
	reportRates(b, int64(benchN*b.N), cpu0)
}

func BenchmarkVerify(b *testing.B) {
	r, err := Open(benchArchive(b, benchN), ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		if errs := r.VerifyAll(context.Background()); len(errs) > 0 {
			b.Fatal(fmt.Sprint(errs))
		}
	}
	reportRates(b, int64(benchN*b.N), cpu0)
}

// reportRates reports messages per second of wall time, and CPU time per
// message (all goroutines, GC included) since cpu0.
func reportRates(b *testing.B, msgs int64, cpu0 time.Duration) {
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(msgs), "cpu-µs/msg")
	}
}
