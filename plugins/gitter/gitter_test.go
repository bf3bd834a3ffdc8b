package gitter

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenCases run the source over every sample input; their canonical
// records are compared with testdata/golden/<name>.ndjson.
var goldenCases = []struct {
	name   string
	opts   sdk.Options
	inputs []string
}{
	{name: "fixture-zulip-gitter-data", inputs: []string{"testdata/fixtures/zulip__zulip/zerver/tests/fixtures/gitter_data.json"}},
	{name: "fixture-archive-gitter-record", inputs: []string{"testdata/fixtures/zulip__zulip-issue-9374/archive-gitter-record.json"}},
	{name: "fixture-perceval", inputs: []string{"testdata/fixtures/chaoss__grimoirelab-perceval/tests/data/gitter"}},
	{name: "fixture-perceval-pages", inputs: []string{
		"testdata/fixtures/chaoss__grimoirelab-perceval/tests/data/gitter/message_page_2",
		"testdata/fixtures/chaoss__grimoirelab-perceval/tests/data/gitter/message_page_1"}},
	{name: "rest", inputs: []string{"testdata/rest"}},
	{name: "items", inputs: []string{"testdata/items/page.json"}},
	{name: "ndjson", inputs: []string{"testdata/ndjson"}},
	{name: "matrix", inputs: []string{"testdata/matrix/scala-export.json"}},
	{name: "multi", inputs: []string{"testdata/multi"}, opts: sdk.Options{
		optWorkspaceName: "Acme", optAdmins: []string{"judy"}, optOwners: []string{"@NOID"}, optRepo: "acme/widgets"}},
	{name: "all-at-once", inputs: []string{"testdata/rest", "testdata/ndjson", "testdata/items/page.json", "testdata/matrix"}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			res := adaptertest.RunSource(t, &Source{}, tc.opts, tc.inputs...)
			for _, err := range res.CheckReferences() {
				t.Error(err)
			}
			got := goldenText(t, res)
			file := filepath.Join("testdata", "golden", tc.name+".ndjson")
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := range max(len(gl), len(wl)) {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						t.Fatalf("%s differs at line %d:\n got %s\nwant %s", file, i+1, g, w)
					}
				}
			}
		})
	}
}

// goldenText renders a result as NDJSON in a stable order.
func goldenText(t *testing.T, res *adaptertest.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	line := func(kind string, v any) {
		data, err := json.Marshal(map[string]any{"kind": kind, "record": v})
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteByte('\n')
	}
	line("workspace", res.Workspace)
	users := slices.Clone(res.Users)
	slices.SortFunc(users, func(a, b *sdk.User) int { return strings.Compare(a.ID, b.ID) })
	for _, u := range users {
		line("user", u)
	}
	rooms := slices.Clone(res.Rooms)
	slices.SortFunc(rooms, func(a, b *sdk.Room) int { return strings.Compare(a.ID, b.ID) })
	for _, r := range rooms {
		line("room", r)
	}
	for _, m := range res.Messages {
		line("message", m)
	}
	atts := slices.Clone(res.Attachments)
	slices.SortFunc(atts, func(a, b *sdk.Attachment) int { return strings.Compare(a.ID, b.ID) })
	for _, a := range atts {
		line("attachment", a)
	}
	for _, n := range res.Notices {
		line("notice", n)
	}
	return b.Bytes()
}

func find[T sdk.Record](t *testing.T, recs []T, id string) T {
	t.Helper()
	for _, r := range recs {
		if r.RecordID() == id {
			return r
		}
	}
	t.Fatalf("no record %q", id)
	var zero T
	return zero
}

func TestREST(t *testing.T) {
	res := adaptertest.RunSource(t, &Source{}, nil, "testdata/rest")
	if len(res.Messages) != 10 || len(res.Rooms) != 2 || len(res.Users) != 4 || len(res.Attachments) != 2 {
		t.Fatalf("got %d messages, %d rooms, %d users, %d attachments; want 10, 2, 4, 2",
			len(res.Messages), len(res.Rooms), len(res.Users), len(res.Attachments))
	}
	if res.Workspace.Name != "org" || res.Workspace.SourceSystem != "gitter" || res.Workspace.ExportOptions.Files {
		t.Errorf("workspace = %+v", res.Workspace)
	}
	room := find(t, res.Rooms, "5e763973d73408ce4fdd0001")
	if room.Name != "org/room" || room.Repository != "org/room" || room.Topic != "All about org/room" || room.Private || !room.MembersInferred {
		t.Errorf("room = %+v", room)
	}
	if empty := find(t, res.Rooms, "5e763973d73408ce4fdd0002"); !empty.Private || len(empty.Members) != 0 {
		t.Errorf("empty private room = %+v", empty)
	}
	m := find(t, res.Messages, "5f0000000000000000000002")
	if m.EditedAt == nil || m.EditedAt.Format("15:04") != "10:03" {
		t.Errorf("edited message: EditedAt = %v", m.EditedAt)
	}
	if !strings.Contains(m.Body, "[#12](https://github.com/org/room/issues/12)") || !strings.Contains(m.Body, "[other/thing#3](https://github.com/other/thing/issues/3)") {
		t.Errorf("issue links missing: %q", m.Body)
	}
	if len(m.Mentions) != 1 || m.Mentions[0].User != "5a0000000000000000000001" {
		t.Errorf("mentions = %+v", m.Mentions)
	}
	if m.Original != "@alice see #12 and other/thing#3, fixed with `x<y`" || m.OriginalFormat != "gitter-markdown" {
		t.Errorf("original = %q (%s)", m.Original, m.OriginalFormat)
	}
	if e := find(t, res.Messages, "5f0000000000000000000003"); e.Kind != sdk.MessageEmote {
		t.Errorf("/me message kind = %s", e.Kind)
	}
	reply := find(t, res.Messages, "5f0000000000000000000005")
	if reply.ThreadRoot != "5f0000000000000000000004" || len(reply.Attachments) != 2 {
		t.Errorf("thread reply = %+v", reply)
	}
	att := find(t, res.Attachments, reply.Attachments[0])
	if att.URL != "https://files.gitter.im/org/room/ck1D/image.png" || att.Name != "image.png" || att.SHA256 != "" || att.Size != 0 || att.Uploader != "5a0000000000000000000003" {
		t.Errorf("attachment = %+v", att)
	}
	if root := find(t, res.Messages, "5f0000000000000000000007"); !root.Deleted {
		t.Errorf("empty thread root with replies should be marked deleted: %+v", root)
	}
	virt := find(t, res.Users, "matrix-dave:matrix.org")
	if !virt.Virtual || virt.DisplayName != "Dave (Matrix)" || virt.AvatarURL == "" {
		t.Errorf("virtual user = %+v", virt)
	}
	if all := find(t, res.Messages, "5f0000000000000000000006"); len(all.Mentions) != 1 || all.Mentions[0].Kind != sdk.MentionAll {
		t.Errorf("@/all mention = %+v", all.Mentions)
	}
	var missing bool
	for _, n := range res.Notices {
		if n.Code == "thread-replies-missing" && strings.Contains(n.Message, "announce 2 more replies") {
			missing = true
		}
	}
	if !missing {
		t.Errorf("no notice about the 2 missing thread replies: %+v", res.Notices)
	}
}

func TestNDJSON(t *testing.T) {
	res := adaptertest.RunSource(t, &Source{}, nil, "testdata/ndjson")
	if len(res.Messages) != 4 || len(res.Rooms) != 1 {
		t.Fatalf("got %d messages, %d rooms", len(res.Messages), len(res.Rooms))
	}
	room := res.Rooms[0]
	if room.Name != "scala-build" || room.MembersInferred {
		t.Errorf("room = %+v", room)
	}
	// users.ndjson is the member list, including a member who never wrote.
	if !slices.Contains(room.Members, "7a0000000000000000000004") || !slices.Equal(room.Admins, []string{"7a0000000000000000000001"}) {
		t.Errorf("members %v, admins %v", room.Members, room.Admins)
	}
	if g := find(t, res.Users, "7a0000000000000000000001"); g.Username != "grace" || g.Role != sdk.RoleMember {
		t.Errorf("grace = %+v (a room admin is not a workspace admin)", g)
	}
	if r := find(t, res.Messages, "7f0000000000000000000003"); r.ThreadRoot != "7f0000000000000000000001" || !strings.Contains(r.Body, "[scala/scala#9876](https://github.com/scala/scala/issues/9876)") {
		t.Errorf("reply = %+v", r)
	}
	var warned bool
	for _, n := range res.Notices {
		warned = warned || (n.Code == "user-details-missing" && n.Record == "7a0000000000000000000003")
	}
	if !warned {
		t.Errorf("no warning about the sender missing from users.ndjson: %+v", res.Notices)
	}
}

func TestItemsAndIdentityAcrossShapes(t *testing.T) {
	res := adaptertest.RunSource(t, &Source{}, nil, "testdata/items/page.json")
	if len(res.Messages) != 2 {
		t.Fatalf("got %d messages", len(res.Messages))
	}
	if m := find(t, res.Messages, "6f0000000000000000000002"); m.Sender != "6a0000000000000000000002" || m.Mentions[0].User != "6a0000000000000000000001" {
		t.Errorf("message = %+v", m)
	}
	if u := find(t, res.Users, "6a0000000000000000000001"); u.Username != "erin" || u.DisplayName != "Erin" || u.Virtual {
		t.Errorf("user from lookups = %+v", u)
	}

	// The Matrix export names som-snytt by their Gitter id, so a REST
	// dump of the same person yields one user.
	dir := t.TempDir()
	rest := `[{"id":"5f00000000000000000000ff","text":"from REST","sent":"2016-01-01T00:00:00.000Z","fromUser":{"id":"5a0000000000000000000011","username":"som-snytt","displayName":"Som Snytt"}}]`
	if err := os.WriteFile(filepath.Join(dir, "scala.json"), []byte(rest), 0o644); err != nil {
		t.Fatal(err)
	}
	res = adaptertest.RunSource(t, &Source{}, nil, filepath.Join(dir, "scala.json"), "testdata/matrix/scala-export.json")
	n := 0
	for _, u := range res.Users {
		if u.Username == "som-snytt" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("som-snytt appears as %d users", n)
	}
	for _, err := range res.CheckReferences() {
		t.Error(err)
	}
}

func TestMultiRoom(t *testing.T) {
	opts := sdk.Options{optWorkspaceName: "Acme", optAdmins: []string{"judy"}, optOwners: []string{"@NOID", "nobody"}}
	res := adaptertest.RunSource(t, &Source{}, opts, "testdata/multi")
	names := []string{}
	for _, r := range res.Rooms {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"acme/one", "acme/two", "merged", "quiet"}) {
		t.Errorf("rooms = %v", names)
	}
	if res.Workspace.Name != "Acme" {
		t.Errorf("workspace = %q", res.Workspace.Name)
	}
	// "noid" was first seen without an id, then with one: one user.
	u := find(t, res.Users, "noid")
	if u.Role != sdk.RoleOwner || u.DisplayName != "No Id" {
		t.Errorf("noid = %+v", u)
	}
	if m := find(t, res.Messages, "8f0000000000000000000004"); m.Sender != "noid" {
		t.Errorf("sender = %q, want the user first seen by username", m.Sender)
	}
	if j := find(t, res.Users, "8a0000000000000000000001"); j.Role != sdk.RoleAdmin {
		t.Errorf("judy = %+v", j)
	}
	var unknown bool
	for _, n := range res.Notices {
		unknown = unknown || (n.Code == "role-user-unknown" && n.Record == "nobody")
	}
	if !unknown {
		t.Errorf("no notice for the unknown owner: %+v", res.Notices)
	}
}

func TestMatrix(t *testing.T) {
	res := adaptertest.RunSource(t, &Source{}, nil, "testdata/matrix/scala-export.json")
	if len(res.Rooms) != 1 || res.Rooms[0].Name != "scala/scala" || res.Rooms[0].Topic != "Scala language discussion" {
		t.Fatalf("rooms = %+v", res.Rooms)
	}
	if !slices.Contains(res.Rooms[0].Admins, "5a0000000000000000000011") {
		t.Errorf("power level 100 should make a room admin: %v", res.Rooms[0].Admins)
	}
	u := find(t, res.Users, "5a0000000000000000000011")
	if u.Username != "som-snytt" || u.DisplayName != "Som Snytt" || u.Virtual {
		t.Errorf("bridged Gitter user = %+v", u)
	}
	if k := find(t, res.Users, "matrix-kim:matrix.org"); !k.Virtual || k.DisplayName != "Kim" {
		t.Errorf("matrix user = %+v", k)
	}
	e3 := find(t, res.Messages, "$e3")
	if e3.Body != "A reply, edited" || len(e3.Edits) != 1 || e3.Edits[0].Body != "A reply @som-snytt" || e3.ReplyTo != "$e1" || e3.EditedAt == nil {
		t.Errorf("edited reply = %+v", e3)
	}
	if len(e3.Reactions) != 1 || e3.Reactions[0].Emoji != "👍" {
		t.Errorf("reactions = %+v", e3.Reactions)
	}
	if e5 := find(t, res.Messages, "$e5"); e5.ThreadRoot != "$e1" {
		t.Errorf("thread = %+v", e5)
	}
	if e7 := find(t, res.Messages, "$e7"); !e7.Deleted {
		t.Errorf("redacted = %+v", e7)
	}
	if find(t, res.Messages, "$e2").Kind != sdk.MessageEmote {
		t.Error("m.emote is not an emote")
	}
	a := find(t, res.Attachments, "$e6-file")
	if a.Size != 12345 || a.ContentType != "image/png" || !strings.HasPrefix(a.URL, "https://matrix.org/") {
		t.Errorf("attachment = %+v", a)
	}
	if len(res.Notices) != 1 || res.Notices[0].Code != "encrypted" || !res.Notices[0].Skipped {
		t.Errorf("notices = %+v", res.Notices)
	}
}

// countInput counts the messages of a REST or NDJSON file with
// encoding/json, independently of the adapter's reader.
func countInput(t *testing.T, file string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var arr []json.RawMessage
	if json.Unmarshal(data, &arr) == nil {
		return len(arr)
	}
	var items struct{ Items []json.RawMessage }
	if json.Unmarshal(data, &items) == nil && items.Items != nil {
		return len(items.Items)
	}
	n := 0
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			n++
		}
	}
	return n
}

// TestAccountCloses checks that every input message is emitted or
// reported as skipped.
func TestAccountCloses(t *testing.T) {
	for _, tc := range []struct{ input, msgFile string }{
		{"testdata/rest/org/room.json", ""},
		{"testdata/items/page.json", ""},
		{"testdata/ndjson/scala-build", "testdata/ndjson/scala-build/messages.ndjson"},
		{"testdata/fixtures/zulip__zulip/zerver/tests/fixtures/gitter_data.json", ""},
		{"testdata/bad/mixed.ndjson", ""},
		{"testdata/bad/mixed.json", ""},
	} {
		res := adaptertest.RunSource(t, &Source{}, nil, tc.input)
		file := tc.msgFile
		if file == "" {
			file = tc.input
		}
		skipped := 0
		for _, n := range res.Notices {
			if n.Skipped && n.Kind == sdk.KindMessage {
				skipped++
			}
		}
		if in := countInput(t, file); in != len(res.Messages)+skipped || in == 0 {
			t.Errorf("%s: %d messages in, %d emitted + %d skipped", tc.input, in, len(res.Messages), skipped)
		}
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadInputErrors(t *testing.T) {
	msg := func(id string) string {
		return `{"id":"` + id + `","text":"x","sent":"2020-01-01T00:00:00.000Z","fromUser":{"id":"5a0000000000000000000001","username":"a"}}`
	}
	for _, tc := range []struct {
		name, file, content string
		want                []string
	}{
		{"truncated array", "room.json", "[" + msg("5f0000000000000000000001") + "," + `{"id":"5f0000000000000000000002","text":"cut he`,
			[]string{"room.json", "message 2", "truncated", "export the room again"}},
		{"truncated after id", "room.json", "[" + msg("5f0000000000000000000001") + "," + msg("5f0000000000000000000002")[:60],
			[]string{"room.json", "message 2 (id 5f0000000000000000000002)", "truncated"}},
		{"garbage between messages", "room.json", "[" + msg("5f0000000000000000000001") + " x " + msg("5f0000000000000000000002") + "]",
			[]string{"room.json", "message 1", "expected ',' or ']'"}},
		{"not json", "room.json", "hello", []string{"room.json", "not a Gitter export"}},
		{"array of numbers", "room.json", "[1,2,3]", []string{"room.json", "not objects"}},
		{"unknown object", "room.json", `{"foo":1}`, []string{"room.json", "neither"}},
		{"trailing data", "room.json", "[" + msg("5f0000000000000000000001") + "] []", []string{"room.json", "after the message array"}},
		{"bad escape", "room.json", `[{"id":"5f0000000000000000000001","text":"\q"}]`, []string{"room.json", "record 1", "invalid escape"}},
		{"bad option", "room.json", "[]", []string{"gitter-repo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := sdk.Options{}
			if tc.name == "bad option" {
				opts[optRepo] = "not a repo"
			}
			_, err := adaptertest.TryRunSource(context.Background(), &Source{}, opts, writeFile(t, tc.file, tc.content))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestBadInputSkips(t *testing.T) {
	res := adaptertest.RunSource(t, &Source{}, nil, "testdata/bad/mixed.json")
	codes := map[string]string{}
	for _, n := range res.Notices {
		if n.Skipped {
			codes[n.Record] = n.Code
			// Repeated ids are found by the host, after reading, and named
			// by id alone.
			if n.Code == "duplicate-id" {
				if n.Kind != sdk.KindMessage || !strings.Contains(n.Message, n.Record) {
					t.Errorf("duplicate notice does not name its record: %+v", n)
				}
				continue
			}
			if n.File != "mixed.json" || n.Kind != sdk.KindMessage || !strings.Contains(n.Message, "mixed.json") {
				t.Errorf("notice does not name its file and record: %+v", n)
			}
		}
	}
	want := map[string]string{
		"5f0000000000000000000002": "message-without-sender",
		"5f0000000000000000000001": "duplicate-id",
		"#4":                       "message-without-id",
		"5f0000000000000000000005": "bad-field",
		"#6":                       "not-a-message",
		"zzz":                      "message-without-time",
	}
	for rec, code := range want {
		if codes[rec] != code {
			t.Errorf("record %s: notice %q, want %q (all: %v)", rec, codes[rec], code, codes)
		}
	}
	if len(res.Messages) != 2 {
		t.Errorf("%d messages kept, want 2", len(res.Messages))
	}
	// The message without a "sent" time but with an ObjectId gets its time from the id.
	m := find(t, res.Messages, "5f0000010000000000000007")
	if m.SentAt.Unix() != 0x5f000001 {
		t.Errorf("time from id = %v", m.SentAt)
	}
	for _, err := range res.CheckReferences() {
		t.Error(err)
	}
}

func TestNDJSONSkipsBadLines(t *testing.T) {
	res := adaptertest.RunSource(t, &Source{}, nil, "testdata/bad/mixed.ndjson")
	if len(res.Messages) != 2 {
		t.Errorf("%d messages, want 2", len(res.Messages))
	}
	var skipped []string
	for _, n := range res.Notices {
		if n.Skipped {
			skipped = append(skipped, n.Code)
		}
	}
	if !slices.Equal(skipped, []string{"bad-json", "not-a-message", "bad-json"}) {
		t.Errorf("skips = %v", skipped)
	}
}

func TestInvalidUTF8(t *testing.T) {
	content := "[" + `{"id":"5f0000000000000000000001","text":"caf` + "\xe9" + ` au lait","sent":"2020-01-01T00:00:00.000Z","fromUser":{"id":"5a0000000000000000000001","username":"a"}},` +
		`{"id":"5f0000000000000000000002","text":"fine","sent":"2020-01-01T00:00:00.000Z","fromUser":{"id":"5a0000000000000000000001","username":"a"}}]`
	p := writeFile(t, "latin1.json", content)
	res := adaptertest.RunSource(t, &Source{}, nil, p)
	if len(res.Messages) != 2 || res.Messages[0].Body != "caf\uFFFD au lait" {
		t.Fatalf("messages = %+v", res.Messages)
	}
	if len(res.Notices) != 1 || res.Notices[0].Code != "invalid-utf8" || res.Notices[0].Record != "5f0000000000000000000001" || res.Notices[0].Skipped {
		t.Errorf("notices = %+v", res.Notices)
	}
	res = adaptertest.RunSource(t, &Source{}, sdk.Options{optInvalidUTF8: "skip"}, p)
	if len(res.Messages) != 1 || len(res.Notices) != 1 || !res.Notices[0].Skipped || res.Notices[0].Code != "invalid-utf8" {
		t.Errorf("skip mode: %d messages, notices %+v", len(res.Messages), res.Notices)
	}
}

func TestLongMessage(t *testing.T) {
	long := strings.Repeat("word ", 400_000) + "\nend 😀 \\u00e9"
	text, _ := json.Marshal(long)
	content := `[{"id":"5f0000000000000000000001","text":` + string(text) + `,"html":` + string(text) + `,"sent":"2020-01-01T00:00:00.000Z","fromUser":{"id":"5a0000000000000000000001","username":"a"}}]`
	res := adaptertest.RunSource(t, &Source{}, nil, writeFile(t, "long.json", content))
	if len(res.Messages) != 1 || res.Messages[0].Original != long || !strings.HasSuffix(res.Messages[0].Body, "\\\nend 😀 \\u00e9") {
		t.Fatalf("long message not read back intact")
	}
}

func TestManifest(t *testing.T) {
	if err := sdk.CheckManifest(&Source{}); err != nil {
		t.Fatal(err)
	}
	a, ok := sdk.Lookup("gitter")
	if !ok {
		t.Fatal("gitter is not registered")
	}
	m := a.Manifest()
	var names []string
	for _, o := range m.Options {
		names = append(names, o.Name)
	}
	for _, want := range []string{"workspace-name", "gitter-repo", "admins", "owners", "download-attachments"} {
		if !slices.Contains(names, want) {
			t.Errorf("option %s not declared", want)
		}
	}
	if err := (sdk.Options{optAdmins: []string{"x"}, optDownload: true}).Check(m.Options); err != nil {
		t.Error(err)
	}
}

func TestProgress(t *testing.T) {
	src := &Source{}
	var s countSink
	fs := os.DirFS("testdata/rest")
	err := src.Read(context.Background(), &sdk.ReadRequest{Inputs: []sdk.Input{{Name: "rest", FS: fs}}}, &s)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat("testdata/rest/org/room.json")
	b, _ := os.Stat("testdata/rest/rooms.json")
	if want := a.Size() + b.Size(); s.done != want || s.total != want {
		t.Errorf("progress %d/%d, want %d/%d", s.done, s.total, want, want)
	}
	if s.messages != 10 {
		t.Errorf("%d messages", s.messages)
	}
}

// countSink counts records; it is what benchmarks and fuzzing run into.
type countSink struct {
	messages, records, skipped int
	done, total                int64
}

func (s *countSink) Emit(rec sdk.Record) error {
	s.records++
	if rec.RecordKind() == sdk.KindMessage {
		s.messages++
	}
	return nil
}
func (s *countSink) PutBlob(r io.Reader, ct string) (sdk.BlobRef, error) {
	return sdk.BlobRef{}, fmt.Errorf("no blobs")
}
func (s *countSink) Notice(n sdk.Notice) {
	if n.Skipped {
		s.skipped++
	}
}
func (s *countSink) Progress(done, total int64) { s.done, s.total = done, total }

// A merged dump whose every message names its room stands for no room of
// its own: no empty room named after the file.
func TestMergedDumpMakesNoFileRoom(t *testing.T) {
	res := adaptertest.RunSource(t, &Source{}, nil, "testdata/merged-only/all-named.json")
	var names []string
	for _, r := range res.Rooms {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"acme/one", "acme/two"}) {
		t.Errorf("rooms = %v", names)
	}
}

// A reply whose root the export lacks keeps its place as an ordinary
// message with the root's id in extra, and a warning says so; a reply
// whose root is present stays linked.
func TestReplyWithoutRoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "room.json")
	msgs := `[
 {"id":"5f0000000000000000000001","text":"root","sent":"2020-07-04T10:00:00.000Z","threadMessageCount":1,"fromUser":{"id":"u1","username":"ann","displayName":"Ann"}},
 {"id":"5f0000000000000000000002","text":"reply","sent":"2020-07-04T10:01:00.000Z","parentId":"5f0000000000000000000001","fromUser":{"id":"u2","username":"bob","displayName":"Bob"}},
 {"id":"5f0000000000000000000003","text":"orphan","sent":"2020-07-04T10:02:00.000Z","parentId":"5e0000000000000000000009","fromUser":{"id":"u2","username":"bob","displayName":"Bob"}}
]`
	if err := os.WriteFile(file, []byte(msgs), 0o644); err != nil {
		t.Fatal(err)
	}
	res := adaptertest.RunSource(t, &Source{}, nil, file)
	if m := find(t, res.Messages, "5f0000000000000000000002"); m.ThreadRoot != "5f0000000000000000000001" {
		t.Errorf("reply lost its root: %+v", m)
	}
	orphan := find(t, res.Messages, "5f0000000000000000000003")
	if orphan.ThreadRoot != "" || orphan.Extra["thread_root_missing"] != "5e0000000000000000000009" {
		t.Errorf("orphan reply = %+v", orphan)
	}
	warned := false
	for _, n := range res.Notices {
		if n.Code == "thread-root-missing" && n.Record == orphan.ID && strings.Contains(n.Message, "5e0000000000000000000009") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning about the missing root: %+v", res.Notices)
	}
	for _, err := range res.CheckReferences() {
		t.Error(err)
	}
}
