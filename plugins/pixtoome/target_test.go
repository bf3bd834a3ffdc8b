package pixtoome

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/migrate-chat/migrate/plugins/pixtoome/check"
	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

type jrow = map[string]any

func readJSON(t testing.TB, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func num(v any) int64 {
	n, _ := v.(json.Number).Int64()
	return n
}

func rows(v any) []jrow {
	var out []jrow
	for _, r := range v.([]any) {
		out = append(out, r.(jrow))
	}
	return out
}

// output is a written directory, decoded.
type output struct {
	dir      string
	realm    jrow
	messages []jrow
	ums      []jrow
	files    int
}

func load(t *testing.T, dir string) *output {
	t.Helper()
	o := &output{dir: dir, realm: readJSON(t, filepath.Join(dir, "realm.json")).(jrow)}
	for n := 1; ; n++ {
		p := filepath.Join(dir, fmt.Sprintf("messages-%06d.json", n))
		if _, err := os.Stat(p); err != nil {
			break
		}
		o.files++
		f := readJSON(t, p).(jrow)
		o.messages = append(o.messages, rows(f["zerver_message"])...)
		o.ums = append(o.ums, rows(f["zerver_usermessage"])...)
	}
	return o
}

func (o *output) table(name string) []jrow { return rows(o.realm[name]) }

func (o *output) userByEmail(t *testing.T, email string) jrow {
	t.Helper()
	for _, u := range o.table("zerver_userprofile") {
		if u["delivery_email"] == email {
			return u
		}
	}
	t.Fatalf("no user with e-mail %s", email)
	return nil
}

// message finds the message whose content starts with prefix.
func (o *output) message(t *testing.T, prefix string) jrow {
	t.Helper()
	for _, m := range o.messages {
		if strings.HasPrefix(m["content"].(string), prefix) {
			return m
		}
	}
	t.Fatalf("no message starts with %q", prefix)
	return nil
}

// flags returns user id -> flags of a message's usermessage rows.
func (o *output) flags(m jrow) map[int64]int64 {
	out := map[int64]int64{}
	for _, um := range o.ums {
		if num(um["message"]) == num(m["id"]) {
			out[num(um["user_profile"])] = num(um["flags_mask"])
		}
	}
	return out
}

func (o *output) personalRecipient(t *testing.T, user int64) int64 {
	for _, r := range o.table("zerver_recipient") {
		if num(r["type"]) == 1 && num(r["type_id"]) == user {
			return num(r["id"])
		}
	}
	t.Fatalf("user %d has no personal recipient", user)
	return 0
}

func mustCheck(t *testing.T, dir, profile string) {
	t.Helper()
	for _, p := range check.Dir(context.Background(), dir, profile) {
		t.Errorf("check: %s", p)
	}
}

func latestOptions(t testing.TB) sdk.Options {
	ms, err := os.ReadFile("testdata/fixtures/migration_status.json")
	if err != nil {
		t.Fatal(err)
	}
	return sdk.Options{"profile": "latest", "migration-status": ms}
}

func TestWriteRich(t *testing.T) {
	for _, profile := range []string{"gitter-final", "latest"} {
		t.Run(profile, func(t *testing.T) {
			res := richResult("hipchat-server")
			opts := sdk.Options{"profile": profile}
			if profile == "latest" {
				opts = latestOptions(t)
			}
			dir, notices := adaptertest.RunTarget(t, &Adapter{Now: fixedNow}, res.Dataset(), opts)
			mustCheck(t, dir, profile)
			o := load(t, dir)
			testRich(t, o, profile, notices)
		})
	}
}

func testRich(t *testing.T, o *output, profile string, notices []sdk.Notice) {
	// 18 hand-made messages, the bulk ones, and one more for the second
	// part of the message that is too long for one.
	total := 18 + bulkMessages + 1
	if len(o.messages) != total {
		t.Fatalf("%d messages written, want %d", len(o.messages), total)
	}
	if want := (total + 999) / 1000; o.files != want {
		t.Errorf("%d message files, want %d", o.files, want)
	}
	first := rows(readJSON(t, filepath.Join(o.dir, "messages-000001.json")).(jrow)["zerver_message"])
	if len(first) != MessagesPerFile {
		t.Errorf("messages-000001.json holds %d messages, want %d", len(first), MessagesPerFile)
	}
	// Ids follow time, so the importer needs no sort_by_date.
	for i := 1; i < len(o.messages); i++ {
		if num(o.messages[i]["id"]) <= num(o.messages[i-1]["id"]) || num(o.messages[i]["date_sent"]) < num(o.messages[i-1]["date_sent"]) {
			t.Fatalf("message %d is out of order", i)
		}
	}

	alice := num(o.userByEmail(t, "alice@example.org")["id"])
	bob := o.userByEmail(t, "bob@example.com") // no e-mail: placeholder on the default domain
	bobID := num(bob["id"])
	carol := o.userByEmail(t, "carol@example.org")
	carolID := num(carol["id"])
	sam1 := num(o.userByEmail(t, "sam1@example.org")["id"])
	sam2 := num(o.userByEmail(t, "sam2@example.org")["id"])
	dave := o.userByEmail(t, "dave@example.com")
	bot := o.userByEmail(t, "ci-bot@example.com")
	if dave["is_active"] != false {
		t.Errorf("deleted user is active: %v", dave)
	}
	if bot["is_bot"] != true || num(bot["bot_type"]) != 1 {
		t.Errorf("bot: %v", bot)
	}
	if num(o.userByEmail(t, "alice@example.org")["role"]) != 100 || num(carol["role"]) != 200 || num(o.userByEmail(t, "zoe@example.org")["role"]) != 600 {
		t.Errorf("roles not mapped")
	}
	// Long-term idle: carol sent 4 messages, 90 days ago; bob sent many.
	if carol["long_term_idle"] != true || num(carol["last_active_message_id"]) != 1 {
		t.Errorf("carol should be long-term idle: %v", carol)
	}
	if bob["long_term_idle"] != false {
		t.Errorf("bob should be active: %v", bob)
	}

	m1 := o.message(t, "Hello ")
	if got := m1["content"]; got != "Hello @**Bob Jones** and @**all**!" {
		t.Errorf("mentions: %q", got)
	}
	f := o.flags(m1)
	if f[bobID] != flagRead|flagMentioned|flagWildcard {
		t.Errorf("bob's flags on m1 = %d", f[bobID])
	}
	if _, ok := f[sam2]; ok {
		t.Errorf("idle, unmentioned sam2 got a row for m1")
	}
	if f[alice] != flagRead|flagWildcard {
		t.Errorf("alice's flags on m1 = %d", f[alice])
	}
	m14 := o.message(t, "ping ")
	if got := m14["content"]; got != fmt.Sprintf("ping @**Sam Lee|%d**, not @sam1x", sam1) {
		t.Errorf("ambiguous mention: %q", got)
	}
	if f := o.flags(m14); f[sam1] != flagRead|flagMentioned {
		t.Errorf("idle but mentioned sam1 must get a row with the mentioned flag: %v", f)
	}

	// Threads: the root and its replies share a topic named from the root;
	// a second thread with the same first line gets its own topic.
	root := o.message(t, "Deploy plan for Friday\n")
	reply := o.message(t, "Sounds good")
	reply2 := o.message(t, "second reply")
	if root["subject"] != "Deploy plan for Friday" || reply["subject"] != root["subject"] || reply2["subject"] != root["subject"] {
		t.Errorf("thread topics: %q %q %q", root["subject"], reply["subject"], reply2["subject"])
	}
	if got := o.message(t, "a second thread")["subject"]; got != "Deploy plan for Friday (2)" {
		t.Errorf("second thread topic %q", got)
	}
	if got := o.message(t, "Hello ")["subject"]; got != "imported from HipChat" {
		t.Errorf("default topic %q", got)
	}
	// Edits.
	var hist []map[string]any
	if err := json.Unmarshal([]byte(reply["edit_history"].(string)), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0]["prev_content"] != "second draft" || hist[1]["prev_content"] != "first draft" || int64(hist[0]["user_id"].(float64)) != carolID {
		t.Errorf("edit history: %v", hist)
	}
	if num(reply["last_edit_time"]) != at(10).Unix() {
		t.Errorf("last_edit_time %v", reply["last_edit_time"])
	}
	if got := o.message(t, "/me ")["content"]; got != "/me waves" {
		t.Errorf("emote %q", got)
	}
	// Unicode and escapes survive the hand-made encoder.
	if got := o.message(t, "Grüße")["content"]; got != "Grüße 🎉 \"quoted\" \\ back\tslash\u2028line" {
		t.Errorf("unicode: %q", got)
	}
	// A message over the limit becomes consecutive parts, each within it,
	// which join back into the whole text.
	var parts []string
	for _, m := range o.messages {
		if c := m["content"].(string); strings.HasPrefix(c, "0123456789") || (len(parts) > 0 && len(parts) < 2) {
			parts = append(parts, c)
		}
	}
	if len(parts) != 2 || utf8.RuneCountInString(parts[0]) > MaxMessage || !strings.HasSuffix(parts[0], continuedMark) ||
		strings.TrimSuffix(parts[0], continuedMark)+parts[1] != strings.Repeat("0123456789", 1200) {
		t.Errorf("long message parts: %d, lengths %v", len(parts), func() (n []int) {
			for _, p := range parts {
				n = append(n, utf8.RuneCountInString(p))
			}
			return
		}())
	}
	// Direct messages.
	m7 := o.message(t, "hi bob")
	if num(m7["recipient"]) != o.personalRecipient(t, bobID) {
		t.Errorf("one-to-one message goes to %v", m7["recipient"])
	}
	wantDM := flagRead | flagPrivate
	if f := o.flags(m7); len(f) != 2 || f[alice] != int64(wantDM) || f[bobID] != int64(wantDM) {
		t.Errorf("one-to-one rows: %v", f)
	}
	if m8 := o.message(t, "hi alice"); num(m8["recipient"]) != o.personalRecipient(t, alice) {
		t.Errorf("reply goes to %v", m8["recipient"])
	}
	if f := o.flags(o.message(t, "note to self")); len(f) != 1 || f[alice] != int64(wantDM) {
		t.Errorf("note to self rows: %v", f)
	}
	m9 := o.message(t, "hello group")
	if f := o.flags(m9); len(f) != 3 {
		t.Errorf("group message rows: %v", f)
	}
	if len(o.table("zerver_huddle")) != 1 {
		t.Errorf("huddles: %v", o.table("zerver_huddle"))
	}
	dmTopic := ""
	if profile == "latest" {
		dmTopic = "\x07"
		if m9["is_channel_message"] != false || m1["is_channel_message"] != true {
			t.Errorf("is_channel_message not set")
		}
		if o.realm["import_source"] != "hipchat-server" {
			t.Errorf("import_source %v", o.realm["import_source"])
		}
	}
	if m9["subject"] != dmTopic {
		t.Errorf("DM topic %q", m9["subject"])
	}
	// Attachments: link, row, record and file.
	m6 := o.message(t, "Look at this")
	content := m6["content"].(string)
	atts := rows(readJSON(t, filepath.Join(o.dir, "attachment.json")).(jrow)["zerver_attachment"])
	if len(atts) != 1 {
		t.Fatalf("attachments: %v", atts)
	}
	pathID := atts[0]["path_id"].(string)
	if !strings.Contains(content, "[screen shot.png](/user_uploads/"+pathID+")") || !strings.Contains(content, "[remote.pdf](https://files.example.org/remote.pdf)") {
		t.Errorf("attachment links: %q", content)
	}
	if m6["has_attachment"] != true || m6["has_image"] != true {
		t.Errorf("attachment flags: %v", m6)
	}
	if got, _ := os.ReadFile(filepath.Join(o.dir, "uploads", pathID)); string(got) != "\x89PNG a screenshot" {
		t.Errorf("uploaded file content %q", got)
	}
	// Reactions: Unicode by code, custom by realm emoji id; unknown left out with a notice.
	reacts := o.table("zerver_reaction")
	if len(reacts) != 3 {
		t.Fatalf("reactions: %v", reacts)
	}
	emoji := o.table("zerver_realmemoji")
	if len(emoji) != 1 || emoji[0]["name"] != "party_parrot" || num(emoji[0]["author"]) != alice {
		t.Errorf("emoji: %v", emoji)
	}
	for _, r := range reacts {
		if num(r["message"]) != num(m6["id"]) {
			t.Errorf("reaction on the wrong message: %v", r)
		}
		switch r["reaction_type"] {
		case "unicode_emoji":
			if r["emoji_code"] != "1f44d" {
				t.Errorf("thumbs up code: %v", r)
			}
		case "realm_emoji":
			if r["emoji_code"] != fmt.Sprint(emoji[0]["id"]) {
				t.Errorf("custom reaction: %v", r)
			}
		}
	}
	if !hasNotice(notices, "reaction-emoji-unknown") || !hasNotice(notices, "message-split") {
		t.Errorf("notices: %v", notices)
	}
	// Avatars.
	avs := rows(readJSON(t, filepath.Join(o.dir, "avatars", "records.json")))
	if len(avs) != 1 || num(avs[0]["user_profile_id"]) != alice {
		t.Fatalf("avatars: %v", avs)
	}
	if got, _ := os.ReadFile(filepath.Join(o.dir, "avatars", avs[0]["path"].(string))); string(got) != "\x89PNG avatar of alice" {
		t.Errorf("avatar content %q", got)
	}
	// Streams: private, archived, subscriptions from membership.
	streams := map[string]jrow{}
	for _, s := range o.table("zerver_stream") {
		streams[s["name"].(string)] = s
	}
	if streams["secret"]["invite_only"] != true || streams["secret"]["history_public_to_subscribers"] != false {
		t.Errorf("private stream: %v", streams["secret"])
	}
	if streams["Ünïcødé room 🎉"]["deactivated"] != true {
		t.Errorf("archived stream: %v", streams["Ünïcødé room 🎉"])
	}
	if streams["General"]["description"] != "Everything and more" {
		t.Errorf("description %q", streams["General"]["description"])
	}
	secretRecipient := int64(0)
	for _, r := range o.table("zerver_recipient") {
		if num(r["type"]) == 2 && num(r["type_id"]) == num(streams["secret"]["id"]) {
			secretRecipient = num(r["id"])
		}
	}
	var secretSubs []int64
	for _, s := range o.table("zerver_subscription") {
		if num(s["recipient"]) == secretRecipient {
			secretSubs = append(secretSubs, num(s["user_profile"]))
		}
	}
	slices.Sort(secretSubs)
	if !slices.Equal(secretSubs, []int64{alice, carolID}) {
		t.Errorf("private room subscribers %v", secretSubs)
	}
	// Default streams: every public, non-archived room.
	if n := len(o.table("zerver_defaultstream")); n != 2 {
		t.Errorf("%d default streams, want 2 (General, Random talk)", n)
	}
}

func hasNotice(ns []sdk.Notice, code string) bool {
	return slices.ContainsFunc(ns, func(n sdk.Notice) bool { return n.Code == code })
}

func TestWriteGitterEmails(t *testing.T) {
	res := richResult("gitter")
	dir, _ := adaptertest.RunTarget(t, &Adapter{Now: fixedNow}, res.Dataset(), nil)
	mustCheck(t, dir, "gitter-final")
	o := load(t, dir)
	o.userByEmail(t, "bob@users.noreply.github.com")
	if got := o.message(t, "Hello ")["subject"]; got != "imported from Gitter" {
		t.Errorf("default topic %q", got)
	}
	auth := o.table("zerver_realmauthenticationmethod")
	if len(auth) != 1 || auth[0]["name"] != "GitHub" {
		t.Errorf("Gitter users sign in with GitHub: %v", auth)
	}
}

func TestWriteOptions(t *testing.T) {
	res := richResult("hipchat-server")
	opts := sdk.Options{
		"email-map":       []byte("username,email\nbob,robert@example.net\n"),
		"default-topic":   "history",
		"owner":           []string{"carol"},
		"default-streams": []string{"secret"},
		"long-term-idle":  false,
	}
	dir, _ := adaptertest.RunTarget(t, &Adapter{Now: fixedNow}, res.Dataset(), opts)
	mustCheck(t, dir, "gitter-final")
	o := load(t, dir)
	if o.userByEmail(t, "robert@example.net")["full_name"] != "Bob Jones" {
		t.Error("e-mail map not applied")
	}
	carol := o.userByEmail(t, "carol@example.org")
	if num(carol["role"]) != 100 || carol["long_term_idle"] != false {
		t.Errorf("carol: %v", carol)
	}
	if got := o.message(t, "Hello ")["subject"]; got != "history" {
		t.Errorf("default topic %q", got)
	}
	if d := o.table("zerver_defaultstream"); len(d) != 1 {
		t.Errorf("default streams %v", d)
	}
	// Without idle skipping every General subscriber gets m1.
	if f := o.flags(o.message(t, "Hello ")); len(f) != 8 {
		t.Errorf("m1 rows without idle rule: %d", len(f))
	}
	// JSON form of the map.
	m, err := ParseEmailMap([]byte(`{"Bob": "b@example.net"}`))
	if err != nil || m["bob"] != "b@example.net" {
		t.Errorf("JSON e-mail map: %v %v", m, err)
	}
	if _, err := ParseEmailMap([]byte("bob,not-an-address\n")); err == nil {
		t.Error("an invalid address in the e-mail map was accepted")
	}
}

func TestWriteRefusesInvalid(t *testing.T) {
	cases := []struct {
		name string
		edit func(*adaptertest.Result)
		opts sdk.Options
		want string
	}{
		{"names differing by case", func(r *adaptertest.Result) { r.Rooms[1].Name = "GENERAL" }, nil, "unique regardless of case"},
		{"name too long", func(r *adaptertest.Result) { r.Rooms[1].Name = strings.Repeat("x", 61) }, nil, "has 61 characters"},
		{"control character", func(r *adaptertest.Result) { r.Rooms[1].Name = "tab\there" }, nil, "control character"},
		{"duplicate e-mail", func(r *adaptertest.Result) { r.Users[2].Email = "ALICE@example.org" }, nil, "both have the e-mail address"},
		{"latest without migration status", func(*adaptertest.Result) {}, sdk.Options{"profile": "latest"}, "needs migration_status.json from your Pixtoome server"},
		{"bad migration status", func(*adaptertest.Result) {}, sdk.Options{"profile": "latest", "migration-status": []byte(`{"x":1}`)}, "migrations_by_app"},
		{"unknown profile", func(*adaptertest.Result) {}, sdk.Options{"profile": "v3"}, "unknown profile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := richResult("hipchat-server")
			c.edit(res)
			_, err := adaptertest.TryRunTarget(context.Background(), &Adapter{Now: fixedNow}, res.Dataset(), c.opts, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestInvalidEmailIsReplaced(t *testing.T) {
	res := richResult("hipchat-server")
	res.Users[1].Email = "bob at example"
	dir, notices := adaptertest.RunTarget(t, &Adapter{Now: fixedNow}, res.Dataset(), nil)
	mustCheck(t, dir, "gitter-final")
	load(t, dir).userByEmail(t, "bob@example.com")
	if !hasNotice(notices, "email-invalid") {
		t.Errorf("no notice for the invalid address: %v", notices)
	}
}

func TestNextSteps(t *testing.T) {
	res := richResult("gitter")
	s := Summarize(res.Dataset(), nil)
	if s.Users != 8 || s.Owners != 1 || s.Profile != DefaultProfile {
		t.Errorf("summary %+v", s)
	}
	steps := strings.Join(NextSteps("out/converted", s), "\n")
	for _, want := range []string{"./manage.py import '' /tmp/converted", "GitHub", "change_user_role"} {
		if !strings.Contains(steps, want) {
			t.Errorf("next steps lack %q:\n%s", want, steps)
		}
	}
	steps = strings.Join(NextSteps("x", Summary{SourceSystem: "hipchat-server", Profile: "latest"}), "\n")
	for _, want := range []string{"send_password_reset_email", "No user is an organization owner", "same major version"} {
		if !strings.Contains(steps, want) {
			t.Errorf("next steps lack %q:\n%s", want, steps)
		}
	}
}
