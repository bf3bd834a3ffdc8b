package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/core/report"
	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// ws builds a small canonical workspace in memory.
type ws struct{ r *adaptertest.Result }

var t0 = time.Date(2018, 8, 8, 14, 0, 0, 0, time.UTC)

func newWS(system, id string) *ws {
	return &ws{r: &adaptertest.Result{
		Workspace: &sdk.Workspace{ID: id, Name: id, SourceSystem: system},
		Blobs:     map[string][]byte{},
	}}
}

func (w *ws) user(id, username, email, mention string, mods ...func(*sdk.User)) *ws {
	u := &sdk.User{ID: id, Username: username, Email: email, MentionName: mention, DisplayName: strings.ToUpper(id), Role: sdk.RoleMember}
	for _, m := range mods {
		m(u)
	}
	w.r.Users = append(w.r.Users, u)
	return w
}

func (w *ws) room(id, name, owner string, private bool, members ...string) *ws {
	w.r.Rooms = append(w.r.Rooms, &sdk.Room{ID: id, Name: name, Owner: owner, Private: private, Members: members})
	return w
}

func (w *ws) dm(id string, a, b string) *ws {
	w.r.Conversations = append(w.r.Conversations, &sdk.Conversation{ID: id, Participants: []string{a, b}})
	return w
}

// msg adds a room message (or a conversation message when room starts
// with "dm:") sent minute min after t0.
func (w *ws) msg(id, room, sender string, min int, body string, mods ...func(*sdk.Message)) *ws {
	m := &sdk.Message{ID: id, Kind: sdk.MessageNormal, Sender: sender, SentAt: t0.Add(time.Duration(min) * time.Minute), Body: body}
	if c, ok := strings.CutPrefix(room, "dm:"); ok {
		m.Conversation = c
	} else {
		m.Room = room
	}
	for _, f := range mods {
		f(m)
	}
	w.r.Messages = append(w.r.Messages, m)
	return w
}

// file attaches a file to message msg; with content nil the blob is
// missing from the dataset.
func (w *ws) file(id, msg, name string, content []byte) *ws {
	sum := sha256.Sum256([]byte(name + id))
	if content != nil {
		sum = sha256.Sum256(content)
		w.r.Blobs[hex.EncodeToString(sum[:])] = content
	}
	a := &sdk.Attachment{ID: id, Message: msg, Name: name, Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])}
	for _, m := range w.r.Messages {
		if m.ID == msg {
			m.Attachments = append(m.Attachments, id)
			a.Uploader = m.Sender
		}
	}
	w.r.Attachments = append(w.r.Attachments, a)
	return w
}

func (w *ws) ds() sdk.Dataset { return adaptertest.NewDataset(w.r) }

// materialize reads a dataset back into memory, failing on errors.
func materialize(t testing.TB, d sdk.Dataset) *adaptertest.Result {
	t.Helper()
	r := &adaptertest.Result{Workspace: d.Workspace(), Blobs: map[string][]byte{}}
	must := func(err error) {
		if err != nil {
			t.Helper()
			t.Fatal(err)
		}
	}
	for u, err := range d.Users() {
		must(err)
		r.Users = append(r.Users, u)
	}
	for x, err := range d.Rooms() {
		must(err)
		r.Rooms = append(r.Rooms, x)
	}
	for x, err := range d.Conversations() {
		must(err)
		r.Conversations = append(r.Conversations, x)
	}
	for x, err := range d.Emoji() {
		must(err)
		r.Emoji = append(r.Emoji, x)
	}
	for x, err := range d.Messages() {
		must(err)
		r.Messages = append(r.Messages, x)
	}
	for x, err := range d.Attachments() {
		must(err)
		r.Attachments = append(r.Attachments, x)
	}
	blob := func(sum string) {
		if sum == "" {
			return
		}
		if _, ok := r.Blobs[sum]; ok {
			return
		}
		rc, err := d.OpenBlob(sum)
		if err != nil {
			return // CheckReferences names it
		}
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := rc.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		rc.Close()
		r.Blobs[sum] = []byte(b.String())
	}
	for _, u := range r.Users {
		if u.Avatar != nil {
			blob(u.Avatar.SHA256)
		}
	}
	for _, a := range r.Attachments {
		blob(a.SHA256)
	}
	for _, e := range r.Emoji {
		if e.Image != nil {
			blob(e.Image.SHA256)
		}
	}
	return r
}

// merge runs Merge and checks what must always hold: no error, the account
// closes, the output's references resolve and its counts are right.
func merge(t testing.TB, req Request) (*adaptertest.Result, *report.Report) {
	t.Helper()
	d, rep, err := Merge(context.Background(), req)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	t.Cleanup(func() { rep.Close() })
	if err := rep.Check(); err != nil {
		t.Fatal(err)
	}
	out := materialize(t, d)
	if errs := out.CheckReferences(); len(errs) > 0 {
		t.Fatalf("merged workspace has broken references: %v", errs)
	}
	got := d.Counts()
	want := map[sdk.Kind]int64{sdk.KindWorkspace: 1, sdk.KindUser: int64(len(out.Users)), sdk.KindRoom: int64(len(out.Rooms)),
		sdk.KindConversation: int64(len(out.Conversations)), sdk.KindEmoji: int64(len(out.Emoji)),
		sdk.KindMessage: int64(len(out.Messages)), sdk.KindAttachment: int64(len(out.Attachments))}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("Counts()[%s] = %d, but the dataset yields %d", k, got[k], n)
		}
	}
	for i := 1; i < len(out.Messages); i++ {
		if out.Messages[i].SentAt.Before(out.Messages[i-1].SentAt) {
			t.Fatalf("merged messages are not sorted by time at %d", i)
		}
	}
	return out, rep
}

// notices returns the messages of the report's notices with a code.
func notices(rep *report.Report, code string) []string {
	var out []string
	for n, err := range rep.Notices() {
		if err == nil && n.Code == code {
			out = append(out, n.Message)
		}
	}
	return out
}

func losses(rep *report.Report, k sdk.Kind) map[string]string {
	out := map[string]string{}
	for l, err := range rep.Account(k).NotImported() {
		if err == nil {
			out[l.ID] = l.Reason
		}
	}
	return out
}

func wantNotice(t *testing.T, rep *report.Report, code, msg string) {
	t.Helper()
	got := notices(rep, code)
	if !slices.Contains(got, msg) {
		t.Errorf("no %s notice %q; got %q", code, msg, got)
	}
}

func userBy(r *adaptertest.Result, f func(*sdk.User) bool) *sdk.User {
	for _, u := range r.Users {
		if f(u) {
			return u
		}
	}
	return nil
}

func roomNamed(r *adaptertest.Result, name string) *sdk.Room {
	for _, x := range r.Rooms {
		if x.Name == name {
			return x
		}
	}
	return nil
}

func bodies(r *adaptertest.Result) []string {
	var out []string
	for _, m := range r.Messages {
		out = append(out, m.Body)
	}
	return out
}

func acct(rep *report.Report, k sdk.Kind) string {
	a := rep.Account(k)
	return fmt.Sprintf("in=%d written=%d merged=%d lost=%d", a.In, a.Written, a.Merged, a.NotImportedCount())
}

// sameWorkspace compares two workspaces record by record, as JSON, and
// names the first record that differs.
func sameWorkspace(a, b *adaptertest.Result) error {
	enc := func(v any) string { j, _ := json.Marshal(v); return string(j) }
	diff := func(kind string, x, y []string) error {
		for i := range max(len(x), len(y)) {
			var l, r string
			if i < len(x) {
				l = x[i]
			}
			if i < len(y) {
				r = y[i]
			}
			if l != r {
				return fmt.Errorf("%s %d: %s != %s (%d and %d records)", kind, i, l, r, len(x), len(y))
			}
		}
		return nil
	}
	each := func(n int, f func(int) any) []string {
		out := make([]string, n)
		for i := range n {
			out[i] = enc(f(i))
		}
		return out
	}
	return errors.Join(
		diff("user", each(len(a.Users), func(i int) any { return a.Users[i] }), each(len(b.Users), func(i int) any { return b.Users[i] })),
		diff("room", each(len(a.Rooms), func(i int) any { return a.Rooms[i] }), each(len(b.Rooms), func(i int) any { return b.Rooms[i] })),
		diff("conversation", each(len(a.Conversations), func(i int) any { return a.Conversations[i] }), each(len(b.Conversations), func(i int) any { return b.Conversations[i] })),
		diff("emoji", each(len(a.Emoji), func(i int) any { return a.Emoji[i] }), each(len(b.Emoji), func(i int) any { return b.Emoji[i] })),
		diff("message", each(len(a.Messages), func(i int) any { return a.Messages[i] }), each(len(b.Messages), func(i int) any { return b.Messages[i] })),
		diff("attachment", each(len(a.Attachments), func(i int) any { return a.Attachments[i] }), each(len(b.Attachments), func(i int) any { return b.Attachments[i] })),
	)
}
