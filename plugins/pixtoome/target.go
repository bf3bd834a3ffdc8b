package pixtoome

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// realmID is the realm's id in the written files. The importer gives every
// row a new id, so any value consistent across the files will do.
const realmID = 1

// Zulip's recipient types.
const (
	recipientPersonal = 1
	recipientStream   = 2
	recipientHuddle   = 3
)

// Zulip's user roles.
const (
	roleOwner     = 100
	roleAdmin     = 200
	roleModerator = 300
	roleMember    = 400
	roleGuest     = 600
)

// User message flags.
const (
	flagRead      = 1
	flagMentioned = 8
	flagWildcard  = 16
	flagPrivate   = 2048
)

// subscriptionColors are the colours the server assigns to new
// subscriptions, in its order.
var subscriptionColors = []string{"#76ce90", "#fae589", "#a6c7e5", "#e79ab5", "#bfd56f", "#f4ae55", "#b0a5fd", "#addfe5", "#f5ce6e", "#c2726a", "#94c849", "#bd86e5", "#ee7e4a", "#a6dcbf", "#95a5fd", "#53a063", "#9987e1", "#e4523d", "#c2c2c2", "#4f8de4", "#c6a8ad", "#e7cc4d", "#c8bebf", "#a47462"}

type userInfo struct {
	u         *sdk.User
	zid       int64
	recipient int64
	fullName  string
	email     string
	role      int
	active    bool
	ambiguous bool
	idle      bool
	sent      int
	firstSent time.Time
	lastSent  time.Time
}

type roomInfo struct {
	r         *sdk.Room
	zid       int64
	recipient int64
	name      string
	subs      []int64 // subscribed user ids, sorted
	active    []int64 // subs minus long-term-idle users
	senders   map[int64]bool
}

type convInfo struct {
	huddle    bool
	zid       int64 // huddle id
	recipient int64 // huddle recipient
	members   []int64
	a, b      int64 // one-to-one: the participants (b == a for notes to self)
}

type attInfo struct {
	a      *sdk.Attachment
	zid    int64
	pathID string // "" when the content was not exported
	msg    int64
	owner  int64
}

type emojiInfo struct {
	zid  int64
	name string
}

type blobFile struct{ path, sha string }

type thread struct {
	topic   string
	pending int
}

// writer holds the state of one Write.
type writer struct {
	req     *sdk.WriteRequest
	ctx     context.Context
	p       *Profile
	ws      *sdk.Workspace
	now     time.Time
	refTime time.Time

	users      map[string]*userInfo
	userOrder  []*userInfo
	rooms      map[string]*roomInfo
	roomOrder  []*roomInfo
	convs      map[string]*convInfo
	convOrder  []*convInfo
	emoji      map[string]*emojiInfo // by canonical shortcode
	emojiRows  [][]byte
	emojiRecs  [][]byte
	emojiFiles []blobFile
	atts       map[string]*attInfo
	attOrder   []*attInfo
	replies    map[string]int
	threads    map[string]*thread
	usedTopics map[string]bool

	defaultTopic string
	msgCount     int64
	skipped      map[string]bool

	nextRecipient int64
	nextSub       int64
	umID          counter
	msgBuf, umBuf []byte
	async         *asyncOut // message files' writer, during writeMessages
	tails         [4]umTail
	userDigits    [][]byte
	nextReaction  int64
	reactionBuf   []byte
}

// Write implements sdk.Target.
func (a *Adapter) Write(ctx context.Context, req *sdk.WriteRequest) error {
	p, err := LookupProfile(req.Options.String("profile"))
	if err != nil {
		return err
	}
	var migration []byte
	if p.MigrationStatus {
		migration = req.Options.File("migration-status")
		if migration == nil {
			return errors.New("the latest profile needs migration_status.json from your Pixtoome server: run\n" +
				"  cd /home/pixtoome/deployments/current && ./manage.py shell -c \"from zerver.lib.export import do_common_export_processes; do_common_export_processes('/tmp/pixtoome-status')\"\n" +
				"on the server, copy /tmp/pixtoome-status/migration_status.json here and pass --migration-status FILE " +
				"(or use --profile gitter-final for servers up to version 9)")
		}
		ms, err := ParseMigrationStatus(migration)
		if err != nil {
			return fmt.Errorf("--migration-status: %w", err)
		}
		if maj, err := strconv.Atoi(ms.Major()); err == nil && maj < 10 {
			req.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "migration-status-old",
				Message: fmt.Sprintf("migration_status.json is from server version %s, which does not read it; the gitter-final profile suits such servers", ms.ZulipVersion)})
		}
	}
	w := &writer{
		req: req, ctx: ctx, p: p, ws: req.Data.Workspace(), now: a.now().UTC(),
		users: map[string]*userInfo{}, rooms: map[string]*roomInfo{}, convs: map[string]*convInfo{},
		emoji: map[string]*emojiInfo{}, atts: map[string]*attInfo{}, replies: map[string]int{},
		threads: map[string]*thread{}, usedTopics: map[string]bool{}, skipped: map[string]bool{},
	}
	if w.ws == nil {
		return errors.New("the dataset has no workspace record")
	}
	w.defaultTopic = cleanTopic(req.Options.String("default-topic"))
	if w.defaultTopic == "" {
		w.defaultTopic = "imported from " + productName(w.ws.SourceSystem)
	}
	steps := []func() error{w.loadUsers, w.loadRooms, w.loadConversations, w.loadEmoji, w.loadAttachments, w.scanMessages, w.finishMembership}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	realm, err := w.create("realm.json")
	if err != nil {
		return err
	}
	if err := w.writeRealmHead(realm); err != nil {
		return err
	}
	if err := w.writeMessages(realm); err != nil {
		return err
	}
	if _, err := realm.WriteString("]}\n"); err != nil {
		return err
	}
	if err := realm.Close(); err != nil {
		return err
	}
	for _, step := range []func() error{w.writeUploads, w.writeAvatars, w.writeEmojiFiles} {
		if err := step(); err != nil {
			return err
		}
	}
	if migration != nil {
		f, err := w.create("migration_status.json")
		if err != nil {
			return err
		}
		f.Write(migration)
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// productName is how the default topic names the source system.
func productName(system string) string {
	switch {
	case system == "gitter":
		return "Gitter"
	case strings.HasPrefix(system, "hipchat"):
		return "HipChat"
	case system == "pixtoome":
		return "Pixtoome"
	case system == "":
		return "another chat system"
	}
	return system
}

// bufFile is a buffered output file.
type bufFile struct {
	*bufio.Writer
	f    io.WriteCloser
	name string
}

func (b *bufFile) Close() error {
	if err := b.Flush(); err != nil {
		b.f.Close()
		return fmt.Errorf("%s: %w", b.name, err)
	}
	if err := b.f.Close(); err != nil {
		return fmt.Errorf("%s: %w", b.name, err)
	}
	return nil
}

func (w *writer) create(name string) (*bufFile, error) {
	f, err := w.req.Out.Create(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &bufFile{Writer: bufio.NewWriterSize(f, 1<<20), f: f, name: name}, nil
}

func (w *writer) notice(n sdk.Notice) {
	if w.req.Notice != nil {
		w.req.Notice(n)
	}
}

// ---- users ----

func (w *writer) emailMap() (map[string]string, error) {
	raw := w.req.Options.File("email-map")
	if raw == nil {
		return nil, nil
	}
	m, err := ParseEmailMap(raw)
	if err != nil {
		return nil, fmt.Errorf("--email-map: %w", err)
	}
	return m, nil
}

func mapRole(r sdk.Role) int {
	switch r {
	case sdk.RoleOwner:
		return roleOwner
	case sdk.RoleAdmin:
		return roleAdmin
	case sdk.RoleModerator:
		return roleModerator
	case sdk.RoleGuest:
		return roleGuest
	}
	return roleMember
}

func (w *writer) loadUsers() error {
	emails, err := w.emailMap()
	if err != nil {
		return err
	}
	owners := map[string]bool{}
	for _, o := range w.req.Options.Strings("owner") {
		owners[strings.ToLower(strings.TrimSpace(o))] = true
	}
	domain := strings.TrimPrefix(w.req.Options.String("email-domain"), "@")
	if domain == "" {
		domain = "example.com"
	}
	if w.ws.SourceSystem == "gitter" {
		domain = "users.noreply.github.com"
	}
	taken := map[string]string{} // lower-case e-mail -> user id
	names := map[string]int{}
	var zid int64
	for u, err := range w.req.Data.Users() {
		if err != nil {
			return fmt.Errorf("reading users: %w", err)
		}
		if _, dup := w.users[u.ID]; dup {
			return fmt.Errorf("user %s: the dataset holds this id twice", u.ID)
		}
		zid++
		ui := &userInfo{u: u, zid: zid, role: mapRole(u.Role), active: !u.Deleted && !u.Deactivated}
		ui.fullName = strings.TrimSpace(u.DisplayName)
		if ui.fullName == "" {
			ui.fullName = strings.TrimSpace(u.Username)
		}
		if ui.fullName == "" {
			ui.fullName = strings.TrimSpace(u.MentionName)
		}
		if ui.fullName == "" {
			ui.fullName = "User " + u.ID
		}
		if n := len([]rune(ui.fullName)); n > MaxFullName {
			return fmt.Errorf("user %s: name %q has %d characters; Pixtoome allows %d (the import engine shortens names when it knows the target's limits)", u.ID, ui.fullName, n, MaxFullName)
		}
		if owners[strings.ToLower(u.Username)] || owners[strings.ToLower(u.Email)] || owners[strings.ToLower(u.ID)] {
			ui.role = roleOwner
		}
		email := strings.TrimSpace(u.Email)
		if m := lookupEmail(emails, u); m != "" {
			email = m
		}
		if email != "" && !validEmail(email) {
			w.notice(sdk.Notice{Level: sdk.LevelWarning, Code: "email-invalid", Kind: sdk.KindUser, Record: u.ID,
				Message: fmt.Sprintf("user %s: %q is not a valid e-mail address; a placeholder address is used instead (give the real one with --email-map)", u.ID, email)})
			email = ""
		}
		if email == "" {
			local := emailLocal(u.Username)
			if local == "" {
				local = "user-" + emailLocal(u.ID)
			}
			if local == "user-" {
				local = "user-" + strconv.FormatInt(zid, 10)
			}
			if u.Bot || u.Integration {
				local += "-bot"
			}
			email = local + "@" + domain
			if !validEmail(email) {
				email = "user-" + strconv.FormatInt(zid, 10) + "@" + domain
			}
			if prev, dup := taken[strings.ToLower(email)]; dup {
				base := email
				for i := 2; dup; i++ {
					at := strings.LastIndexByte(base, '@')
					email = base[:at] + "+" + strconv.Itoa(i) + base[at:]
					_, dup = taken[strings.ToLower(email)]
				}
				w.notice(sdk.Notice{Level: sdk.LevelWarning, Code: "email-placeholder-clash", Kind: sdk.KindUser, Record: u.ID,
					Message: fmt.Sprintf("user %s: the placeholder address %s is user %s's; using %s", u.ID, base, prev, email)})
			}
		} else if prev, dup := taken[strings.ToLower(email)]; dup {
			return fmt.Errorf("users %s and %s both have the e-mail address %s; Pixtoome needs one address per user (the import engine merges users with the same address; check --email-map)", prev, u.ID, email)
		}
		taken[strings.ToLower(email)] = u.ID
		ui.email = email
		names[strings.ToLower(ui.fullName)]++
		w.users[u.ID] = ui
		w.userOrder = append(w.userOrder, ui)
	}
	hasOwner := false
	for _, ui := range w.userOrder {
		w.userDigits = append(w.userDigits, strconv.AppendInt(nil, ui.zid, 10))
		ui.ambiguous = names[strings.ToLower(ui.fullName)] > 1
		ui.recipient = w.recipientID()
		if ui.role == roleOwner && ui.active && !ui.u.Bot {
			hasOwner = true
		}
	}
	if !hasOwner && len(w.userOrder) > 0 {
		w.notice(sdk.Notice{Level: sdk.LevelWarning, Code: "no-owner",
			Message: "no user is an organization owner; pass --owner USERNAME, or make one on the server after the import (./manage.py change_user_role)"})
	}
	return nil
}

func lookupEmail(m map[string]string, u *sdk.User) string {
	if m == nil {
		return ""
	}
	for _, k := range []string{u.Username, u.ID, u.MentionName, u.Email} {
		if k == "" {
			continue
		}
		if e, ok := m[strings.ToLower(k)]; ok {
			return e
		}
	}
	return ""
}

func (w *writer) recipientID() int64 { w.nextRecipient++; return w.nextRecipient }

// ---- rooms and conversations ----

func (w *writer) loadRooms() error {
	byName := map[string]string{}
	var zid int64
	for r, err := range w.req.Data.Rooms() {
		if err != nil {
			return fmt.Errorf("reading rooms: %w", err)
		}
		name := strings.TrimSpace(r.Name)
		switch {
		case name == "":
			return fmt.Errorf("room %s: the name is empty; Pixtoome channels need a name", r.ID)
		case len([]rune(name)) > MaxStreamName:
			return fmt.Errorf("room %s: the name %q has %d characters; Pixtoome allows %d (run through the import engine, which shortens names to the target's limits)", r.ID, name, len([]rune(name)), MaxStreamName)
		case hasControl(name):
			return fmt.Errorf("room %s: the name %q holds a control character, which Pixtoome refuses", r.ID, name)
		}
		key := strings.ToLower(name)
		if prev, dup := byName[key]; dup {
			return fmt.Errorf("rooms %s and %s are both named %q (ignoring case); Pixtoome channel names must be unique regardless of case (the import engine renames such rooms)", prev, r.ID, name)
		}
		if _, dup := w.rooms[r.ID]; dup {
			return fmt.Errorf("room %s: the dataset holds this id twice", r.ID)
		}
		byName[key] = r.ID
		zid++
		ri := &roomInfo{r: r, zid: zid, name: name, senders: map[int64]bool{}}
		w.rooms[r.ID] = ri
		w.roomOrder = append(w.roomOrder, ri)
	}
	for _, ri := range w.roomOrder {
		ri.recipient = w.recipientID()
		w.usedTopics[topicKey(ri.zid, w.defaultTopic)] = true
	}
	return nil
}

func topicKey(stream int64, topic string) string {
	return strconv.FormatInt(stream, 10) + "\x00" + strings.ToLower(topic)
}

func (w *writer) loadConversations() error {
	var huddles int64
	for c, err := range w.req.Data.Conversations() {
		if err != nil {
			return fmt.Errorf("reading conversations: %w", err)
		}
		var members []int64
		for _, p := range c.Participants {
			if ui := w.users[p]; ui != nil && !slices.Contains(members, ui.zid) {
				members = append(members, ui.zid)
			}
		}
		if len(members) == 0 {
			w.skip(sdk.KindConversation, c.ID, "conversation-empty", fmt.Sprintf("conversation %s: none of its participants is a known user; it and its messages are not imported", c.ID))
			continue
		}
		ci := &convInfo{members: members}
		if len(members) > 2 {
			huddles++
			ci.huddle, ci.zid = true, huddles
		} else {
			ci.a, ci.b = members[0], members[len(members)-1]
		}
		w.convs[c.ID] = ci
		w.convOrder = append(w.convOrder, ci)
	}
	for _, ci := range w.convOrder {
		if ci.huddle {
			ci.recipient = w.recipientID()
		}
	}
	return nil
}

func (w *writer) skip(kind sdk.Kind, id, code, msg string) {
	w.notice(sdk.Notice{Level: sdk.LevelWarning, Code: code, Kind: kind, Record: id, Message: msg, Skipped: true})
}

// ---- emoji ----

func (w *writer) loadEmoji() error {
	var zid int64
	names := map[string]bool{}
	for e, err := range w.req.Data.Emoji() {
		if err != nil {
			return fmt.Errorf("reading emoji: %w", err)
		}
		if e.Image == nil {
			w.skip(sdk.KindEmoji, e.ID, "emoji-no-image", fmt.Sprintf("custom emoji %q: its image was not exported, and Pixtoome needs one", e.Shortcode))
			continue
		}
		name := emojiName(e.Shortcode)
		if name == "" || names[name] {
			w.skip(sdk.KindEmoji, e.ID, "emoji-name", fmt.Sprintf("custom emoji %q: it gives the name %q, which is empty or already taken", e.Shortcode, name))
			continue
		}
		names[name] = true
		zid++
		w.emoji[e.Shortcode] = &emojiInfo{zid: zid, name: name}
		author := w.emojiAuthor(e)
		fileName := strconv.FormatInt(zid, 10) + extFor(e.Image.ContentType, e.Shortcode)
		path := fmt.Sprintf("%d/emoji/images/%s", realmID, fileName)
		o := newObj(nil)
		o.int("id", zid)
		o.int("author", author)
		o.int("realm", realmID)
		o.str("name", name)
		o.str("file_name", fileName)
		o.bool("is_animated", e.Image.ContentType == "image/gif")
		o.bool("deactivated", e.Deleted)
		w.emojiRows = append(w.emojiRows, o.done())
		r := newObj(nil)
		r.int("id", zid)
		r.int("author", author)
		r.str("name", name)
		r.str("file_name", fileName)
		r.bool("is_animated", e.Image.ContentType == "image/gif")
		r.bool("deactivated", e.Deleted)
		r.str("path", path)
		r.str("s3_path", path)
		r.int("realm_id", realmID)
		w.emojiRecs = append(w.emojiRecs, r.done())
		w.emojiFiles = append(w.emojiFiles, blobFile{path: "emoji/" + path, sha: e.Image.SHA256})
	}
	return nil
}

// emojiAuthor picks the emoji's author: its creator, else an active owner,
// else an administrator, else the first active person. The importer fails
// on an emoji without author in an organization without owner, so the
// author is never left empty.
func (w *writer) emojiAuthor(e *sdk.Emoji) int64 {
	if ui := w.users[e.Creator]; ui != nil {
		return ui.zid
	}
	for _, role := range []int{roleOwner, roleAdmin, roleModerator, roleMember, roleGuest} {
		for _, ui := range w.userOrder {
			if ui.role == role && ui.active && !ui.u.Bot {
				return ui.zid
			}
		}
	}
	if len(w.userOrder) > 0 {
		return w.userOrder[0].zid
	}
	return 0
}

func extFor(contentType, name string) string {
	switch contentType {
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/jpeg":
		return ".jpg"
	case "image/webp":
		return ".webp"
	case "image/svg+xml":
		return ".svg"
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 && len(name)-i <= 5 {
		return strings.ToLower(name[i:])
	}
	return ".png"
}

// ---- attachments ----

func (w *writer) loadAttachments() error {
	var zid int64
	for a, err := range w.req.Data.Attachments() {
		if err != nil {
			return fmt.Errorf("reading attachments: %w", err)
		}
		ai := &attInfo{a: a}
		if a.SHA256 != "" {
			zid++
			ai.zid = zid
			sum := sha256.Sum256([]byte(a.ID))
			h := hex.EncodeToString(sum[:])
			ai.pathID = fmt.Sprintf("%d/%s/%s/%s", realmID, h[:2], h[2:26], sanitizeFileName(a.Name))
		}
		w.atts[a.ID] = ai
		w.attOrder = append(w.attOrder, ai)
	}
	return nil
}

// ---- first pass over messages ----

// place says where a message goes; ok is false when it cannot be imported.
type place struct {
	sender *userInfo
	room   *roomInfo
	conv   *convInfo
}

func (w *writer) locate(m *sdk.Message, report bool) (place, bool) {
	p := place{sender: w.users[m.Sender]}
	if p.sender == nil {
		if report {
			w.skip(sdk.KindMessage, m.ID, "sender-unknown", fmt.Sprintf("message %s: its sender %q is not a user of the dataset; the message is not imported", m.ID, m.Sender))
		}
		return p, false
	}
	if m.Room != "" {
		p.room = w.rooms[m.Room]
		if p.room == nil {
			if report {
				w.skip(sdk.KindMessage, m.ID, "room-unknown", fmt.Sprintf("message %s: its room %q is not in the dataset; the message is not imported", m.ID, m.Room))
			}
			return p, false
		}
		return p, true
	}
	p.conv = w.convs[m.Conversation]
	if p.conv == nil {
		if report {
			w.skip(sdk.KindMessage, m.ID, "conversation-unknown", fmt.Sprintf("message %s: its conversation %q is not in the dataset; the message is not imported", m.ID, m.Conversation))
		}
		return p, false
	}
	return p, true
}

func (w *writer) scanMessages() error {
	var latest time.Time
	for m, err := range w.req.Data.Messages() {
		if err != nil {
			return fmt.Errorf("reading messages: %w", err)
		}
		pl, ok := w.locate(m, false)
		if !ok {
			continue
		}
		w.msgCount++
		ui := pl.sender
		ui.sent++
		if ui.firstSent.IsZero() || m.SentAt.Before(ui.firstSent) {
			ui.firstSent = m.SentAt
		}
		if m.SentAt.After(ui.lastSent) {
			ui.lastSent = m.SentAt
		}
		if m.SentAt.After(latest) {
			latest = m.SentAt
		}
		if pl.room != nil {
			pl.room.senders[ui.zid] = true
			if m.ThreadRoot != "" && m.ThreadRoot != m.ID {
				w.replies[m.ThreadRoot]++
			}
		} else if !slices.Contains(pl.conv.members, ui.zid) {
			pl.conv.members = append(pl.conv.members, ui.zid)
			if !pl.conv.huddle && pl.conv.a != pl.conv.b {
				// A third person wrote in a one-to-one conversation:
				// it becomes a group.
				pl.conv.huddle = true
			}
		}
	}
	// Dates the source does not give (users' join dates, channels'
	// creation) are the export time, or else the last message's time, so
	// that the output does not depend on when the conversion ran.
	switch {
	case w.ws.ExportedAt != nil:
		w.refTime = *w.ws.ExportedAt
	case !latest.IsZero():
		w.refTime = latest
	default:
		w.refTime = time.Unix(0, 0)
	}
	return nil
}

// finishMembership works out subscriptions and the long-term-idle set.
func (w *writer) finishMembership() error {
	// Conversations that grew a third member during the scan become
	// huddles; they need ids and recipients too.
	var huddles int64
	for _, ci := range w.convOrder {
		if ci.huddle {
			huddles = max(huddles, ci.zid)
		}
	}
	for _, ci := range w.convOrder {
		if ci.huddle && ci.zid == 0 {
			huddles++
			ci.zid = huddles
			ci.recipient = w.recipientID()
		}
		slices.Sort(ci.members)
	}
	idleOn := w.msgCount > 0 && (w.req.Options["long-term-idle"] == nil || w.req.Options.Bool("long-term-idle"))
	if idleOn {
		recent := w.now.AddDate(0, 0, -60)
		for _, ui := range w.userOrder {
			ui.idle = !(ui.sent > 10 || (ui.sent > 0 && ui.lastSent.After(recent)))
		}
	}
	for _, ri := range w.roomOrder {
		set := map[int64]bool{}
		add := func(id string) {
			if ui := w.users[id]; ui != nil {
				set[ui.zid] = true
			}
		}
		for _, m := range ri.r.Members {
			add(m)
		}
		add(ri.r.Owner)
		for _, a := range ri.r.Admins {
			add(a)
		}
		// Whoever wrote in a room was in it, even when the source's
		// membership list has forgotten them.
		for id := range ri.senders {
			set[id] = true
		}
		ri.senders = nil
		for id := range set {
			ri.subs = append(ri.subs, id)
		}
		slices.Sort(ri.subs)
		for _, id := range ri.subs {
			if !w.userOrder[id-1].idle {
				ri.active = append(ri.active, id)
			}
		}
	}
	return nil
}

// ---- realm.json ----

// table writes one top-level key holding rows.
func table(f *bufFile, first bool, key string, rows [][]byte) {
	if !first {
		f.WriteString(",\n")
	}
	f.WriteString(`"` + key + `":[`)
	for i, r := range rows {
		if i > 0 {
			f.WriteByte(',')
		}
		f.WriteString("\n")
		f.Write(r)
	}
	f.WriteString("]")
}

func (w *writer) defaultStreamIDs() []int64 {
	var out []int64
	if names := w.req.Options.Strings("default-streams"); len(names) > 0 {
		want := map[string]bool{}
		for _, n := range names {
			want[strings.ToLower(strings.TrimSpace(n))] = true
		}
		for _, ri := range w.roomOrder {
			if want[strings.ToLower(ri.name)] {
				out = append(out, ri.zid)
				delete(want, strings.ToLower(ri.name))
			}
		}
		for n := range want {
			w.notice(sdk.Notice{Level: sdk.LevelWarning, Code: "default-stream-unknown", Message: fmt.Sprintf("--default-streams: no room is named %q", n)})
		}
		return out
	}
	for _, ri := range w.roomOrder {
		if ri.r.Extra["default_stream"] == "true" {
			out = append(out, ri.zid)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, ri := range w.roomOrder {
		if !ri.r.Private && !ri.r.Archived {
			out = append(out, ri.zid)
		}
	}
	return out
}

func (w *writer) writeRealmHead(f *bufFile) error {
	p := w.p
	f.WriteString("{\n")
	first := true
	emit := func(key string, rows [][]byte) {
		table(f, first, key, rows)
		first = false
	}
	if p.ImportSource {
		src := w.ws.SourceSystem
		if src == "" {
			src = "other"
		}
		f.WriteString(`"import_source":`)
		f.Write(appendString(nil, src))
		first = false
	}
	defaults := w.defaultStreamIDs()
	var announce int64
	if len(defaults) > 0 {
		announce = defaults[0]
	}
	{
		o := newObj(nil)
		o.int("id", realmID)
		o.str("name", truncateRunes(w.ws.Name, 40, ""))
		o.str("string_id", "")
		o.str("description", "Organization imported from "+productName(w.ws.SourceSystem)+"!")
		o.time("date_created", w.refTime)
		o.bool("deactivated", false)
		o.optInt("new_stream_announcements_stream", announce)
		o.optInt("signup_announcements_stream", announce)
		o.null("zulip_update_announcements_stream")
		if p.ModerationChannel {
			o.null("moderation_request_channel")
		}
		emit("zerver_realm", [][]byte{o.done()})
	}
	var rows [][]byte
	for _, c := range p.Clients {
		o := newObj(nil)
		o.int("id", int64(c.ID))
		o.str("name", c.Name)
		rows = append(rows, o.done())
	}
	emit("zerver_client", rows)
	// Gitter users only have GitHub no-reply addresses, so they sign in
	// with GitHub; everyone else resets a password by e-mail.
	auth := "Email"
	if w.ws.SourceSystem == "gitter" {
		auth = "GitHub"
	}
	{
		o := newObj(nil)
		o.int("realm", realmID)
		o.str("name", auth)
		o.int("id", 1)
		emit("zerver_realmauthenticationmethod", [][]byte{o.done()})
	}
	for _, k := range []string{"zerver_customprofilefield", "zerver_customprofilefieldvalue", "zerver_userpresence",
		"zerver_userprofile_mirrordummy", "zerver_realmdomain", "zerver_useractivity", "zerver_userprofile_crossrealm",
		"zerver_useractivityinterval", "zerver_realmfilter", "zerver_realmplayground"} {
		emit(k, nil)
	}
	rows = rows[:0]
	for _, ui := range w.userOrder {
		rows = append(rows, w.userRow(ui))
	}
	emit("zerver_userprofile", rows)

	rows = nil
	for _, ri := range w.roomOrder {
		rows = append(rows, w.streamRow(ri))
	}
	emit("zerver_stream", rows)

	rows = nil
	for i, id := range defaults {
		o := newObj(nil)
		o.int("id", int64(i+1))
		o.int("realm", realmID)
		o.int("stream", id)
		rows = append(rows, o.done())
	}
	emit("zerver_defaultstream", rows)

	rows = nil
	for _, ci := range w.convOrder {
		if !ci.huddle {
			continue
		}
		o := newObj(nil)
		o.int("id", ci.zid)
		o.str("huddle_hash", huddleHash(ci.members))
		o.null("recipient")
		if p.GroupSize {
			o.int("group_size", int64(len(ci.members)))
		}
		rows = append(rows, o.done())
	}
	emit("zerver_huddle", rows)

	rows = nil
	recipient := func(id, typeID int64, typ int) {
		o := newObj(nil)
		o.int("id", id)
		o.int("type_id", typeID)
		o.int("type", int64(typ))
		rows = append(rows, o.done())
	}
	for _, ui := range w.userOrder {
		recipient(ui.recipient, ui.zid, recipientPersonal)
	}
	for _, ri := range w.roomOrder {
		recipient(ri.recipient, ri.zid, recipientStream)
	}
	for _, ci := range w.convOrder {
		if ci.huddle {
			recipient(ci.recipient, ci.zid, recipientHuddle)
		}
	}
	emit("zerver_recipient", rows)

	// The subscription table can be large (rooms x members): stream it.
	f.WriteString(",\n\"zerver_subscription\":[")
	w.writeSubscriptions(f)
	f.WriteString("]")
	emit("zerver_realmemoji", w.emojiRows)
	f.WriteString(",\n\"zerver_reaction\":[")
	return nil
}

// writeSubscriptions writes every subscription row: each user to their
// own personal recipient, room members to rooms, and conversation
// members to their group.
func (w *writer) writeSubscriptions(f *bufFile) {
	buf := make([]byte, 0, 512)
	first := true
	sub := func(user, recipient int64, active bool) {
		w.nextSub++
		o := newObj(buf[:0])
		o.int("id", w.nextSub)
		o.int("user_profile", user)
		o.int("recipient", recipient)
		o.bool("active", true)
		o.bool("is_user_active", active)
		o.bool("is_muted", false)
		o.str("color", subscriptionColors[int(recipient)%len(subscriptionColors)])
		o.bool("pin_to_top", false)
		o.null("desktop_notifications")
		o.null("audible_notifications")
		o.null("push_notifications")
		o.null("email_notifications")
		o.null("wildcard_mentions_notify")
		buf = o.done()
		if !first {
			f.WriteByte(',')
		}
		first = false
		f.WriteByte('\n')
		f.Write(buf)
	}
	for _, ui := range w.userOrder {
		sub(ui.zid, ui.recipient, ui.active)
	}
	for _, ri := range w.roomOrder {
		for _, id := range ri.subs {
			sub(id, ri.recipient, w.userOrder[id-1].active)
		}
	}
	for _, ci := range w.convOrder {
		if ci.huddle {
			for _, id := range ci.members {
				sub(id, ci.recipient, w.userOrder[id-1].active)
			}
		}
	}
}

func (w *writer) userRow(ui *userInfo) []byte {
	u := ui.u
	o := newObj(make([]byte, 0, 768))
	o.int("id", ui.zid)
	o.str("email", ui.email)
	o.str("delivery_email", ui.email)
	o.str("full_name", ui.fullName)
	o.str("short_name", u.Username)
	o.int("realm", realmID)
	o.bool("is_active", ui.active)
	o.bool("is_bot", u.Bot || u.Integration)
	switch {
	case u.Integration:
		o.int("bot_type", 2)
	case u.Bot:
		o.int("bot_type", 1)
	default:
		o.null("bot_type")
	}
	o.null("bot_owner")
	o.int("role", int64(ui.role))
	o.bool("is_mirror_dummy", false)
	// Without a join date, a user joined no later than their first message.
	joined := w.refTime
	switch {
	case u.CreatedAt != nil:
		joined = *u.CreatedAt
	case !ui.firstSent.IsZero():
		joined = ui.firstSent
	}
	o.time("date_joined", joined)
	if !ui.lastSent.IsZero() {
		o.time("last_login", ui.lastSent)
	} else {
		o.time("last_login", joined)
	}
	o.null("last_reminder")
	o.null("tos_version")
	o.str("timezone", u.TimeZone)
	if ui.u.Avatar != nil {
		o.str("avatar_source", "U")
		o.int("avatar_version", 1)
	} else {
		o.str("avatar_source", "G")
		o.int("avatar_version", 1)
	}
	o.null("default_sending_stream")
	o.null("default_events_register_stream")
	o.bool("default_all_public_streams", false)
	if ui.idle {
		o.bool("long_term_idle", true)
		o.int("last_active_message_id", 1)
	} else {
		o.bool("long_term_idle", false)
		o.null("last_active_message_id")
	}
	o.bool("translate_emoticons", false)
	o.raw("user_permissions", "[]")
	o.raw("groups", "[]")
	o.null("recipient")
	return o.done()
}

func (w *writer) streamRow(ri *roomInfo) []byte {
	r := ri.r
	desc := r.Description
	if desc == "" {
		desc = r.Topic
	}
	desc = strings.Join(strings.Fields(desc), " ")
	desc = truncateRunes(desc, MaxStreamDescription, "...")
	o := newObj(nil)
	o.int("id", ri.zid)
	o.str("name", ri.name)
	o.int("realm", realmID)
	created := w.refTime
	if r.CreatedAt != nil {
		created = *r.CreatedAt
	}
	o.time("date_created", created)
	o.null("creator")
	o.bool("deactivated", r.Archived)
	o.str("description", desc)
	o.str("rendered_description", "")
	o.null("recipient")
	o.bool("invite_only", r.Private)
	o.bool("history_public_to_subscribers", !r.Private)
	o.bool("is_web_public", false)
	o.int("stream_post_policy", 1)
	o.null("message_retention_days")
	o.null("first_message_id")
	if w.p.StreamFolder {
		o.null("folder")
	}
	return o.done()
}

// huddleHash is the server's hash of a group's sorted member ids.
func huddleHash(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	sum := sha1.Sum([]byte(strings.Join(s, ",")))
	return hex.EncodeToString(sum[:])
}
