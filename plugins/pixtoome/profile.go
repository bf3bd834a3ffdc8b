package pixtoome

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Profile is one version of the import format: which top-level tables and
// row keys the server's importer expects.
type Profile struct {
	// Name is the option value ("gitter-final", "latest").
	Name string
	// Title says which server release the profile follows.
	Title string
	// ImportSource is true when realm.json must carry "import_source".
	ImportSource bool
	// MigrationStatus is true when migration_status.json is required.
	MigrationStatus bool
	// DMTopic is the subject written on direct messages.
	DMTopic string
	// ChannelFlag is true when message rows carry "type" and
	// "is_channel_message".
	ChannelFlag bool
	// GroupSize is true when huddle rows carry "group_size".
	GroupSize bool
	// StreamFolder is true when stream rows carry "folder".
	StreamFolder bool
	// ModerationChannel is true when the realm row carries
	// "moderation_request_channel".
	ModerationChannel bool
	// AvatarVersion is true when avatar records carry "avatar_version"
	// (and no longer carry the user's e-mail).
	AvatarVersion bool
	// AttachmentContentType is true when attachment rows must carry
	// "content_type".
	AttachmentContentType bool
	// Clients is the zerver_client table, and ImportClient the id of the
	// client that imported messages are attributed to.
	Clients      []Client
	ImportClient int
}

// Client is a zerver_client row.
type Client struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// Profiles known to the adapter. gitter-final is the format of the last
// server release that shipped the Gitter importer (Zulip 9.0-dev, commit
// eed24135, 2024-05); latest is the format of current servers (Zulip
// 11/12), which also need migration_status.json copied from the server.
var Profiles = map[string]*Profile{
	"gitter-final": {
		Name:         "gitter-final",
		Title:        "the last release with the Gitter importer (Zulip 9.0-dev, 2024-05)",
		DMTopic:      "",
		Clients:      []Client{{1, "populate_db"}, {2, "website"}, {3, "API"}},
		ImportClient: 1,
	},
	"latest": {
		Name:                  "latest",
		Title:                 "current servers (Zulip 11/12, 2025-26)",
		ImportSource:          true,
		MigrationStatus:       true,
		DMTopic:               "\x07",
		ChannelFlag:           true,
		GroupSize:             true,
		StreamFolder:          true,
		ModerationChannel:     true,
		AvatarVersion:         true,
		AttachmentContentType: true,
		Clients:               []Client{{1, "Internal"}, {2, "website"}, {3, "ZulipMobile"}, {4, "ZulipElectron"}, {5, "ZulipDataImport"}},
		ImportClient:          5,
	},
}

// DefaultProfile is the profile used when none is named.
const DefaultProfile = "gitter-final"

// LookupProfile returns the named profile ("" is the default). The
// alias "2024-05" names gitter-final.
func LookupProfile(name string) (*Profile, error) {
	switch name {
	case "":
		name = DefaultProfile
	case "2024-05", "9":
		name = "gitter-final"
	}
	p, ok := Profiles[name]
	if !ok {
		return nil, fmt.Errorf("unknown profile %q: use gitter-final (the default, for servers up to Zulip 9) or latest", name)
	}
	return p, nil
}

// RequiredTopLevel lists the realm.json keys the importer indexes without
// checking, so a missing one stops the import.
func (p *Profile) RequiredTopLevel() []string {
	keys := []string{
		"zerver_client", "zerver_customprofilefield", "zerver_customprofilefieldvalue",
		"zerver_userpresence", "zerver_userprofile_mirrordummy", "zerver_realmdomain",
		"zerver_useractivity", "zerver_realm", "zerver_huddle", "zerver_userprofile_crossrealm",
		"zerver_useractivityinterval", "zerver_reaction", "zerver_realmemoji", "zerver_realmfilter",
		"zerver_realmplayground", "zerver_realmauthenticationmethod",
		"zerver_userprofile", "zerver_stream", "zerver_defaultstream", "zerver_recipient", "zerver_subscription",
	}
	if p.ImportSource {
		keys = append(keys, "import_source")
	}
	return keys
}

// Limits of the server's models, in characters.
const (
	MaxStreamName        = 60
	MaxTopic             = 60
	MaxMessage           = 10000
	MaxFullName          = 100
	MaxStreamDescription = 1024
	MaxEmail             = 254
	MessagesPerFile      = 1000
)

// MigrationStatus is the shape of migration_status.json.
type MigrationStatus struct {
	MigrationsByApp map[string][]string `json:"migrations_by_app"`
	ZulipVersion    string              `json:"zulip_version"`
}

// ParseMigrationStatus checks that b is a migration_status.json as the
// server writes it.
func ParseMigrationStatus(b []byte) (*MigrationStatus, error) {
	var ms MigrationStatus
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("migration_status.json: %w", err)
	}
	if len(ms.MigrationsByApp) == 0 {
		return nil, fmt.Errorf("migration_status.json: no \"migrations_by_app\": this is not the file the server writes")
	}
	if ms.ZulipVersion == "" {
		return nil, fmt.Errorf("migration_status.json: no \"zulip_version\": this is not the file the server writes")
	}
	return &ms, nil
}

// Major returns the major server version, the part the importer compares.
func (m *MigrationStatus) Major() string {
	major, _, _ := strings.Cut(m.ZulipVersion, ".")
	return major
}
