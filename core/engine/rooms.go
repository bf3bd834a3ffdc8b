package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/migrate-chat/migrate/sdk"
)

// roomNameKey is the form under which room names must be unique.
func (p *plan) roomNameKey(name string) string {
	if p.cons.RoomNamesFold {
		return fold(name)
	}
	return strings.TrimSpace(name)
}

func (p *plan) addRoom(r *sdk.Room, key string) {
	i := len(p.rooms)
	p.rooms = append(p.rooms, r)
	setOnce(p.roomIdx, r.ID, i)
	setOnce(p.roomKey, key, i)
	setOnce(p.roomBy, p.roomNameKey(r.Name), i)
}

func (p *plan) planRooms(in *input) error {
	rooms, err := collect(in.ds.Rooms(), fmt.Sprintf("input %d: rooms", in.n))
	if err != nil {
		return err
	}
	for _, r := range rooms {
		p.planRoom(in, r)
	}
	return nil
}

func (p *plan) planRoom(in *input, src *sdk.Room) {
	acc := p.rep
	key := sourceKey(in.wsKey, src.ID, src.Extra)
	label := src.Name
	if strings.TrimSpace(label) == "" {
		label = src.ID
	}
	if _, dup := in.rooms[src.ID]; dup {
		acc.Count(sdk.KindRoom, 1, 0, 0)
		acc.Lose(sdk.KindRoom, src.ID, "the input holds another room with the same id")
		return
	}
	i, ok := p.roomKey[key]
	if !ok && strings.TrimSpace(src.Name) != "" {
		i, ok = p.roomBy[p.roomNameKey(src.Name)]
	}
	if ok {
		// The existing room wins; the incoming members join it.
		t := *p.rooms[i]
		members, admins := p.mapMembers(in, src, t.Private)
		t.Members = appendNew(slices.Clone(t.Members), members...)
		t.Admins = appendNew(slices.Clone(t.Admins), admins...)
		p.rooms[i] = &t
		in.rooms[src.ID] = &mapping{out: t.ID, name: label}
		acc.Count(sdk.KindRoom, 1, 1, 1)
		p.notify(sdk.LevelWarning, CodeRoomMapped, sdk.KindRoom, src.ID, MsgRoomMapped, label, t.Name)
		return
	}
	if strings.TrimSpace(src.Name) == "" {
		msg := fmt.Sprintf(MsgRoomCreateFailed, src.ID, "the room has no name")
		in.rooms[src.ID] = &mapping{name: label, reason: msg}
		acc.Count(sdk.KindRoom, 1, 0, 0)
		acc.Lose(sdk.KindRoom, src.ID, msg)
		p.notify(sdk.LevelError, CodeRoomCreateFailed, sdk.KindRoom, src.ID, msg)
		return
	}
	r := *src
	c := p.cons
	if n := replaceForbidden(r.Name, c.RoomNameForbidden); n != r.Name {
		p.notify(sdk.LevelWarning, CodeRoomRenamed, sdk.KindRoom, src.ID,
			"The room name %q has characters the target does not allow (%q); the room is now named %q.", r.Name, c.RoomNameForbidden, n)
		r.Name = n
	}
	if n := cut(r.Name, c.RoomNameMax); n != r.Name {
		p.notify(sdk.LevelWarning, CodeRoomRenamed, sdk.KindRoom, src.ID,
			"The room name %q is longer than %d characters; the room is now named %q.", r.Name, c.RoomNameMax, n)
		r.Name = n
	}
	taken := func(s string) bool { _, t := p.roomBy[p.roomNameKey(s)]; return t }
	if n := uniqueName(r.Name, c.RoomNameMax, taken, roomSuffix); n != r.Name {
		p.notify(sdk.LevelWarning, CodeRoomRenamed, sdk.KindRoom, src.ID,
			"The room name %q is already taken; the room is now named %q.", r.Name, n)
		r.Name = n
	}
	r.Members, r.Admins = p.mapMembers(in, src, src.Private)
	if src.Owner != "" {
		owner, _ := in.outUser(src.Owner)
		if owner == "" {
			ownerName := src.Owner
			if m, ok := in.users[src.Owner]; ok {
				ownerName = m.name
			}
			if p.admin != "" {
				p.notify(sdk.LevelWarning, CodeRoomOwnerMissing, sdk.KindRoom, src.ID, MsgRoomOwnerMissing, r.Name, ownerName, p.userName(p.admin))
				owner = p.admin
				if r.Private && len(r.Members) > 0 {
					r.Members = appendNew(r.Members, owner)
				}
			} else {
				p.notify(sdk.LevelWarning, CodeRoomOwnerMissing, sdk.KindRoom, src.ID,
					"The room %s’s owner, %s, is missing, and there is no group admin to take over; the room has no owner now. Name one with --admin.", r.Name, ownerName)
			}
		}
		r.Owner = owner
	}
	r.ID = freshID(src.ID, in.prefix, func(s string) bool { _, t := p.roomIdx[s]; return t })
	r.Extra = withKey(src.Extra, in.wsKey, src.ID, p.outWS, r.ID)
	in.rooms[src.ID] = &mapping{out: r.ID, name: r.Name}
	p.addRoom(&r, key)
	acc.Count(sdk.KindRoom, 1, 1, 0)
}

// mapMembers maps an incoming room's members and admins onto merged users,
// leaving out (with HipChat's notices) those who were not imported and,
// in private rooms, deleted users.
func (p *plan) mapMembers(in *input, src *sdk.Room, private bool) (members, admins []string) {
	said := map[string]bool{}
	mapOne := func(id string) string {
		m, ok := in.users[id]
		switch {
		case !ok:
			if !said[id] {
				p.notify(sdk.LevelError, CodeMemberAddFailed, sdk.KindRoom, src.ID, MsgMemberAddFailed, id, "the user is not in the export")
			}
		case m.out == "":
			if !said[id] {
				p.notify(sdk.LevelWarning, CodeMemberNotImported, sdk.KindRoom, src.ID, MsgMemberNotImported, m.name)
			}
		default:
			u := p.users[p.userIdx.byID[m.out]]
			if private && u.Deleted {
				if !said[id] {
					p.notify(sdk.LevelWarning, CodeRoomPopulateIssues, sdk.KindRoom, src.ID, MsgRoomPopulateIssues)
				}
				break
			}
			return m.out
		}
		said[id] = true
		return ""
	}
	for _, id := range src.Members {
		if out := mapOne(id); out != "" {
			members = appendNew(members, out)
		}
	}
	for _, id := range src.Admins {
		if out := mapOne(id); out != "" {
			admins = appendNew(admins, out)
		}
	}
	return members, admins
}

// appendNew appends the ids not already in list.
func appendNew(list []string, ids ...string) []string {
	for _, id := range ids {
		if !slices.Contains(list, id) {
			list = append(list, id)
		}
	}
	return list
}

// outRoom is the merged room an incoming room id maps to, or why none.
func (in *input) outRoom(id string) (string, string) {
	m, ok := in.rooms[id]
	switch {
	case !ok:
		return "", fmt.Sprintf("the room %s is not in the export", id)
	case m.out == "":
		return "", fmt.Sprintf("the room %s was not imported", m.name)
	}
	return m.out, ""
}

// outConv is the merged conversation an incoming one maps to, or why none.
func (in *input) outConv(id string) (string, string) {
	m, ok := in.convs[id]
	switch {
	case !ok:
		return "", fmt.Sprintf("the conversation %s is not in the export", id)
	case m.out == "":
		return "", fmt.Sprintf("the conversation %s was not imported: %s", id, m.reason)
	}
	return m.out, ""
}

func convSetKey(c *sdk.Conversation) string {
	ps := slices.Clone(c.Participants)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	g := "1:"
	if c.Group {
		g = "g:"
	}
	return g + strings.Join(ps, "\x00")
}

func (p *plan) addConversation(c *sdk.Conversation, key string) {
	i := len(p.convs)
	p.convs = append(p.convs, c)
	p.convIdx[c.ID] = true
	setOnce(p.convKey, key, i)
	setOnce(p.convBy, convSetKey(c), i)
}

func (p *plan) planConversations(in *input) error {
	convs, err := collect(in.ds.Conversations(), fmt.Sprintf("input %d: conversations", in.n))
	if err != nil {
		return err
	}
	for _, src := range convs {
		p.planConversation(in, src)
	}
	return nil
}

func (p *plan) planConversation(in *input, src *sdk.Conversation) {
	acc := p.rep
	lose := func(reason string) {
		in.convs[src.ID] = &mapping{reason: reason}
		acc.Count(sdk.KindConversation, 1, 0, 0)
		acc.Lose(sdk.KindConversation, src.ID, reason)
	}
	if _, dup := in.convs[src.ID]; dup {
		acc.Count(sdk.KindConversation, 1, 0, 0)
		acc.Lose(sdk.KindConversation, src.ID, "the input holds another conversation with the same id")
		return
	}
	c := *src
	c.Participants = nil
	for _, id := range src.Participants {
		out, why := in.outUser(id)
		if out == "" {
			if !src.Group {
				lose(why)
				p.notify(sdk.LevelWarning, CodeConversationLost, sdk.KindConversation, src.ID,
					"The one-to-one chat %s is not imported: %s.", src.ID, why)
				return
			}
			p.notify(sdk.LevelWarning, CodeParticipantLost, sdk.KindConversation, src.ID,
				"The group chat %s goes on without one of its members: %s.", src.ID, why)
			continue
		}
		c.Participants = appendNew(c.Participants, out)
	}
	if len(c.Participants) == 0 {
		lose("none of its participants was imported")
		p.notify(sdk.LevelWarning, CodeConversationLost, sdk.KindConversation, src.ID,
			"The group chat %s is not imported: none of its participants was imported.", src.ID)
		return
	}
	key := in.wsKey + "/" + src.ID
	i, ok := p.convKey[key]
	if !ok {
		i, ok = p.convBy[convSetKey(&c)]
	}
	if ok {
		in.convs[src.ID] = &mapping{out: p.convs[i].ID}
		acc.Count(sdk.KindConversation, 1, 1, 1)
		return
	}
	c.ID = freshID(src.ID, in.prefix, func(s string) bool { return p.convIdx[s] })
	in.convs[src.ID] = &mapping{out: c.ID}
	p.addConversation(&c, key)
	acc.Count(sdk.KindConversation, 1, 1, 0)
}

func (p *plan) addEmoji(e *sdk.Emoji, key string) {
	i := len(p.emoji)
	p.emoji = append(p.emoji, e)
	p.emojiID[e.ID] = true
	setOnce(p.emojiK, key, i)
	setOnce(p.emojiBy, fold(e.Shortcode), i)
}

func (p *plan) planEmoji(in *input) error {
	emoji, err := collect(in.ds.Emoji(), fmt.Sprintf("input %d: emoji", in.n))
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, src := range emoji {
		acc := p.rep
		if seen[src.ID] {
			acc.Count(sdk.KindEmoji, 1, 0, 0)
			acc.Lose(sdk.KindEmoji, src.ID, "the input holds another emoji with the same id")
			continue
		}
		seen[src.ID] = true
		if fold(src.Shortcode) == "" {
			acc.Count(sdk.KindEmoji, 1, 0, 0)
			acc.Lose(sdk.KindEmoji, src.ID, "the emoticon has no shortcode")
			continue
		}
		key := sourceKey(in.wsKey, src.ID, src.Extra)
		i, ok := p.emojiK[key]
		if !ok {
			i, ok = p.emojiBy[fold(src.Shortcode)]
		}
		if ok {
			acc.Count(sdk.KindEmoji, 1, 1, 1)
			p.notify(sdk.LevelWarning, CodeEmojiMapped, sdk.KindEmoji, src.ID,
				"An emoticon you’re importing already exists. The emoticon (%s) is now mapped to (%s).", src.Shortcode, p.emoji[i].Shortcode)
			continue
		}
		e := *src
		if e.Image != nil {
			if rc, err := in.ds.OpenBlob(e.Image.SHA256); err != nil {
				p.notify(sdk.LevelError, CodeFileUploadFailed, sdk.KindEmoji, src.ID, MsgFileUploadFailed, e.Shortcode)
				e.Image = nil
			} else {
				rc.Close()
			}
		}
		if e.Image == nil && e.ImageURL == "" {
			acc.Count(sdk.KindEmoji, 1, 0, 0)
			acc.Lose(sdk.KindEmoji, src.ID, fmt.Sprintf("the emoticon (%s) has no image", e.Shortcode))
			continue
		}
		if e.Creator != "" {
			e.Creator, _ = in.outUser(e.Creator)
		}
		e.ID = freshID(src.ID, in.prefix, func(s string) bool { return p.emojiID[s] })
		e.Extra = withKey(src.Extra, in.wsKey, src.ID, p.outWS, e.ID)
		p.addEmoji(&e, key)
		acc.Count(sdk.KindEmoji, 1, 1, 0)
	}
	return nil
}
