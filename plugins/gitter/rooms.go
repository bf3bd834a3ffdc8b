package gitter

import (
	"encoding/json"
	"strings"

	"github.com/migrate-chat/migrate/sdk"
)

// roomState is one canonical room being assembled. It holds per-user and
// per-thread data, never per-message data.
type roomState struct {
	rec sdk.Room
	// members in first-seen order; listed is true when an export's member
	// list gave them, false when they are inferred from senders/mentions.
	members  map[string]bool
	order    []string
	listed   bool
	admins   map[string]bool
	messages int64
	// announced sums the replies thread roots announced
	// (threadMessageCount); replies counts the replies read. Totals, not
	// a map by root, so that memory does not grow with the export.
	announced, replies int64
}

// roomMeta is a Gitter room object (GET /v1/rooms), as far as it matters.
type roomMeta struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Topic          string          `json:"topic"`
	URI            string          `json:"uri"`
	URL            string          `json:"url"`
	OneToOne       bool            `json:"oneToOne"`
	GithubType     string          `json:"githubType"`
	Security       string          `json:"security"`
	Public         *bool           `json:"public"`
	AssociatedRepo json.RawMessage `json:"associatedRepo"`
	UserCount      int             `json:"userCount"`
}

// repository returns the "owner/name" repository the room object names.
func (m *roomMeta) repository() string {
	if len(m.AssociatedRepo) > 0 {
		var s string
		if json.Unmarshal(m.AssociatedRepo, &s) == nil && isRepoName(s) {
			return s
		}
		var o struct {
			URI      string `json:"uri"`
			Name     string `json:"name"`
			FullName string `json:"full_name"`
		}
		if json.Unmarshal(m.AssociatedRepo, &o) == nil {
			for _, c := range []string{o.URI, o.FullName, o.Name} {
				if isRepoName(c) {
					return c
				}
			}
		}
	}
	if m.GithubType == "REPO" && isRepoName(m.URI) {
		return m.URI
	}
	return ""
}

func isRepoName(s string) bool {
	i := strings.IndexByte(s, '/')
	if i <= 0 || i == len(s)-1 || strings.IndexByte(s[i+1:], '/') >= 0 {
		return false
	}
	for k := 0; k < len(s); k++ {
		if k != i && !isRepoByte(s[k]) {
			return false
		}
	}
	return true
}

func (r *roomState) addMember(id string) {
	if r.members[id] {
		return
	}
	r.members[id] = true
	r.order = append(r.order, id)
}

// roomKey is how rooms are matched across files: case-insensitive uri.
func roomKey(s string) string { return strings.ToLower(strings.Trim(s, "/")) }
