package hipchat

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// Run one with e.g.: go test -run '^$' -fuzz FuzzHistoryFile -fuzztime 30s ./plugins/hipchat

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2018-08-08T14:23:54Z 626267", "2018-06-16T23:01:40.827038Z", "2015-08-21T06:32:37+0000", "Z ", "2018-08-08T14:23:54Z 9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseTime(s)
		if err != nil {
			return
		}
		// What we write we can read back, to the microsecond.
		back, err := parseTime(formatTime(tm))
		if err != nil || !back.Equal(tm.Truncate(1000)) {
			t.Fatalf("%q → %v → %q → %v, %v", s, tm, formatTime(tm), back, err)
		}
	})
}

func FuzzHTMLToMarkdown(f *testing.F) {
	for _, s := range []string{`<b>x</b><a href="u">l</a><ul><li>i</li></ul>`, "<pre>a\n<b>b</b></pre>", `<code>`, `<a href='x`, `<img src=x alt="<">`, "&amp;&lt;<!--", "<ol><li><ol><li>x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := htmlToMarkdown(s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 in, invalid out: %q → %q", s, out)
		}
	})
}

// runTree writes files into a fresh directory and reads it with src.
func runTree(t *testing.T, cloud bool, files map[string]string) (*adaptertest.Result, error) {
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
	if cloud {
		return adaptertest.TryRunSource(context.Background(), &Cloud{}, nil, dir)
	}
	return adaptertest.TryRunSource(context.Background(), &Server{}, nil, dir)
}

// checkResult asserts what must hold for any input: errors name a file,
// and what was emitted references only what exists.
func checkResult(t *testing.T, res *adaptertest.Result, err error) {
	t.Helper()
	if err != nil {
		if strings.Contains(err.Error(), "does not match") || strings.Contains(err.Error(), "schema") {
			t.Fatalf("the source emitted an invalid record: %v", err)
		}
		return
	}
	for _, e := range res.CheckReferences() {
		// Ids repeated in the input are passed on as they are: finding
		// them would need memory that grows with the messages.
		if !strings.HasPrefix(e.Error(), "duplicate message id") && !strings.HasPrefix(e.Error(), "duplicate attachment id") {
			t.Fatalf("dangling reference: %v", e)
		}
	}
}

func FuzzHistoryFile(f *testing.F) {
	seeds := []string{
		`[{"UserMessage": {"id": "a", "sender": {"id": 1}, "message": "hi (yasss) @all", "mentions": [1, 2], "timestamp": "2018-08-08T14:23:54Z 626267", "attachment": {"name": "x", "path": "../x"}}}]`,
		`[{"NotificationMessage": {"id": 5, "sender": "JIRA", "message": "<b>x</b>", "timestamp": "2018-08-08T14:23:54Z 1"}}, {"TopicRoomMessage": {"sender": {"id": 0}, "timestamp": "2015-08-21T06:32:37+0000"}}]`,
		`{"items": [{"date": "2018-01-04T10:16:02.809766+00:00", "from": "Link", "type": "notification", "message": "m", "file": {"name": "f"}}]}`,
		`[[{"PrivateUserMessage": {"id": "p", "sender": {"id": 2}, "receiver": {"id": 1}, "timestamp": "2018-08-08T14:23:54Z 0"}}]]`,
		`[{"UserMessage": {"id": "", "sender": "", "timestamp": ""}}, null, [], {}]`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, history string) {
		res, err := runTree(t, false, map[string]string{
			"users.json":            `[{"User": {"id": 1, "name": "A", "mention_name": "A"}}]`,
			"rooms.json":            `[{"Room": {"id": 10, "name": "R", "privacy": "public"}}]`,
			"rooms/10/history.json": history,
			"users/1/history.json":  history,
		})
		checkResult(t, res, err)
	})
}

func FuzzListFiles(f *testing.F) {
	f.Add(`[{"User": {"id": 1, "avatar": "iVBORw0K\nGgo=", "roles": ["admin"]}}]`, `[{"Room": {"id": 1, "name": "x", "members": [{"id": 1, "room_roles": ["room_admin"]}], "room_admins": [1], "owner": {"id": 1}}}]`, `{"Emoticons": [{"shortcut": "a", "path": "emoticons/a.png"}]}`)
	f.Add(`[{"User": {"id": "1.0", "is_deleted": 1}}]`, `[{"Room": {"room_id": 2, "is_private": "1", "guest_access_url": "u"}}]`, `[{"Emoticon": {"id": 3}}]`)
	f.Add(`[]`, `[]`, `{"items": [{"shortcut": "b", "type": "global"}]}`)
	f.Fuzz(func(t *testing.T, users, rooms, emoticons string) {
		res, err := runTree(t, false, map[string]string{
			"users.json": users, "rooms.json": rooms, "emoticons.json": emoticons, "emoticons/a.png": "png",
			"rooms/1/history.json": `[{"UserMessage": {"id": "m", "sender": {"id": 1}, "mentions": [1], "message": "(a)", "timestamp": "2018-08-08T14:23:54Z 000000"}}]`,
		})
		checkResult(t, res, err)
	})
}

func FuzzLegacyExport(f *testing.F) {
	f.Add(`{"users": [{"user_id": 1, "name": "L", "created": 1418644198, "is_group_admin": 1}]}`, `{"rooms": [{"room_id": 2, "name": "A: B", "is_private": true}]}`,
		`[{"date": "2015-08-21T06:32:37+0000", "from": {"name": "L", "user_id": 1}, "message": "hi"}, {"date": "2015-08-21T06:32:38+0000", "from": {"name": "J", "user_id": "api"}, "message": "<b>x</b>"}]`)
	f.Fuzz(func(t *testing.T, users, rooms, day string) {
		res, err := runTree(t, true, map[string]string{
			"hipchat_export/users/list.json": users, "hipchat_export/rooms/list.json": rooms,
			"hipchat_export/rooms/A_ B/2015-08-21.json": day,
		})
		checkResult(t, res, err)
	})
}

func FuzzLoneFile(f *testing.F) {
	for _, name := range []string{
		"tbruyelle_hipchat-go/extracted/v2_room_history.json", "tbruyelle_hipchat-go/extracted/v2_user_view.json",
		"zulip_issue_10855_stride/users_ORGID_USERUUID_history.json", "zulip_zulip/extracted/emoticons.json",
		"larsreed_hipchatparse/extracted_from_specs/rooms_list.json",
	} {
		b, err := os.ReadFile(fx + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, content string) {
		p := filepath.Join(t.TempDir(), "page.json")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := adaptertest.TryRunSource(context.Background(), &Cloud{}, nil, p)
		checkResult(t, res, err)
	})
}
