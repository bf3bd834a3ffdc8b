package hipchat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The JSON shapes below are what HipChat's exports and API wrote. Several
// fields changed type between versions (ids as numbers or strings, flags as
// booleans or 0/1, members as ids or objects, senders as objects or
// strings), so they decode through small tolerant types.

// flexID is an identifier written as a JSON number or string. Numbers keep
// their literal digits; null and absence give "".
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(strings.TrimSpace(s))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		// A float such as 12.0 is the same id as 12.
		s := string(b)
		if strings.ContainsAny(s, ".eE") {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v != float64(int64(v)) {
				return fmt.Errorf("id %s is not a whole number", s)
			}
			s = strconv.FormatInt(int64(v), 10)
		}
		*f = flexID(s)
	default:
		return fmt.Errorf("id must be a number or a string, got %.40s", b)
	}
	return nil
}

// flexBool is a flag written as true/false, 0/1 or "true"/"false".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(bytes.TrimSpace(b)), `"`) {
	case "true", "1", "True":
		*f = true
	case "false", "0", "null", "", "False":
		*f = false
	default:
		return fmt.Errorf("flag must be true/false or 0/1, got %.40s", b)
	}
	return nil
}

// flexInt is a count written as a number or a numeric string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(bytes.TrimSpace(b)), `"`)
	if s == "null" || s == "" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want a number, got %.40s", b)
	}
	*f = flexInt(v)
	return nil
}

// flexTime is a time written as a HipChat/ISO string or as Unix seconds
// (the legacy Cloud export).
type flexTime struct{ t *time.Time }

func (f *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" || string(b) == `""` {
		f.t = nil
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			f.t = epochTime(n)
			return nil
		}
		t, err := parseTime(s)
		if err != nil {
			return err
		}
		f.t = &t
		return nil
	}
	n, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("time must be a string or Unix seconds, got %.40s", b)
	}
	f.t = epochTime(int64(n))
	return nil
}

// person is a user as a message or a room names it: an object with an id
// (sender, receiver, mention, room member), or, for notifications, a
// plain string holding an integration's name. A bare number is an id.
type person struct {
	IsName      bool // the JSON was a string
	ID          flexID
	Name        string
	MentionName string
	RoomRoles   []string
}

func (p *person) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*p = person{}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	switch b[0] {
	case '"':
		p.IsName = true
		return json.Unmarshal(b, &p.Name)
	case '{':
		var o struct {
			ID          flexID   `json:"id"`
			UserID      flexID   `json:"user_id"`
			Name        string   `json:"name"`
			MentionName string   `json:"mention_name"`
			RoomRoles   []string `json:"room_roles"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		p.ID, p.Name, p.MentionName, p.RoomRoles = o.ID, o.Name, o.MentionName, o.RoomRoles
		if p.ID == "" {
			p.ID = o.UserID
		}
		return nil
	default:
		return p.ID.UnmarshalJSON(b)
	}
}

// hcUser is a users.json User, a legacy users/list.json entry or an API
// v2 user.
type hcUser struct {
	ID           flexID   `json:"id"`
	UserID       flexID   `json:"user_id"`
	Name         string   `json:"name"`
	MentionName  string   `json:"mention_name"`
	Email        *string  `json:"email"`
	AccountType  string   `json:"account_type"`
	Roles        []string `json:"roles"`
	IsDeleted    flexBool `json:"is_deleted"`
	IsGroupAdmin flexBool `json:"is_group_admin"`
	IsGuest      flexBool `json:"is_guest"`
	Timezone     string   `json:"timezone"`
	Title        string   `json:"title"`
	Created      flexTime `json:"created"`
	Avatar       *string  `json:"avatar"`
	PhotoURL     string   `json:"photo_url"`
}

// hcRoom is a rooms.json Room, a legacy rooms/list.json entry or an API v2
// room.
type hcRoom struct {
	ID                flexID   `json:"id"`
	RoomID            flexID   `json:"room_id"`
	Name              string   `json:"name"`
	Topic             string   `json:"topic"`
	Privacy           string   `json:"privacy"`
	IsPrivate         flexBool `json:"is_private"`
	IsArchived        flexBool `json:"is_archived"`
	Owner             person   `json:"owner"`
	OwnerUserID       flexID   `json:"owner_user_id"`
	Members           []person `json:"members"`
	Participants      []person `json:"participants"`
	RoomAdmins        []flexID `json:"room_admins"`
	GuestAccessURL    *string  `json:"guest_access_url"`
	IsGuestAccessible flexBool `json:"is_guest_accessible"`
	Created           flexTime `json:"created"`
}

// hcAttachment is a message's attachment (export) or file (API v2).
type hcAttachment struct {
	Name string  `json:"name"`
	Path string  `json:"path"`
	Size flexInt `json:"size"`
	URL  string  `json:"url"`
}

// hcMessage is the body of every history record: the export's wrapped
// messages and, with Date/From/File/Type, the API v2 and legacy items.
type hcMessage struct {
	ID             flexID          `json:"id"`
	Sender         person          `json:"sender"`
	Receiver       person          `json:"receiver"`
	Message        string          `json:"message"`
	MessageFormat  string          `json:"message_format"`
	Color          string          `json:"color"`
	Mentions       []person        `json:"mentions"`
	Timestamp      string          `json:"timestamp"`
	Attachment     *hcAttachment   `json:"attachment"`
	AttachmentPath json.RawMessage `json:"attachment_path"`

	// API v2 and legacy Cloud export items.
	Date string        `json:"date"`
	From person        `json:"from"`
	Type string        `json:"type"`
	File *hcAttachment `json:"file"`
}

// Message record types of the export, the keys of its one-key wrappers.
const (
	typeUser         = "UserMessage"
	typeNotification = "NotificationMessage"
	typeTopic        = "TopicRoomMessage"
	typeArchive      = "ArchiveRoomMessage"
	typeGuestAccess  = "GuestAccessMessage"
	typePrivate      = "PrivateUserMessage"
)

// element is one element of a history array. Exactly one wrapper key is
// set in the export; the flat fields are for API v2 and legacy items.
type element struct {
	UserMessage         *hcMessage `json:"UserMessage"`
	NotificationMessage *hcMessage `json:"NotificationMessage"`
	TopicRoomMessage    *hcMessage `json:"TopicRoomMessage"`
	ArchiveRoomMessage  *hcMessage `json:"ArchiveRoomMessage"`
	GuestAccessMessage  *hcMessage `json:"GuestAccessMessage"`
	PrivateUserMessage  *hcMessage `json:"PrivateUserMessage"`
	hcMessage
}

// wrapped returns the element's wrapper type and message, or "" when the
// element is a flat (API v2 or legacy) item.
func (e *element) wrapped() (string, *hcMessage) {
	switch {
	case e.UserMessage != nil:
		return typeUser, e.UserMessage
	case e.NotificationMessage != nil:
		return typeNotification, e.NotificationMessage
	case e.TopicRoomMessage != nil:
		return typeTopic, e.TopicRoomMessage
	case e.ArchiveRoomMessage != nil:
		return typeArchive, e.ArchiveRoomMessage
	case e.GuestAccessMessage != nil:
		return typeGuestAccess, e.GuestAccessMessage
	case e.PrivateUserMessage != nil:
		return typePrivate, e.PrivateUserMessage
	}
	return "", nil
}

// hcEmoticon is an emoticons.json Emoticon, an hc-migrate entry or an API
// v2 emoticon.
type hcEmoticon struct {
	ID       flexID `json:"id"`
	Path     string `json:"path"`
	Shortcut string `json:"shortcut"`
	URL      string `json:"url"`
	Type     string `json:"type"`
}
