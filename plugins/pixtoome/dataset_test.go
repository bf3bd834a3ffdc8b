package pixtoome

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

var base = time.Date(2020, 1, 1, 9, 0, 0, 0, time.UTC)

// fixedNow is 90 days after the rich dataset's first message: users with
// ten messages or fewer are long-term idle by then.
func fixedNow() time.Time { return base.AddDate(0, 0, 90) }

func blob(res *adaptertest.Result, data []byte, ct string) *sdk.BlobRef {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	res.Blobs[h] = data
	return &sdk.BlobRef{SHA256: h, Size: int64(len(data)), ContentType: ct}
}

func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

func ptr[T any](v T) *T { return &v }

// Bulk messages in "Random talk", to spread messages over several files.
const bulkMessages = 1100

// richResult builds a dataset with every feature the target maps:
// threads, edits, mentions (user, ambiguous name, wildcard), reactions
// (Unicode and custom), one-to-one, group and self conversations, an
// attachment with content and one without, avatars, custom emoji, a
// deleted user, a bot, Unicode text, an over-long message, and enough
// messages for several message files.
func richResult(system string) *adaptertest.Result {
	res := &adaptertest.Result{Blobs: map[string][]byte{}}
	exported := base.AddDate(0, 0, 80)
	res.Workspace = &sdk.Workspace{ID: "ws", Name: "Acme Chat", SourceSystem: system, ExportedAt: &exported,
		ExportOptions: sdk.ExportOptions{OneToOneHistory: true, Files: true, Avatars: true}}
	avatar := blob(res, []byte("\x89PNG avatar of alice"), "image/png")
	res.Users = []*sdk.User{
		{ID: "u1", Username: "alice", Email: "alice@example.org", DisplayName: "Alice Smith", Role: sdk.RoleOwner, Avatar: avatar, TimeZone: "Europe/Paris"},
		{ID: "u2", Username: "bob", DisplayName: "Bob Jones", Role: sdk.RoleMember},
		{ID: "u3", Username: "carol", Email: "carol@example.org", DisplayName: "Carol", Role: sdk.RoleAdmin},
		{ID: "u4", Username: "dave", DisplayName: "Dave Gone", Role: sdk.RoleMember, Deleted: true},
		{ID: "u5", Username: "ci", DisplayName: "CI Bot", Role: sdk.RoleMember, Bot: true},
		{ID: "u6", Username: "zoe", Email: "zoe@example.org", DisplayName: "Zoë Ünïcødé 🎉", Role: sdk.RoleGuest},
		{ID: "u7", Username: "sam1", Email: "sam1@example.org", DisplayName: "Sam Lee", Role: sdk.RoleMember},
		{ID: "u8", Username: "sam2", Email: "sam2@example.org", DisplayName: "Sam Lee", Role: sdk.RoleMember},
	}
	res.Rooms = []*sdk.Room{
		{ID: "r1", Name: "General", Description: "Everything\nand more", Members: []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"}, Owner: "u1"},
		{ID: "r2", Name: "Random talk", Members: []string{"u1", "u2"}},
		{ID: "r3", Name: "secret", Private: true, Members: []string{"u1", "u3"}},
		{ID: "r4", Name: "Ünïcødé room 🎉", Members: []string{"u6", "u1"}, Archived: true},
	}
	res.Conversations = []*sdk.Conversation{
		{ID: "c1", Participants: []string{"u1", "u2"}},
		{ID: "c2", Participants: []string{"u1", "u2", "u3"}, Group: true},
		{ID: "c3", Participants: []string{"u1"}},
	}
	res.Emoji = []*sdk.Emoji{{ID: "e1", Shortcode: "party_parrot", Image: blob(res, []byte("GIF89a parrot"), "image/gif"), Creator: "u1"}}
	file := blob(res, []byte("\x89PNG a screenshot"), "image/png")
	res.Attachments = []*sdk.Attachment{
		{ID: "a1", Message: "m6", Name: "screen shot.png", Size: file.Size, ContentType: "image/png", SHA256: file.SHA256, Uploader: "u1", CreatedAt: ptr(at(6))},
		{ID: "a2", Message: "m6", Name: "remote.pdf", URL: "https://files.example.org/remote.pdf"},
	}
	long := strings.Repeat("0123456789", 1200)
	msgs := []*sdk.Message{
		{ID: "m1", Room: "r1", Sender: "u1", Body: "Hello @bob and @all!", Mentions: []sdk.Mention{{Kind: sdk.MentionUser, User: "u2", Text: "bob"}, {Kind: sdk.MentionAll, Text: "all"}}},
		{ID: "m2", Room: "r1", Sender: "u2", Body: "Deploy plan for Friday\nWe ship at noon."},
		{ID: "m3", Room: "r1", Sender: "u3", ThreadRoot: "m2", Body: "Sounds good, @carol here", EditedAt: ptr(at(10)),
			Edits: []sdk.Edit{{EditedAt: at(8), Body: "first draft", Editor: "u3"}, {EditedAt: at(10), Body: "second draft", Editor: "u3"}}},
		{ID: "m4", Room: "r1", Sender: "u2", Kind: sdk.MessageEmote, Body: "waves"},
		{ID: "m5", Room: "r1", Sender: "u5", Kind: sdk.MessageNotification, Body: "Build #12 passed"},
		{ID: "m6", Room: "r1", Sender: "u1", Body: "Look at this", Attachments: []string{"a1", "a2"},
			Reactions: []sdk.Reaction{{Emoji: "thumbs_up", Users: []string{"u2", "u3"}}, {Emoji: "party_parrot", Custom: true, Users: []string{"u1"}}, {Emoji: "no_such_emoji", Users: []string{"u2"}}}},
		{ID: "m7", Conversation: "c1", Sender: "u1", Body: "hi bob"},
		{ID: "m8", Conversation: "c1", Sender: "u2", Body: "hi alice"},
		{ID: "m9", Conversation: "c2", Sender: "u3", Body: "hello group"},
		{ID: "m10", Conversation: "c3", Sender: "u1", Body: "note to self"},
		{ID: "m11", Room: "r4", Sender: "u6", Body: "Grüße 🎉 \"quoted\" \\ back\tslash\u2028line"},
		{ID: "m12", Room: "r1", Sender: "u4", Body: "I was here"},
		{ID: "m13", Room: "r2", Sender: "u1", Body: long},
		{ID: "m14", Room: "r1", Sender: "u1", Body: "ping @sam1, not @sam1x", Mentions: []sdk.Mention{{Kind: sdk.MentionUser, User: "u7", Text: "sam1"}}},
		{ID: "m15", Room: "r3", Sender: "u3", Body: "private words"},
		{ID: "m16", Room: "r1", Sender: "u2", ThreadRoot: "m2", Body: "second reply"},
		{ID: "m17", Room: "r1", Sender: "u1", Body: "Deploy plan for Friday", Topic: ""},
		{ID: "m18", Room: "r1", Sender: "u3", ThreadRoot: "m17", Body: "a second thread with the same first line"},
	}
	for i, m := range msgs {
		if m.Kind == "" {
			m.Kind = sdk.MessageNormal
		}
		m.SentAt = at(i)
	}
	for i := range bulkMessages {
		sender := "u1"
		if i%2 == 1 {
			sender = "u2"
		}
		msgs = append(msgs, &sdk.Message{ID: fmt.Sprintf("b%d", i), Kind: sdk.MessageNormal, Room: "r2", Sender: sender,
			SentAt: at(100 + i), Body: fmt.Sprintf("bulk message %d", i)})
	}
	res.Messages = msgs
	return res
}
