package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// genDataset is a large workspace whose messages and attachments are made
// on the fly, so that memory measured in the benchmark is the engine's.
type genDataset struct {
	ws            *sdk.Workspace
	users         []*sdk.User
	roomRecs      []*sdk.Room
	messages      int
	fileEvery     int
	start         time.Time
	step          time.Duration
	domainForUser string
}

func newGen(system, id string, users, rooms, messages int, domain string, step time.Duration) *genDataset {
	g := &genDataset{ws: &sdk.Workspace{ID: id, Name: id, SourceSystem: system}, messages: messages,
		fileEvery: 100, start: t0, step: step, domainForUser: domain}
	for i := range users {
		g.users = append(g.users, &sdk.User{ID: fmt.Sprint(i + 1), Username: fmt.Sprintf("user%d@%s", i, domain),
			Email: fmt.Sprintf("user%d@%s", i, domain), MentionName: fmt.Sprintf("user%d", i), Role: sdk.RoleMember})
	}
	g.users[0].Role = sdk.RoleAdmin
	for i := range rooms {
		g.roomRecs = append(g.roomRecs, &sdk.Room{ID: fmt.Sprint(i + 1), Name: fmt.Sprintf("room %d", i), Owner: "1"})
	}
	return g
}

func (g *genDataset) Workspace() *sdk.Workspace { return g.ws }
func (g *genDataset) Counts() map[sdk.Kind]int64 {
	return map[sdk.Kind]int64{sdk.KindWorkspace: 1, sdk.KindUser: int64(len(g.users)), sdk.KindRoom: int64(len(g.roomRecs)),
		sdk.KindMessage: int64(g.messages), sdk.KindAttachment: int64(g.messages / g.fileEvery)}
}
func (g *genDataset) Users() iter.Seq2[*sdk.User, error] { return records(g.users) }
func (g *genDataset) Rooms() iter.Seq2[*sdk.Room, error] { return records(g.roomRecs) }
func (g *genDataset) Conversations() iter.Seq2[*sdk.Conversation, error] {
	return records[*sdk.Conversation](nil)
}
func (g *genDataset) Emoji() iter.Seq2[*sdk.Emoji, error] { return records[*sdk.Emoji](nil) }

func (g *genDataset) message(i int) *sdk.Message {
	m := &sdk.Message{ID: fmt.Sprint("m", i), Kind: sdk.MessageNormal,
		Room:   g.roomRecs[i%len(g.roomRecs)].ID,
		Sender: g.users[(i*7919)%len(g.users)].ID,
		SentAt: g.start.Add(time.Duration(i) * g.step),
		Body:   "a message of ordinary length, about as long as most chat lines are, from " + g.ws.ID,
	}
	if i%g.fileEvery == 0 {
		m.Attachments = []string{fmt.Sprint("f", i)}
	}
	return m
}

func (g *genDataset) Messages() iter.Seq2[*sdk.Message, error] {
	return func(yield func(*sdk.Message, error) bool) {
		for i := range g.messages {
			if !yield(g.message(i), nil) {
				return
			}
		}
	}
}

func (g *genDataset) Attachments() iter.Seq2[*sdk.Attachment, error] {
	return func(yield func(*sdk.Attachment, error) bool) {
		for i := 0; i < g.messages; i += g.fileEvery {
			m := g.message(i)
			if !yield(&sdk.Attachment{ID: m.Attachments[0], Message: m.ID, Name: "f.txt", Uploader: m.Sender}, nil) {
				return
			}
		}
	}
}

func (g *genDataset) OpenBlob(string) (io.ReadCloser, error) { return nil, os.ErrNotExist }

// BenchmarkMerge merges 1,000,000 generated messages from 5,000 users
// (half of whom the target knows) into a workspace of 10,000 users and
// 100,000 messages, and iterates the merged messages once, as a target
// would. It reports the cost per incoming message (planning pass and
// output pass together) and the peak heap seen while iterating.
func BenchmarkMerge(b *testing.B) {
	const incoming = 1_000_000
	for b.Loop() {
		existing := newGen("pixtoome", "target", 10_000, 100, 100_000, "example.com", 7*time.Second)
		in := newGen("hipchat-server", "old", 5_000, 100, incoming, "example.com", time.Second)
		for i, u := range in.users {
			if i%2 == 1 { // half of them are new to the target
				u.Username = fmt.Sprintf("new%d@old.example", i)
				u.Email, u.MentionName = u.Username, fmt.Sprintf("new%d", i)
			}
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		peak := base
		sample := func() {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		start, cpu0 := time.Now(), cpuTime()
		d, rep, err := Merge(context.Background(), Request{Incoming: []sdk.Dataset{in}, Existing: existing})
		if err != nil {
			b.Fatal(err)
		}
		sample()
		n := 0
		for m, err := range d.Messages() {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n%100_000 == 0 {
				sample()
			}
			_ = m
		}
		elapsed, cpu := time.Since(start), cpuTime()-cpu0
		if err := errors.Join(rep.Check(), rep.Close()); err != nil {
			b.Fatal(err)
		}
		if want := 100_000 + incoming; n != want {
			b.Fatalf("%d messages merged, want %d", n, want)
		}
		// Wall time suffers when other work shares the machine; CPU time
		// (all threads, the collector's included) does not.
		b.ReportMetric(float64(elapsed.Nanoseconds())/incoming, "ns/message")
		b.ReportMetric(float64(cpu.Nanoseconds())/incoming, "cpu-ns/message")
		b.ReportMetric(float64(peak-base)/(1<<20), "peak-heap-MB")
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
