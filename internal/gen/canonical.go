package gen

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/migrate-chat/migrate/core/archive"
	"github.com/migrate-chat/migrate/sdk"

	// The pixtoome format runs the shipped Pixtoome target.
	_ "github.com/migrate-chat/migrate/plugins/pixtoome"
)

func init() {
	register("canonical", true, "canonical archive directory (manifest.json, NDJSON streams, blobs) written by core/archive", genCanonical)
	register("pixtoome", true, "Pixtoome (Zulip-format) import directory: canonical data run through the pixtoome target adapter", genPixtoome)
}

// canonical record identifiers.
func canonUserID(u int) string              { return "u" + strconv.Itoa(u) }
func canonIntegrationID(name string) string { return "integration-" + strings.ToLower(name) }
func canonRoomID(s *stream) string          { return "r" + strconv.Itoa(s.room) }
func canonConvID(s *stream) string          { return "c" + strconv.Itoa(s.conv) }
func (g *generator) canonMsgID(s *stream, i int64) string {
	h := hash3(g.cfg.Seed, uint64(s.idx), uint64(i), tagID)
	return string(uuid(nil, h, mix(h)))
}

// emitCanonical writes the whole workspace into sink in dependency order,
// messages oldest-first across every room and conversation.
func (g *generator) emitCanonical(ctx context.Context, sink sdk.Sink) error {
	users := len(g.users)
	exported := g.exportTime
	if err := sink.Emit(&sdk.Workspace{ID: "ws-" + strconv.FormatUint(g.cfg.Seed, 10), Name: "Generated workspace",
		SourceSystem: "migrate-gen", SourceVersion: "1", ExportedAt: &exported, Domain: "chat.example.com",
		ExportOptions: sdk.ExportOptions{OneToOneHistory: len(g.convs) > 0, Files: true, Avatars: true}}); err != nil {
		return err
	}
	for u := range g.users {
		us := &g.users[u]
		created := us.created
		rec := &sdk.User{ID: canonUserID(u), Username: strings.ToLower(us.handle()), MentionName: us.mentionName(),
			DisplayName: us.displayName(), TimeZone: us.tz, Role: sdk.RoleMember, Deleted: us.deleted, CreatedAt: &created}
		switch {
		case u == 0:
			rec.Role = sdk.RoleOwner
		case us.guest:
			rec.Role = sdk.RoleGuest
		case us.admin:
			rec.Role = sdk.RoleAdmin
		}
		if !us.guest {
			rec.Email = strings.ToLower(us.handle()) + "@example.com"
		}
		if hh := hash3(g.cfg.Seed, uint64(u), 1, tagUser); hh%10 < 6 {
			ref, err := sink.PutBlob(bytes.NewReader(pngImage(hh, 16)), "image/png")
			if err != nil {
				return err
			}
			rec.Avatar = &ref
		}
		if err := sink.Emit(rec); err != nil {
			return err
		}
	}
	for _, name := range integrations {
		if err := sink.Emit(&sdk.User{ID: canonIntegrationID(name), Username: strings.ToLower(name),
			DisplayName: name, Role: sdk.RoleMember, Bot: true, Integration: true}); err != nil {
			return err
		}
	}
	for _, s := range g.rooms {
		created := s.created
		rec := &sdk.Room{ID: canonRoomID(s), Name: s.name, Topic: s.topic, Private: s.private, Archived: s.archived,
			Owner: canonUserID(s.member(0, users)), GuestAccess: s.guest, CreatedAt: &created}
		if s.members > 3 {
			rec.Admins = []string{canonUserID(s.member(2, users))}
		}
		for k := 0; k < s.members; k++ {
			rec.Members = append(rec.Members, canonUserID(s.member(k, users)))
		}
		if err := sink.Emit(rec); err != nil {
			return err
		}
	}
	for _, s := range g.convs {
		created := s.created
		rec := &sdk.Conversation{ID: canonConvID(s), Participants: []string{canonUserID(s.a)}, CreatedAt: &created}
		if s.b != s.a {
			rec.Participants = append(rec.Participants, canonUserID(s.b))
		}
		if err := sink.Emit(rec); err != nil {
			return err
		}
	}
	for k, sc := range g.emoticons {
		ref, err := sink.PutBlob(bytes.NewReader(pngImage(hash3(g.cfg.Seed, uint64(k), 3, tagUser), 24)), "image/png")
		if err != nil {
			return err
		}
		if err := sink.Emit(&sdk.Emoji{ID: "e" + strconv.Itoa(k), Shortcode: sc, Image: &ref, Creator: canonUserID(k % users)}); err != nil {
			return err
		}
	}

	// Messages, merged oldest-first across streams.
	var hp fwdHeap
	for _, s := range g.streams {
		c := g.cursor(s, true)
		if m, ok := c.next(); ok {
			hp = append(hp, &cursorHead{c: c, m: m})
		}
	}
	heap.Init(&hp)
	var text []byte
	for hp.Len() > 0 {
		top := hp[0]
		m := top.m
		s := m.s
		rec := &sdk.Message{ID: g.canonMsgID(s, m.Index), Kind: sdk.MessageNormal, Sender: canonUserID(m.Sender), SentAt: m.Sent()}
		if s.room >= 0 {
			rec.Room = canonRoomID(s)
		} else {
			rec.Conversation = canonConvID(s)
		}
		switch m.Kind {
		case kindEmote:
			rec.Kind = sdk.MessageEmote
		case kindNotification:
			rec.Kind = sdk.MessageNotification
			rec.Sender = canonIntegrationID(m.Integration)
			rec.SenderName = m.Integration
		case kindTopic:
			rec.Kind = sdk.MessageTopicChange
		}
		text = g.appendText(text[:0], m, dCanonical)
		rec.Body = string(text)
		if m.EditedUS != 0 {
			t := wallTime(m.EditedUS)
			rec.EditedAt = &t
			rec.Edits = []sdk.Edit{{EditedAt: t, Body: rec.Body + " (draft)", Editor: rec.Sender}}
		}
		if m.Parent >= 0 {
			rec.ThreadRoot = g.canonMsgID(s, m.Parent)
		}
		for _, u := range m.Mentions {
			rec.Mentions = append(rec.Mentions, sdk.Mention{Kind: sdk.MentionUser, User: canonUserID(u), Text: g.users[u].mentionName()})
		}
		if m.All {
			rec.Mentions = append(rec.Mentions, sdk.Mention{Kind: sdk.MentionAll, Text: "all"})
		}
		if m.Here {
			rec.Mentions = append(rec.Mentions, sdk.Mention{Kind: sdk.MentionHere, Text: "here"})
		}
		for _, r := range m.Reactions {
			re := sdk.Reaction{Emoji: reactionShortcodes[r.emoji]}
			for _, u := range r.users {
				re.Users = append(re.Users, canonUserID(u))
			}
			rec.Reactions = append(rec.Reactions, re)
		}
		var att *sdk.Attachment
		if a := m.Attach; a != nil {
			ref, err := sink.PutBlob(newBlobReader(a), a.CType)
			if err != nil {
				return fmt.Errorf("message %s: file %s: %w", rec.ID, a.Name, err)
			}
			g.files++
			sent := rec.SentAt
			att = &sdk.Attachment{ID: rec.ID + "-f", Message: rec.ID, Name: a.Name, Size: ref.Size, ContentType: a.CType,
				SHA256: ref.SHA256, Path: path.Join(a.Dir, a.Name), Uploader: rec.Sender, CreatedAt: &sent}
			rec.Attachments = []string{att.ID}
		}
		if err := sink.Emit(rec); err != nil {
			return fmt.Errorf("message %s: %w", rec.ID, err)
		}
		if att != nil {
			if err := sink.Emit(att); err != nil {
				return fmt.Errorf("attachment %s: %w", att.ID, err)
			}
		}
		g.tick()
		if g.done&0x3fff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if next, ok := top.c.next(); ok {
			top.m = next
			heap.Fix(&hp, 0)
		} else {
			heap.Pop(&hp)
		}
	}
	return nil
}

// fwdHeap merges streams oldest-first.
type fwdHeap []*cursorHead

func (d fwdHeap) Len() int { return len(d) }
func (d fwdHeap) Less(a, b int) bool {
	if d[a].m.SentUS != d[b].m.SentUS {
		return d[a].m.SentUS < d[b].m.SentUS
	}
	return d[a].c.s.idx < d[b].c.s.idx
}
func (d fwdHeap) Swap(a, b int) { d[a], d[b] = d[b], d[a] }
func (d *fwdHeap) Push(x any)   { *d = append(*d, x.(*cursorHead)) }
func (d *fwdHeap) Pop() any {
	old := *d
	x := old[len(old)-1]
	*d = old[:len(old)-1]
	return x
}

func writeCanonical(ctx context.Context, g *generator, dir string) error {
	w, err := archive.Create(dir, archive.WriterOptions{Source: archive.SourceInfo{System: "migrate-gen", Version: "1"}})
	if err != nil {
		return err
	}
	if err := g.emitCanonical(ctx, w); err != nil {
		w.Abort()
		return err
	}
	if _, err := w.Close(); err != nil {
		w.Abort()
		return err
	}
	return nil
}

func genCanonical(ctx context.Context, g *generator, out string) (string, error) {
	return out, writeCanonical(ctx, g, out)
}

// genPixtoome writes a canonical archive into a temporary directory beside
// the output, reads it back as a dataset and runs the Pixtoome target.
func genPixtoome(ctx context.Context, g *generator, out string) (string, error) {
	a, ok := sdk.Lookup("pixtoome")
	if !ok {
		return "", fmt.Errorf("the pixtoome adapter is not registered")
	}
	tgt, ok := a.(sdk.Target)
	if !ok {
		return "", fmt.Errorf("the pixtoome adapter cannot write")
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(out)), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(out)), ".migrate-gen-canonical-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	canon := filepath.Join(tmp, "archive")
	if err := writeCanonical(ctx, g, canon); err != nil {
		return "", err
	}
	ds, err := archive.Open(canon, archive.ReadOptions{})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	root, err := os.OpenRoot(out)
	if err != nil {
		return "", err
	}
	defer root.Close()
	var notices int
	req := &sdk.WriteRequest{Data: ds, Out: rootOutput{root}, Options: sdk.Options{},
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notice: func(sdk.Notice) { notices++ }, Progress: func(int64, int64) {}}
	if err := tgt.Write(ctx, req); err != nil {
		return "", fmt.Errorf("pixtoome target: %w", err)
	}
	return out, nil
}

// rootOutput confines a target's writes to one directory.
type rootOutput struct{ root *os.Root }

func (o rootOutput) Create(name string) (io.WriteCloser, error) {
	clean := path.Clean(name)
	if !filepath.IsLocal(filepath.FromSlash(clean)) {
		return nil, fmt.Errorf("target tried to write %q, outside its output", name)
	}
	if dir := path.Dir(clean); dir != "." {
		if err := o.root.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return o.root.Create(clean)
}
