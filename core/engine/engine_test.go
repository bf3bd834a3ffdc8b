package engine

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// existingHipChat is a HipChat Server workspace that already holds data:
// an admin, two people, a public and a private room.
func existingHipChat() *ws {
	return newWS("hipchat-server", "chat.example.com").
		user("1", "admin@example.com", "admin@example.com", "Admin", func(u *sdk.User) { u.Role = sdk.RoleAdmin }).
		user("2", "jane@example.com", "jane@example.com", "JaneRoe").
		user("3", "bob@example.com", "bob@example.com", "bob").
		room("10", "Engineering", "2", false).
		room("11", "Secret", "2", true, "2").
		msg("e1", "10", "2", 0, "hello from the existing server")
}

func TestUsersMappedByLoginThenMention(t *testing.T) {
	in := newWS("gitter", "gitter.im").
		user("g-jane", "JANE@example.com", "", "jane-gitter"). // username = existing e-mail, other case
		user("g-bob", "bobby", "", "BOB").                     // @mention name only
		user("g-new", "newbie", "newbie@example.com", "newbie").
		room("r1", "Engineering", "", false).
		msg("g1", "r1", "g-jane", 1, "hi").
		msg("g2", "r1", "g-bob", 2, "yo").
		msg("g3", "r1", "g-new", 3, "first!")
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{in.ds()}, Existing: existingHipChat().ds()})

	wantNotice(t, rep, CodeUserMapped, "A user you’re importing already exists. The user JANE@example.com is now mapped to jane@example.com.")
	wantNotice(t, rep, CodeUserMapped, "A user you’re importing already exists. The user bobby is now mapped to bob@example.com.")
	if n := len(notices(rep, CodeUserMapped)); n != 2 {
		t.Errorf("%d users mapped, want 2", n)
	}
	if got := acct(rep, sdk.KindUser); got != "in=3 written=3 merged=2 lost=0" {
		t.Errorf("user account %s", got)
	}
	if len(out.Users) != 4 {
		t.Fatalf("%d users, want the 3 existing and 1 new", len(out.Users))
	}
	senders := map[string]string{}
	for _, m := range out.Messages {
		senders[m.Body] = m.Sender
	}
	newbie := userBy(out, func(u *sdk.User) bool { return u.Username == "newbie" })
	if senders["hi"] != "2" || senders["yo"] != "3" || newbie == nil || senders["first!"] != newbie.ID {
		t.Errorf("senders %v", senders)
	}
	// The room matched by name too, and the existing one wins.
	wantNotice(t, rep, CodeRoomMapped, "A room you’re importing already exists. The room Engineering is now mapped to Engineering.")
	for _, m := range out.Messages {
		if m.Room != "10" {
			t.Errorf("message %q in room %q, want the existing room 10", m.Body, m.Room)
		}
	}
}

func TestRoomNamesFoldOrNot(t *testing.T) {
	for _, foldNames := range []bool{false, true} {
		t.Run(fmt.Sprint("fold=", foldNames), func(t *testing.T) {
			in := newWS("gitter", "gitter.im").
				user("u", "jane@example.com", "", "").
				room("r", "ENGINEERING", "", false).
				msg("m", "r", "u", 1, "hi")
			out, rep := merge(t, Request{Incoming: []sdk.Dataset{in.ds()}, Existing: existingHipChat().ds(),
				Constraints: sdk.Constraints{RoomNamesFold: foldNames}})
			mapped := len(notices(rep, CodeRoomMapped)) == 1
			if mapped != foldNames {
				t.Fatalf("room mapped: %v, want %v", mapped, foldNames)
			}
			if foldNames && len(out.Rooms) != 2 || !foldNames && roomNamed(out, "ENGINEERING") == nil {
				t.Fatalf("rooms %v", out.Rooms)
			}
		})
	}
}

func TestMappedPrivateRoomGainsMembers(t *testing.T) {
	in := newWS("hipchat-cloud", "acme").
		user("7", "bob@example.com", "bob@example.com", "bob").
		user("8", "carol@example.com", "carol@example.com", "carol").
		room("70", "secret", "7", true, "7", "8")
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{in.ds()}, Existing: existingHipChat().ds(),
		Constraints: sdk.Constraints{RoomNamesFold: true}})
	r := roomNamed(out, "Secret")
	carol := userBy(out, func(u *sdk.User) bool { return u.Username == "carol@example.com" })
	if r == nil || carol == nil || !slices.Equal(r.Members, []string{"2", "3", carol.ID}) || r.Owner != "2" {
		t.Fatalf("room %+v", r)
	}
	if got := acct(rep, sdk.KindRoom); got != "in=1 written=1 merged=1 lost=0" {
		t.Errorf("room account %s", got)
	}
}

func TestRoomOwnerMissingGoesToAdmin(t *testing.T) {
	in := func() *ws {
		return newWS("hipchat-server", "old").
			user("5", "", "", "", func(u *sdk.User) { u.DisplayName = "" }). // cannot be created: no name at all
			user("6", "ann@example.com", "ann@example.com", "ann", func(u *sdk.User) { u.Role = sdk.RoleOwner }).
			room("50", "Ops", "5", false).
			msg("m1", "50", "6", 1, "kept").
			msg("m2", "50", "5", 2, "lost")
	}
	t.Run("default is the target's first admin", func(t *testing.T) {
		out, rep := merge(t, Request{Incoming: []sdk.Dataset{in().ds()}, Existing: existingHipChat().ds()})
		wantNotice(t, rep, CodeRoomOwnerMissing, "The room Ops’s owner, 5, is missing. The new owner is admin@example.com.")
		if r := roomNamed(out, "Ops"); r == nil || r.Owner != "1" {
			t.Fatalf("room %+v", r)
		}
		if !slices.Equal(bodies(out), []string{"hello from the existing server", "kept"}) {
			t.Fatalf("messages %q", bodies(out))
		}
		if l := losses(rep, sdk.KindMessage); len(l) != 1 || !strings.Contains(l["m2"], "the user 5 was not imported") {
			t.Fatalf("message losses %v", l)
		}
	})
	t.Run("without a target the incoming owner", func(t *testing.T) {
		out, rep := merge(t, Request{Incoming: []sdk.Dataset{in().ds()}})
		wantNotice(t, rep, CodeRoomOwnerMissing, "The room Ops’s owner, 5, is missing. The new owner is ann@example.com.")
		if r := roomNamed(out, "Ops"); r.Owner != "6" {
			t.Fatalf("owner %q", r.Owner)
		}
	})
	t.Run("--admin by mention name", func(t *testing.T) {
		out, rep := merge(t, Request{Incoming: []sdk.Dataset{in().ds()}, Existing: existingHipChat().ds(), Admin: "@janeroe"})
		wantNotice(t, rep, CodeRoomOwnerMissing, "The room Ops’s owner, 5, is missing. The new owner is jane@example.com.")
		if r := roomNamed(out, "Ops"); r.Owner != "2" {
			t.Fatalf("owner %q", r.Owner)
		}
	})
	t.Run("--admin unknown", func(t *testing.T) {
		_, rep, err := Merge(context.Background(), Request{Incoming: []sdk.Dataset{in().ds()}, Admin: "nobody@example.com"})
		defer rep.Close()
		if !errors.Is(err, ErrUnknownAdmin) || !strings.Contains(err.Error(), "nobody@example.com") {
			t.Fatalf("err %v", err)
		}
	})
}

// TestUserNotCreatedTakesItsDataOut follows HipChat's guide: a user who is
// not created loses their messages, files and one-to-one chats, and their
// place in private rooms; everything else stays.
func TestUserNotCreatedTakesItsDataOut(t *testing.T) {
	in := newWS("gitter", "gitter.im").
		user("a", "alice", "alice@example.com", "alice").
		user("z", "zed", "", "zed"). // no e-mail, and the target needs one
		room("r", "dev", "z", true, "a", "z").
		dm("c", "a", "z").
		msg("m1", "r", "a", 1, "alice speaks").
		msg("m2", "r", "z", 2, "zed speaks").
		msg("m3", "dm:c", "a", 3, "private a").
		msg("m4", "dm:c", "z", 4, "private z").
		msg("m5", "r", "a", 5, "reply", func(m *sdk.Message) { m.ThreadRoot = "m2" }).
		file("f1", "m2", "zed.png", []byte("png")).
		file("f2", "m1", "alice.png", []byte("png2"))
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{in.ds()}, Constraints: sdk.Constraints{EmailRequired: true}})

	if l := losses(rep, sdk.KindUser); len(l) != 1 || !strings.Contains(l["z"], "e-mail") {
		t.Fatalf("user losses %v", l)
	}
	if got := notices(rep, CodeUserCreateFailed); len(got) != 1 || !strings.HasPrefix(got[0], "The user zed was not imported") {
		t.Fatalf("user notices %q", got)
	}
	if !slices.Equal(bodies(out), []string{"alice speaks", "reply"}) {
		t.Fatalf("messages %q", bodies(out))
	}
	if out.Messages[1].ThreadRoot != "" {
		t.Errorf("reply keeps a thread root that was not imported: %q", out.Messages[1].ThreadRoot)
	}
	if l := losses(rep, sdk.KindMessage); len(l) != 3 || l["m3"] == "" || l["m4"] == "" || l["m2"] == "" {
		t.Fatalf("message losses %v", l)
	}
	if l := losses(rep, sdk.KindConversation); len(l) != 1 || !strings.Contains(l["c"], "zed") {
		t.Fatalf("conversation losses %v", l)
	}
	if l := losses(rep, sdk.KindAttachment); len(l) != 1 || !strings.Contains(l["f1"], "m2") {
		t.Fatalf("attachment losses %v", l)
	}
	if len(out.Attachments) != 1 || out.Attachments[0].ID != "f2" {
		t.Fatalf("attachments %v", out.Attachments)
	}
	wantNotice(t, rep, CodeMemberNotImported, "The user, zed, is missing from the list of room members because the user wasn't imported.")
	if r := roomNamed(out, "dev"); !slices.Equal(r.Members, []string{"a"}) || r.Owner != "" {
		// No admin anywhere: the room is left without an owner, and says so.
		t.Fatalf("room %+v", r)
	}
	if got := notices(rep, CodeRoomOwnerMissing); len(got) != 1 || !strings.Contains(got[0], "--admin") {
		t.Fatalf("owner notices %q", got)
	}
	for _, k := range []sdk.Kind{sdk.KindUser, sdk.KindMessage, sdk.KindConversation, sdk.KindAttachment} {
		t.Logf("%s: %s", k, acct(rep, k))
	}
}

func TestRoomNotCreatedTakesItsMessagesAndFiles(t *testing.T) {
	in := newWS("hipchat-server", "old").
		user("1", "a@example.com", "a@example.com", "a").
		room("9", "  ", "1", false).
		msg("m1", "9", "1", 1, "into the void").
		file("f1", "m1", "x.txt", []byte("x"))
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{in.ds()}})
	wantNotice(t, rep, CodeRoomCreateFailed, "Failed to create room 9: the room has no name")
	if len(out.Rooms) != 0 || len(out.Messages) != 0 || len(out.Attachments) != 0 {
		t.Fatalf("out %d rooms %d messages %d files", len(out.Rooms), len(out.Messages), len(out.Attachments))
	}
	if got := losses(rep, sdk.KindMessage)["m1"]; got != "room: the room 9 was not imported" {
		t.Errorf("message loss %q", got)
	}
}

func TestPrivateRoomMembership(t *testing.T) {
	in := newWS("hipchat-server", "old").
		user("1", "a@example.com", "a@example.com", "a").
		user("2", "gone@example.com", "gone@example.com", "gone", func(u *sdk.User) { u.Deleted = true }).
		room("9", "Private", "1", true, "1", "2", "404").
		room("10", "Public", "1", false, "1", "2").
		msg("m1", "9", "2", 1, "deleted users keep their messages")
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{in.ds()}})
	wantNotice(t, rep, CodeRoomPopulateIssues, "Issues found when populating the room")
	wantNotice(t, rep, CodeMemberAddFailed, "Failed to add member 404: the user is not in the export")
	if r := roomNamed(out, "Private"); !slices.Equal(r.Members, []string{"1"}) {
		t.Errorf("private members %v", r.Members)
	}
	if r := roomNamed(out, "Public"); !slices.Equal(r.Members, []string{"1", "2"}) {
		t.Errorf("public members %v", r.Members)
	}
	if len(out.Messages) != 1 || out.Messages[0].Sender != "2" {
		t.Errorf("messages %v", out.Messages)
	}
}

func TestGuestUserKept(t *testing.T) {
	in := newWS("hipchat-server", "old").
		user("1", "", "", "", func(u *sdk.User) { u.DisplayName = "Visitor"; u.Role = sdk.RoleGuest; u.Deleted = true }).
		room("9", "Lobby", "", false).
		msg("m1", "9", "1", 1, "hello as a guest")
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{in.ds()}})
	wantNotice(t, rep, CodeUserDeleteFailed, "Couldn't delete user")
	if len(out.Messages) != 1 || !out.Users[0].Deleted {
		t.Fatalf("users %v messages %v", out.Users, out.Messages)
	}
}

func TestConstraints(t *testing.T) {
	cons := sdk.Constraints{UserNameMax: 8, MentionNameMax: 6, RoomNameMax: 10, RoomNameForbidden: "/#",
		RoomNamesFold: true, EmailRequired: true, EmailDomain: "imported.example"}
	existing := newWS("pixtoome", "zulip").
		user("1", "longname", "longname@x.example", "mentio").
		room("1", "General", "1", false).
		room("2", "a-very-lon", "1", false)
	in := newWS("gitter", "gitter.im").
		user("u1", "longname-but-longer", "", "mention-too-long").
		user("u2", "Ana María", "not-an-address", "").
		room("r1", "a/b#c", "", false).
		room("r2", "a very long room name", "", false).
		room("r3", "a-very-long-room", "", false).
		msg("m", "r1", "u1", 1, "hi")
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{in.ds()}, Existing: existing.ds(), Constraints: cons})

	u1 := userBy(out, func(u *sdk.User) bool { return u.ID == "u1" })
	if u1.Username != "longnam2" || u1.MentionName != "menti2" || u1.Email != "longnam2@imported.example" {
		t.Errorf("u1 is %q %q %q", u1.Username, u1.MentionName, u1.Email)
	}
	u2 := userBy(out, func(u *sdk.User) bool { return u.ID == "u2" })
	if u2.Username != "Ana Marí" || u2.Email != "ana.mar@imported.example" {
		t.Errorf("u2 is %q %q", u2.Username, u2.Email)
	}
	wantNotice(t, rep, CodeUserRenamed, `The username "longname-but-longer" is longer than 8 characters; the user is now "longnam2".`)
	wantNotice(t, rep, CodeUserRenamed, `The @mention name "mention-too-long" of longname-but-longer is longer than 6 characters; it is now "menti2".`)
	wantNotice(t, rep, CodeEmailFilled, "The user longname-but-longer has no e-mail address; it is now longnam2@imported.example.")
	wantNotice(t, rep, CodeEmailFilled, `The user Ana María has an e-mail address the target cannot take ("not-an-address"); it is now ana.mar@imported.example.`)
	wantNotice(t, rep, CodeRoomRenamed, `The room name "a/b#c" has characters the target does not allow ("/#"); the room is now named "a_b_c".`)
	wantNotice(t, rep, CodeRoomRenamed, `The room name "a very long room name" is longer than 10 characters; the room is now named "a very lon".`)
	wantNotice(t, rep, CodeRoomRenamed, `The room name "a-very-lon" is already taken; the room is now named "a-very (2)".`)
	for _, name := range []string{"a_b_c", "a very lon", "a-very (2)"} {
		if roomNamed(out, name) == nil {
			t.Errorf("no room %q", name)
		}
	}
	if a := rep.Account(sdk.KindUser); a.NotImportedCount() != 0 {
		t.Errorf("users lost: %v", losses(rep, sdk.KindUser))
	}
}

func TestMissingBlobs(t *testing.T) {
	in := newWS("hipchat-server", "old").
		user("1", "a@example.com", "a@example.com", "a", func(u *sdk.User) {
			u.Avatar = &sdk.BlobRef{SHA256: strings.Repeat("ab", 32), Size: 3}
		}).
		room("9", "Files", "1", false).
		msg("m1", "9", "1", 1, "two files").
		file("f1", "m1", "report.pdf", nil).
		file("f2", "m1", "ok.txt", []byte("fine"))
	in.r.Emoji = append(in.r.Emoji, &sdk.Emoji{ID: "e1", Shortcode: "party", Image: &sdk.BlobRef{SHA256: strings.Repeat("cd", 32), Size: 1}})
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{in.ds()}})
	wantNotice(t, rep, CodePhotoUploadFailed, "Couldn’t upload the photo for username a@example.com.")
	wantNotice(t, rep, CodeFileUploadFailed, "Failed to upload file: report.pdf")
	wantNotice(t, rep, CodeFileUploadFailed, "Failed to upload file: party")
	if out.Users[0].Avatar != nil {
		t.Error("avatar without its image kept")
	}
	if m := out.Messages[0]; !slices.Equal(m.Attachments, []string{"f2"}) {
		t.Errorf("message lists %v", m.Attachments)
	}
	if got := losses(rep, sdk.KindAttachment)["f1"]; got != "Failed to upload file: report.pdf" {
		t.Errorf("attachment loss %q", got)
	}
	if got := losses(rep, sdk.KindEmoji)["e1"]; got == "" {
		t.Error("emoji without an image is not reported")
	}
}

// failing yields an error in the middle of its messages.
type failing struct{ sdk.Dataset }

func (f failing) Messages() iter.Seq2[*sdk.Message, error] {
	return func(yield func(*sdk.Message, error) bool) {
		for m, err := range f.Dataset.Messages() {
			if !yield(m, err) {
				return
			}
			yield(nil, errors.New("read messages.ndjson: unexpected EOF"))
			return
		}
	}
}

func TestSomethingWentWrong(t *testing.T) {
	in := newWS("gitter", "g").user("u", "u", "", "").room("r", "r", "", false).msg("m", "r", "u", 1, "x").msg("n", "r", "u", 2, "y")
	_, rep, err := Merge(context.Background(), Request{Incoming: []sdk.Dataset{failing{in.ds()}}})
	defer rep.Close()
	if err == nil || !strings.Contains(err.Error(), "input 1") || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Fatalf("err %v", err)
	}
	wantNotice(t, rep, CodeInternal, "Something went wrong. Try again in a few minutes.")
	rep.Finish(err)
	if rep.ExitCode() != 2 {
		t.Fatalf("exit code %d", rep.ExitCode())
	}
}

func TestUnsortedInputFails(t *testing.T) {
	in := newWS("gitter", "g").user("u", "u", "", "").room("r", "r", "", false)
	ds := in.msg("m", "r", "u", 5, "x").msg("n", "r", "u", 1, "y").ds()
	// NewDataset sorts; undo that through a dataset that yields in slice order.
	_, rep, err := Merge(context.Background(), Request{Incoming: []sdk.Dataset{unsorted{ds, in.r.Messages}}})
	defer rep.Close()
	if err == nil || !strings.Contains(err.Error(), "not sorted by time") {
		t.Fatalf("err %v", err)
	}
}

type unsorted struct {
	sdk.Dataset
	msgs []*sdk.Message
}

func (u unsorted) Messages() iter.Seq2[*sdk.Message, error] { return records(u.msgs) }

func TestSeveralInputsNamespaceIDs(t *testing.T) {
	a := newWS("hipchat-server", "server-a").user("1", "a@example.com", "a@example.com", "a").room("1", "A", "1", false).
		msg("1", "1", "1", 1, "from a").file("1", "1", "a.txt", []byte("a"))
	b := newWS("hipchat-server", "server-b").user("1", "b@example.com", "b@example.com", "b").room("1", "B", "1", false).
		msg("1", "1", "1", 1, "from b").file("1", "1", "b.txt", []byte("b"))
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{a.ds(), b.ds()}})
	if len(out.Users) != 2 || len(out.Rooms) != 2 || len(out.Messages) != 2 || len(out.Attachments) != 2 {
		t.Fatalf("merged %d users %d rooms %d messages %d files", len(out.Users), len(out.Rooms), len(out.Messages), len(out.Attachments))
	}
	pb := IDPrefix(b.r.Workspace)
	if out.Users[0].ID != "1" || out.Users[1].ID != pb+"1" || out.Rooms[1].ID != pb+"1" {
		t.Errorf("ids %q %q %q", out.Users[0].ID, out.Users[1].ID, out.Rooms[1].ID)
	}
	if m := out.Messages[1]; m.Body != "from b" || m.Sender != pb+"1" || m.Room != pb+"1" || m.ID != pb+"1" ||
		m.Extra[ExtraSourceKey] != "hipchat-server:server-b/1" {
		t.Errorf("message %+v", m)
	}
	if got := acct(rep, sdk.KindMessage); got != "in=2 written=2 merged=0 lost=0" {
		t.Error(got)
	}
}

func TestOverlappingInputsAddNothingTwice(t *testing.T) {
	// Two dumps of the same Gitter room, the second one later and longer.
	first := newWS("gitter", "gitter.im").user("u", "u", "", "u").room("r", "room", "", false).
		msg("m1", "r", "u", 1, "one").msg("m2", "r", "u", 2, "two")
	second := newWS("gitter", "gitter.im").user("u", "u", "", "u").room("r", "room", "", false).
		msg("m1", "r", "u", 1, "one").msg("m2", "r", "u", 2, "two").msg("m3", "r", "u", 3, "three")
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{first.ds(), second.ds()}})
	if !slices.Equal(bodies(out), []string{"one", "two", "three"}) {
		t.Fatalf("messages %q", bodies(out))
	}
	if got := acct(rep, sdk.KindMessage); got != "in=5 written=5 merged=2 lost=0" {
		t.Error(got)
	}
	if out.Messages[2].ID != "m3" {
		t.Errorf("ids of one source workspace need no prefix: %q", out.Messages[2].ID)
	}
}

func TestRerunAddsNothingTwice(t *testing.T) {
	in := newWS("gitter", "gitter.im").
		user("u", "jane@example.com", "", "jane").
		user("v", "vic", "vic@example.com", "vic").
		room("r", "Engineering", "v", true, "u", "v").
		dm("c", "u", "v").
		msg("m1", "r", "u", 1, "hi", func(m *sdk.Message) {
			m.Mentions = []sdk.Mention{{Kind: sdk.MentionUser, User: "v", Text: "vic"}}
		}).
		msg("m2", "dm:c", "v", 2, "psst").
		msg("m3", "r", "v", 3, "reply", func(m *sdk.Message) {
			m.ThreadRoot = "m1"
			m.Reactions = []sdk.Reaction{{Emoji: "+1", Users: []string{"u"}}}
		}).
		file("f", "m3", "a.txt", []byte("a"))
	cons := sdk.Constraints{RoomNamesFold: true, RoomNameMax: 5, UserNameMax: 6}
	for _, existing := range []*ws{nil, existingHipChat()} {
		req := Request{Incoming: []sdk.Dataset{in.ds()}, Constraints: cons}
		if existing != nil {
			req.Existing = existing.ds()
		}
		once, _ := merge(t, req)
		req.Existing = adaptertest.NewDataset(once)
		twice, rep := merge(t, req)
		if err := sameWorkspace(once, twice); err != nil {
			t.Fatalf("existing=%v: merging twice differs from merging once: %v", existing != nil, err)
		}
		if a := rep.Account(sdk.KindMessage); a.Merged != 3 || a.Written != 3 {
			t.Errorf("second run: %s", acct(rep, sdk.KindMessage))
		}
	}
}

func TestDryRunComputesTheReportOnly(t *testing.T) {
	in := newWS("gitter", "gitter.im").user("u", "jane@example.com", "", "").user("z", "", "", "", func(u *sdk.User) { u.DisplayName = "" }).
		room("r", "Engineering", "", false).msg("m1", "r", "u", 1, "a").msg("m2", "r", "z", 2, "b")
	req := Request{Incoming: []sdk.Dataset{in.ds()}, Existing: existingHipChat().ds()}
	_, full := merge(t, req)
	req.DryRun = true
	d, dry, err := Merge(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer dry.Close()
	if d != nil {
		t.Fatal("a dry run returned a dataset to write")
	}
	if !dry.DryRun {
		t.Error("the report does not say it was a dry run")
	}
	for _, k := range []sdk.Kind{sdk.KindUser, sdk.KindRoom, sdk.KindMessage} {
		if acct(dry, k) != acct(full, k) {
			t.Errorf("%s: dry run %s, real run %s", k, acct(dry, k), acct(full, k))
		}
	}
	if w, _ := dry.NoticeCount(); w == 0 {
		t.Error("the dry run reported no warnings")
	}
}

// A target that fills in e-mail addresses itself gets users without one,
// untouched and without a notice.
func TestEmailLeftToTheTarget(t *testing.T) {
	in := newWS("gitter", "w").
		user("a", "alice", "", "alice").
		room("r", "dev", "a", false, "a").
		msg("m1", "r", "a", 1, "hello")
	out, rep := merge(t, Request{Incoming: []sdk.Dataset{in.ds()}, Constraints: sdk.Constraints{EmailRequired: true, EmailByTarget: true}})
	if len(out.Users) != 1 || out.Users[0].Email != "" {
		t.Fatalf("users %+v", out.Users)
	}
	if l := losses(rep, sdk.KindUser); len(l) != 0 {
		t.Fatalf("user losses %v", l)
	}
	if got := notices(rep, CodeEmailFilled); len(got) != 0 {
		t.Fatalf("notices %q", got)
	}
}
