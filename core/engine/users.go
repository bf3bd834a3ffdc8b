package engine

import (
	"fmt"
	"strings"

	"github.com/migrate-chat/migrate/sdk"
)

// userIndex finds users of the merged workspace by id, source key, login
// (username or e-mail, folded) and @mention name (folded).
type userIndex struct {
	byID, byKey, byLogin, byMention map[string]int
}

func newUserIndex() userIndex {
	return userIndex{byID: map[string]int{}, byKey: map[string]int{}, byLogin: map[string]int{}, byMention: map[string]int{}}
}

func setOnce(m map[string]int, k string, i int) {
	if k == "" {
		return
	}
	if _, ok := m[k]; !ok {
		m[k] = i
	}
}

// addUser adds a user to the merged workspace and its index.
func (p *plan) addUser(u *sdk.User, key string) {
	i := len(p.users)
	p.users = append(p.users, u)
	setOnce(p.userIdx.byID, u.ID, i)
	setOnce(p.userIdx.byKey, key, i)
	setOnce(p.userIdx.byLogin, fold(u.Username), i)
	setOnce(p.userIdx.byLogin, fold(u.Email), i)
	setOnce(p.userIdx.byMention, fold(u.MentionName), i)
}

// alias makes an incoming user's names find the merged user it became,
// so that another incoming user with the same names finds it too, however
// the two were matched; without this the outcome would depend on the
// order in which users come.
func (p *plan) alias(u *sdk.User, i int) {
	setOnce(p.userIdx.byLogin, fold(u.Username), i)
	setOnce(p.userIdx.byLogin, fold(u.Email), i)
	setOnce(p.userIdx.byMention, fold(u.MentionName), i)
}

// match finds the merged user an incoming one is, if any.
func (p *plan) matchUser(u *sdk.User, key string) (int, bool) {
	if i, ok := p.userIdx.byKey[key]; ok {
		return i, true
	}
	for _, login := range []string{u.Username, u.Email} {
		if i, ok := p.userIdx.byLogin[fold(login)]; ok && fold(login) != "" {
			return i, true
		}
	}
	if i, ok := p.userIdx.byMention[fold(u.MentionName)]; ok && fold(u.MentionName) != "" {
		return i, true
	}
	return 0, false
}

func (p *plan) planUsers(in *input) error {
	users, err := collect(in.ds.Users(), fmt.Sprintf("input %d: users", in.n))
	if err != nil {
		return err
	}
	for _, u := range users {
		p.planUser(in, u)
	}
	return nil
}

func (p *plan) planUser(in *input, src *sdk.User) {
	acc := p.rep
	key := sourceKey(in.wsKey, src.ID, src.Extra)
	name := display(src)
	if _, dup := in.users[src.ID]; dup {
		// The same id twice in one input: the first record stands.
		acc.Count(sdk.KindUser, 1, 0, 0)
		acc.Lose(sdk.KindUser, src.ID, "the input holds another user with the same id")
		return
	}
	if i, ok := p.matchUser(src, key); ok {
		t := p.users[i]
		p.alias(src, i)
		in.users[src.ID] = &mapping{out: t.ID, name: name}
		acc.Count(sdk.KindUser, 1, 1, 1)
		p.notify(sdk.LevelWarning, CodeUserMapped, sdk.KindUser, src.ID, MsgUserMapped, name, display(t))
		return
	}
	lose := func(reason string) {
		// Not yet: a user of a later input may still match (see
		// settleUsers), as it would on the next run.
		in.users[src.ID] = &mapping{name: name, reason: reason}
		p.uncreated = append(p.uncreated, uncreated{in, src, key})
	}
	if strings.TrimSpace(src.Username+src.Email+src.MentionName+src.DisplayName) == "" {
		lose("the user has no username, e-mail address, @mention name or name")
		return
	}
	u := *src
	c := p.cons

	// Username and @mention name: within the length limits and unique.
	if u.Username != "" {
		taken := func(s string) bool { _, t := p.userIdx.byLogin[fold(s)]; return t }
		if nu := uniqueName(u.Username, c.UserNameMax, taken, userSuffix); nu != u.Username {
			p.notify(sdk.LevelWarning, CodeUserRenamed, sdk.KindUser, src.ID,
				"The username %q %s; the user is now %q.", u.Username, whyRenamed(u.Username, c.UserNameMax), nu)
			u.Username = nu
		}
	}
	if u.MentionName != "" {
		taken := func(s string) bool { _, t := p.userIdx.byMention[fold(s)]; return t }
		if nm := uniqueName(u.MentionName, c.MentionNameMax, taken, userSuffix); nm != u.MentionName {
			p.notify(sdk.LevelWarning, CodeUserRenamed, sdk.KindUser, src.ID,
				"The @mention name %q of %s %s; it is now %q.", u.MentionName, name, whyRenamed(u.MentionName, c.MentionNameMax), nm)
			u.MentionName = nm
		}
	}
	// E-mail address, when the target needs one.
	if c.EmailRequired && !c.EmailByTarget && !validEmail(u.Email) {
		local := ""
		for _, s := range []string{u.Username, u.MentionName, u.DisplayName, u.ID} {
			if local = localPart(s); local != "" {
				break
			}
		}
		switch {
		case c.EmailDomain == "":
			lose(fmt.Sprintf("the target needs an e-mail address and the user has no valid one (%q); give the target an e-mail domain to fill them in", u.Email))
			return
		case local == "":
			lose(fmt.Sprintf("the target needs an e-mail address and none can be made from the user's names (%q)", name))
			return
		}
		taken := func(s string) bool { _, t := p.userIdx.byLogin[fold(s)]; return t }
		addr := local + "@" + c.EmailDomain
		for n := 2; taken(addr); n++ {
			addr = fmt.Sprintf("%s+%d@%s", local, n, c.EmailDomain)
		}
		if u.Email == "" {
			p.notify(sdk.LevelWarning, CodeEmailFilled, sdk.KindUser, src.ID,
				"The user %s has no e-mail address; it is now %s.", name, addr)
		} else {
			p.notify(sdk.LevelWarning, CodeEmailFilled, sdk.KindUser, src.ID,
				"The user %s has an e-mail address the target cannot take (%q); it is now %s.", name, u.Email, addr)
		}
		u.Email = addr
	}
	// The photo, when the input has the image.
	if u.Avatar != nil {
		if rc, err := in.ds.OpenBlob(u.Avatar.SHA256); err != nil {
			p.notify(sdk.LevelWarning, CodePhotoUploadFailed, sdk.KindUser, src.ID, MsgPhotoUploadFailed, name)
			u.Avatar = nil
		} else {
			rc.Close()
		}
	}
	if u.Role == sdk.RoleGuest && u.Deleted {
		// HipChat re-created guests and then deleted them, and said so;
		// the user stays, deleted, so that their messages keep their author.
		p.notify(sdk.LevelWarning, CodeUserDeleteFailed, sdk.KindUser, src.ID, MsgUserDeleteFailed)
	}
	u.ID = freshID(src.ID, in.prefix, func(s string) bool { _, t := p.userIdx.byID[s]; return t })
	u.Extra = withKey(src.Extra, in.wsKey, src.ID, p.outWS, u.ID)
	in.users[src.ID] = &mapping{out: u.ID, name: name}
	p.addUser(&u, key)
	p.alias(src, len(p.users)-1)
	acc.Count(sdk.KindUser, 1, 1, 0)
}

// uncreated is an incoming user who could not be created.
type uncreated struct {
	in  *input
	src *sdk.User
	key string
}

// settleUsers gives each user who could not be created a last chance to
// match a user created from a later input, so that the outcome does not
// depend on the order of the inputs, and accounts for the rest.
func (p *plan) settleUsers() {
	// Each match adds aliases that may let another user match, so go on
	// until nothing changes.
	rest := p.uncreated
	for changed := true; changed; {
		changed = false
		var still []uncreated
		for _, x := range rest {
			m := x.in.users[x.src.ID]
			if i, ok := p.matchUser(x.src, x.key); ok {
				t := p.users[i]
				p.alias(x.src, i)
				m.out, m.reason = t.ID, ""
				p.rep.Count(sdk.KindUser, 1, 1, 1)
				p.notify(sdk.LevelWarning, CodeUserMapped, sdk.KindUser, x.src.ID, MsgUserMapped, m.name, display(t))
				changed = true
				continue
			}
			still = append(still, x)
		}
		rest = still
	}
	for _, x := range rest {
		m := x.in.users[x.src.ID]
		p.rep.Count(sdk.KindUser, 1, 0, 0)
		p.rep.Lose(sdk.KindUser, x.src.ID, m.reason)
		p.notify(sdk.LevelError, CodeUserCreateFailed, sdk.KindUser, x.src.ID,
			"The user %s was not imported: %s. Their messages, files and one-to-one chats are not imported either.", m.name, m.reason)
	}
	p.uncreated = nil
}

// findAdmin settles the group admin who owns rooms whose owner is missing.
func (p *plan) findAdmin() error {
	if a := p.req.Admin; a != "" {
		if i, ok := p.userIdx.byID[a]; ok {
			p.admin = p.users[i].ID
			return nil
		}
		if i, ok := p.userIdx.byLogin[fold(a)]; ok {
			p.admin = p.users[i].ID
			return nil
		}
		if i, ok := p.userIdx.byMention[fold(strings.TrimPrefix(a, "@"))]; ok {
			p.admin = p.users[i].ID
			return nil
		}
		return fmt.Errorf("engine: --admin %q: %w; name a user by id, username, e-mail address or @mention name", a, ErrUnknownAdmin)
	}
	// The target's own owner or admin wins over an incoming one; existing
	// users come first in p.users.
	for _, group := range [][]*sdk.User{p.users[:p.nExistingUsers], p.users[p.nExistingUsers:]} {
		for _, role := range []sdk.Role{sdk.RoleOwner, sdk.RoleAdmin} {
			for _, u := range group {
				if u.Role == role && !u.Deleted && !u.Deactivated && !u.Bot && !u.Integration {
					p.admin = u.ID
					return nil
				}
			}
		}
	}
	return nil
}

// userName names a merged user by output id, for notices.
func (p *plan) userName(id string) string {
	if i, ok := p.userIdx.byID[id]; ok {
		return display(p.users[i])
	}
	return id
}

// outUser is the merged user an incoming user id maps to, with whether it
// was imported and, when it was not, why.
func (in *input) outUser(id string) (out string, reason string) {
	m, ok := in.users[id]
	switch {
	case !ok:
		return "", fmt.Sprintf("the user %s is not in the export", id)
	case m.out == "":
		return "", fmt.Sprintf("the user %s was not imported", m.name)
	}
	return m.out, ""
}
