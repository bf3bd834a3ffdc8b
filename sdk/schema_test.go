package sdk

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/schema"
)

// fullRecords returns one record of every kind with every field set, so
// that a field missing from the schema (or a schema property missing from
// the type) shows up.
func fullRecords() []Record {
	t := time.Date(2018, 8, 8, 14, 23, 54, 626267000, time.UTC)
	blob := &BlobRef{SHA256: strings.Repeat("ab", 32), Size: 12, ContentType: "image/png"}
	extra := map[string]string{"k": "v"}
	return []Record{
		&Workspace{ID: "w", Name: "Acme", SourceSystem: "hipchat-server", SourceVersion: "2.2.9", ExportedAt: &t,
			ExportOptions:        ExportOptions{OneToOneHistory: true, Files: true, Avatars: true, Since: &t},
			HistoryRetentionDays: 30, Domain: "acme.example", Extra: extra},
		&User{ID: "1", Username: "jdoe", Email: "j@example.com", MentionName: "JohnDoe", DisplayName: "John Doe",
			Title: "Dev", TimeZone: "Europe/Oslo", Role: RoleAdmin, Bot: true, Integration: true, Deleted: true,
			Deactivated: true, Virtual: true, CreatedAt: &t, Avatar: blob, AvatarURL: "https://a/b.png", Extra: extra},
		&Room{ID: "r", Name: "General", Topic: "t", Description: "d", Private: true, Archived: true, Owner: "1",
			Admins: []string{"1"}, Members: []string{"1"}, MembersInferred: true, GuestAccess: true, CreatedAt: &t,
			Repository: "o/r", Extra: extra},
		&Conversation{ID: "c", Participants: []string{"1", "2"}, Group: true, CreatedAt: &t, Extra: extra},
		&Emoji{ID: "e", Shortcode: "yasss", Image: blob, ImageURL: "https://e", Creator: "1", Deleted: true, Extra: extra},
		&Message{ID: "m", Kind: MessageEmote, Room: "r", Sender: "1", SenderName: "JIRA", SentAt: t, EditedAt: &t,
			Edits: []Edit{{EditedAt: t, Body: "old", Editor: "1"}}, Body: "new", Original: "new", OriginalFormat: "text",
			ThreadRoot: "m0", Topic: "topic", ReplyTo: "m0", Mentions: []Mention{{Kind: MentionUser, User: "1", Text: "JohnDoe"}},
			Reactions: []Reaction{{Emoji: "thumbs_up", Custom: true, Users: []string{"1"}}}, Attachments: []string{"a"},
			Deleted: true, Extra: extra},
		// A message belongs to a room or a conversation, never both: the
		// second example covers the other half.
		&Message{ID: "m2", Kind: MessageNormal, Conversation: "c", Sender: "1", SentAt: t, Body: "hi"},
		&Attachment{ID: "a", Message: "m", Name: "x.png", Size: 12, ContentType: "image/png", SHA256: blob.SHA256,
			URL: "https://f/x.png", Path: "AbC/x.png", Uploader: "1", CreatedAt: &t},
	}
}

// schemaProps returns the decoded schema for a kind.
func schemaProps(t *testing.T, kind string) map[string]any {
	raw, err := schema.Raw(kind)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTypesAndSchemaAgree(t *testing.T) {
	seen := map[string]map[string]any{}
	for _, rec := range fullRecords() {
		kind := string(rec.RecordKind())
		t.Run(kind, func(t *testing.T) {
			b, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(kind, b); err != nil {
				t.Fatalf("a fully populated %s does not validate: %v", kind, err)
			}
			// Every field is set, so every field shows up in the JSON; the
			// schema forbids additional properties, so validation above
			// already proved type ⊆ schema. Now prove schema ⊆ type, at
			// every nesting level.
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if seen[kind] == nil {
				seen[kind] = map[string]any{}
			}
			for k, v := range got {
				if _, ok := seen[kind][k]; !ok {
					seen[kind][k] = v
				}
			}

			// And the record survives a round trip unchanged.
			back := reflect.New(reflect.TypeOf(rec).Elem()).Interface()
			if err := json.Unmarshal(b, back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, rec) {
				t.Fatalf("round trip changed the record:\n got %#v\nwant %#v", back, rec)
			}
		})
	}
	for _, kind := range Kinds {
		if seen[string(kind)] == nil {
			t.Errorf("no example record of kind %s", kind)
			continue
		}
		compare(t, string(kind), schemaProps(t, string(kind)), seen[string(kind)])
	}
}

// compare walks a schema object and the JSON of a fully populated value
// and fails for every schema property the value lacks.
func compare(t *testing.T, where string, sch map[string]any, val map[string]any) {
	t.Helper()
	props, _ := sch["properties"].(map[string]any)
	var names []string
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v, ok := val[name]
		if !ok {
			t.Errorf("%s: schema property %q has no field in the Go type (or the example leaves it empty)", where, name)
			continue
		}
		sub, _ := props[name].(map[string]any)
		switch vv := v.(type) {
		case map[string]any:
			if _, isRef := sub["$ref"]; !isRef && sub["properties"] != nil {
				compare(t, where+"."+name, sub, vv)
			}
		case []any:
			items, _ := sub["items"].(map[string]any)
			if len(vv) > 0 && items != nil && items["properties"] != nil {
				if m, ok := vv[0].(map[string]any); ok {
					compare(t, where+"."+name+"[]", items, m)
				}
			}
		}
	}
}

func TestSchemaRejectsWhatTheTypesForbid(t *testing.T) {
	cases := []struct {
		kind, json, want string
	}{
		{"user", `{"id":"1","role":"king"}`, "/role"},
		{"user", `{"id":"1","role":"member","shoe_size":44}`, "shoe_size"},
		{"message", `{"id":"m","kind":"normal","sender":"1","sent_at":"2018-08-08T14:23:54Z","body":"x"}`, "exactly one of room and conversation"},
		{"message", `{"id":"m","kind":"normal","room":"r","sender":"1","sent_at":"yesterday","body":"x"}`, "/sent_at"},
		{"attachment", `{"id":"a","message":"m","name":"x","size":-1}`, "/size"},
		{"room", `{"id":"","name":"x","private":false}`, "/id"},
	}
	for _, c := range cases {
		err := schema.Validate(c.kind, []byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: got %v, want an error mentioning %q", c.kind, c.json, err, c.want)
		}
	}
}

// TestEveryFieldHasASchemaProperty walks the Go types themselves, so a new
// field fails here even if nobody adds it to the examples above.
func TestEveryFieldHasASchemaProperty(t *testing.T) {
	for _, rec := range fullRecords() {
		kind := string(rec.RecordKind())
		checkType(t, kind, reflect.TypeOf(rec).Elem(), schemaProps(t, kind), schemaProps(t, "common"))
	}
}

func checkType(t *testing.T, where string, typ reflect.Type, sch, common map[string]any) {
	t.Helper()
	if ref, ok := sch["$ref"].(string); ok {
		// Only references into common.schema.json's $defs are used.
		name := ref[strings.LastIndex(ref, "/")+1:]
		sch = common["$defs"].(map[string]any)[name].(map[string]any)
	}
	props, _ := sch["properties"].(map[string]any)
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" {
			t.Errorf("%s.%s has no json name", where, f.Name)
			continue
		}
		sub, ok := props[name].(map[string]any)
		if !ok {
			t.Errorf("%s: field %s (%q) is not in the schema", where, f.Name, name)
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
			if items, ok := sub["items"].(map[string]any); ok {
				sub = items
			}
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}) {
			checkType(t, where+"."+name, ft, sub, common)
		}
	}
}
