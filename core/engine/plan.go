package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/migrate-chat/migrate/core/report"
	"github.com/migrate-chat/migrate/sdk"
)

// mapping says what became of one incoming record.
type mapping struct {
	// out is the record's id in the merged workspace; "" when it was not
	// imported.
	out string
	// name is how notices and reasons name the record.
	name string
	// reason says why it was not imported.
	reason string
}

// input is one incoming dataset and what the plan decided for its records.
type input struct {
	n      int // 1-based, for messages
	ds     sdk.Dataset
	ws     *sdk.Workspace
	wsKey  string
	prefix string
	// prefixMsgs is true when the input's message and attachment ids get
	// the prefix (see the package documentation).
	prefixMsgs bool

	users map[string]*mapping
	rooms map[string]*mapping
	convs map[string]*mapping

	// Settled by the message pass, by hash of id: messages not imported
	// (for thread references and attachments), attachments listed by a
	// written message (with the hash of that message's id) and by a
	// message already in the target.
	droppedMsgs map[uint64]struct{}
	listed      map[uint64]uint64
	dupListed   map[uint64]struct{}
	// remap gives, for duplicates whose merged id differs from the id of
	// the message they repeat, that message's id.
	remap map[uint64]string
	// Settled by the attachment pass: attachments not imported although
	// their message was.
	droppedAtts map[uint64]struct{}
}

// plan is the merged workspace, minus messages and attachments, and the
// decisions that map incoming records onto it.
type plan struct {
	req  Request
	rep  *report.Report
	cons sdk.Constraints

	ws    *sdk.Workspace
	outWS string

	existing   sdk.Dataset
	existingWS string
	ins        []*input

	users []*sdk.User
	rooms []*sdk.Room
	convs []*sdk.Conversation
	emoji []*sdk.Emoji

	userIdx userIndex
	roomIdx map[string]int // by id
	roomBy  map[string]int // by folded or exact name
	roomKey map[string]int // by source key
	convIdx map[string]bool
	convBy  map[string]int // by participant set
	convKey map[string]int
	emojiID map[string]bool
	emojiBy map[string]int // by folded shortcode
	emojiK  map[string]int

	admin string // output id of the group admin; "" if none
	// nExistingUsers counts the users at the head of users that the
	// target already held.
	nExistingUsers int
	uncreated      []uncreated

	counts map[sdk.Kind]int64
	// existingMsgs and existingAtts count what the target held.
	existingMsgs, existingAtts int64
}

func newPlan(req Request, rep *report.Report) *plan {
	return &plan{
		req: req, rep: rep, cons: req.Constraints, existing: req.Existing,
		userIdx: newUserIndex(),
		roomIdx: map[string]int{}, roomBy: map[string]int{}, roomKey: map[string]int{},
		convIdx: map[string]bool{}, convBy: map[string]int{}, convKey: map[string]int{},
		emojiID: map[string]bool{}, emojiBy: map[string]int{}, emojiK: map[string]int{},
	}
}

func (p *plan) notify(level sdk.Level, code string, kind sdk.Kind, id, msg string, args ...any) {
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	p.rep.Notify(sdk.Notice{Level: level, Code: code, Message: msg, Kind: kind, Record: id})
}

func (p *plan) run(ctx context.Context) error {
	if err := p.loadExisting(); err != nil {
		return err
	}
	for i, ds := range p.req.Incoming {
		if ds == nil {
			return fmt.Errorf("engine: input %d: no dataset", i+1)
		}
		ws := ds.Workspace()
		p.ins = append(p.ins, &input{
			n: i + 1, ds: ds, ws: ws, wsKey: identity(ws), prefix: IDPrefix(ws),
			users: map[string]*mapping{}, rooms: map[string]*mapping{}, convs: map[string]*mapping{},
			droppedMsgs: map[uint64]struct{}{}, listed: map[uint64]uint64{},
			dupListed: map[uint64]struct{}{}, remap: map[uint64]string{}, droppedAtts: map[uint64]struct{}{},
		})
	}
	p.mergeWorkspace()
	p.decidePrefixes()
	for _, in := range p.ins {
		if err := p.planUsers(in); err != nil {
			return err
		}
	}
	p.settleUsers()
	if err := p.findAdmin(); err != nil {
		return err
	}
	for _, in := range p.ins {
		if err := p.planRooms(in); err != nil {
			return err
		}
	}
	for _, in := range p.ins {
		if err := p.planConversations(in); err != nil {
			return err
		}
	}
	for _, in := range p.ins {
		if err := p.planEmoji(in); err != nil {
			return err
		}
	}
	if err := p.planMessages(ctx); err != nil {
		return err
	}
	if err := p.planAttachments(ctx); err != nil {
		return err
	}
	p.count()
	return nil
}

func (p *plan) loadExisting() error {
	ex := p.existing
	if ex == nil {
		return nil
	}
	p.existingWS = identity(ex.Workspace())
	users, err := collect(ex.Users(), "existing workspace: users")
	if err != nil {
		return err
	}
	for _, u := range users {
		p.addUser(u, sourceKey(p.existingWS, u.ID, u.Extra))
	}
	p.nExistingUsers = len(p.users)
	rooms, err := collect(ex.Rooms(), "existing workspace: rooms")
	if err != nil {
		return err
	}
	for _, r := range rooms {
		p.addRoom(r, sourceKey(p.existingWS, r.ID, r.Extra))
	}
	convs, err := collect(ex.Conversations(), "existing workspace: conversations")
	if err != nil {
		return err
	}
	for _, c := range convs {
		// Conversations have no Extra; their identity is their id.
		p.addConversation(c, p.existingWS+"/"+c.ID)
	}
	emoji, err := collect(ex.Emoji(), "existing workspace: emoji")
	if err != nil {
		return err
	}
	for _, e := range emoji {
		p.addEmoji(e, sourceKey(p.existingWS, e.ID, e.Extra))
	}
	for _, k := range []sdk.Kind{sdk.KindUser, sdk.KindRoom, sdk.KindConversation, sdk.KindEmoji} {
		p.rep.SetExisting(k, int64(map[sdk.Kind]int{sdk.KindUser: len(users), sdk.KindRoom: len(rooms),
			sdk.KindConversation: len(convs), sdk.KindEmoji: len(emoji)}[k]))
	}
	return nil
}

// mergeWorkspace settles the merged workspace record: the existing one,
// or else the first input's, with export options widened to cover every
// input.
func (p *plan) mergeWorkspace() {
	var ws sdk.Workspace
	switch {
	case p.existing != nil && p.existing.Workspace() != nil:
		ws = *p.existing.Workspace()
	case p.ins[0].ws != nil:
		ws = *p.ins[0].ws
		for _, in := range p.ins[1:] {
			if in.ws == nil {
				continue
			}
			o := in.ws.ExportOptions
			ws.ExportOptions.OneToOneHistory = ws.ExportOptions.OneToOneHistory || o.OneToOneHistory
			ws.ExportOptions.Files = ws.ExportOptions.Files || o.Files
			ws.ExportOptions.Avatars = ws.ExportOptions.Avatars || o.Avatars
			if o.Since == nil || (ws.ExportOptions.Since != nil && o.Since.Before(*ws.ExportOptions.Since)) {
				ws.ExportOptions.Since = o.Since
			}
		}
	}
	p.ws = &ws
	p.outWS = identity(p.ws)
}

// decidePrefixes decides which inputs' message and attachment ids need
// their prefix: those that share the merged workspace with another source
// workspace's messages.
func (p *plan) decidePrefixes() {
	existingMsgs := p.existing != nil && p.existing.Counts()[sdk.KindMessage] > 0
	for _, in := range p.ins {
		if existingMsgs && p.existingWS != in.wsKey {
			in.prefixMsgs = true
			continue
		}
		for _, o := range p.ins {
			if o.wsKey != in.wsKey {
				in.prefixMsgs = true
				break
			}
		}
	}
}

func (p *plan) count() {
	p.counts = map[sdk.Kind]int64{
		sdk.KindWorkspace:    1,
		sdk.KindUser:         int64(len(p.users)),
		sdk.KindRoom:         int64(len(p.rooms)),
		sdk.KindConversation: int64(len(p.convs)),
		sdk.KindEmoji:        int64(len(p.emoji)),
	}
	m := p.rep.Account(sdk.KindMessage)
	p.counts[sdk.KindMessage] = p.existingMsgs + m.Written - m.Merged
	a := p.rep.Account(sdk.KindAttachment)
	p.counts[sdk.KindAttachment] = p.existingAtts + a.Written - a.Merged
}

// msgID is the merged id of an incoming message or attachment id.
func (in *input) msgID(id string) string {
	if in.prefixMsgs && id != "" {
		return in.prefix + id
	}
	return id
}

// display names a user for people: login, else e-mail, else @mention
// name, else display name, else id.
func display(u *sdk.User) string {
	for _, s := range []string{u.Username, u.Email, u.MentionName, u.DisplayName} {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return u.ID
}

// freshID returns id, or id with prefix (and a number, if need be), so that
// it is not in taken.
func freshID(id, prefix string, taken func(string) bool) string {
	if !taken(id) {
		return id
	}
	c := prefix + id
	for n := 2; taken(c); n++ {
		c = fmt.Sprintf("%s%s~%d", prefix, id, n)
	}
	return c
}
