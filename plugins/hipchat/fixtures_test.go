package hipchat

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// The fixtures under testdata/fixtures are real files (or fragments) from
// public repositories; see testdata/fixtures/PROVENANCE.md.
const fx = "testdata/fixtures/"

func TestFixtureAPIRoomHistoryPage(t *testing.T) {
	// livesense-inc: a 329-item API v2 history page kept under
	// rooms/<id>/ as its tool saved it, with no users.json or rooms.json.
	res := adaptertest.RunSource(t, &Cloud{}, nil, fx+"livesense-inc_hipchat-exporter/spec/fixtures")
	if errs := res.CheckReferences(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(res.Messages) != 329 {
		t.Fatalf("%d messages, want the page's 329", len(res.Messages))
	}
	room := byID(t, res.Rooms, "1234567")
	if !room.MembersInferred || !slices.Contains(room.Members, "5309253") {
		t.Errorf("room: %+v", room)
	}
	var notes, files int
	for _, m := range res.Messages {
		if m.Kind == sdk.MessageNotification {
			notes++
			if m.Sender != "integration:Link" || m.OriginalFormat != "html" || strings.Contains(m.Body, "<p>") {
				t.Errorf("notification %s: sender %q format %q body %q", m.ID, m.Sender, m.OriginalFormat, m.Body)
			}
		}
		files += len(m.Attachments)
	}
	if notes != 11 || files != 6 || len(res.Attachments) != 6 {
		t.Errorf("%d notifications and %d files, want 11 and 6", notes, files)
	}
	a := byID(t, res.Attachments, "2f7a6a2a-f53c-4965-a664-58070d111adb/file")
	if a.Name != "test.txt" || a.Size != 41 || a.SHA256 != "" || !strings.HasPrefix(a.URL, "https://") {
		t.Errorf("API file: %+v", a)
	}
	u := byID(t, res.Users, "5309253")
	if u.MentionName != "micchie" || !u.Virtual {
		t.Errorf("user known from messages: %+v", u)
	}
	link := byID(t, res.Messages, "43efaa86-5d00-42b4-9784-3f0900f9e9b7")
	if want := "**[gsingers/slack-alias-plugin](https://github.com/gsingers/slack-alias-plugin)**"; !strings.HasPrefix(link.Body, want) {
		t.Errorf("link card body:\n%s\nwant prefix %s", link.Body, want)
	}
	// API mentions are objects; they resolve to users.
	withMentions := byID(t, res.Messages, "d340ecf0-3069-4936-8df4-73ccb6560feb")
	if len(withMentions.Mentions) != 1 || withMentions.Mentions[0].User != "5309253" {
		t.Errorf("mentions: %+v", withMentions.Mentions)
	}
}

func TestFixtureAPILoneFiles(t *testing.T) {
	// Lone files of the API: a history page (room from links.self), a user,
	// an emoticon list and a Stride one-to-one history.
	res := adaptertest.RunSource(t, &Cloud{}, nil,
		fx+"tbruyelle_hipchat-go/extracted/v2_room_history.json",
		fx+"tbruyelle_hipchat-go/extracted/v2_user_view.json",
		fx+"ravikiranj_hipchat-migration/emoticons/emoticons.json",
		fx+"zulip_issue_10855_stride/users_ORGID_USERUUID_history.json",
	)
	if errs := res.CheckReferences(); len(errs) > 0 {
		t.Fatal(errs)
	}
	u := byID(t, res.Users, "1")
	if u.Role != sdk.RoleAdmin || u.Email != "user@example.com" || u.AvatarURL == "" {
		t.Errorf("API user: %+v", u)
	}
	m := byID(t, res.Messages, "f058e668-c9c0-4cd5-9ca5-e2c42b06f3ed")
	if m.Room != "1" || m.Kind != sdk.MessageNotification || m.Sender != "integration:Test Testerson" || m.Body != "Hey there!" {
		t.Errorf("API notification: %+v", m)
	}
	// 204 custom ("group") emoticons plus the global ones without a
	// standard emoji.
	var group, global int
	for _, e := range res.Emoji {
		if e.Extra[extraEmojiType] == "global" {
			global++
			if _, mapped := builtinEmoticons[e.Shortcode]; mapped {
				t.Errorf("built-in (%s) has a standard emoji and is no custom emoji", e.Shortcode)
			}
		} else {
			group++
		}
		if e.ImageURL == "" {
			t.Errorf("emoji %s has no URL", e.ID)
		}
	}
	if group != 204 || global == 0 || global >= 213 {
		t.Errorf("%d group and %d global emoticons; want 204 and fewer than 213", group, global)
	}
	dm := byID(t, res.Messages, "3b0b1432-71b9-11e8-8b98-02420aff0003")
	if dm.Conversation == "" || dm.Body != "hi" || dm.Sender != "557058:851244af-4c17-4324-8336-dda754d60855" || len(dm.Attachments) != 0 {
		t.Errorf("Stride one-to-one message: %+v", dm)
	}
	c := byID(t, res.Conversations, dm.Conversation)
	if len(c.Participants) != 2 {
		t.Errorf("Stride conversation: %+v", c)
	}
}

func TestFixtureExportFragments(t *testing.T) {
	// hipmost's users.json and rooms.json (Cloud flavour) as one export.
	dir := t.TempDir()
	for _, f := range []string{"users.json", "rooms.json"} {
		b, err := os.ReadFile(fx + "orbitalimpact_hipmost/extracted_from_spec/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := adaptertest.RunSource(t, &Server{}, nil, dir)
	if errs := res.CheckReferences(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(res.Users) != 2 || len(res.Rooms) != 2 {
		t.Fatalf("%d users, %d rooms", len(res.Users), len(res.Rooms))
	}
	for _, u := range res.Users {
		if u.Role != sdk.RoleGuest || !u.Deleted || u.Email != "" {
			t.Errorf("hipmost user %+v: a deleted guest without e-mail", u)
		}
	}
	// The private room's members and owner are not in users.json: each
	// dropped reference is reported.
	if r := byID(t, res.Rooms, "206455"); !r.Private || len(r.Members) != 0 || r.Owner != "" {
		t.Errorf("room 206455: %+v", r)
	}
	if n := noticeCodes(res.Notices)["user-unknown"]; n != 8 {
		t.Errorf("%d user-unknown notices, want 8 (6 members and the owner of two rooms)", n)
	}

	// The Server flavour: members as objects with room_roles, room_admins.
	users := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(users, []byte(`[{"User": {"id": 1, "name": "heuri", "mention_name": "heuri", "email": "h@example.com"}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	res = adaptertest.RunSource(t, &Cloud{}, nil, fx+"orbitalimpact_hipmost/extracted_from_spec/rooms_room_roles_variant.json", users)
	r := byID(t, res.Rooms, "14")
	if r.Private || !slices.Equal(r.Members, []string{"1"}) || !slices.Equal(r.Admins, []string{"1"}) || r.Owner != "1" || r.Name != "Vertrieb" {
		t.Errorf("room_roles flavour: %+v", r)
	}

	// Zulip's emoticons.json sample, whose images are not there.
	dir = t.TempDir()
	b, err := os.ReadFile(fx + "zulip_zulip/extracted/emoticons.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"emoticons.json": string(b), "users.json": "[]", "rooms.json": "[]"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res = adaptertest.RunSource(t, &Server{}, nil, dir)
	if got := adaptertest.SortedIDs(res.Emoji); !slices.Equal(got, []string{"718017", "9875487"}) {
		t.Errorf("emoji %v", got)
	}
	if n := noticeCodes(res.Notices)["emoticon-image-missing"]; n != 2 {
		t.Errorf("%d emoticon-image-missing notices, want 2", n)
	}
}

func TestFixtureLegacyLoneFiles(t *testing.T) {
	// The larsreed fragments as lone files: lists and a day file.
	res := adaptertest.RunSource(t, &Cloud{}, nil,
		fx+"larsreed_hipchatparse/extracted_from_specs/rooms_ROOMNAME_2015-08-21.json",
		fx+"larsreed_hipchatparse/extracted_from_specs/users_list.json",
		fx+"larsreed_hipchatparse/extracted_from_specs/rooms_list.json",
	)
	if len(res.Users) < 3 || len(res.Rooms) != 4 || len(res.Messages) != 3 {
		t.Fatalf("%d users, %d rooms, %d messages", len(res.Users), len(res.Rooms), len(res.Messages))
	}
	if m := byID(t, res.Messages, "rooms_ROOMNAME_2015-08-21.json#1"); m.Sender != "1639001" || m.Body != ":)" {
		t.Errorf("legacy message: %+v", m)
	}
}
