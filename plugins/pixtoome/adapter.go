package pixtoome

import (
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// Adapter reads and writes the directory that Pixtoome's
// `./manage.py import <subdomain> <dir>` loads.
type Adapter struct {
	// Now is the conversion time the long-term-idle rule measures from;
	// nil means the clock. Tests fix it so that output is reproducible.
	Now func() time.Time
}

var (
	_ sdk.Source = (*Adapter)(nil)
	_ sdk.Target = (*Adapter)(nil)
)

func init() { sdk.Register(&Adapter{}) }

// Version is the adapter's version.
const Version = "1.0.0"

// Manifest implements sdk.Adapter.
func (*Adapter) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:        "pixtoome",
		Title:       "Pixtoome",
		Version:     Version,
		Description: "Pixtoome (a Zulip-derived server): the converted-data directory that `./manage.py import` loads, or a Pixtoome export of the same layout.",
		Source:      true,
		Target:      true,
		Options: []sdk.Option{
			{Name: "profile", Type: sdk.OptionString, Default: DefaultProfile, Role: "target",
				Description: "import format version: gitter-final (servers up to Zulip 9, the last release with the Gitter importer) or latest (current servers; needs --migration-status)"},
			{Name: "migration-status", Type: sdk.OptionFile, Role: "target",
				Description: "migration_status.json written on the target server (required by the latest profile)"},
			{Name: "default-topic", Type: sdk.OptionString, Role: "target",
				Description: "topic for channel messages outside threads (default: \"imported from <source>\", e.g. \"imported from Gitter\")"},
			{Name: "email-map", Type: sdk.OptionFile, Role: "target",
				Description: "CSV (username,email) or JSON object {username: email} giving real e-mail addresses"},
			{Name: "email-domain", Type: sdk.OptionString, Default: "example.com", Role: "target",
				Description: "domain of the placeholder address <username>@domain given to users without an e-mail (Gitter users get <username>@users.noreply.github.com)"},
			{Name: "owner", Type: sdk.OptionStrings, Role: "target",
				Description: "usernames or e-mails of users to make organization owners"},
			{Name: "default-streams", Type: sdk.OptionStrings, Role: "target",
				Description: "names of rooms new users join (default: rooms the source marked, else every public, non-archived room)"},
			{Name: "long-term-idle", Type: sdk.OptionBool, Default: true, Role: "target",
				Description: "skip channel message rows for users idle for 60 days with at most 10 messages, as the server's own converters do"},
		},
		Input: sdk.InputSpec{
			Description: "a converted-data or export directory holding realm.json and messages-000001.json ...",
		},
		Output: sdk.OutputSpec{
			Form:        "directory",
			Description: "a directory for `./manage.py import <subdomain> <dir>` on the Pixtoome server",
		},
		Constraints: sdk.Constraints{
			UserNameMax: MaxFullName,
			RoomNameMax: MaxStreamName,
			// Control characters are refused in channel names.
			RoomNameForbidden: "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" +
				"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f",
			RoomNamesFold: true,
			EmailRequired: true,
			EmailByTarget: true,
			// EmailDomain is left empty: the right placeholder depends on
			// the source (GitHub no-reply addresses for Gitter), so the
			// target fills in missing addresses itself.
		},
	}
}

func (a *Adapter) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
