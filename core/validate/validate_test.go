package validate

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/schema"
	"github.com/migrate-chat/migrate/sdk"
)

func TestPlansBuild(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatal(err)
	}
}

// gen makes records that are valid or broken in the ways the schema cares
// about: empty and over-long ids, unknown enum values, bad hashes, negative
// sizes, a message in both or neither of a room and a conversation.
type gen struct{ r *rand.Rand }

func (g gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g gen) id() string {
	switch g.r.IntN(12) {
	case 0:
		return ""
	case 1:
		return strings.Repeat("é", 512+g.r.IntN(2))
	default:
		return fmt.Sprintf("id%d", g.r.IntN(1000))
	}
}

func (g gen) opt(s string) string {
	if g.r.IntN(2) == 0 {
		return ""
	}
	return s
}

func (g gen) sha() string {
	switch g.r.IntN(6) {
	case 0:
		return strings.Repeat("A", 64)
	case 1:
		return "abc"
	}
	return strings.Repeat("0f", 32)
}

func (g gen) tm() *time.Time {
	if g.r.IntN(3) == 0 {
		return nil
	}
	t := time.Date(1990+g.r.IntN(40), 1, 1, 0, 0, 0, g.r.IntN(1e9), time.UTC)
	return &t
}

func (g gen) blob() *sdk.BlobRef {
	if g.r.IntN(2) == 0 {
		return nil
	}
	return &sdk.BlobRef{SHA256: g.sha(), Size: int64(g.r.IntN(10) - 2), ContentType: g.opt("image/png")}
}

func (g gen) ids() []string {
	n := g.r.IntN(3)
	out := make([]string, n)
	for i := range out {
		out[i] = g.id()
	}
	return out
}

func (g gen) extra() map[string]string {
	if g.r.IntN(2) == 0 {
		return nil
	}
	return map[string]string{"k": g.pick("v", "")}
}

func (g gen) record() sdk.Record {
	switch g.r.IntN(7) {
	case 0:
		return &sdk.Workspace{ID: g.id(), Name: g.pick("Acme", ""), SourceSystem: g.pick("gitter", ""), ExportedAt: g.tm(),
			ExportOptions: sdk.ExportOptions{OneToOneHistory: g.r.IntN(2) == 0, Since: g.tm()}, HistoryRetentionDays: g.r.IntN(5) - 1, Extra: g.extra()}
	case 1:
		return &sdk.User{ID: g.id(), Username: g.opt("u"), Email: g.pick("", "a@b.c", strings.Repeat("x", 321)), Role: sdk.Role(g.pick("member", "admin", "guest", "king", "")),
			Bot: g.r.IntN(2) == 0, CreatedAt: g.tm(), Avatar: g.blob(), Extra: g.extra()}
	case 2:
		return &sdk.Room{ID: g.id(), Name: g.pick("general", ""), Private: g.r.IntN(2) == 0, Owner: g.pick("", "u1", ""), Admins: g.ids(), Members: g.ids(), CreatedAt: g.tm()}
	case 3:
		return &sdk.Conversation{ID: g.id(), Participants: g.ids(), Group: g.r.IntN(2) == 0}
	case 4:
		return &sdk.Emoji{ID: g.id(), Shortcode: g.pick("yay", ""), Image: g.blob(), Creator: g.pick("", "u", "")}
	case 5:
		m := &sdk.Message{ID: g.id(), Kind: sdk.MessageKind(g.pick("normal", "emote", "topic_change", "shout", "")),
			Room: g.pick("", "r1"), Conversation: g.pick("", "c1"), Sender: g.pick("u1", "u2", ""), SentAt: *must(g.tmNonNil()),
			EditedAt: g.tm(), Body: g.pick("hi", "", "ünïcode"), ThreadRoot: g.opt("m0"), Attachments: g.ids()}
		if g.r.IntN(3) == 0 {
			m.Mentions = []sdk.Mention{{Kind: sdk.MentionKind(g.pick("user", "all", "everyone", "")), User: g.opt("u2")}}
		}
		if g.r.IntN(3) == 0 {
			m.Reactions = []sdk.Reaction{{Emoji: g.pick("tada", ""), Users: g.ids()}}
		}
		if g.r.IntN(4) == 0 {
			m.Edits = []sdk.Edit{{EditedAt: *must(g.tmNonNil()), Body: g.pick("old", ""), Editor: g.pick("", "u1", "")}}
		}
		return m
	default:
		return &sdk.Attachment{ID: g.id(), Message: g.pick("m1", ""), Name: g.pick("x.png", ""), Size: int64(g.r.IntN(5) - 1),
			SHA256: g.pick("", g.sha()), CreatedAt: g.tm()}
	}
}

func (g gen) tmNonNil() *time.Time {
	t := time.Date(1990+g.r.IntN(40), 1, 1, 0, 0, 0, g.r.IntN(1e9), time.UTC)
	return &t
}

func must[T any](v T) T { return v }

// TestAgreesWithTheGeneralValidator holds the fast plan to the verdict of
// the general JSON Schema validator, record by record.
func TestAgreesWithTheGeneralValidator(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	valid, invalid := 0, 0
	for i := range 20000 {
		rec := g.record()
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		slow := schema.Validate(string(rec.RecordKind()), b)
		fast := Record(rec)
		if (slow == nil) != (fast == nil) {
			t.Fatalf("record %d %s: general validator says %v, fast one says %v", i, b, slow, fast)
		}
		if slow == nil {
			valid++
		} else {
			invalid++
		}
	}
	// Both verdicts must be well exercised, or the test proves nothing.
	if valid < 2000 || invalid < 2000 {
		t.Fatalf("unbalanced sample: %d valid, %d invalid", valid, invalid)
	}
}

func FuzzAgreesWithTheGeneralValidator(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		g := gen{rand.New(rand.NewPCG(a, b))}
		rec := g.record()
		data, err := json.Marshal(rec)
		if err != nil {
			t.Skip()
		}
		slow := schema.Validate(string(rec.RecordKind()), data)
		fast := Record(rec)
		if (slow == nil) != (fast == nil) {
			t.Fatalf("%s: general validator says %v, fast one says %v", data, slow, fast)
		}
	})
}

func TestErrorsNameThePointer(t *testing.T) {
	err := Record(&sdk.Message{ID: "m1", Kind: "shout", Sender: "u", Body: "x"})
	if err == nil {
		t.Fatal("invalid message accepted")
	}
	for _, want := range []string{"message m1", "/kind", "exactly one of room and conversation"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
}

func BenchmarkRecordMessage(b *testing.B) {
	m := &sdk.Message{ID: "5f3a1b2c3d4e5f6a7b8c9d0e", Kind: sdk.MessageNormal, Room: "r1", Sender: "u1",
		SentAt: time.Now(), Body: "see @**Jane Roe** and the file", Original: "see @JaneRoe", OriginalFormat: "text",
		Mentions: []sdk.Mention{{Kind: sdk.MentionUser, User: "u2", Text: "JaneRoe"}}, Attachments: []string{"a1"}}
	if err := Record(m); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Record(m); err != nil {
			b.Fatal(err)
		}
	}
}
