package check_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/migrate-chat/migrate/plugins/pixtoome"
	"github.com/migrate-chat/migrate/plugins/pixtoome/check"
	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

var t0 = time.Date(2021, 5, 1, 12, 0, 0, 0, time.UTC)

func blob(res *adaptertest.Result, data string, ct string) *sdk.BlobRef {
	sum := sha256.Sum256([]byte(data))
	h := hex.EncodeToString(sum[:])
	res.Blobs[h] = []byte(data)
	return &sdk.BlobRef{SHA256: h, Size: int64(len(data)), ContentType: ct}
}

// small is a dataset touching every table the checker looks at, with
// 1001 messages so that there are two message files.
func small() *adaptertest.Result {
	res := &adaptertest.Result{Blobs: map[string][]byte{}}
	res.Workspace = &sdk.Workspace{ID: "w", Name: "W", SourceSystem: "hipchat-server", ExportedAt: &t0}
	av := blob(res, "avatar", "image/png")
	res.Users = []*sdk.User{
		{ID: "a", Username: "ann", Email: "ann@example.org", DisplayName: "Ann", Role: sdk.RoleOwner, Avatar: av},
		{ID: "b", Username: "ben", Email: "ben@example.org", DisplayName: "Ben", Role: sdk.RoleMember},
		{ID: "c", Username: "cy", Email: "cy@example.org", DisplayName: "Cy", Role: sdk.RoleMember},
	}
	res.Rooms = []*sdk.Room{{ID: "r", Name: "general", Members: []string{"a", "b", "c"}}, {ID: "s", Name: "side", Members: []string{"a"}}}
	res.Conversations = []*sdk.Conversation{{ID: "g", Participants: []string{"a", "b", "c"}, Group: true}}
	res.Emoji = []*sdk.Emoji{{ID: "e", Shortcode: "yay", Image: blob(res, "GIF89a", "image/gif")}}
	f := blob(res, "file body", "text/plain")
	res.Attachments = []*sdk.Attachment{{ID: "f", Message: "m1", Name: "notes.txt", Size: f.Size, SHA256: f.SHA256, ContentType: "text/plain"}}
	res.Messages = []*sdk.Message{
		{ID: "m0", Kind: sdk.MessageNormal, Conversation: "g", Sender: "b", SentAt: t0, Body: "group hello"},
		{ID: "m1", Kind: sdk.MessageNormal, Room: "r", Sender: "a", SentAt: t0.Add(time.Second), Body: "see file",
			Attachments: []string{"f"}, Reactions: []sdk.Reaction{{Emoji: "yay", Custom: true, Users: []string{"b"}}},
			EditedAt: ptr(t0.Add(time.Minute)), Edits: []sdk.Edit{{EditedAt: t0.Add(time.Minute), Body: "old", Editor: "a"}}},
	}
	for i := range 999 {
		res.Messages = append(res.Messages, &sdk.Message{ID: fmt.Sprint("n", i), Kind: sdk.MessageNormal, Room: "r", Sender: "b",
			SentAt: t0.Add(time.Duration(i+2) * time.Second), Body: "hi"})
	}
	return res
}

func ptr[T any](v T) *T { return &v }

func write(t *testing.T, profile string) string {
	t.Helper()
	opts := sdk.Options{"profile": profile}
	if profile == "latest" {
		ms, err := os.ReadFile("../testdata/fixtures/migration_status.json")
		if err != nil {
			t.Fatal(err)
		}
		opts["migration-status"] = ms
	}
	dir, _ := adaptertest.RunTarget(t, &pixtoome.Adapter{Now: func() time.Time { return t0 }}, small().Dataset(), opts)
	return dir
}

// edit rewrites a JSON file of dir through fn.
func edit(t *testing.T, dir, name string, fn func(v any) any) {
	t.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(fn(v))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

type obj = map[string]any

func tableRows(v any, table string) []any  { return v.(obj)[table].([]any) }
func rowOf(v any, table string, i int) obj { return tableRows(v, table)[i].(obj) }

// realm edits a row of a realm.json table.
func realm(table string, i int, fn func(obj)) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		edit(t, dir, "realm.json", func(v any) any { fn(rowOf(v, table, i)); return v })
	}
}

// firstMessage edits the first message of messages-000001.json.
func firstMessage(fn func(obj)) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		edit(t, dir, "messages-000001.json", func(v any) any { fn(rowOf(v, "zerver_message", 1)); return v })
	}
}

func TestValidOutputs(t *testing.T) {
	for _, profile := range check.Profiles {
		dir := write(t, profile)
		for _, p := range check.Dir(context.Background(), dir, profile) {
			t.Errorf("%s: %s", profile, p)
		}
	}
}

// TestEachRule breaks one rule at a time in a valid directory and expects
// exactly the problem that names it.
func TestEachRule(t *testing.T) {
	type want struct{ file, table, field, text string }
	cases := []struct {
		name    string
		profile string
		breakIt func(*testing.T, string)
		want    want
	}{
		{"missing table", "", func(t *testing.T, d string) {
			edit(t, d, "realm.json", func(v any) any { delete(v.(obj), "zerver_reaction"); return v })
		}, want{"realm.json", "zerver_reaction", "", "missing table"}},
		{"missing import_source", "latest", func(t *testing.T, d string) {
			edit(t, d, "realm.json", func(v any) any { delete(v.(obj), "import_source"); return v })
		}, want{"realm.json", "import_source", "", "missing"}},
		{"missing migration status", "latest", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "migration_status.json")) },
			want{"migration_status.json", "", "", "Missing migration_status.json"}},
		{"two realm rows", "", func(t *testing.T, d string) {
			edit(t, d, "realm.json", func(v any) any {
				o := v.(obj)
				r := rowOf(v, "zerver_realm", 0)
				c := obj{}
				for k, x := range r {
					c[k] = x
				}
				c["id"] = json.Number("2")
				o["zerver_realm"] = append(o["zerver_realm"].([]any), c)
				return v
			})
		}, want{"realm.json", "zerver_realm", "", "exactly one row"}},
		{"realm date missing", "", realm("zerver_realm", 0, func(r obj) { delete(r, "date_created") }),
			want{"realm.json", "zerver_realm", "date_created", "missing"}},
		{"invalid e-mail", "", realm("zerver_userprofile", 1, func(r obj) { r["delivery_email"] = "ben(at)example" }),
			want{"realm.json", "zerver_userprofile", "delivery_email", "not a valid e-mail"}},
		{"duplicate e-mail", "", realm("zerver_userprofile", 1, func(r obj) { r["delivery_email"] = "ANN@example.org" }),
			want{"realm.json", "zerver_userprofile", "delivery_email", "also the address"}},
		{"duplicate user id", "", realm("zerver_userprofile", 2, func(r obj) { r["id"] = json.Number("2") }),
			want{"realm.json", "zerver_userprofile", "id", "appears twice"}},
		{"user key missing", "", realm("zerver_userprofile", 0, func(r obj) { delete(r, "groups") }),
			want{"realm.json", "zerver_userprofile", "groups", "missing"}},
		{"date as text", "", realm("zerver_userprofile", 0, func(r obj) { r["date_joined"] = "2021-05-01" }),
			want{"realm.json", "zerver_userprofile", "date_joined", "epoch seconds"}},
		{"full name too long", "", realm("zerver_userprofile", 0, func(r obj) { r["full_name"] = strings.Repeat("n", 101) }),
			want{"realm.json", "zerver_userprofile", "full_name", "101 characters"}},
		{"stream name too long", "", realm("zerver_stream", 0, func(r obj) { r["name"] = strings.Repeat("s", 61) }),
			want{"realm.json", "zerver_stream", "name", "61 characters"}},
		{"stream names by case", "", realm("zerver_stream", 1, func(r obj) { r["name"] = "GENERAL" }),
			want{"realm.json", "zerver_stream", "name", "unique"}},
		{"latest stream folder", "latest", realm("zerver_stream", 0, func(r obj) { delete(r, "folder") }),
			want{"realm.json", "zerver_stream", "folder", "missing"}},
		{"recipient of missing stream", "", realm("zerver_recipient", 3, func(r obj) { r["type_id"] = json.Number("77") }),
			want{"realm.json", "zerver_recipient", "type_id", "not an id of zerver_stream"}},
		{"subscription of missing user", "", realm("zerver_subscription", 0, func(r obj) { r["user_profile"] = json.Number("99") }),
			want{"realm.json", "zerver_subscription", "user_profile", "99 is not an id of zerver_userprofile"}},
		{"default stream missing", "", realm("zerver_defaultstream", 0, func(r obj) { r["stream"] = json.Number("42") }),
			want{"realm.json", "zerver_defaultstream", "stream", "not an id"}},
		{"custom reaction name", "", realm("zerver_reaction", 0, func(r obj) { r["emoji_name"] = "nay" }),
			want{"realm.json", "zerver_reaction", "emoji_name", "asserts they are equal"}},
		{"reaction on missing message", "", realm("zerver_reaction", 0, func(r obj) { r["message"] = json.Number("5000") }),
			want{"realm.json", "zerver_reaction", "message", "5000 is not a message"}},
		{"emoji without author or owner", "", func(t *testing.T, d string) {
			realm("zerver_realmemoji", 0, func(r obj) { r["author"] = nil })(t, d)
			realm("zerver_userprofile", 0, func(r obj) { r["role"] = json.Number("400") })(t, d)
		}, want{"realm.json", "zerver_realmemoji", "author", "no active owner"}},
		{"message sender unknown", "", firstMessage(func(m obj) { m["sender"] = json.Number("12") }),
			want{"messages-000001.json", "zerver_message", "sender", "12 is not an id of zerver_userprofile"}},
		{"message date missing", "", firstMessage(func(m obj) { delete(m, "date_sent") }),
			want{"messages-000001.json", "zerver_message", "date_sent", "missing"}},
		{"message date null", "", firstMessage(func(m obj) { m["date_sent"] = nil }),
			want{"messages-000001.json", "zerver_message", "date_sent", "epoch seconds"}},
		{"topic too long", "", firstMessage(func(m obj) { m["subject"] = strings.Repeat("t", 61) }),
			want{"messages-000001.json", "zerver_message", "subject", "61 characters"}},
		{"content too long", "", firstMessage(func(m obj) { m["content"] = strings.Repeat("c", 10001) }),
			want{"messages-000001.json", "zerver_message", "content", "10001 characters"}},
		{"upload link gone", "", firstMessage(func(m obj) { m["content"] = "see file" }),
			want{"messages-000001.json", "zerver_message", "content", "does not link the upload"}},
		{"has_attachment false", "", firstMessage(func(m obj) { m["has_attachment"] = false }),
			want{"messages-000001.json", "zerver_message", "has_attachment", "false"}},
		{"edit by unknown user", "", firstMessage(func(m obj) { m["edit_history"] = `[{"user_id": 50, "timestamp": 1}]` }),
			want{"messages-000001.json", "zerver_message", "edit_history", "user_id 50"}},
		{"duplicate message id", "", func(t *testing.T, d string) {
			edit(t, d, "messages-000002.json", func(v any) any { rowOf(v, "zerver_message", 0)["id"] = json.Number("1"); return v })
		}, want{"messages-000002.json", "zerver_message", "id", "appears twice"}},
		{"group sender not subscribed", "", func(t *testing.T, d string) {
			edit(t, d, "realm.json", func(v any) any {
				o := v.(obj)
				var group any
				for _, r := range o["zerver_recipient"].([]any) {
					if r.(obj)["type"] == json.Number("3") {
						group = r.(obj)["id"]
					}
				}
				var keep []any
				for _, s := range o["zerver_subscription"].([]any) {
					// User 2 (ben) sent the group's message.
					if s.(obj)["recipient"] == group && s.(obj)["user_profile"] == json.Number("2") {
						continue
					}
					keep = append(keep, s)
				}
				o["zerver_subscription"] = keep
				return v
			})
		}, want{"messages-000001.json", "zerver_message", "sender", "without being subscribed"}},
		{"usermessage of missing message", "", func(t *testing.T, d string) {
			edit(t, d, "messages-000002.json", func(v any) any { rowOf(v, "zerver_usermessage", 0)["message"] = json.Number("9999"); return v })
		}, want{"messages-000002.json", "zerver_usermessage", "message", "9999 is not a message"}},
		{"usermessage of missing user", "", func(t *testing.T, d string) {
			edit(t, d, "messages-000002.json", func(v any) any { rowOf(v, "zerver_usermessage", 0)["user_profile"] = json.Number("31"); return v })
		}, want{"messages-000002.json", "zerver_usermessage", "user_profile", "31 is not a user"}},
		{"usermessage without flags", "", func(t *testing.T, d string) {
			edit(t, d, "messages-000002.json", func(v any) any { delete(rowOf(v, "zerver_usermessage", 0), "flags_mask"); return v })
		}, want{"messages-000002.json", "zerver_usermessage", "flags_mask", "missing"}},
		{"gap in message files", "", func(t *testing.T, d string) {
			os.Rename(filepath.Join(d, "messages-000002.json"), filepath.Join(d, "messages-000003.json"))
		}, want{"messages-000002.json", "", "", "stops at the first missing number"}},
		{"badly named message file", "", func(t *testing.T, d string) {
			os.Rename(filepath.Join(d, "messages-000002.json"), filepath.Join(d, "messages-2.json"))
		}, want{"messages-2.json", "", "", "never reads it"}},
		{"attachment without upload record", "", func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, "uploads", "records.json"), []byte("[]"), 0o644)
		}, want{"attachment.json", "zerver_attachment", "path_id", "no record in uploads/records.json"}},
		{"upload file missing", "", func(t *testing.T, d string) {
			edit(t, d, "uploads/records.json", func(v any) any { v.([]any)[0].(obj)["path"] = "1/gone.txt"; return v })
		}, want{"uploads/records.json", "", "path", "does not exist"}},
		{"upload path escapes", "", func(t *testing.T, d string) {
			edit(t, d, "uploads/records.json", func(v any) any { v.([]any)[0].(obj)["path"] = "../realm.json"; return v })
		}, want{"uploads/records.json", "", "path", "leaves uploads/"}},
		{"attachment json missing", "", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "attachment.json")) },
			want{"attachment.json", "", "", "Missing attachment.json"}},
		{"latest attachment content type", "latest", func(t *testing.T, d string) {
			edit(t, d, "attachment.json", func(v any) any { delete(rowOf(v, "zerver_attachment", 0), "content_type"); return v })
		}, want{"attachment.json", "zerver_attachment", "content_type", "missing"}},
		{"avatar records missing", "", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "avatars", "records.json")) },
			want{"avatars/records.json", "", "", "opens it unconditionally"}},
		{"avatar file missing", "", func(t *testing.T, d string) {
			edit(t, d, "avatars/records.json", func(v any) any { v.([]any)[0].(obj)["path"] = "1/none.original"; return v })
		}, want{"avatars/records.json", "", "path", "does not exist"}},
		{"latest avatar version", "latest", func(t *testing.T, d string) {
			edit(t, d, "avatars/records.json", func(v any) any { delete(v.([]any)[0].(obj), "avatar_version"); return v })
		}, want{"avatars/records.json", "", "avatar_version", "missing"}},
		{"emoji image record missing", "", func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, "emoji", "records.json"), []byte("[]"), 0o644)
		}, want{"realm.json", "zerver_realmemoji", "file_name", "no record in emoji/records.json"}},
		{"last active message missing", "", realm("zerver_userprofile", 2, func(r obj) { r["last_active_message_id"] = json.Number("4242") }),
			want{"realm.json", "zerver_userprofile", "last_active_message_id", "4242 is not a message id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			profile := c.profile
			if profile == "" {
				profile = "gitter-final"
			}
			dir := write(t, profile)
			c.breakIt(t, dir)
			probs := check.Dir(context.Background(), dir, profile)
			if len(probs) == 0 {
				t.Fatal("no problem found")
			}
			found := false
			for _, p := range probs {
				if p.File == c.want.file && p.Table == c.want.table && p.Field == c.want.field && strings.Contains(p.Message, c.want.text) {
					found = true
				}
			}
			if !found {
				t.Errorf("want a problem in %s %s .%s containing %q; got:", c.want.file, c.want.table, c.want.field, c.want.text)
				for _, p := range probs {
					t.Errorf("  %s", p)
				}
			}
		})
	}
}

func TestNotADirectory(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.tar.gz")
	os.WriteFile(f, []byte("x"), 0o644)
	if p := check.Dir(context.Background(), f, ""); len(p) != 1 || !strings.Contains(p[0].Message, "not a directory") {
		t.Errorf("%v", p)
	}
	if p := check.Dir(context.Background(), t.TempDir(), "v7"); len(p) != 1 || !strings.Contains(p[0].Message, "unknown profile") {
		t.Errorf("%v", p)
	}
}

func TestProblemsAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"zerver_message":[`)
	for i := range 3000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d}`, i)
	}
	b.WriteString(`],"zerver_usermessage":[]}`)
	realm, err := os.ReadFile("testdata/realm-min.json")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"messages-000001.json": {Data: []byte(b.String())}, "realm.json": {Data: realm}}
	p := check.FS(context.Background(), fsys, "")
	if len(p) != check.MaxProblems+1 || !strings.Contains(p[len(p)-1].Message, "more than") {
		t.Errorf("%d problems, last %v", len(p), p[len(p)-1])
	}
}

func FuzzCheckMessages(f *testing.F) {
	f.Add([]byte(`{"zerver_message":[{"id":1,"sender":1}],"zerver_usermessage":[{"user_profile":1,"message":1,"flags_mask":1}]}`))
	f.Add([]byte(`{"zerver_message":[`))
	f.Add([]byte(`[]`))
	realm, _ := os.ReadFile("testdata/realm-min.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{"messages-000001.json": {Data: data}, "realm.json": {Data: realm}}
		check.FS(context.Background(), fsys, "")
	})
}
