package hipchat

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// readHistory returns the record type and id of every element of a
// written history file, in file order.
func readHistory(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]map[string]any
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []string
	for _, r := range recs {
		for typ, body := range r {
			out = append(out, typ+":"+body["id"].(string))
		}
	}
	return out
}

func TestTargetLayout(t *testing.T) {
	src := adaptertest.RunSource(t, &Server{}, nil, "testdata/server")
	out, notices := adaptertest.RunTarget(t, &Server{}, src.Dataset(), allOn)

	// Room history newest first, same-instant records in dataset order.
	got := readHistory(t, filepath.Join(out, "rooms/10/history.json"))
	want := []string{"NotificationMessage:m14", "GuestAccessMessage:m13", "ArchiveRoomMessage:m12", "UserMessage:m11b", "UserMessage:m11a",
		"UserMessage:m10", "UserMessage:m09", "UserMessage:m08", "UserMessage:m07", "TopicRoomMessage:m06", "NotificationMessage:m05",
		"UserMessage:m04", "UserMessage:m03", "UserMessage:m02", "UserMessage:m01"}
	if !slices.Equal(got, want) {
		t.Errorf("rooms/10/history.json:\n got %v\nwant %v", got, want)
	}
	// One-to-one messages are in both participants' files.
	for _, f := range []string{"users/1/history.json", "users/2/history.json"} {
		h := readHistory(t, filepath.Join(out, f))
		for _, id := range []string{"PrivateUserMessage:p01", "PrivateUserMessage:p02", "PrivateUserMessage:p03"} {
			if !slices.Contains(h, id) {
				t.Errorf("%s lacks %s: %v", f, id, h)
			}
		}
	}
	if h := readHistory(t, filepath.Join(out, "users/5/history.json")); !slices.Equal(h, []string{"PrivateUserMessage:p11", "PrivateUserMessage:p10"}) {
		t.Errorf("users/5/history.json: %v", h)
	}
	// Files in place, as the export had them.
	for name, content := range map[string]string{
		"rooms/10/files/AbC123/notes.txt": "meeting notes\n",
		"users/files/Qz9/plan.txt":        "the plan\n",
	} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != content {
			t.Errorf("%s: %q, %v", name, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "emoticons/yasss.png")); err != nil {
		t.Error(err)
	}
	// HipChat's timestamp form, microseconds included.
	raw, _ := os.ReadFile(filepath.Join(out, "users/1/history.json"))
	if !strings.Contains(string(raw), `"timestamp":"2018-08-10T09:00:00Z 000001"`) {
		t.Errorf("timestamps not in HipChat form:\n%s", raw)
	}
	// The room with guest access keeps it, without the old URL.
	var rooms []map[string]map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "rooms.json"))
	if err := json.Unmarshal(b, &rooms); err != nil {
		t.Fatal(err)
	}
	g := rooms[2]["Room"]
	if g["guest_access_url"] != nil || g["is_guest_accessible"] != true || g["name"] != "Guests welcome" {
		t.Errorf("guest room: %v", g)
	}
	if n := noticeCodes(notices)["guest-access-url"]; n != 1 {
		t.Errorf("%d guest-access-url notices, want 1", n)
	}
	// Made-up senders are not users of the export.
	users, _ := os.ReadFile(filepath.Join(out, "users.json"))
	for _, s := range []string{"integration:", "sender-0:", `"id":99`} {
		if strings.Contains(string(users), s) {
			t.Errorf("users.json contains %s", s)
		}
	}
	// Notifications keep their string sender and format.
	if !strings.Contains(string(readFile(t, out, "rooms/10/history.json")), `"message_format":"html","sender":"JIRA"`) {
		t.Error("notification lost its format or string sender")
	}
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTargetDefaultOptions(t *testing.T) {
	// Like `hipchat export` without --include_oto and --include_attachments.
	src := adaptertest.RunSource(t, &Server{}, nil, "testdata/server")
	out, notices := adaptertest.RunTarget(t, &Server{}, src.Dataset(), nil)
	files := adaptertest.ReadTree(t, out)
	for name := range files {
		if strings.HasPrefix(name, "users/") || strings.Contains(name, "/files/") {
			t.Errorf("%s written with one-to-one history and files off", name)
		}
	}
	codes := noticeCodes(notices)
	if codes["oto-omitted"] != 1 || codes["files-omitted"] != 1 {
		t.Errorf("notices %v: want one oto-omitted and one files-omitted", codes)
	}
	// Messages still name their file.
	if !strings.Contains(string(files["rooms/10/history.json"]), `"attachment_path":"AbC123/notes.txt"`) {
		t.Error("attachment metadata missing")
	}
	back := adaptertest.RunSource(t, &Server{}, nil, out)
	if back.Workspace.ExportOptions.OneToOneHistory || back.Workspace.ExportOptions.Files {
		t.Errorf("reading the output back: %+v", back.Workspace.ExportOptions)
	}
	if len(back.Messages) != 17 {
		t.Errorf("%d room messages back, want 17", len(back.Messages))
	}
}

// TestTargetForeignData writes a dataset that did not come from HipChat:
// string ids, emotes, custom emoji, group conversations, reactions, and
// secrets in Extra that must never reach the output.
func TestTargetForeignData(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2020, 1, 1, 0, 0, s, 0, time.UTC) }
	ds := adaptertest.NewDataset(&adaptertest.Result{
		Workspace: &sdk.Workspace{ID: "w", Name: "Acme", SourceSystem: "gitter", ExportOptions: sdk.ExportOptions{OneToOneHistory: true, Files: true}},
		Users: []*sdk.User{
			{ID: "5a1b", Username: "jane", Email: "jane@example.com", DisplayName: "Jane Roe", Role: sdk.RoleOwner,
				Extra: map[string]string{"password": "hunter2", "api_token": "tok-SECRET"}},
			{ID: "7", Username: "joe", Email: "joe@example.com", MentionName: "Joe", DisplayName: "Joe", Role: sdk.RoleMember},
			{ID: "bot1", DisplayName: "CI Bot", Role: sdk.RoleMember, Bot: true, Integration: true,
				Extra: map[string]string{"webhook_secret": "whsec-SECRET"}},
		},
		Rooms: []*sdk.Room{{ID: "room-a", Name: "lobby", Members: []string{"5a1b", "7"}, Admins: []string{"5a1b"}, Owner: "5a1b"}},
		Conversations: []*sdk.Conversation{
			{ID: "c1", Participants: []string{"5a1b", "7"}},
			{ID: "g1", Participants: []string{"5a1b", "7", "bot1"}, Group: true},
		},
		Emoji: []*sdk.Emoji{{ID: "e1", Shortcode: "shipit", Image: &sdk.BlobRef{SHA256: sum("img"), Size: 3, ContentType: "image/gif"}}},
		Messages: []*sdk.Message{
			{ID: "f1", Kind: sdk.MessageNormal, Room: "room-a", Sender: "5a1b", SentAt: at(1), Body: "hi @joe :shipit: :thumbs_up:",
				Mentions:  []sdk.Mention{{Kind: sdk.MentionUser, User: "7", Text: "joe"}},
				Reactions: []sdk.Reaction{{Emoji: "heart", Users: []string{"7"}}}},
			{ID: "f2", Kind: sdk.MessageEmote, Room: "room-a", Sender: "7", SentAt: at(2), Body: "waves", Attachments: []string{"a1"}},
			{ID: "f3", Kind: sdk.MessageNotification, Room: "room-a", Sender: "bot1", SentAt: at(3), Body: "build **green**"},
			{ID: "f4", Kind: sdk.MessageNormal, Conversation: "c1", Sender: "7", SentAt: at(4), Body: "psst"},
			{ID: "f5", Kind: sdk.MessageNormal, Conversation: "g1", Sender: "7", SentAt: at(5), Body: "all of us"},
		},
		Attachments: []*sdk.Attachment{{ID: "a1", Message: "f2", Name: "../../etc/passwd", Size: 4, SHA256: sum("data")}},
		Blobs:       map[string][]byte{sum("img"): []byte("img"), sum("data"): []byte("data")},
	})
	out, notices := adaptertest.RunTarget(t, &Server{}, ds, allOn)
	files := adaptertest.ReadTree(t, out)
	for name, b := range files {
		for _, secret := range []string{"hunter2", "tok-SECRET", "whsec-SECRET"} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s contains the secret %q", name, secret)
			}
		}
	}
	codes := noticeCodes(notices)
	if codes["group-dm-unsupported"] != 1 || codes["reactions-dropped"] != 1 {
		t.Errorf("notices %v", codes)
	}
	back := adaptertest.RunSource(t, &Server{}, nil, out)
	if errs := back.CheckReferences(); len(errs) > 0 {
		t.Fatal(errs)
	}
	// "5a1b" became a number after Joe's 7.
	jane := byID(t, back.Users, "8")
	if jane.Email != "jane@example.com" || jane.Role != sdk.RoleOwner || jane.MentionName == "" {
		t.Errorf("jane: %+v", jane)
	}
	f1 := byID(t, back.Messages, "f1")
	if f1.Body != "hi @Joe :shipit: :thumbs_up:" || f1.Original != "hi @Joe (shipit) (thumbsup)" || len(f1.Mentions) != 1 || f1.Mentions[0].User != "7" {
		t.Errorf("f1 back: %+v", f1)
	}
	f2 := byID(t, back.Messages, "f2")
	if f2.Kind != sdk.MessageEmote || f2.Body != "waves" || len(f2.Attachments) != 1 {
		t.Errorf("f2 back: %+v", f2)
	}
	a := byID(t, back.Attachments, f2.Attachments[0])
	if string(back.Blobs[a.SHA256]) != "data" || !regexp.MustCompile(`^rooms/1/files/[0-9a-f]{16}/\.\._\.\._etc_passwd$`).MatchString(a.Path) {
		t.Errorf("attachment back: %+v", a)
	}
	f3 := byID(t, back.Messages, "f3")
	if f3.Kind != sdk.MessageNotification || f3.Sender != "integration:CI Bot" || f3.Body != "build **green**" {
		t.Errorf("f3 back: %+v", f3)
	}
	if f4 := byID(t, back.Messages, "f4"); f4.Conversation != "dm:7:8" {
		t.Errorf("f4 back: %+v", f4)
	}
	if len(back.Messages) != 4 {
		t.Errorf("%d messages back; the group message should be the only one left out", len(back.Messages))
	}
	if e := byID(t, back.Emoji, "1"); e.Shortcode != "shipit" || e.Image == nil || !strings.HasSuffix(e.Extra[extraPath], ".gif") {
		t.Errorf("emoji back: %+v", e)
	}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestTargetKeepsHipChatTextAsIs(t *testing.T) {
	ds := adaptertest.NewDataset(&adaptertest.Result{
		Workspace: &sdk.Workspace{ID: "hipchat", Name: "HipChat", SourceSystem: NameServer},
		Users:     []*sdk.User{{ID: "1", DisplayName: "A", MentionName: "A", Role: sdk.RoleMember}},
		Rooms:     []*sdk.Room{{ID: "10", Name: "R"}},
		Messages: []*sdk.Message{{ID: "x", Kind: sdk.MessageNormal, Room: "10", Sender: "1",
			SentAt: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), Body: "typed :beer: literally"}},
	})
	out, _ := adaptertest.RunTarget(t, &Server{}, ds, nil)
	if b := readFile(t, out, "rooms/10/history.json"); !strings.Contains(string(b), `"message":"typed :beer: literally"`) {
		t.Errorf("text changed:\n%s", b)
	}
	back := adaptertest.RunSource(t, &Server{}, nil, out)
	if m := byID(t, back.Messages, "x"); m.Body != "typed :beer: literally" || m.Original != "" {
		t.Errorf("read back: %+v", m)
	}
}
