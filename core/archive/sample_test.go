package archive

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

var update = flag.Bool("update", false, "rewrite testdata/sample-archive at the repository root")

// sampleDir is the committed sample archive that the README's first command
// runs on.
const sampleDir = "../../testdata/sample-archive"

var sampleAvatar = []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48"><circle cx="24" cy="24" r="22" fill="#4a90d9"/><text x="24" y="31" font-size="18" text-anchor="middle" fill="#fff">AL</text></svg>
`)

var sampleEmojiImage = []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><path d="M16 2 L22 20 L16 16 L10 20 Z" fill="#d33"/><circle cx="16" cy="10" r="3" fill="#fff"/><path d="M12 22 L16 30 L20 22 Z" fill="#fa0"/></svg>
`)

var sampleChecklist = []byte(`Launch checklist
1. Fuel loaded            [done]
2. Range clear            [done]
3. Payload fairing closed [open]
4. Weather go/no-go       [open]
`)

var sampleTelemetry = []byte(`t_s,thrust_kN,chamber_bar
0.0,0.0,1.0
0.5,412.7,61.2
1.0,845.1,97.8
1.5,846.0,98.1
`)

// emitSample emits a small but rich workspace into out, with messages out
// of time order (grouped by room, as many sources read them).
func emitSample(t testing.TB, out sdk.Sink) {
	t.Helper()
	utc := func(h, m, s int) time.Time { return time.Date(2017, 3, 14, h, m, s, 0, time.UTC) }
	tp := func(x time.Time) *time.Time { return &x }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	put := func(b []byte, ct string) sdk.BlobRef {
		t.Helper()
		ref, err := out.PutBlob(bytes.NewReader(b), ct)
		must(err)
		return ref
	}
	avatar := put(sampleAvatar, "image/svg+xml")
	parrot := put(sampleEmojiImage, "image/svg+xml")
	checklist := put(sampleChecklist, "text/plain")
	telemetry := put(sampleTelemetry, "text/csv")

	must(out.Emit(&sdk.Workspace{
		ID: "acme", Name: "Acme Rockets", SourceSystem: "hipchat-server", SourceVersion: "3.1.7",
		ExportedAt:           tp(time.Date(2017, 3, 20, 8, 0, 0, 0, time.UTC)),
		ExportOptions:        sdk.ExportOptions{OneToOneHistory: true, Files: true, Avatars: true},
		HistoryRetentionDays: 0, Domain: "chat.acme.example",
	}))
	users := []*sdk.User{
		{ID: "1", Username: "ada", Email: "ada@acme.example", MentionName: "Ada", DisplayName: "Ada Lovelace", Title: "Flight Director", TimeZone: "Europe/London", Role: sdk.RoleOwner, CreatedAt: tp(time.Date(2015, 1, 5, 9, 0, 0, 0, time.UTC)), Avatar: &avatar},
		{ID: "2", Username: "grace", Email: "grace@acme.example", MentionName: "Grace", DisplayName: "Grace Hopper", Role: sdk.RoleAdmin, TimeZone: "America/New_York"},
		{ID: "3", Username: "linus", Email: "linus@acme.example", MentionName: "Linus", DisplayName: "Linus Pauling", Role: sdk.RoleMember},
		{ID: "4", MentionName: "FormerEmployee", DisplayName: "Former Employee", Role: sdk.RoleMember, Deleted: true},
		{ID: "5", Username: "deploy-bot", MentionName: "DeployBot", DisplayName: "Deploy Bot", Role: sdk.RoleMember, Bot: true, Integration: true, AvatarURL: "https://chat.acme.example/img/bot.png"},
		{ID: "6", MentionName: "Auditor", DisplayName: "Visiting Auditor", Role: sdk.RoleGuest},
		{ID: "7", Username: "zoe", Email: "zoe@acme.example", MentionName: "Zoe", DisplayName: "Zoë Ångström", Role: sdk.RoleMember, TimeZone: "Europe/Stockholm", Extra: map[string]string{"status": "🚀 on site"}},
	}
	for _, u := range users {
		must(out.Emit(u))
	}
	must(out.Emit(&sdk.Room{ID: "10", Name: "general", Topic: "Launch window: Friday 14:00 UTC", Private: false, Owner: "1", Admins: []string{"2"},
		Members: []string{"1", "2", "3", "5", "6", "7"}, GuestAccess: true, CreatedAt: tp(time.Date(2015, 1, 5, 9, 30, 0, 0, time.UTC))}))
	must(out.Emit(&sdk.Room{ID: "11", Name: "launch-secret", Description: "Payload details; need to know only", Private: true, Owner: "2",
		Members: []string{"1", "2", "3"}, CreatedAt: tp(time.Date(2016, 6, 1, 12, 0, 0, 0, time.UTC))}))
	must(out.Emit(&sdk.Conversation{ID: "1-2", Participants: []string{"1", "2"}}))
	must(out.Emit(&sdk.Conversation{ID: "g-1-3-7", Participants: []string{"1", "3", "7"}, Group: true, CreatedAt: tp(utc(11, 59, 0))}))
	must(out.Emit(&sdk.Emoji{ID: "e1", Shortcode: "rocketparrot", Image: &parrot, Creator: "1"}))

	msg := func(m sdk.Message) {
		t.Helper()
		if m.Kind == "" {
			m.Kind = sdk.MessageNormal
		}
		must(out.Emit(&m))
	}
	// The private room first, then the direct conversations, then the
	// public room: out of time order on purpose.
	msg(sdk.Message{ID: "m16", Room: "11", Sender: "1", SentAt: utc(10, 0, 0), Body: "Payload checklist attached.", Attachments: []string{"a1"}})
	msg(sdk.Message{ID: "m17", Room: "11", Sender: "2", SentAt: utc(10, 1, 0), Body: "Checked, two items left open.", ThreadRoot: "m16", Topic: "Payload review"})
	msg(sdk.Message{ID: "m18", Room: "11", Sender: "3", SentAt: utc(10, 3, 0), Body: "Fairing crew is on it.", ThreadRoot: "m16", ReplyTo: "m17", Topic: "Payload review"})
	msg(sdk.Message{ID: "m19", Room: "11", Sender: "1", SentAt: utc(10, 5, 0), Body: "@Linus can you take item 3?", Original: "@Linus can you take item 3?", OriginalFormat: "text",
		Mentions: []sdk.Mention{{Kind: sdk.MentionUser, User: "3", Text: "Linus"}}})
	msg(sdk.Message{ID: "m20", Room: "11", Sender: "3", SentAt: utc(10, 6, 0), Kind: sdk.MessageSystem, Body: "Linus Pauling joined the room"})

	msg(sdk.Message{ID: "m21", Conversation: "1-2", Sender: "1", SentAt: utc(11, 0, 0), Body: "Grace, quick question about the budget"})
	msg(sdk.Message{ID: "m22", Conversation: "1-2", Sender: "2", SentAt: utc(11, 2, 0), Body: "Sure, call me?"})
	msg(sdk.Message{ID: "m23", Conversation: "1-2", Sender: "1", SentAt: utc(11, 3, 0), Body: "📞 calling now"})
	msg(sdk.Message{ID: "m24", Conversation: "g-1-3-7", Sender: "7", SentAt: utc(12, 0, 0), Body: "Lunch?"})
	msg(sdk.Message{ID: "m25", Conversation: "g-1-3-7", Sender: "3", SentAt: utc(12, 1, 0), Body: "🍕 yes",
		Reactions: []sdk.Reaction{{Emoji: "thumbs_up", Users: []string{"1"}}}})
	msg(sdk.Message{ID: "m26", Conversation: "g-1-3-7", Sender: "1", SentAt: utc(12, 1, 0), Body: "Count me in"})
	msg(sdk.Message{ID: "m27", Conversation: "g-1-3-7", Sender: "1", SentAt: utc(12, 30, 0),
		Body: "Menu:\n\n1. *Margherita*\n2. ~~Hawaiian~~\n\n> no pineapple, please"})

	msg(sdk.Message{ID: "m01", Room: "10", Sender: "1", SentAt: utc(9, 0, 0), Body: "Welcome to **Acme Rockets**! :rocket:",
		Reactions: []sdk.Reaction{{Emoji: "thumbs_up", Users: []string{"2", "3"}}, {Emoji: "rocket", Users: []string{"7"}}}})
	msg(sdk.Message{ID: "m02", Room: "10", Sender: "2", SentAt: utc(9, 2, 0), Kind: sdk.MessageTopicChange, Body: "Launch window: Friday 14:00 UTC"})
	msg(sdk.Message{ID: "m03", Room: "10", Sender: "3", SentAt: utc(9, 5, 0), Body: "Has anyone seen the telemetry from yesterday's static fire?"})
	msg(sdk.Message{ID: "m04", Room: "10", Sender: "2", SentAt: utc(9, 7, 0), Body: "Yes — attached.", ThreadRoot: "m03", ReplyTo: "m03", Attachments: []string{"a2"}})
	msg(sdk.Message{ID: "m05", Room: "10", Sender: "1", SentAt: utc(9, 8, 0), Body: "Thanks @Grace! Looks nominal.", ThreadRoot: "m03",
		Mentions: []sdk.Mention{{Kind: sdk.MentionUser, User: "2", Text: "Grace"}}})
	msg(sdk.Message{ID: "m06", Room: "10", Sender: "5", SenderName: "Jenkins", SentAt: utc(9, 10, 0), Kind: sdk.MessageNotification,
		Body: "Build #1024 **passed** ✅", Original: "<b>Build #1024 passed</b> ✅", OriginalFormat: "html", Extra: map[string]string{"color": "green"}})
	msg(sdk.Message{ID: "m07", Room: "10", Sender: "1", SentAt: utc(9, 12, 0), Body: "@all all-hands at 15:00 in the big hangar",
		Mentions: []sdk.Mention{{Kind: sdk.MentionAll, Text: "all"}}})
	msg(sdk.Message{ID: "m08", Room: "10", Sender: "7", SentAt: utc(9, 12, 0), Body: "Zoë here — 你好, مرحبا, こんにちは 🚀 <script>&amp;"})
	msg(sdk.Message{ID: "m09", Room: "10", Sender: "3", SentAt: utc(9, 15, 0), Kind: sdk.MessageEmote, Body: "goes to fetch coffee", Original: "/me goes to fetch coffee", OriginalFormat: "text"})
	msg(sdk.Message{ID: "m10", Room: "10", Sender: "2", SentAt: utc(9, 20, 0), Body: "```go\nfunc main() {\n\tfmt.Println(\"liftoff\")\n}\n```"})
	msg(sdk.Message{ID: "m11", Room: "10", Sender: "4", SentAt: utc(8, 55, 0), Body: "Morning! Last day for me, it was a pleasure."})
	msg(sdk.Message{ID: "m12", Room: "10", Sender: "1", SentAt: utc(9, 25, 0), Body: "Countdown starts at T-10 minutes", EditedAt: tp(utc(9, 27, 0)),
		Edits: []sdk.Edit{{EditedAt: utc(9, 26, 0), Body: "Countdown starts at T-15 minutes", Editor: "1"}, {EditedAt: utc(9, 27, 0), Body: "Countdown starts at T-12 minutes", Editor: "2"}}})
	msg(sdk.Message{ID: "m13", Room: "10", Sender: "6", SentAt: utc(9, 30, 0), Body: "Thanks for letting me sit in!",
		Reactions: []sdk.Reaction{{Emoji: "rocketparrot", Custom: true, Users: []string{"1", "7"}}}})
	msg(sdk.Message{ID: "m14", Room: "10", Sender: "3", SentAt: utc(9, 31, 0), Body: "", Deleted: true})
	msg(sdk.Message{ID: "m15", Room: "10", Sender: "2", SentAt: utc(9, 32, 0), Body: "Welcome aboard :)", ReplyTo: "m13"})
	msg(sdk.Message{ID: "m28", Room: "10", Sender: "3", SentAt: time.Date(2017, 3, 14, 11, 40, 0, 123456789, time.FixedZone("", 2*3600)), Body: "Static fire data archived (sent from a +02:00 clock)."})
	msg(sdk.Message{ID: "m29", Room: "10", Sender: "2", SentAt: utc(9, 45, 0), Body: "Reminder: badges at the gate", Original: "(notice) Reminder: badges at the gate", OriginalFormat: "text", Extra: map[string]string{"color": "yellow", "notify": "true"}})
	msg(sdk.Message{ID: "m30", Room: "10", Sender: "1", SentAt: utc(9, 50, 0), Body: "Live stream: <https://acme.example/launch>"})

	must(out.Emit(&sdk.Attachment{ID: "a1", Message: "m16", Name: "launch-checklist.txt", Size: checklist.Size, ContentType: "text/plain", SHA256: checklist.SHA256,
		Path: "files/11/launch-checklist.txt", Uploader: "1", CreatedAt: tp(utc(10, 0, 0))}))
	must(out.Emit(&sdk.Attachment{ID: "a2", Message: "m04", Name: "telemetry.csv", Size: telemetry.Size, ContentType: "text/csv", SHA256: telemetry.SHA256,
		Path: "files/10/telemetry.csv", Uploader: "2", CreatedAt: tp(utc(9, 7, 0))}))
}

// writeSample writes the sample into dir.
func writeSample(t testing.TB, dir string, opt WriterOptions) *Manifest {
	t.Helper()
	w, err := Create(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	emitSample(t, w)
	m, err := w.Close()
	if err != nil {
		w.Abort()
		t.Fatal(err)
	}
	return m
}

func TestSample(t *testing.T) {
	if *update {
		if err := os.RemoveAll(sampleDir); err != nil {
			t.Fatal(err)
		}
		writeSample(t, sampleDir, WriterOptions{Validate: true, Source: SourceInfo{System: "hipchat-server", Version: "3.1.7", Adapter: "sample", AdapterVersion: "1"}})
	}
	if errs := VerifyDir(context.Background(), sampleDir, ReadOptions{}); len(errs) > 0 {
		t.Fatalf("the committed sample does not verify:\n%v", joinErrs(errs))
	}
	// The generator still produces exactly the committed sample.
	regen := filepath.Join(t.TempDir(), "regen")
	writeSample(t, regen, WriterOptions{Validate: true, Source: SourceInfo{System: "hipchat-server", Version: "3.1.7", Adapter: "sample", AdapterVersion: "1"}})
	adaptertest.SameTree(t, sampleDir, regen)

	// Reading it and writing it again gives the same bytes.
	r, err := Open(sampleDir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "copy")
	w, err := Create(copied, WriterOptions{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := Copy(context.Background(), r, w); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	adaptertest.SameTree(t, sampleDir, copied)
}

func joinErrs(errs []error) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}
