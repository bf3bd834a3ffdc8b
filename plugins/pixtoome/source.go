package pixtoome

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/migrate-chat/migrate/sdk"
)

// Rows of realm.json, with the fields the source reads. Foreign keys are
// named as the server's model_to_dict names them (without "_id").

type zRealm struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	StringID    string   `json:"string_id"`
	Description string   `json:"description"`
	DateCreated *float64 `json:"date_created"`
}

type zUser struct {
	ID            int64    `json:"id"`
	Email         string   `json:"email"`
	DeliveryEmail string   `json:"delivery_email"`
	FullName      string   `json:"full_name"`
	ShortName     string   `json:"short_name"`
	IsActive      *bool    `json:"is_active"`
	IsBot         bool     `json:"is_bot"`
	BotType       *int     `json:"bot_type"`
	Role          *int     `json:"role"`
	IsRealmAdmin  bool     `json:"is_realm_admin"` // before roles existed
	IsGuest       bool     `json:"is_guest"`
	IsMirrorDummy bool     `json:"is_mirror_dummy"`
	DateJoined    *float64 `json:"date_joined"`
	Timezone      string   `json:"timezone"`
}

type zStream struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	InviteOnly  bool     `json:"invite_only"`
	Deactivated bool     `json:"deactivated"`
	DateCreated *float64 `json:"date_created"`
}

type zRecipient struct {
	ID     int64 `json:"id"`
	TypeID int64 `json:"type_id"`
	Type   int   `json:"type"`
}

type zSubscription struct {
	UserProfile int64 `json:"user_profile"`
	Recipient   int64 `json:"recipient"`
	Active      *bool `json:"active"`
}

type zIDRow struct {
	ID int64 `json:"id"`
}

type zDefaultStream struct {
	Stream int64 `json:"stream"`
}

type zRealmEmoji struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	FileName    string `json:"file_name"`
	Author      *int64 `json:"author"`
	Deactivated bool   `json:"deactivated"`
}

type zReaction struct {
	UserProfile  int64  `json:"user_profile"`
	EmojiName    string `json:"emoji_name"`
	ReactionType string `json:"reaction_type"`
	Message      int64  `json:"message"`
}

type zMessage struct {
	ID           int64    `json:"id"`
	Sender       int64    `json:"sender"`
	Recipient    int64    `json:"recipient"`
	Subject      string   `json:"subject"`
	Content      string   `json:"content"`
	DateSent     float64  `json:"date_sent"`
	LastEditTime *float64 `json:"last_edit_time"`
	EditHistory  *string  `json:"edit_history"`
}

type zAttachment struct {
	ID          int64   `json:"id"`
	FileName    string  `json:"file_name"`
	PathID      string  `json:"path_id"`
	Size        int64   `json:"size"`
	CreateTime  float64 `json:"create_time"`
	Owner       int64   `json:"owner"`
	Messages    []int64 `json:"messages"`
	ContentType *string `json:"content_type"`
}

type zFileRecord struct {
	Path          string  `json:"path"`
	S3Path        string  `json:"s3_path"`
	UserProfileID int64   `json:"user_profile_id"`
	ContentType   *string `json:"content_type"`
	FileName      string  `json:"file_name"`
	Name          string  `json:"name"`
}

// realmData is what realm.json holds, once read. It grows with users,
// rooms, subscriptions and reactions, not with messages.
type realmData struct {
	ImportSource   string
	Realm          []zRealm
	Users          []zUser
	Streams        []zStream
	Recipients     []zRecipient
	Subscriptions  []zSubscription
	Huddles        []zIDRow
	DefaultStreams []zDefaultStream
	Emoji          []zRealmEmoji
	Reactions      []zReaction
}

// readRealm reads realm.json one row at a time, skipping tables the
// source has no use for without holding them.
func readRealm(r io.Reader) (*realmData, error) {
	d := &realmData{}
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		switch key {
		case "import_source":
			var s *string
			if err := dec.Decode(&s); err != nil {
				return nil, fmt.Errorf("import_source: %w", err)
			}
			if s != nil {
				d.ImportSource = *s
			}
		case "zerver_realm":
			err = decodeRows(dec, key, &d.Realm)
		case "zerver_userprofile", "zerver_userprofile_mirrordummy":
			err = decodeRows(dec, key, &d.Users)
		case "zerver_stream":
			err = decodeRows(dec, key, &d.Streams)
		case "zerver_recipient":
			err = decodeRows(dec, key, &d.Recipients)
		case "zerver_subscription":
			err = decodeRows(dec, key, &d.Subscriptions)
		case "zerver_huddle":
			err = decodeRows(dec, key, &d.Huddles)
		case "zerver_defaultstream":
			err = decodeRows(dec, key, &d.DefaultStreams)
		case "zerver_realmemoji":
			err = decodeRows(dec, key, &d.Emoji)
		case "zerver_reaction":
			err = decodeRows(dec, key, &d.Reactions)
		default:
			err = skipValue(dec)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	if len(d.Realm) == 0 {
		return nil, errors.New("zerver_realm: no realm row")
	}
	return d, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("offset %d: want %q, found %v", dec.InputOffset(), want, tok)
	}
	return nil
}

// decodeRows decodes an array (or null) of rows one at a time.
func decodeRows[T any](dec *json.Decoder, table string, out *[]T) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%s: want a list of rows, found %v", table, tok)
	}
	for i := 0; dec.More(); i++ {
		var row T
		if err := dec.Decode(&row); err != nil {
			return fmt.Errorf("%s row %d: %w", table, i, err)
		}
		*out = append(*out, row)
	}
	_, err = dec.Token()
	return err
}

// skipValue reads past one value token by token, so that a large table
// the source ignores is never held whole.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// readMessageFile calls fn for each zerver_message row of one messages
// file, streaming; usermessage rows are skipped.
func readMessageFile(r io.Reader, fn func(*zMessage) error) error {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok != "zerver_message" {
			if err := skipValue(dec); err != nil {
				return err
			}
			continue
		}
		if err := expectDelim(dec, '['); err != nil {
			return fmt.Errorf("zerver_message: %w", err)
		}
		for i := 0; dec.More(); i++ {
			var m zMessage
			if err := dec.Decode(&m); err != nil {
				return fmt.Errorf("zerver_message row %d: %w", i, err)
			}
			if err := fn(&m); err != nil {
				return err
			}
		}
		if err := expectDelim(dec, ']'); err != nil {
			return err
		}
	}
	return expectDelim(dec, '}')
}

type zEdit struct {
	UserID      *int64  `json:"user_id"`
	Timestamp   float64 `json:"timestamp"`
	PrevContent *string `json:"prev_content"`
}

// parseEditHistory reads a message's edit_history string. Entries that
// only moved the message (no prev_content) carry no earlier text and are
// left out.
func parseEditHistory(s string, userID func(int64) string) ([]sdk.Edit, error) {
	var entries []zEdit
	if err := json.Unmarshal([]byte(s), &entries); err != nil {
		return nil, err
	}
	var out []sdk.Edit
	for _, e := range entries {
		if e.PrevContent == nil {
			continue
		}
		ed := sdk.Edit{EditedAt: epoch(e.Timestamp), Body: *e.PrevContent}
		if e.UserID != nil {
			ed.Editor = userID(*e.UserID)
		}
		out = append(out, ed)
	}
	slices.SortStableFunc(out, func(a, b sdk.Edit) int { return a.EditedAt.Compare(b.EditedAt) })
	return out, nil
}

// source holds the state of one Read.
type source struct {
	// pending is a split message waiting for its next part.
	pending *pendingMessage
	fsys    fs.FS
	dir     string
	out     sdk.Sink
	ctx     context.Context
	data    *realmData
	users   map[int64]*sdk.User
	byName  map[string][]int64 // lower-case full name -> user ids
	recip   map[int64]zRecipient
	// attachments by message id; emitted once their message is.
	attByMsg   map[int64][]*attRef
	attOrder   []*attRef
	uploads    map[string]zFileRecord // by s3_path
	reacts     map[int64][]zReaction
	emojiNames map[string]bool
	pairs      map[[2]int64]bool
}

type attRef struct {
	id      string
	row     *zAttachment
	msg     int64
	emitted bool
}

func uid(id int64) string { return strconv.FormatInt(id, 10) }

// Read implements sdk.Source.
func (a *Adapter) Read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	if len(req.Inputs) != 1 {
		return fmt.Errorf("give one Pixtoome directory (found %d inputs)", len(req.Inputs))
	}
	in := req.Inputs[0]
	s := &source{fsys: in.FS, dir: ".", out: out, ctx: ctx, users: map[int64]*sdk.User{}, byName: map[string][]int64{},
		recip: map[int64]zRecipient{}, attByMsg: map[int64][]*attRef{}, uploads: map[string]zFileRecord{},
		reacts: map[int64][]zReaction{}, emojiNames: map[string]bool{}, pairs: map[[2]int64]bool{}}
	if in.Entry != "" {
		s.dir = path.Dir(in.Entry)
	}
	f, err := s.open("realm.json")
	if err != nil {
		return fmt.Errorf("%s: not a Pixtoome import directory (no realm.json): %w", in.Name, err)
	}
	s.data, err = readRealm(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s/realm.json: %w", in.Name, err)
	}
	for _, r := range s.data.Recipients {
		s.recip[r.ID] = r
	}
	for _, r := range s.data.Reactions {
		s.reacts[r.Message] = append(s.reacts[r.Message], r)
	}
	s.data.Reactions = nil
	for _, e := range s.data.Emoji {
		s.emojiNames[e.Name] = true
	}
	for _, step := range []func() error{s.workspace, s.readUsers, s.readRooms, s.readEmoji, s.readHuddles, s.readAttachments, s.readMessages, s.finish} {
		if err := step(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (s *source) open(name string) (fs.File, error) { return s.fsys.Open(path.Join(s.dir, name)) }

func (s *source) workspace() error {
	r := s.data.Realm[0]
	ws := &sdk.Workspace{ID: r.StringID, Name: r.Name, SourceSystem: "pixtoome",
		ExportOptions: sdk.ExportOptions{OneToOneHistory: true}}
	if ws.ID == "" {
		ws.ID = "realm-" + uid(r.ID)
	}
	if ws.Name == "" {
		ws.Name = ws.ID
	}
	ws.Extra = map[string]string{}
	if r.Description != "" {
		ws.Extra["description"] = r.Description
	}
	if s.data.ImportSource != "" {
		ws.Extra["import_source"] = s.data.ImportSource
	}
	if len(ws.Extra) == 0 {
		ws.Extra = nil
	}
	if _, err := fs.Stat(s.fsys, path.Join(s.dir, "uploads/records.json")); err == nil {
		ws.ExportOptions.Files = true
	}
	if _, err := fs.Stat(s.fsys, path.Join(s.dir, "avatars/records.json")); err == nil {
		ws.ExportOptions.Avatars = true
	}
	return s.out.Emit(ws)
}

// readRecords reads a records.json list; a missing file is no records.
func (s *source) readRecords(name string) ([]zFileRecord, error) {
	f, err := s.open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []zFileRecord
	dec := json.NewDecoder(f)
	if err := decodeRows(dec, name, &recs); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return recs, nil
}

func (s *source) putBlob(name, contentType string) (*sdk.BlobRef, error) {
	f, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ref, err := s.out.PutBlob(f, contentType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &ref, nil
}

func roleOf(u *zUser) sdk.Role {
	if u.Role != nil {
		switch *u.Role {
		case roleOwner:
			return sdk.RoleOwner
		case roleAdmin:
			return sdk.RoleAdmin
		case roleModerator:
			return sdk.RoleModerator
		case roleGuest:
			return sdk.RoleGuest
		}
		return sdk.RoleMember
	}
	switch {
	case u.IsRealmAdmin:
		return sdk.RoleAdmin
	case u.IsGuest:
		return sdk.RoleGuest
	}
	return sdk.RoleMember
}

func (s *source) readUsers() error {
	avatars, err := s.readRecords("avatars/records.json")
	if err != nil {
		return err
	}
	avatarOf := map[int64]zFileRecord{}
	for _, r := range avatars {
		if prev, ok := avatarOf[r.UserProfileID]; !ok || (!strings.HasSuffix(prev.S3Path, ".original") && strings.HasSuffix(r.S3Path, ".original")) {
			avatarOf[r.UserProfileID] = r
		}
	}
	for i := range s.data.Users {
		zu := &s.data.Users[i]
		if _, dup := s.users[zu.ID]; dup {
			return fmt.Errorf("realm.json: zerver_userprofile: user id %d appears twice", zu.ID)
		}
		email := zu.DeliveryEmail
		if email == "" {
			email = zu.Email
		}
		u := &sdk.User{ID: uid(zu.ID), Email: email, DisplayName: zu.FullName, Username: zu.ShortName,
			TimeZone: zu.Timezone, Role: roleOf(zu), Bot: zu.IsBot, Virtual: zu.IsMirrorDummy}
		if u.Username == "" {
			u.Username, _, _ = strings.Cut(email, "@")
		}
		if zu.BotType != nil && (*zu.BotType == 2 || *zu.BotType == 3) {
			u.Integration = true
		}
		if zu.IsActive != nil && !*zu.IsActive {
			u.Deactivated = true
		}
		if zu.DateJoined != nil {
			t := epoch(*zu.DateJoined)
			u.CreatedAt = &t
		}
		if rec, ok := avatarOf[zu.ID]; ok {
			ct := ""
			if rec.ContentType != nil {
				ct = *rec.ContentType
			}
			ref, err := s.putBlob("avatars/"+rec.Path, ct)
			if err != nil {
				s.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "avatar-missing", Kind: sdk.KindUser, Record: u.ID, File: "avatars/" + rec.Path,
					Message: fmt.Sprintf("user %s: the avatar file avatars/%s cannot be read (%v); the user is imported without it", u.ID, rec.Path, err)})
			} else {
				u.Avatar = ref
			}
		}
		s.users[zu.ID] = u
		key := strings.ToLower(zu.FullName)
		s.byName[key] = append(s.byName[key], zu.ID)
		if err := s.out.Emit(u); err != nil {
			return err
		}
	}
	s.data.Users = nil
	return nil
}

// members returns the users subscribed to a recipient.
func (s *source) members() map[int64][]string {
	out := map[int64][]string{}
	for _, sub := range s.data.Subscriptions {
		if sub.Active != nil && !*sub.Active {
			continue
		}
		if _, ok := s.users[sub.UserProfile]; !ok {
			continue
		}
		id := uid(sub.UserProfile)
		if !slices.Contains(out[sub.Recipient], id) {
			out[sub.Recipient] = append(out[sub.Recipient], id)
		}
	}
	return out
}

func (s *source) readRooms() error {
	members := s.members()
	streamRecipient := map[int64]int64{}
	for _, r := range s.data.Recipients {
		if r.Type == recipientStream {
			streamRecipient[r.TypeID] = r.ID
		}
	}
	defaults := map[int64]bool{}
	for _, d := range s.data.DefaultStreams {
		defaults[d.Stream] = true
	}
	for _, st := range s.data.Streams {
		room := &sdk.Room{ID: uid(st.ID), Name: st.Name, Description: st.Description, Private: st.InviteOnly, Archived: st.Deactivated}
		if rid, ok := streamRecipient[st.ID]; ok {
			room.Members = members[rid]
		}
		if st.DateCreated != nil {
			t := epoch(*st.DateCreated)
			room.CreatedAt = &t
		}
		if defaults[st.ID] {
			room.Extra = map[string]string{"default_stream": "true"}
		}
		if room.Name == "" {
			room.Name = "stream " + room.ID
		}
		if err := s.out.Emit(room); err != nil {
			return err
		}
	}
	return nil
}

func (s *source) readHuddles() error {
	members := s.members()
	huddleRecipient := map[int64]int64{}
	for _, r := range s.data.Recipients {
		if r.Type == recipientHuddle {
			huddleRecipient[r.TypeID] = r.ID
		}
	}
	for _, h := range s.data.Huddles {
		ps := members[huddleRecipient[h.ID]]
		if len(ps) == 0 {
			s.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "huddle-empty", Kind: sdk.KindConversation, Record: "huddle-" + uid(h.ID), Skipped: true,
				Message: fmt.Sprintf("group conversation %d has no subscribed members; it is left out", h.ID)})
			continue
		}
		if err := s.out.Emit(&sdk.Conversation{ID: "huddle-" + uid(h.ID), Participants: ps, Group: true}); err != nil {
			return err
		}
	}
	s.data.Subscriptions = nil
	return nil
}

func (s *source) readEmoji() error {
	recs, err := s.readRecords("emoji/records.json")
	if err != nil {
		return err
	}
	byFile := map[string]zFileRecord{}
	for _, r := range recs {
		byFile[r.FileName] = r
	}
	for _, e := range s.data.Emoji {
		em := &sdk.Emoji{ID: uid(e.ID), Shortcode: e.Name, Deleted: e.Deactivated}
		if e.Author != nil {
			if _, ok := s.users[*e.Author]; ok {
				em.Creator = uid(*e.Author)
			}
		}
		if rec, ok := byFile[e.FileName]; ok {
			ref, err := s.putBlob("emoji/"+rec.Path, contentTypeOf(e.FileName))
			if err != nil {
				s.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "emoji-file-missing", Kind: sdk.KindEmoji, Record: em.ID,
					Message: fmt.Sprintf("custom emoji %q: emoji/%s cannot be read (%v)", e.Name, rec.Path, err)})
			} else {
				em.Image = ref
			}
		}
		if err := s.out.Emit(em); err != nil {
			return err
		}
	}
	return nil
}

func contentTypeOf(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".webp":
		return "image/webp"
	case ".svg":
		return "image/svg+xml"
	}
	return ""
}

func (s *source) readAttachments() error {
	recs, err := s.readRecords("uploads/records.json")
	if err != nil {
		return err
	}
	for _, r := range recs {
		s.uploads[r.S3Path] = r
	}
	f, err := s.open("attachment.json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if err := expectDelim(dec, '{'); err != nil {
		return fmt.Errorf("attachment.json: %w", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("attachment.json: %w", err)
		}
		if tok != "zerver_attachment" {
			if err := skipValue(dec); err != nil {
				return fmt.Errorf("attachment.json: %w", err)
			}
			continue
		}
		var rows []zAttachment
		if err := decodeRows(dec, "attachment.json: zerver_attachment", &rows); err != nil {
			return err
		}
		for i := range rows {
			row := &rows[i]
			for j, m := range row.Messages {
				ref := &attRef{id: uid(row.ID), row: row, msg: m}
				if j > 0 {
					ref.id += "-" + uid(m)
				}
				s.attByMsg[m] = append(s.attByMsg[m], ref)
				s.attOrder = append(s.attOrder, ref)
			}
		}
	}
	return nil
}

func (s *source) readMessages() error {
	for n := 1; ; n++ {
		name := fmt.Sprintf("messages-%06d.json", n)
		f, err := s.open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return s.flushParts()
		}
		if err != nil {
			return err
		}
		err = readMessageFile(f, func(zm *zMessage) error {
			if err := s.ctx.Err(); err != nil {
				return err
			}
			return s.joinParts(name, zm)
		})
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		s.out.Progress(int64(n), 0)
	}
}

// joinParts puts back together a message that a target split to fit the
// length limit: parts end with continuedMark and follow each other from
// the same sender to the same place and topic. Only the last part is held
// back, so memory stays flat.
func (s *source) joinParts(file string, zm *zMessage) error {
	if p := s.pending; p != nil {
		if zm.Sender == p.Sender && zm.Recipient == p.Recipient && zm.Subject == p.Subject {
			p.Content = strings.TrimSuffix(p.Content, continuedMark) + zm.Content
			p.parts = append(p.parts, zm.ID)
			if strings.HasSuffix(zm.Content, continuedMark) {
				return nil
			}
			s.pending = nil
			return s.message(p.file, &p.zMessage, p.parts...)
		}
		// The next part never came: keep what there is, mark included.
		s.pending = nil
		if err := s.message(p.file, &p.zMessage, p.parts...); err != nil {
			return err
		}
	}
	if strings.HasSuffix(zm.Content, continuedMark) {
		s.pending = &pendingMessage{zMessage: *zm, file: file}
		return nil
	}
	return s.message(file, zm)
}

// flushParts emits a split message whose last part is missing.
func (s *source) flushParts() error {
	if p := s.pending; p != nil {
		s.pending = nil
		return s.message(p.file, &p.zMessage, p.parts...)
	}
	return nil
}

// pendingMessage is a split message waiting for its next part.
type pendingMessage struct {
	zMessage
	file  string
	parts []int64 // ids of the parts after the first
}

func (s *source) userRef(id int64) string {
	if _, ok := s.users[id]; ok {
		return uid(id)
	}
	return ""
}

// message emits one message; parts are the ids of further server messages
// that were joined into it, whose attachments it takes.
func (s *source) message(file string, zm *zMessage, parts ...int64) error {
	id := uid(zm.ID)
	skip := func(code, why string) error {
		s.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: code, Kind: sdk.KindMessage, Record: id, File: file, Skipped: true,
			Message: fmt.Sprintf("%s: message %d: %s; it is left out", file, zm.ID, why)})
		return nil
	}
	if _, ok := s.users[zm.Sender]; !ok {
		return skip("sender-unknown", fmt.Sprintf("its sender %d is not a user of realm.json", zm.Sender))
	}
	r, ok := s.recip[zm.Recipient]
	if !ok {
		return skip("recipient-unknown", fmt.Sprintf("its recipient %d is not in zerver_recipient", zm.Recipient))
	}
	m := &sdk.Message{ID: id, Kind: sdk.MessageNormal, Sender: uid(zm.Sender), SentAt: epoch(zm.DateSent),
		Original: zm.Content, OriginalFormat: "pixtoome-markdown"}
	switch r.Type {
	case recipientStream:
		m.Room = uid(r.TypeID)
		if zm.Subject != "" {
			m.Topic = zm.Subject
		}
	case recipientHuddle:
		m.Conversation = "huddle-" + uid(r.TypeID)
	case recipientPersonal:
		if _, ok := s.users[r.TypeID]; !ok {
			return skip("recipient-unknown", fmt.Sprintf("its receiver %d is not a user of realm.json", r.TypeID))
		}
		pair := [2]int64{min(zm.Sender, r.TypeID), max(zm.Sender, r.TypeID)}
		s.pairs[pair] = true
		m.Conversation = pairID(pair)
	default:
		return skip("recipient-unknown", fmt.Sprintf("its recipient has unknown type %d", r.Type))
	}
	body := zm.Content
	for _, part := range append([]int64{zm.ID}, parts...) {
		for _, ref := range s.attByMsg[part] {
			body = removeUploadLink(body, ref.row.PathID)
			ref.emitted = true
			ref.msg = zm.ID // the joined message keeps its first part's id
			m.Attachments = append(m.Attachments, ref.id)
		}
	}
	if rest, ok := strings.CutPrefix(body, "/me "); ok {
		m.Kind = sdk.MessageEmote
		body = rest
	}
	m.Body = body
	for _, pm := range parseMentions(zm.Content) {
		if wildcardNames[pm.Name] {
			m.Mentions = append(m.Mentions, sdk.Mention{Kind: sdk.MentionAll, Text: pm.Raw})
			continue
		}
		x := sdk.Mention{Kind: sdk.MentionUser, Text: pm.Raw}
		if pm.ID != 0 && s.userRef(pm.ID) != "" {
			x.User = uid(pm.ID)
		} else if ids := s.byName[strings.ToLower(pm.Name)]; len(ids) == 1 {
			x.User = uid(ids[0])
		} else {
			continue // not a known user: plain text
		}
		m.Mentions = append(m.Mentions, x)
	}
	if zm.LastEditTime != nil {
		t := epoch(*zm.LastEditTime)
		m.EditedAt = &t
	}
	if zm.EditHistory != nil && *zm.EditHistory != "" {
		edits, err := parseEditHistory(*zm.EditHistory, s.userRef)
		if err != nil {
			s.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "edit-history-invalid", Kind: sdk.KindMessage, Record: id, File: file,
				Message: fmt.Sprintf("%s: message %d: edit_history cannot be read (%v); the earlier versions are left out", file, zm.ID, err)})
		} else {
			m.Edits = edits
		}
	}
	m.Reactions = s.reactions(zm.ID)
	return s.out.Emit(m)
}

func pairID(p [2]int64) string {
	if p[0] == p[1] {
		return "dm-" + uid(p[0])
	}
	return "dm-" + uid(p[0]) + "-" + uid(p[1])
}

// removeUploadLink takes the "[name](/user_uploads/path)" link the
// attachment was posted with out of the text, since the attachment itself
// carries it (a target adds it back).
func removeUploadLink(body, pathID string) string {
	tail := "](/user_uploads/" + pathID + ")"
	end := strings.Index(body, tail)
	if end < 0 {
		return body
	}
	start := strings.LastIndexByte(body[:end], '[')
	if start < 0 {
		return body
	}
	before := strings.TrimSuffix(body[:start], "\n")
	return before + body[end+len(tail):]
}

func (s *source) reactions(msg int64) []sdk.Reaction {
	rows := s.reacts[msg]
	if len(rows) == 0 {
		return nil
	}
	delete(s.reacts, msg)
	var out []sdk.Reaction
	for _, r := range rows {
		if s.userRef(r.UserProfile) == "" {
			continue
		}
		custom := r.ReactionType == "realm_emoji"
		i := slices.IndexFunc(out, func(x sdk.Reaction) bool { return x.Emoji == r.EmojiName && x.Custom == custom })
		if i < 0 {
			out = append(out, sdk.Reaction{Emoji: r.EmojiName, Custom: custom})
			i = len(out) - 1
		}
		if u := uid(r.UserProfile); !slices.Contains(out[i].Users, u) {
			out[i].Users = append(out[i].Users, u)
		}
	}
	return out
}

func (s *source) finish() error {
	pairs := make([][2]int64, 0, len(s.pairs))
	for p := range s.pairs {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(a, b [2]int64) int {
		if a[0] != b[0] {
			return int(a[0] - b[0])
		}
		return int(a[1] - b[1])
	})
	for _, p := range pairs {
		c := &sdk.Conversation{ID: pairID(p), Participants: []string{uid(p[0])}}
		if p[1] != p[0] {
			c.Participants = append(c.Participants, uid(p[1]))
		}
		if err := s.out.Emit(c); err != nil {
			return err
		}
	}
	for _, ref := range s.attOrder {
		row := ref.row
		if !ref.emitted {
			s.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "attachment-orphan", Kind: sdk.KindAttachment, Record: ref.id, File: "attachment.json", Skipped: true,
				Message: fmt.Sprintf("attachment.json: attachment %d (%s) belongs to message %d, which is not in the message files; it is left out", row.ID, row.FileName, ref.msg)})
			continue
		}
		t := epoch(row.CreateTime)
		a := &sdk.Attachment{ID: ref.id, Message: uid(ref.msg), Name: row.FileName, Size: row.Size, Path: row.PathID,
			Uploader: s.userRef(row.Owner), CreatedAt: &t}
		if a.Name == "" {
			a.Name = path.Base(row.PathID)
		}
		if row.ContentType != nil {
			a.ContentType = *row.ContentType
		}
		rec, ok := s.uploads[row.PathID]
		p := rec.Path
		if a.ContentType == "" && rec.ContentType != nil {
			a.ContentType = *rec.ContentType
		}
		var ref2 *sdk.BlobRef
		var err error
		if ok {
			ref2, err = s.putBlob("uploads/"+p, a.ContentType)
		}
		if !ok || err != nil {
			a.URL = "/user_uploads/" + row.PathID
			s.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "upload-missing", Kind: sdk.KindAttachment, Record: a.ID, File: "uploads/" + p,
				Message: fmt.Sprintf("attachment %s (%s): the uploaded file is not in uploads/; only its link is kept", a.ID, a.Name)})
		} else {
			a.SHA256, a.Size = ref2.SHA256, ref2.Size
		}
		if err := s.out.Emit(a); err != nil {
			return err
		}
	}
	return nil
}
