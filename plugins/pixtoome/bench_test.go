package pixtoome

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// benchDataset is 100,000 messages in 20 rooms of 50 users, with a
// mention in one message of ten and a reaction in one of twenty.
func benchDataset(n int) sdk.Dataset {
	res := &adaptertest.Result{Blobs: map[string][]byte{}}
	res.Workspace = &sdk.Workspace{ID: "bench", Name: "Bench", SourceSystem: "gitter", ExportedAt: ptr(base)}
	for i := range 1000 {
		res.Users = append(res.Users, &sdk.User{ID: fmt.Sprint("u", i), Username: fmt.Sprint("user", i), DisplayName: fmt.Sprint("User ", i), Role: sdk.RoleMember})
	}
	for r := range 20 {
		room := &sdk.Room{ID: fmt.Sprint("r", r), Name: fmt.Sprint("room ", r)}
		for j := range 50 {
			room.Members = append(room.Members, fmt.Sprint("u", r*50+j))
		}
		res.Rooms = append(res.Rooms, room)
	}
	body := strings.Repeat("a typical chat line with some words ", 3)
	for i := range n {
		r := i % 20
		m := &sdk.Message{ID: fmt.Sprint("m", i), Kind: sdk.MessageNormal, Room: fmt.Sprint("r", r),
			Sender: fmt.Sprint("u", r*50+i%50), SentAt: at(i), Body: body}
		if i%10 == 0 {
			m.Body = "@" + fmt.Sprint("user", r*50+(i+1)%50) + " " + body
			m.Mentions = []sdk.Mention{{Kind: sdk.MentionUser, User: fmt.Sprint("u", r*50+(i+1)%50), Text: fmt.Sprint("user", r*50+(i+1)%50)}}
		}
		if i%20 == 0 {
			m.Reactions = []sdk.Reaction{{Emoji: "+1", Users: []string{fmt.Sprint("u", r*50)}}}
		}
		res.Messages = append(res.Messages, m)
	}
	return res.Dataset()
}

// countingOutput discards what is written and counts the bytes, so that
// the benchmark measures the writer rather than the disk.
type countingOutput struct{ n int64 }

type countingFile struct{ o *countingOutput }

func (o *countingOutput) Create(string) (io.WriteCloser, error) { return countingFile{o}, nil }
func (f countingFile) Write(p []byte) (int, error)              { f.o.n += int64(len(p)); return len(p), nil }
func (f countingFile) Close() error                             { return nil }

// BenchmarkWriteMessages measures the target on 100,000 messages in 20
// rooms of 50 users, without the long-term-idle rule (every member gets
// every message: 5 million usermessage rows), writing to a discarding
// output. BenchmarkWriteMessagesDisk writes the same to a directory.
func BenchmarkWriteMessages(b *testing.B) {
	const n = 100_000
	ds := benchDataset(n)
	a := &Adapter{Now: fixedNow}
	var out countingOutput
	opts := sdk.Options{"long-term-idle": false}.WithDefaults(a.Manifest().Options)
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		out.n = 0
		req := &sdk.WriteRequest{Data: ds, Out: &out, Options: opts, Log: slog.New(slog.DiscardHandler)}
		if err := a.Write(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "messages/s")
	b.ReportMetric(float64(out.n)/1e6, "MB/op")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "messages/cpu-s")
	}
}

func BenchmarkWriteMessagesDisk(b *testing.B) {
	const n = 100_000
	ds := benchDataset(n)
	a := &Adapter{Now: fixedNow}
	b.ResetTimer()
	for b.Loop() {
		dir, err := os.MkdirTemp("", "pixtoome-bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := adaptertest.TryRunTarget(context.Background(), a, ds, sdk.Options{"long-term-idle": false}, dir); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "messages/s")
}
