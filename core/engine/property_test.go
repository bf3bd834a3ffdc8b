package engine

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// randomWS makes a messy workspace: users who collide by login or @mention
// name with other workspaces (in other letter case), users without e-mail
// or without any name, deleted users and guests, rooms with clashing,
// long, empty or odd names, members that do not exist, conversations,
// messages at shared instants, threads, mentions, reactions, files with
// and without content, and emoji.
func randomWS(rng *rand.Rand, system, id string) *ws {
	w := newWS(system, id)
	pick := func(xs ...string) string { return xs[rng.Intn(len(xs))] }
	names := []string{"ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "jo"}
	nu := 2 + rng.Intn(8)
	var uids []string
	for i := range nu {
		uid := fmt.Sprint(i + 1)
		n := names[rng.Intn(len(names))]
		if rng.Intn(2) == 0 {
			n = strings.ToUpper(n[:1]) + n[1:]
		}
		email := ""
		if rng.Intn(3) > 0 {
			email = strings.ToLower(n) + pick("@example.com", "@other.example", "")
		}
		w.user(uid, pick(n, n+"-"+system, ""), email, pick(n, "", strings.ToUpper(n)), func(u *sdk.User) {
			u.Deleted = rng.Intn(6) == 0
			u.Role = sdk.Role(pick("member", "member", "admin", "owner", "guest"))
			if rng.Intn(8) == 0 {
				u.Username, u.Email, u.MentionName, u.DisplayName = "", "", "", ""
			}
		})
		uids = append(uids, uid)
	}
	someone := func() string {
		if rng.Intn(15) == 0 {
			return "ghost"
		}
		return uids[rng.Intn(len(uids))]
	}
	var rids []string
	for i := range 1 + rng.Intn(4) {
		rid := fmt.Sprint(100 + i)
		name := pick("General", "general", "Dev/Ops", "a rather long room name", "", "Random", "r#1")
		var members []string
		for range rng.Intn(4) {
			members = append(members, someone())
		}
		w.room(rid, name, pick(someone(), ""), rng.Intn(2) == 0, members...)
		rids = append(rids, rid)
	}
	var cids []string
	for i := range rng.Intn(3) {
		cid := fmt.Sprint(200 + i)
		w.dm(cid, someone(), someone())
		cids = append(cids, cid)
	}
	if rng.Intn(2) == 0 {
		w.r.Conversations = append(w.r.Conversations, &sdk.Conversation{ID: "g", Group: true, Participants: []string{someone(), someone(), someone()}})
		cids = append(cids, "g")
	}
	var mids []string
	for i := range rng.Intn(40) {
		mid := fmt.Sprint("m", i)
		where := rids[rng.Intn(len(rids))]
		if len(cids) > 0 && rng.Intn(4) == 0 {
			where = "dm:" + cids[rng.Intn(len(cids))]
		}
		if rng.Intn(20) == 0 {
			where = "nowhere"
		}
		w.msg(mid, where, someone(), rng.Intn(30), pick("hi", "ok", "+1", "lunch?"), func(m *sdk.Message) {
			if len(mids) > 0 && rng.Intn(4) == 0 {
				m.ThreadRoot = mids[rng.Intn(len(mids))]
			}
			if rng.Intn(4) == 0 {
				m.Mentions = []sdk.Mention{{Kind: sdk.MentionUser, User: someone(), Text: "x"}}
			}
			if rng.Intn(4) == 0 {
				m.Reactions = []sdk.Reaction{{Emoji: "smile", Users: []string{someone(), someone()}}}
			}
		})
		mids = append(mids, mid)
		if rng.Intn(5) == 0 {
			var content []byte
			if rng.Intn(3) > 0 {
				content = []byte(system + id + mid)
			}
			w.file("f"+mid, mid, pick("a.png", "b.txt"), content)
		}
	}
	// Thread roots must come before their replies.
	for i, m := range w.r.Messages {
		if m.ThreadRoot != "" {
			var root *sdk.Message
			for _, r := range w.r.Messages[:i] {
				if r.ID == m.ThreadRoot {
					root = r
				}
			}
			if root == nil || root.SentAt.After(m.SentAt) {
				m.ThreadRoot = ""
			}
		}
	}
	for i := range rng.Intn(3) {
		w.r.Emoji = append(w.r.Emoji, &sdk.Emoji{ID: fmt.Sprint("e", i), Shortcode: pick("party", "Party", "shipit"), ImageURL: "https://emoji.example/x.png", Creator: someone()})
	}
	return w
}

func randomConstraints(rng *rand.Rand) sdk.Constraints {
	var c sdk.Constraints
	if rng.Intn(2) == 0 {
		c = sdk.Constraints{UserNameMax: 4 + rng.Intn(6), RoomNameMax: 5 + rng.Intn(10), MentionNameMax: 3 + rng.Intn(5),
			RoomNameForbidden: "/#", RoomNamesFold: rng.Intn(2) == 0, EmailRequired: rng.Intn(2) == 0}
		if rng.Intn(2) == 0 {
			c.EmailDomain = "imported.example"
		}
	}
	return c
}

// TestMergeProperties merges a few hundred random incoming and existing
// workspaces and checks, for each: the account closes, every reference in
// the output resolves, the counts agree with what the dataset yields (all
// in merge), every incoming message is either in the output or listed as
// not imported, and merging the same inputs into the result changes
// nothing.
func TestMergeProperties(t *testing.T) {
	systems := []string{"hipchat-server", "gitter", "pixtoome"}
	for seed := int64(1); seed <= 300; seed++ {
		rng := rand.New(rand.NewSource(seed))
		var ins []*ws
		for i := range 1 + rng.Intn(3) {
			if i > 0 && rng.Intn(4) == 0 {
				// The same export given twice.
				ins = append(ins, ins[rng.Intn(len(ins))])
				continue
			}
			ins = append(ins, randomWS(rng, systems[rng.Intn(len(systems))], fmt.Sprint("ws", i)))
		}
		req := Request{Constraints: randomConstraints(rng)}
		for _, w := range ins {
			req.Incoming = append(req.Incoming, w.ds())
		}
		if rng.Intn(3) > 0 {
			// A target's workspace is valid: make one by importing a
			// messy one into nothing.
			raw := randomWS(rng, systems[rng.Intn(len(systems))], "target")
			clean, _ := merge(t, Request{Incoming: []sdk.Dataset{raw.ds()}})
			req.Existing = adaptertest.NewDataset(clean)
		}
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			once, rep := merge(t, req)
			var incoming int64
			for _, w := range ins {
				incoming += int64(len(w.r.Messages))
			}
			if a := rep.Account(sdk.KindMessage); a.In != incoming {
				t.Fatalf("%d incoming messages, the account counts %d in", incoming, a.In)
			}
			req.Existing = adaptertest.NewDataset(once)
			twice, rep2 := merge(t, req)
			if err := sameWorkspace(once, twice); err != nil {
				t.Fatalf("merging twice differs from merging once: %v", err)
			}
			if a := rep2.Account(sdk.KindMessage); a.Written != a.Merged {
				t.Fatalf("second merge wrote new messages: %s", acct(rep2, sdk.KindMessage))
			}
		})
	}
}
