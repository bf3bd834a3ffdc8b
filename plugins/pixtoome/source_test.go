package pixtoome

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// TestRoundTrip writes the rich dataset, reads the output back with the
// source and compares the canonical records, field by field, for every
// field the format carries. Ids change (the format holds integers), so
// records are matched by e-mail, room name and message order.
func TestRoundTrip(t *testing.T) {
	for _, profile := range []string{"gitter-final", "latest"} {
		t.Run(profile, func(t *testing.T) {
			in := richResult("hipchat-server")
			opts := sdk.Options{"profile": profile}
			if profile == "latest" {
				opts = latestOptions(t)
			}
			dir, _ := adaptertest.RunTarget(t, &Adapter{Now: fixedNow}, in.Dataset(), opts)
			out := adaptertest.RunSource(t, &Adapter{}, nil, dir)
			for _, err := range out.CheckReferences() {
				t.Error(err)
			}
			compareRoundTrip(t, in, out)

			// Written again, the records still make a valid directory.
			dir2, _ := adaptertest.RunTarget(t, &Adapter{Now: fixedNow}, out.Dataset(), opts)
			mustCheck(t, dir2, profile)
			again := adaptertest.RunSource(t, &Adapter{}, nil, dir2)
			if len(again.Messages) != len(out.Messages) {
				t.Fatalf("second round trip: %d messages, want %d", len(again.Messages), len(out.Messages))
			}
			for i, m := range out.Messages {
				if g := again.Messages[i]; g.Body != m.Body || g.Topic != m.Topic || g.Kind != m.Kind {
					t.Errorf("second round trip changed message %d: %q/%q -> %q/%q", i, m.Topic, m.Body, g.Topic, g.Body)
				}
			}
		})
	}
}

func compareRoundTrip(t *testing.T, in, out *adaptertest.Result) {
	t.Helper()
	// Users: matched by e-mail (placeholders for those without one).
	inByID := map[string]*sdk.User{}
	for _, u := range in.Users {
		inByID[u.ID] = u
	}
	email := func(u *sdk.User) string {
		if u.Email != "" {
			return u.Email
		}
		local := u.Username
		if u.Bot {
			local += "-bot"
		}
		return local + "@example.com"
	}
	outByEmail := map[string]*sdk.User{}
	for _, u := range out.Users {
		outByEmail[u.Email] = u
	}
	userMap := map[string]string{} // in id -> out id
	for _, u := range in.Users {
		g := outByEmail[email(u)]
		if g == nil {
			t.Fatalf("user %s (%s) is missing after the round trip", u.ID, email(u))
		}
		userMap[u.ID] = g.ID
		if g.DisplayName != u.DisplayName || g.Username != u.Username || g.Role != u.Role || g.Bot != u.Bot || g.TimeZone != u.TimeZone {
			t.Errorf("user %s: %+v became %+v", u.ID, u, g)
		}
		if g.Deactivated != (u.Deleted || u.Deactivated) {
			t.Errorf("user %s: deactivated %v, want %v", u.ID, g.Deactivated, u.Deleted)
		}
		if (u.Avatar == nil) != (g.Avatar == nil) || (u.Avatar != nil && u.Avatar.SHA256 != g.Avatar.SHA256) {
			t.Errorf("user %s: avatar %v became %v", u.ID, u.Avatar, g.Avatar)
		}
	}
	mapUsers := func(ids []string) []string {
		var o []string
		for _, id := range ids {
			o = append(o, userMap[id])
		}
		slices.Sort(o)
		return o
	}
	sorted := func(ids []string) []string { c := slices.Clone(ids); slices.Sort(c); return c }
	// Rooms: matched by name.
	outRooms := map[string]*sdk.Room{}
	for _, r := range out.Rooms {
		outRooms[r.Name] = r
	}
	roomMap := map[string]string{}
	for _, r := range in.Rooms {
		g := outRooms[r.Name]
		if g == nil {
			t.Fatalf("room %q is missing", r.Name)
		}
		roomMap[r.ID] = g.ID
		if g.Private != r.Private || g.Archived != r.Archived || g.Description != strings.Join(strings.Fields(r.Description), " ") {
			t.Errorf("room %q: %+v became %+v", r.Name, r, g)
		}
		if !slices.Equal(sorted(g.Members), mapUsers(r.Members)) {
			t.Errorf("room %q members %v, want %v", r.Name, sorted(g.Members), mapUsers(r.Members))
		}
	}
	// Conversations: matched by participants.
	convMap := map[string]string{}
	for _, c := range in.Conversations {
		want := mapUsers(c.Participants)
		i := slices.IndexFunc(out.Conversations, func(g *sdk.Conversation) bool { return slices.Equal(sorted(g.Participants), want) })
		if i < 0 {
			t.Fatalf("conversation %s %v is missing", c.ID, want)
		}
		convMap[c.ID] = out.Conversations[i].ID
		if out.Conversations[i].Group != (len(c.Participants) > 2) {
			t.Errorf("conversation %s: group %v", c.ID, out.Conversations[i].Group)
		}
	}
	// Emoji.
	if len(out.Emoji) != 1 || out.Emoji[0].Shortcode != "party_parrot" || out.Emoji[0].Image.SHA256 != in.Emoji[0].Image.SHA256 || out.Emoji[0].Creator != userMap["u1"] {
		t.Errorf("emoji %+v", out.Emoji)
	}
	// Messages, in order.
	if len(out.Messages) != len(in.Messages) {
		t.Fatalf("%d messages, want %d", len(out.Messages), len(in.Messages))
	}
	outAtt := map[string]*sdk.Attachment{}
	for _, a := range out.Attachments {
		outAtt[a.ID] = a
	}
	threadTopic := map[string]string{}
	for i, m := range in.Messages {
		g := out.Messages[i]
		if !g.SentAt.Equal(m.SentAt) || g.Sender != userMap[m.Sender] {
			t.Fatalf("message %s: sent %v by %s, want %v by %s", m.ID, g.SentAt, g.Sender, m.SentAt, userMap[m.Sender])
		}
		if m.Room != "" && g.Room != roomMap[m.Room] || m.Conversation != "" && g.Conversation != convMap[m.Conversation] {
			t.Errorf("message %s: in %q/%q", m.ID, g.Room, g.Conversation)
		}
		if g.Kind != m.Kind && !(m.Kind == sdk.MessageNotification) {
			t.Errorf("message %s: kind %s, want %s", m.ID, g.Kind, m.Kind)
		}
		if g.OriginalFormat != "pixtoome-markdown" || g.Original == "" {
			t.Errorf("message %s: original %q/%q", m.ID, g.OriginalFormat, g.Original)
		}
		// Text: the same, except where the format rewrote it (mentions
		// into @**Name**, cut at the length limit).
		switch m.ID {
		case "m1":
			if g.Body != "Hello @**Bob Jones** and @**all**!" {
				t.Errorf("m1 body %q", g.Body)
			}
			want := []sdk.Mention{{Kind: sdk.MentionUser, User: userMap["u2"], Text: "**Bob Jones**"}, {Kind: sdk.MentionAll, Text: "**all**"}}
			if !slices.Equal(g.Mentions, want) {
				t.Errorf("m1 mentions %+v, want %+v", g.Mentions, want)
			}
		case "m14":
			if len(g.Mentions) != 1 || g.Mentions[0].User != userMap["u7"] {
				t.Errorf("m14 mentions %+v", g.Mentions)
			}
		case "m6":
			// An attachment whose content was not exported stays a link.
			if g.Body != m.Body+"\n[remote.pdf](https://files.example.org/remote.pdf)" {
				t.Errorf("m6 body %q", g.Body)
			}
		default:
			if g.Body != m.Body {
				t.Errorf("message %s: body %q, want %q", m.ID, g.Body, m.Body)
			}
		}
		// Topics: threads become topics named from their root.
		if m.Room != "" {
			root := m.ThreadRoot
			if root == "" {
				root = m.ID
			}
			if want, ok := threadTopic[root]; ok && g.Topic != want {
				t.Errorf("message %s: topic %q, want its thread's %q", m.ID, g.Topic, want)
			}
			threadTopic[root] = g.Topic
			if g.Topic == "" {
				t.Errorf("message %s: no topic", m.ID)
			}
		}
		if (m.EditedAt == nil) != (g.EditedAt == nil) || len(g.Edits) != len(m.Edits) {
			t.Errorf("message %s: edits %v/%v, want %v/%v", m.ID, g.EditedAt, g.Edits, m.EditedAt, m.Edits)
		}
		for j, e := range m.Edits {
			if j < len(g.Edits) && (g.Edits[j].Body != e.Body || !g.Edits[j].EditedAt.Equal(e.EditedAt.Truncate(time.Second)) || g.Edits[j].Editor != userMap[e.Editor]) {
				t.Errorf("message %s edit %d: %+v, want %+v", m.ID, j, g.Edits[j], e)
			}
		}
		// Reactions survive when Pixtoome knows the emoji.
		var wantR []sdk.Reaction
		for _, r := range m.Reactions {
			if _, ok := emojiCode(r.Emoji); ok || r.Custom {
				wantR = append(wantR, sdk.Reaction{Emoji: r.Emoji, Custom: r.Custom, Users: mapUsers(r.Users)})
			}
		}
		if len(g.Reactions) != len(wantR) {
			t.Errorf("message %s: reactions %+v, want %+v", m.ID, g.Reactions, wantR)
		}
		for j := range min(len(wantR), len(g.Reactions)) {
			gr := g.Reactions[j]
			if gr.Emoji != wantR[j].Emoji || gr.Custom != wantR[j].Custom || !slices.Equal(sorted(gr.Users), wantR[j].Users) {
				t.Errorf("message %s reaction %d: %+v, want %+v", m.ID, j, gr, wantR[j])
			}
		}
		// Attachments whose content was exported come back with it.
		var wantA []*sdk.Attachment
		for _, id := range m.Attachments {
			for _, a := range in.Attachments {
				if a.ID == id && a.SHA256 != "" {
					wantA = append(wantA, a)
				}
			}
		}
		if len(g.Attachments) != len(wantA) {
			t.Fatalf("message %s: attachments %v, want %d", m.ID, g.Attachments, len(wantA))
		}
		for j, a := range wantA {
			ga := outAtt[g.Attachments[j]]
			if ga == nil || ga.Name != a.Name || ga.SHA256 != a.SHA256 || ga.Size != a.Size || ga.ContentType != a.ContentType || ga.Uploader != userMap[a.Uploader] || ga.Message != g.ID {
				t.Errorf("attachment %s: %+v, want %+v", a.ID, ga, a)
			}
		}
	}
}

// TestSourceFixtures reads the message files of the server's own test
// fixtures (copied in testdata/fixtures) through the source, beside a
// realm.json written for them. Their rows hold only ids and dates, so
// each is reported as not importable, and none stops the run.
func TestSourceFixtures(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"messages-000001.json", "messages-000002.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	realm := `{"zerver_realm":[{"id":1,"name":"Fixture","string_id":"fixture"}],"zerver_userprofile":[],"zerver_stream":[],"zerver_recipient":[],"zerver_subscription":[]}`
	os.WriteFile(filepath.Join(dir, "realm.json"), []byte(realm), 0o644)
	res := adaptertest.RunSource(t, &Adapter{}, nil, dir)
	if res.Workspace.ID != "fixture" || len(res.Messages) != 0 {
		t.Errorf("workspace %+v, %d messages", res.Workspace, len(res.Messages))
	}
	var skipped []string
	for _, n := range res.Notices {
		if n.Skipped && n.Kind == sdk.KindMessage {
			skipped = append(skipped, n.Record)
		}
	}
	if !slices.Equal(skipped, []string{"555", "888", "999"}) {
		t.Errorf("skipped %v, want the three fixture messages in file order", skipped)
	}

	// The rows themselves, as the streaming reader sees them.
	var got []string
	for _, name := range []string{"messages-000001.json", "messages-000002.json"} {
		f, _ := os.Open(filepath.Join("testdata", "fixtures", name))
		err := readMessageFile(f, func(m *zMessage) error {
			got = append(got, epoch(m.DateSent).Format(time.RFC3339))
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"2014-08-25T20:55:03Z", "2014-08-25T20:55:01Z", "2014-08-25T20:55:02Z"}
	if !slices.Equal(got, want) {
		t.Errorf("dates %v, want %v", got, want)
	}

	ms, err := ParseMigrationStatus(mustRead(t, "testdata/fixtures/migration_status.json"))
	if err != nil || ms.Major() != "10" || len(ms.MigrationsByApp["zerver"]) != 4 {
		t.Errorf("migration status: %+v %v", ms, err)
	}
}

func mustRead(t *testing.T, name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSourceErrors(t *testing.T) {
	cases := map[string]string{
		"no realm.json":    "",
		"realm not object": "[1,2]",
		"no realm row":     `{"zerver_realm":[]}`,
		"bad user row":     `{"zerver_realm":[{"id":1}],"zerver_userprofile":[{"id":"x"}]}`,
		"truncated":        `{"zerver_realm":[{"id":1}`,
		"table not a list": `{"zerver_realm":{"id":1}}`,
	}
	for name, realm := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if realm != "" {
				os.WriteFile(filepath.Join(dir, "realm.json"), []byte(realm), 0o644)
			}
			_, err := adaptertest.TryRunSource(context.Background(), &Adapter{}, nil, dir)
			if err == nil || !strings.Contains(err.Error(), "realm.json") {
				t.Errorf("error %v, want one naming realm.json", err)
			}
		})
	}
	// A broken messages file is named in the error.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "realm.json"), []byte(`{"zerver_realm":[{"id":1}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "messages-000001.json"), []byte(`{"zerver_message":[{"id":1,"sender":"x"}]}`), 0o644)
	_, err := adaptertest.TryRunSource(context.Background(), &Adapter{}, nil, dir)
	if err == nil || !strings.Contains(err.Error(), "messages-000001.json") || !strings.Contains(err.Error(), "row 0") {
		t.Errorf("error %v", err)
	}
}
