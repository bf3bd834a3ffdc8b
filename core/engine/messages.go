package engine

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// fate is what becomes of one message in the merge.
type fate int

const (
	fateExisting  fate = iota // already in the target; passes through
	fateWrite                 // incoming, written
	fateDuplicate             // incoming, already in the target (or an earlier input)
	fateDrop                  // incoming, not imported
)

// verdict is the merge's decision on one message, with the merged ids it
// worked out on the way.
type verdict struct {
	fate               fate
	in                 *input // nil for existing messages
	reason             string
	sender, room, conv string
	key                uint64
	// dupOf is the message a duplicate repeats.
	dupOf msgRef
}

// msgRef names a message already decided in the merge: an existing one
// (in nil) or an incoming one by its input id.
type msgRef struct {
	in *input
	id string
}

// out is the message's merged id.
func (r msgRef) out() string {
	if r.in == nil {
		return r.id
	}
	return r.in.msgID(r.id)
}

// stream is one sorted message sequence being merged.
type stream struct {
	order int    // 0 for the existing workspace, else the input's number
	in    *input // nil for the existing workspace
	name  string
	next  func() (*sdk.Message, error, bool)
	stop  func()
	head  *sdk.Message
	last  time.Time
}

func (s *stream) advance() error {
	m, err, ok := s.next()
	if !ok {
		s.head = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: messages: %w", s.name, err)
	}
	if m == nil {
		return fmt.Errorf("%s: messages: the dataset yielded no message and no error", s.name)
	}
	if m.SentAt.Before(s.last) {
		return fmt.Errorf("%s: message %s (sent %s) comes after a message sent %s: the dataset is not sorted by time",
			s.name, m.ID, m.SentAt.Format(time.RFC3339Nano), s.last.Format(time.RFC3339Nano))
	}
	s.last = m.SentAt
	s.head = m
	return nil
}

// less orders stream heads by time, then existing before incoming, then by
// input order, which keeps the merge stable.
func less(a, b *stream) bool {
	if c := a.head.SentAt.Compare(b.head.SentAt); c != 0 {
		return c < 0
	}
	return a.order < b.order
}

// heap is a binary min-heap of streams with a head.
type heap []*stream

func (h heap) down(i int) {
	for {
		l, m := 2*i+1, i
		if l < len(h) && less(h[l], h[m]) {
			m = l
		}
		if r := l + 1; r < len(h) && less(h[r], h[m]) {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func (h heap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// walk merges the existing and incoming message streams by time and
// decides the fate of every message, calling visit for each in merged order
// until visit returns false. The decisions depend only on the data and the
// plan, so every walk decides alike: the planning pass and each pass of the
// merged Dataset see the same fates.
func (p *plan) walk(ctx context.Context, visit func(m *sdk.Message, v *verdict) bool) error {
	var streams []*stream
	defer func() {
		for _, s := range streams {
			s.stop()
		}
	}()
	add := func(order int, in *input, name string, seq iter.Seq2[*sdk.Message, error]) error {
		next, stop := iter.Pull2(seq)
		s := &stream{order: order, in: in, name: name, next: next, stop: stop}
		streams = append(streams, s)
		return s.advance()
	}
	if p.existing != nil {
		if err := add(0, nil, "existing workspace", p.existing.Messages()); err != nil {
			return err
		}
	}
	for _, in := range p.ins {
		if err := add(in.n, in, fmt.Sprintf("input %d", in.n), in.ds.Messages()); err != nil {
			return err
		}
	}
	h := make(heap, 0, len(streams))
	for _, s := range streams {
		if s.head != nil {
			h = append(h, s)
		}
	}
	h.init()

	// The window holds the identities of the messages already decided at
	// the current instant: source keys of every message kept, and
	// fingerprints of the existing ones.
	var (
		now  time.Time
		keys = map[uint64]msgRef{}
		fps  = map[uint64]msgRef{}
		v    verdict
		n    int
	)
	for len(h) > 0 {
		if n++; n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := h[0]
		m := s.head
		if !m.SentAt.Equal(now) {
			now = m.SentAt
			clear(keys)
			clear(fps)
		}
		v = verdict{in: s.in}
		if s.in == nil {
			v.fate = fateExisting
			ref := msgRef{id: m.ID}
			keys[hashKey(p.existingWS, m.ID, m.Extra)] = ref
			keys[hashKey(p.existingWS, m.ID, nil)] = ref
			fps[fingerprint(m.SentAt, m.Room, m.Conversation, m.Sender, m.Body)] = ref
		} else {
			p.decide(s.in, m, &v, keys, fps)
		}
		if !visit(m, &v) {
			return nil
		}
		if err := s.advance(); err != nil {
			return err
		}
		if s.head == nil {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		if len(h) > 0 {
			h.down(0)
		}
	}
	return ctx.Err()
}

// decide settles an incoming message's fate.
func (p *plan) decide(in *input, m *sdk.Message, v *verdict, keys, fps map[uint64]msgRef) {
	var why string
	if v.sender, why = in.outUser(m.Sender); v.sender == "" {
		v.fate, v.reason = fateDrop, "sender: "+why
		return
	}
	switch {
	case m.Room != "":
		if v.room, why = in.outRoom(m.Room); v.room == "" {
			v.fate, v.reason = fateDrop, "room: "+why
			return
		}
	case m.Conversation != "":
		if v.conv, why = in.outConv(m.Conversation); v.conv == "" {
			v.fate, v.reason = fateDrop, "conversation: "+why
			return
		}
	default:
		v.fate, v.reason = fateDrop, "the message belongs to no room and no conversation"
		return
	}
	v.key = hashKey(in.wsKey, m.ID, m.Extra)
	if ref, dup := keys[v.key]; dup {
		v.fate, v.dupOf = fateDuplicate, ref
		return
	}
	if len(fps) > 0 {
		if ref, dup := fps[fingerprint(m.SentAt, v.room, v.conv, v.sender, m.Body)]; dup {
			v.fate, v.dupOf = fateDuplicate, ref
			return
		}
	}
	keys[v.key] = msgRef{in: in, id: m.ID}
	v.fate = fateWrite
}

// planMessages is the planning pass over every message: it settles the
// message account and what the attachment pass and the output need to
// know.
func (p *plan) planMessages(ctx context.Context) error {
	var in, written, merged int64
	err := p.walk(ctx, func(m *sdk.Message, v *verdict) bool {
		switch v.fate {
		case fateExisting:
			p.existingMsgs++
			return true
		case fateWrite:
			in++
			written++
			for _, a := range m.Attachments {
				v.in.listed[hashID(a)] = hashID(m.ID)
			}
		case fateDuplicate:
			in++
			written++
			merged++
			for _, a := range m.Attachments {
				v.in.dupListed[hashID(a)] = struct{}{}
			}
			if out := v.dupOf.out(); out != v.in.msgID(m.ID) {
				// Replies to this message must find the one it repeats.
				v.in.remap[hashID(m.ID)] = out
			}
		case fateDrop:
			in++
			v.in.droppedMsgs[hashID(m.ID)] = struct{}{}
			p.rep.Lose(sdk.KindMessage, m.ID, v.reason)
		}
		return true
	})
	p.rep.Count(sdk.KindMessage, in, written, merged)
	p.rep.SetExisting(sdk.KindMessage, p.existingMsgs)
	return err
}

// mapMessage builds the merged copy of an incoming message. The input's
// record is never changed: datasets may hand out the same record again.
func (p *plan) mapMessage(m *sdk.Message, v *verdict) *sdk.Message {
	in := v.in
	c := *m
	c.ID = in.msgID(m.ID)
	c.Sender, c.Room, c.Conversation = v.sender, v.room, v.conv
	c.ThreadRoot = in.refMsg(m.ThreadRoot)
	c.ReplyTo = in.refMsg(m.ReplyTo)
	if len(m.Edits) > 0 {
		c.Edits = slices.Clone(m.Edits)
		for i := range c.Edits {
			if c.Edits[i].Editor != "" {
				c.Edits[i].Editor, _ = in.outUser(c.Edits[i].Editor)
			}
		}
	}
	if len(m.Mentions) > 0 {
		c.Mentions = slices.Clone(m.Mentions)
		for i := range c.Mentions {
			if c.Mentions[i].User != "" {
				// A mention of someone not imported stays as text.
				c.Mentions[i].User, _ = in.outUser(c.Mentions[i].User)
			}
		}
	}
	if len(m.Reactions) > 0 {
		c.Reactions = make([]sdk.Reaction, 0, len(m.Reactions))
		for _, r := range m.Reactions {
			users := make([]string, 0, len(r.Users))
			for _, u := range r.Users {
				if out, _ := in.outUser(u); out != "" {
					users = appendNew(users, out)
				}
			}
			if len(users) > 0 {
				r.Users = users
				c.Reactions = append(c.Reactions, r)
			}
		}
		if len(c.Reactions) == 0 {
			c.Reactions = nil
		}
	}
	if len(m.Attachments) > 0 {
		c.Attachments = make([]string, 0, len(m.Attachments))
		for _, a := range m.Attachments {
			if _, gone := in.droppedAtts[hashID(a)]; !gone {
				c.Attachments = append(c.Attachments, in.msgID(a))
			}
		}
		if len(c.Attachments) == 0 {
			c.Attachments = nil
		}
	}
	c.Extra = withKey(m.Extra, in.wsKey, m.ID, p.outWS, c.ID)
	return &c
}

// refMsg maps a reference to another message of the same input; a
// reference to a message that was not imported is dropped.
func (in *input) refMsg(id string) string {
	if id == "" {
		return ""
	}
	h := hashID(id)
	if _, gone := in.droppedMsgs[h]; gone {
		return ""
	}
	if out, ok := in.remap[h]; ok {
		return out
	}
	return in.msgID(id)
}
