package hipchat

import (
	"bytes"
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

func byID[T sdk.Record](t *testing.T, recs []T, id string) T {
	t.Helper()
	for _, r := range recs {
		if r.RecordID() == id {
			return r
		}
	}
	var zero T
	t.Fatalf("no %T with id %q among %v", zero, id, adaptertest.SortedIDs(recs))
	return zero
}

func noticeCodes(ns []sdk.Notice) map[string]int {
	out := map[string]int{}
	for _, n := range ns {
		out[n.Code]++
	}
	return out
}

func TestServerExport(t *testing.T) {
	res := adaptertest.RunSource(t, &Server{}, nil, "testdata/server")
	if errs := res.CheckReferences(); len(errs) > 0 {
		t.Fatalf("dangling references: %v", errs)
	}

	t.Run("workspace", func(t *testing.T) {
		w := res.Workspace
		if w.SourceSystem != NameServer || !w.ExportOptions.OneToOneHistory || !w.ExportOptions.Files || !w.ExportOptions.Avatars {
			t.Errorf("workspace %+v: want source hipchat-server with one-to-one history, files and avatars exported", w)
		}
	})

	t.Run("users", func(t *testing.T) {
		ada := byID(t, res.Users, "1")
		if ada.Role != sdk.RoleAdmin || ada.Email != "ada@example.com" || ada.Username != "ada@example.com" || ada.MentionName != "Ada" || ada.TimeZone != "Europe/London" {
			t.Errorf("user 1: %+v", ada)
		}
		if ada.Avatar == nil || !bytes.HasPrefix(res.Blobs[ada.Avatar.SHA256], []byte("\x89PNG")) || ada.Avatar.ContentType != "image/png" {
			t.Errorf("user 1: the base64 avatar (with line breaks) should decode to a PNG blob, got %+v", ada.Avatar)
		}
		gus := byID(t, res.Users, "3")
		if gus.Role != sdk.RoleGuest || gus.Email != "" || !gus.Deleted {
			t.Errorf("user 3 (deleted guest without e-mail): %+v", gus)
		}
		hal := byID(t, res.Users, "sender-0:hal_bot")
		if !hal.Virtual || hal.DisplayName != "hal_bot" || hal.Extra[extraPlaceholder] != "id-0" {
			t.Errorf("sender id 0: %+v", hal)
		}
		ghost := byID(t, res.Users, "99")
		if !ghost.Virtual || ghost.MentionName != "WhoKnows" || ghost.Extra[extraPlaceholder] != "unknown-id" {
			t.Errorf("unknown sender id 99: %+v", ghost)
		}
		jira := byID(t, res.Users, "integration:JIRA")
		if !jira.Integration || !jira.Bot || jira.DisplayName != "JIRA" {
			t.Errorf("integration: %+v", jira)
		}
	})

	t.Run("rooms", func(t *testing.T) {
		gen := byID(t, res.Rooms, "10")
		// Ada is listed (room_roles flavour); Bob only wrote there and
		// was mentioned; placeholders and integrations are not members.
		if gen.Private || !gen.MembersInferred || !slices.Equal(gen.Members, []string{"1", "2"}) || !slices.Equal(gen.Admins, []string{"1"}) || gen.Owner != "1" {
			t.Errorf("room 10: %+v", gen)
		}
		sec := byID(t, res.Rooms, "11")
		if !sec.Private || sec.MembersInferred || !slices.Equal(sec.Members, []string{"1", "2"}) || sec.Name != "Secret: plans" {
			t.Errorf("room 11: %+v", sec)
		}
		guests := byID(t, res.Rooms, "12")
		if !guests.GuestAccess || !guests.Archived || len(guests.Members) != 0 {
			t.Errorf("room 12: %+v", guests)
		}
		codes := noticeCodes(res.Notices)
		if codes["members-inferred"] != 2 {
			t.Errorf("want a members-inferred warning for each of the 2 public rooms, got %d", codes["members-inferred"])
		}
	})

	t.Run("messages", func(t *testing.T) {
		cases := []struct {
			id, sender string
			kind       sdk.MessageKind
			body       string
		}{
			{"m01", "1", sdk.MessageNormal, "hello @Bob and @all :yasss: :thumbs_up: (unknownthing)"},
			{"m02", "2", sdk.MessageNormal, "````\nfunc main() {\n\tprintln(\"```\")\n}\n````"},
			{"m03", "2", sdk.MessageNormal, "> to be\n> or not"},
			{"m04", "1", sdk.MessageEmote, "waves :beer:"},
			{"m05", "integration:JIRA", sdk.MessageNotification, "**ABC-1** created by [Ada](https://jira.example.com/browse/ABC-1)\n- one\n- two & three"},
			{"m06", "1", sdk.MessageTopicChange, "All things, and more"},
			{"m09", "sender-0:hal_bot", sdk.MessageNormal, "I'm sorry Dave"},
			{"m10", "99", sdk.MessageNormal, "ghost writing"},
			{"m12", "1", sdk.MessageSystem, "archived the room"},
			{"m13", "integration:Guest Gus", sdk.MessageSystem, "guest access turned on"},
			{"m14", "integration:Jenkins", sdk.MessageNotification, "Build #5 passed"},
			{"p03", "1", sdk.MessageEmote, "nods"},
		}
		for _, c := range cases {
			m := byID(t, res.Messages, c.id)
			if m.Sender != c.sender || m.Kind != c.kind || m.Body != c.body {
				t.Errorf("%s: got sender %q kind %q body %q; want %q %q %q", c.id, m.Sender, m.Kind, m.Body, c.sender, c.kind, c.body)
			}
		}
		m01 := byID(t, res.Messages, "m01")
		wantMentions := []sdk.Mention{{Kind: sdk.MentionUser, User: "2", Text: "Bob"}, {Kind: sdk.MentionAll, Text: "all"}}
		if !slices.Equal(m01.Mentions, wantMentions) || m01.Original != "hello @Bob and @all (yasss) (thumbsup) (unknownthing)" || m01.OriginalFormat != "text" {
			t.Errorf("m01: mentions %+v original %q", m01.Mentions, m01.Original)
		}
		m05 := byID(t, res.Messages, "m05")
		if m05.OriginalFormat != "html" || !strings.HasPrefix(m05.Original, "<b>ABC-1</b>") || m05.SenderName != "JIRA" || m05.Extra[extraColor] != "yellow" {
			t.Errorf("m05 keeps its HTML, sender name and colour: %+v", m05)
		}
		if m12 := byID(t, res.Messages, "m12"); m12.Extra[extraType] != typeArchive || !m12.SentAt.Equal(time.Date(2018, 8, 8, 14, 0, 12, 5e8, time.UTC)) {
			t.Errorf("m12: %+v", m12)
		}
		// Microseconds survive.
		if m := byID(t, res.Messages, "p01"); m.SentAt.Nanosecond() != 1000 {
			t.Errorf("p01 sent at %v: want 1 µs past the second", m.SentAt)
		}
		// Same-instant messages keep the file's order.
		var ties []string
		for _, m := range res.Messages {
			if strings.HasPrefix(m.ID, "m11") {
				ties = append(ties, m.ID)
			}
		}
		if !slices.Equal(ties, []string{"m11b", "m11a"}) {
			t.Errorf("same-instant messages: %v, want the file's order m11b, m11a", ties)
		}
		// Messages come out chronological although the file is newest first.
		if !slices.IsSortedFunc(res.Messages, func(a, b *sdk.Message) int { return a.SentAt.Compare(b.SentAt) }) {
			t.Error("messages are not in time order")
		}
	})

	t.Run("one-to-one", func(t *testing.T) {
		// p01–p03 are in both users/1 and users/2; p10, p11 only in users/2
		// because deleted user 5 has no file; p20 is a note to self.
		var got []string
		for _, m := range res.Messages {
			if m.Conversation != "" {
				got = append(got, m.Conversation+"/"+m.ID)
			}
		}
		want := []string{"dm:1/p20", "dm:2:5/p10", "dm:2:5/p11", "dm:1:2/p01", "dm:1:2/p02", "dm:1:2/p03"}
		if !slices.Equal(got, want) {
			t.Errorf("one-to-one messages:\n got %v\nwant %v", got, want)
		}
		if c := byID(t, res.Conversations, "dm:1"); !slices.Equal(c.Participants, []string{"1"}) {
			t.Errorf("note to self: %+v", c)
		}
	})

	t.Run("attachments", func(t *testing.T) {
		a := byID(t, res.Attachments, "m07/file")
		if string(res.Blobs[a.SHA256]) != "meeting notes\n" || a.Size != 14 || a.Path != "rooms/10/files/AbC123/notes.txt" || a.ContentType != "text/plain" || a.Uploader != "1" {
			t.Errorf("room file: %+v (the export said size 999; the file's own size wins)", a)
		}
		gone := byID(t, res.Attachments, "m08/file")
		if gone.SHA256 != "" || gone.URL == "" || gone.Size != 1234 {
			t.Errorf("missing file keeps its URL only: %+v", gone)
		}
		dm := byID(t, res.Attachments, "p02/file")
		if string(res.Blobs[dm.SHA256]) != "the plan\n" || dm.Path != "users/files/Qz9/plan.txt" {
			t.Errorf("one-to-one file: %+v", dm)
		}
		var missing bool
		for _, n := range res.Notices {
			if n.Code == "attachment-missing" && n.Record == "m08/file" && strings.Contains(n.Message, "rooms/10/files/ZZZ/gone.pdf") {
				missing = true
			}
		}
		if !missing {
			t.Error("no attachment-missing notice naming rooms/10/files/ZZZ/gone.pdf")
		}
	})

	t.Run("emoji", func(t *testing.T) {
		e := byID(t, res.Emoji, "9875487")
		if e.Shortcode != "yasss" || e.Image == nil || e.Image.ContentType != "image/png" {
			t.Errorf("custom emoticon: %+v", e)
		}
	})

	t.Run("notices", func(t *testing.T) {
		codes := noticeCodes(res.Notices)
		for _, c := range []string{"sender-unknown", "mention-unknown", "integration-user", "attachment-missing"} {
			if codes[c] == 0 {
				t.Errorf("no %q notice; got %v", c, codes)
			}
		}
	})
}

// copyTree copies a directory, for variations of the sample export.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWrapperDirectory(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "testdata/server", filepath.Join(dir, "data"))
	res := adaptertest.RunSource(t, &Server{}, nil, dir)
	if len(res.Messages) != 23 || len(res.Attachments) != 3 {
		t.Fatalf("export inside data/: %d messages, %d attachments; want 23 and 3", len(res.Messages), len(res.Attachments))
	}
	if a := byID(t, res.Attachments, "m07/file"); a.Path != "rooms/10/files/AbC123/notes.txt" || a.SHA256 == "" {
		t.Errorf("paths are relative to the export, not the wrapper: %+v", a)
	}
}

func TestExportWithoutOptions(t *testing.T) {
	// An export made without one-to-one history, files or emoticons.
	dir := t.TempDir()
	copyTree(t, "testdata/server", dir)
	for _, p := range []string{"users", "rooms/10/files", "emoticons", "emoticons.json"} {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	res := adaptertest.RunSource(t, &Server{}, nil, dir)
	w := res.Workspace.ExportOptions
	if w.OneToOneHistory || w.Files {
		t.Errorf("export options %+v: nothing says one-to-one history or files were exported", w)
	}
	codes := noticeCodes(res.Notices)
	if codes["files-not-exported"] != 1 || codes["oto-not-exported"] != 1 || codes["emoticons-absent"] != 1 || codes["attachment-missing"] != 0 {
		t.Errorf("notices %v: want one files-not-exported, one oto-not-exported, one emoticons-absent and no per-file warnings", codes)
	}
	// (yasss) is no longer a known emoticon; (thumbsup) is a built-in.
	if m := byID(t, res.Messages, "m01"); m.Body != "hello @Bob and @all (yasss) :thumbs_up: (unknownthing)" {
		t.Errorf("m01 body %q", m.Body)
	}
	for _, a := range res.Attachments {
		if a.SHA256 != "" || a.URL == "" {
			t.Errorf("attachment %s: want URL only, got %+v", a.ID, a)
		}
	}
}

func TestEmoticonsHcMigrateForm(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "testdata/server", dir)
	form := `{"Emoticons": [{"path": "emoticons/yasss.png", "shortcut": "yasss", "id": 7}]}`
	if err := os.WriteFile(filepath.Join(dir, "emoticons.json"), []byte(form), 0o644); err != nil {
		t.Fatal(err)
	}
	res := adaptertest.RunSource(t, &Server{}, nil, dir)
	if e := byID(t, res.Emoji, "7"); e.Shortcode != "yasss" || e.Image == nil {
		t.Errorf("hc-migrate emoticon: %+v", e)
	}
	if m := byID(t, res.Messages, "s01"); m.Body != "secret :yasss:" {
		t.Errorf("s01 body %q", m.Body)
	}
}

func TestLowerIDFileMissing(t *testing.T) {
	// Without users/1/history.json the one-to-one messages of 1 and 2 come
	// from user 2's copy, each once.
	dir := t.TempDir()
	copyTree(t, "testdata/server", dir)
	if err := os.RemoveAll(filepath.Join(dir, "users", "1")); err != nil {
		t.Fatal(err)
	}
	res := adaptertest.RunSource(t, &Server{}, nil, dir)
	var got []string
	for _, m := range res.Messages {
		if m.Conversation != "" {
			got = append(got, m.ID)
		}
	}
	if want := []string{"p10", "p11", "p01", "p02", "p03"}; !slices.Equal(got, want) {
		t.Errorf("one-to-one messages %v, want %v (p20 lived only in user 1's file)", got, want)
	}
}

func TestLegacyCloudExport(t *testing.T) {
	res := adaptertest.RunSource(t, &Cloud{}, nil, "testdata/cloud-legacy")
	if errs := res.CheckReferences(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if u := byID(t, res.Users, "1537413"); u.Role != sdk.RoleAdmin || u.Email != "lars.reed@mesan.no" || u.AvatarURL == "" || u.CreatedAt == nil || u.CreatedAt.Unix() != 1418644198 {
		t.Errorf("legacy user: %+v", u)
	}
	old := byID(t, res.Rooms, "1511748")
	if !old.Private || old.Name != "Mesan: Old" || !old.MembersInferred {
		t.Errorf("legacy room: %+v", old)
	}
	// The "Mesan: Old" history lives in the folder "Mesan_ Old"; its senders
	// include two users list.json lacks.
	var inOld int
	for _, m := range res.Messages {
		if m.Room == "1511748" {
			inOld++
		}
	}
	if inOld != 3 {
		t.Errorf("%d messages in Mesan: Old, want 3", inOld)
	}
	if !slices.Contains(old.Members, "1537413") || !slices.Contains(old.Members, "1639001") {
		t.Errorf("inferred members %v should include the known senders", old.Members)
	}
	jira := byID(t, res.Messages, "1055412:2015-08-22:1")
	if jira.Kind != sdk.MessageNotification || jira.Sender != "integration:JIRA" || jira.Body != "**MES-1** resolved" {
		t.Errorf("legacy api sender: %+v", jira)
	}
	shot := byID(t, res.Attachments, "1055412:2015-08-22:2/file")
	if shot.SHA256 != "" || !strings.HasSuffix(shot.URL, "shot.png") {
		t.Errorf("legacy file: %+v", shot)
	}
	if m := byID(t, res.Messages, "1055412:2015-08-22:0"); m.Body != "morning :coffee: @oysteins" {
		t.Errorf("legacy body %q", m.Body)
	}
	unl := byID(t, res.Rooms, "legacy:Unlisted")
	if unl.Name != "Unlisted" {
		t.Errorf("unlisted room folder: %+v", unl)
	}
	if res.Workspace.ExportOptions.Avatars || res.Workspace.ExportOptions.OneToOneHistory {
		t.Errorf("legacy export options: %+v", res.Workspace.ExportOptions)
	}

	_, err := adaptertest.TryRunSource(context.Background(), &Server{}, nil, "testdata/cloud-legacy")
	if err == nil || !strings.Contains(err.Error(), "--from hipchat-cloud") {
		t.Errorf("hipchat-server on a legacy export: %v, want advice to use hipchat-cloud", err)
	}
}
