package hipchat

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// writeTree makes a small export from file contents.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const oneUser = `[{"User": {"id": 1, "name": "Ada", "mention_name": "Ada", "email": "a@example.com"}}]`
const oneRoom = `[{"Room": {"id": 10, "name": "General", "privacy": "private", "members": [1], "owner": 1}}]`

func TestBadInputErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string // all must appear in the error
	}{
		{"truncated history", map[string]string{"users.json": oneUser, "rooms.json": oneRoom,
			"rooms/10/history.json": `[{"UserMessage": {"id": "a", "sender": {"id": 1}, "message": "hi", "timestamp": "2018-08-08T14:23:54Z 626267"}}, {"UserMessage": {"id": "b", "mess`},
			[]string{"rooms/10/history.json", "record 1", "truncated"}},
		{"users.json is an object", map[string]string{"users.json": `{"User": {"id": 1}}`},
			[]string{"users.json", "want an array", "found an object"}},
		{"rooms.json is a string", map[string]string{"users.json": oneUser, "rooms.json": `"rooms"`},
			[]string{"rooms.json", "found a string"}},
		{"history is a number", map[string]string{"users.json": oneUser, "rooms.json": oneRoom, "rooms/10/history.json": `42`},
			[]string{"rooms/10/history.json", "want an array of messages"}},
		{"syntax error", map[string]string{"users.json": `[{"User": {"id": 1,}}]`},
			[]string{"users.json", "record 0", "invalid"}},
		{"empty users.json", map[string]string{"users.json": ``},
			[]string{"users.json", "empty"}},
		{"trailing garbage", map[string]string{"users.json": oneUser + `]`},
			[]string{"users.json"}},
		{"not an export", map[string]string{"notes.txt": "hello"},
			[]string{"no users.json or rooms.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeTree(t, c.files)
			_, err := adaptertest.TryRunSource(context.Background(), &Server{}, nil, dir)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestBadRecordsAreReported: every record of a history file is either
// emitted or reported as skipped, with its file, index and reason.
func TestBadRecordsAreReported(t *testing.T) {
	history := `[
 {"UserMessage": {"id": "ok1", "sender": {"id": 1}, "message": "fine", "timestamp": "2018-08-08T14:23:54Z 626267"}},
 {"UserMessage": {"id": "badtime", "sender": {"id": 1}, "message": "x", "timestamp": "yesterday"}},
 {"PollMessage": {"id": "poll", "question": "?"}},
 {"UserMessage": {"id": "badsender", "sender": [1, 2], "message": "x", "timestamp": "2018-08-08T14:23:54Z 626267"}},
 17,
 {"UserMessage": {"id": "ghost", "sender": {"id": 404, "name": "Nobody"}, "message": "boo", "timestamp": "2018-08-08T14:23:55Z 000000"}},
 [{"UserMessage": {"id": "nested", "sender": {"id": 1}, "message": "wrapped twice", "timestamp": "2018-08-08T14:23:56Z 000000"}}],
 {"PrivateUserMessage": {"id": "pm-in-room", "sender": {"id": 1}, "receiver": {"id": 1}, "message": "x", "timestamp": "2018-08-08T14:23:57Z 000000"}}
]`
	dir := writeTree(t, map[string]string{"users.json": oneUser, "rooms.json": oneRoom, "rooms/10/history.json": history})
	res := adaptertest.RunSource(t, &Server{}, nil, dir)
	if errs := res.CheckReferences(); len(errs) > 0 {
		t.Fatal(errs)
	}
	emitted := adaptertest.SortedIDs(res.Messages)
	skipped := map[string]sdk.Notice{}
	for _, n := range res.Notices {
		if n.Skipped && n.Kind == sdk.KindMessage {
			skipped[n.Record] = n
		}
	}
	if strings.Join(emitted, ",") != "ghost,nested,ok1" {
		t.Errorf("emitted %v", emitted)
	}
	want := map[string]string{
		"badtime":                 "yesterday",
		"rooms/10/history.json#2": "PollMessage",
		"badsender":               "not a message",
		"rooms/10/history.json#4": "not a message",
	}
	for rec, reason := range want {
		n, ok := skipped[rec]
		if !ok {
			t.Errorf("record %s: no skip notice; got %v", rec, skipped)
			continue
		}
		if n.File != "rooms/10/history.json" || !strings.Contains(n.Message, reason) || !strings.Contains(n.Message, "record ") {
			t.Errorf("record %s: notice %+v should name the file, the index and %q", rec, n, reason)
		}
	}
	// 8 elements: 3 emitted + 5 skipped — none lost silently.
	if len(emitted)+len(skipped) != 8 {
		t.Errorf("%d emitted + %d skipped != 8 records", len(emitted), len(skipped))
	}
	if g := byID(t, res.Users, "404"); !g.Virtual || g.DisplayName != "Nobody" {
		t.Errorf("unknown sender placeholder: %+v", g)
	}
}

func TestMissingHistoryOfDeletedUser(t *testing.T) {
	// User 2 was deleted and has no users/2/history.json: the messages
	// they exchanged with user 1 come from user 1's copy.
	users := `[{"User": {"id": 1, "name": "Ada", "mention_name": "Ada", "email": "a@example.com"}},
 {"User": {"id": 2, "name": "Old", "mention_name": "Old", "email": null, "is_deleted": true}}]`
	pm := `[{"PrivateUserMessage": {"id": "x1", "sender": {"id": 2}, "receiver": {"id": 1}, "message": "last words", "timestamp": "2017-01-01T00:00:00Z 000000"}}]`
	dir := writeTree(t, map[string]string{"users.json": users, "rooms.json": `[]`, "users/1/history.json": pm})
	res := adaptertest.RunSource(t, &Server{}, nil, dir)
	m := byID(t, res.Messages, "x1")
	if m.Sender != "2" || m.Conversation != "dm:1:2" {
		t.Errorf("message %+v", m)
	}
	if !res.Workspace.ExportOptions.OneToOneHistory {
		t.Error("one-to-one history was exported")
	}
}
