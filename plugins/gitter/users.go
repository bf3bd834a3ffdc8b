package gitter

import (
	"strings"

	"github.com/migrate-chat/migrate/sdk"
)

// userEntry is one canonical user being assembled from every place the
// export mentions them.
type userEntry struct {
	rec sdk.User
	// mentionOnly is true while the user is known only from mentions.
	mentionOnly bool
}

// userTable gives every Gitter user one canonical identity across rooms
// and files: by Gitter user id, and by username when an export has no id.
// It grows with the number of users, never with messages.
type userTable struct {
	byID   map[string]*userEntry
	byName map[string]*userEntry // lower-case username
	order  []*userEntry
}

func newUserTable() *userTable {
	return &userTable{byID: map[string]*userEntry{}, byName: map[string]*userEntry{}}
}

// rawUser is a Gitter user object as read, in reused buffers.
type rawUser struct {
	id, username, displayName, avatarURL, avatarMedium, gravatar, role []byte
	removed                                                            bool
}

func (u *rawUser) reset() {
	u.id, u.username, u.displayName = u.id[:0], u.username[:0], u.displayName[:0]
	u.avatarURL, u.avatarMedium, u.gravatar, u.role = u.avatarURL[:0], u.avatarMedium[:0], u.gravatar[:0], u.role[:0]
	u.removed = false
}

// lookupBytes finds a user by id, then by username, without allocating.
func (t *userTable) lookupBytes(id, username []byte) *userEntry {
	if len(id) > 0 {
		if e, ok := t.byID[string(id)]; ok {
			return e
		}
	}
	if len(username) > 0 {
		if e, ok := t.byName[lowerKey(username)]; ok {
			return e
		}
	}
	return nil
}

// lowerKey returns a lower-case map key; for the usual lower-case ASCII
// name the compiler's string(bytes) map lookup avoids allocating.
func lowerKey(b []byte) string {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(string(b))
		}
	}
	return string(b)
}

// observe records a user object seen in the export and returns its entry.
// Later sightings fill in what earlier ones lacked and update names, since
// exports run from old to new.
func (t *userTable) observe(u *rawUser) *userEntry {
	if len(u.id) == 0 && len(u.username) == 0 {
		return nil
	}
	e := t.lookupBytes(u.id, u.username)
	if e == nil {
		id := string(u.id)
		if id == "" {
			id = string(u.username)
		}
		e = &userEntry{rec: sdk.User{ID: id, Role: sdk.RoleMember}}
		t.order = append(t.order, e)
		t.byID[id] = e
	} else if len(u.id) > 0 && string(u.id) != e.rec.ID {
		if _, ok := t.byID[string(u.id)]; !ok {
			// First seen by username only; remember the id as an alias.
			t.byID[string(u.id)] = e
		}
	}
	e.mentionOnly = false
	r := &e.rec
	if len(u.username) > 0 && string(u.username) != r.Username {
		if r.Username != "" {
			delete(t.byName, strings.ToLower(r.Username))
		}
		r.Username = string(u.username)
		r.MentionName = r.Username
		t.byName[strings.ToLower(r.Username)] = e
	}
	if len(u.displayName) > 0 && string(u.displayName) != r.DisplayName {
		r.DisplayName = string(u.displayName)
	}
	avatar := u.avatarURL
	if len(avatar) == 0 {
		avatar = u.avatarMedium
	}
	if len(avatar) == 0 {
		avatar = u.gravatar
	}
	if len(avatar) > 0 && string(avatar) != r.AvatarURL {
		r.AvatarURL = string(avatar)
	}
	if u.removed {
		r.Deactivated = true
	}
	return e
}

// mentioned returns the entry of a user known only from a mention that
// carries a Gitter user id, creating an inferred one if needed.
func (t *userTable) mentioned(id, screenName string) *userEntry {
	if e, ok := t.byID[id]; ok {
		return e
	}
	if screenName != "" {
		if e, ok := t.byName[strings.ToLower(screenName)]; ok {
			t.byID[id] = e
			return e
		}
	}
	e := &userEntry{rec: sdk.User{ID: id, Role: sdk.RoleMember, Username: screenName, MentionName: screenName}, mentionOnly: true}
	t.order = append(t.order, e)
	t.byID[id] = e
	if screenName != "" {
		t.byName[strings.ToLower(screenName)] = e
	}
	return e
}

// byUsername finds a user by name, case-insensitively.
func (t *userTable) byUsername(name string) *userEntry {
	return t.byName[strings.ToLower(name)]
}

// virtual returns the entry of a Matrix-bridged ("virtual") user, whose
// id Gitter spells "<type>-<externalId>".
func (t *userTable) virtual(kind, externalID, displayName, avatar string) *userEntry {
	if kind == "" {
		kind = "matrix"
	}
	id := kind + "-" + externalID
	e, ok := t.byID[id]
	if !ok {
		e = &userEntry{rec: sdk.User{ID: id, Role: sdk.RoleMember, Username: externalID, MentionName: externalID, Virtual: true}}
		t.order = append(t.order, e)
		t.byID[id] = e
		if _, taken := t.byName[strings.ToLower(externalID)]; !taken {
			t.byName[strings.ToLower(externalID)] = e
		}
	}
	e.mentionOnly = false
	if displayName != "" {
		e.rec.DisplayName = displayName
	}
	if avatar != "" {
		e.rec.AvatarURL = avatar
	}
	return e
}
