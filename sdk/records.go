package sdk

import "time"

// Kind names a canonical record kind. Kinds are listed in dependency order:
// a record may refer only to records of its own kind or of kinds before it.
type Kind string

// The canonical record kinds, in dependency order.
const (
	KindWorkspace    Kind = "workspace"
	KindUser         Kind = "user"
	KindRoom         Kind = "room"
	KindConversation Kind = "conversation"
	KindEmoji        Kind = "emoji"
	KindMessage      Kind = "message"
	KindAttachment   Kind = "attachment"
)

// Kinds lists every record kind in dependency order.
var Kinds = []Kind{KindWorkspace, KindUser, KindRoom, KindConversation, KindEmoji, KindMessage, KindAttachment}

// Record is implemented by every canonical record type.
type Record interface {
	// RecordKind reports the record's kind.
	RecordKind() Kind
	// RecordID reports the record's identifier, as the source system spelled it.
	RecordID() string
}

// Workspace describes the exported organisation as a whole. An archive holds
// exactly one.
type Workspace struct {
	ID            string        `json:"id"`
	Name          string        `json:"name"`
	SourceSystem  string        `json:"source_system"`
	SourceVersion string        `json:"source_version,omitempty"`
	ExportedAt    *time.Time    `json:"exported_at,omitempty"`
	ExportOptions ExportOptions `json:"export_options"`
	// HistoryRetentionDays is how many days of history the source kept;
	// 0 means unlimited or unknown.
	HistoryRetentionDays int `json:"history_retention_days,omitempty"`
	// Domain is the workspace's own host name or URL, when known.
	Domain string `json:"domain,omitempty"`
	// Extra keeps source fields that have no canonical home, so that a
	// target of the same system can restore them.
	Extra map[string]string `json:"extra,omitempty"`
}

// ExportOptions records what the source export included, so that targets
// and the report can tell "absent" from "never exported".
type ExportOptions struct {
	// OneToOneHistory is true when direct conversations were exported.
	OneToOneHistory bool `json:"one_to_one_history"`
	// Files is true when attachment contents were exported.
	Files bool `json:"files"`
	// Avatars is true when user avatars were exported.
	Avatars bool `json:"avatars"`
	// Since, when set, is the earliest message time the export covers.
	Since *time.Time `json:"since,omitempty"`
}

// Role is a user's role in the workspace.
type Role string

// User roles, from most to least privileged.
const (
	RoleOwner     Role = "owner"
	RoleAdmin     Role = "admin"
	RoleModerator Role = "moderator"
	RoleMember    Role = "member"
	RoleGuest     Role = "guest"
)

// User is a person, bot or integration that appears in the workspace.
type User struct {
	ID string `json:"id"`
	// Username is the login name. Email is the address when known; guests
	// and deleted users often have none.
	Username    string `json:"username,omitempty"`
	Email       string `json:"email,omitempty"`
	MentionName string `json:"mention_name,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Title       string `json:"title,omitempty"`
	TimeZone    string `json:"time_zone,omitempty"`
	Role        Role   `json:"role"`
	Bot         bool   `json:"bot,omitempty"`
	Integration bool   `json:"integration,omitempty"`
	Deleted     bool   `json:"deleted,omitempty"`
	Deactivated bool   `json:"deactivated,omitempty"`
	// Virtual marks a user that the source only knew through a bridge (for
	// example a Matrix user seen through Gitter) or inferred from messages.
	Virtual   bool       `json:"virtual,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	Avatar    *BlobRef   `json:"avatar,omitempty"`
	// AvatarURL is where the source served the avatar from, when the
	// image itself was not exported.
	AvatarURL string            `json:"avatar_url,omitempty"`
	Extra     map[string]string `json:"extra,omitempty"`
}

// Room is a named channel: public or private, with its membership.
type Room struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Topic       string   `json:"topic,omitempty"`
	Description string   `json:"description,omitempty"`
	Private     bool     `json:"private"`
	Archived    bool     `json:"archived,omitempty"`
	Owner       string   `json:"owner,omitempty"`
	Admins      []string `json:"admins,omitempty"`
	Members     []string `json:"members,omitempty"`
	// MembersInferred is true when the source exported no membership and
	// Members was worked out from senders and mentions.
	MembersInferred bool       `json:"members_inferred,omitempty"`
	GuestAccess     bool       `json:"guest_access,omitempty"`
	CreatedAt       *time.Time `json:"created_at,omitempty"`
	// Repository is the code repository a room is about (Gitter rooms are
	// often tied to one), as "owner/name".
	Repository string            `json:"repository,omitempty"`
	Extra      map[string]string `json:"extra,omitempty"`
}

// Conversation is a direct-message conversation: one-to-one (two
// participants, or one for a note to self) or a group.
type Conversation struct {
	ID           string     `json:"id"`
	Participants []string   `json:"participants"`
	Group        bool       `json:"group,omitempty"`
	CreatedAt    *time.Time `json:"created_at,omitempty"`
	// Extra keeps source fields that have no canonical home.
	Extra map[string]string `json:"extra,omitempty"`
}

// Emoji is a custom emoji (HipChat "emoticon").
type Emoji struct {
	ID        string            `json:"id"`
	Shortcode string            `json:"shortcode"`
	Image     *BlobRef          `json:"image,omitempty"`
	ImageURL  string            `json:"image_url,omitempty"`
	Creator   string            `json:"creator,omitempty"`
	Deleted   bool              `json:"deleted,omitempty"`
	Extra     map[string]string `json:"extra,omitempty"`
}

// MessageKind says what a message is.
type MessageKind string

// Message kinds.
const (
	MessageNormal       MessageKind = "normal"
	MessageEmote        MessageKind = "emote" // "/me" messages
	MessageNotification MessageKind = "notification"
	MessageTopicChange  MessageKind = "topic_change"
	MessageSystem       MessageKind = "system"
)

// Message is one message in a room or a conversation. Exactly one of Room
// and Conversation is set.
type Message struct {
	ID           string      `json:"id"`
	Kind         MessageKind `json:"kind"`
	Room         string      `json:"room,omitempty"`
	Conversation string      `json:"conversation,omitempty"`
	Sender       string      `json:"sender"`
	// SenderName is the name a notification or integration message was
	// posted under, when it differs from the sender's own.
	SenderName string     `json:"sender_name,omitempty"`
	SentAt     time.Time  `json:"sent_at"`
	EditedAt   *time.Time `json:"edited_at,omitempty"`
	Edits      []Edit     `json:"edits,omitempty"`
	// Body is the text in CommonMark.
	Body string `json:"body"`
	// Original is the text exactly as the source held it, in
	// OriginalFormat ("text", "markdown", "gitter-markdown", "html", ...).
	Original       string `json:"original,omitempty"`
	OriginalFormat string `json:"original_format,omitempty"`
	// ThreadRoot is the ID of the message that starts this message's
	// thread; Topic is the thread or topic name where the source has one.
	ThreadRoot  string     `json:"thread_root,omitempty"`
	Topic       string     `json:"topic,omitempty"`
	ReplyTo     string     `json:"reply_to,omitempty"`
	Mentions    []Mention  `json:"mentions,omitempty"`
	Reactions   []Reaction `json:"reactions,omitempty"`
	Attachments []string   `json:"attachments,omitempty"`
	// Deleted marks a message whose content was removed but whose place is
	// kept (for example a thread root with replies).
	Deleted bool              `json:"deleted,omitempty"`
	Extra   map[string]string `json:"extra,omitempty"`
}

// Edit is one earlier version of a message's text.
type Edit struct {
	EditedAt time.Time `json:"edited_at"`
	// Body is the CommonMark text as it was before this edit.
	Body   string `json:"body"`
	Editor string `json:"editor,omitempty"`
}

// MentionKind says whom a mention addresses.
type MentionKind string

// Mention kinds.
const (
	MentionUser  MentionKind = "user"
	MentionAll   MentionKind = "all"  // everyone in the room (@all, @/all)
	MentionHere  MentionKind = "here" // everyone present (@here)
	MentionGroup MentionKind = "group"
)

// Mention is a structured reference to whom a message addresses.
type Mention struct {
	Kind MentionKind `json:"kind"`
	// User is the mentioned user's ID, for user mentions that resolved.
	User string `json:"user,omitempty"`
	// Text is the mention as written, without the sigil ("JaneRoe", "all").
	Text string `json:"text,omitempty"`
}

// Reaction is one emoji reaction and who gave it.
type Reaction struct {
	// Emoji is a Unicode shortcode ("thumbs_up") or a custom emoji's
	// shortcode when Custom is true.
	Emoji  string   `json:"emoji"`
	Custom bool     `json:"custom,omitempty"`
	Users  []string `json:"users"`
}

// Attachment is a file posted with a message.
type Attachment struct {
	ID          string `json:"id"`
	Message     string `json:"message"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type,omitempty"`
	// SHA256 names the blob holding the content; empty when the content
	// was not exported (URL then says where it lived).
	SHA256 string `json:"sha256,omitempty"`
	URL    string `json:"url,omitempty"`
	// Path is where the source kept the file, relative to its export.
	Path string `json:"path,omitempty"`
	// Uploader is the user who posted the file.
	Uploader  string     `json:"uploader,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
}

// BlobRef points at a content-addressed blob in the archive.
type BlobRef struct {
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type,omitempty"`
}

// RecordKind implements Record.
func (*Workspace) RecordKind() Kind { return KindWorkspace }

// RecordKind implements Record.
func (*User) RecordKind() Kind { return KindUser }

// RecordKind implements Record.
func (*Room) RecordKind() Kind { return KindRoom }

// RecordKind implements Record.
func (*Conversation) RecordKind() Kind { return KindConversation }

// RecordKind implements Record.
func (*Emoji) RecordKind() Kind { return KindEmoji }

// RecordKind implements Record.
func (*Message) RecordKind() Kind { return KindMessage }

// RecordKind implements Record.
func (*Attachment) RecordKind() Kind { return KindAttachment }

// RecordID implements Record.
func (r *Workspace) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *User) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *Room) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *Conversation) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *Emoji) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *Message) RecordID() string { return r.ID }

// RecordID implements Record.
func (r *Attachment) RecordID() string { return r.ID }
