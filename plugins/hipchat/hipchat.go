package hipchat

import (
	"context"

	"github.com/migrate-chat/migrate/sdk"
)

// Version is the adapters' version, reported in their manifests.
const Version = "0.1.0"

// Names of the registered adapters.
const (
	NameServer = "hipchat-server"
	NameCloud  = "hipchat-cloud"
)

// Target option names. They mirror `hipchat export --include_oto` and
// `--include_attachments`, and like them are off unless asked for.
const (
	OptIncludeOTO         = "include-oto"
	OptIncludeAttachments = "include-attachments"
)

func init() {
	sdk.Register(&Server{})
	sdk.Register(&Cloud{})
}

var (
	_ sdk.Source = (*Server)(nil)
	_ sdk.Target = (*Server)(nil)
	_ sdk.Source = (*Cloud)(nil)
)

// Server is the "hipchat-server" adapter: it reads the unpacked tree of a
// HipChat Server or Data Center export (and the same-format Cloud export
// of 2018) and writes a tree that HipChat Server's import accepts.
type Server struct{}

// Cloud is the "hipchat-cloud" adapter: it reads everything Server reads,
// plus the legacy Cloud zip export (hipchat_export/…/list.json) and pages of
// the HipChat API v2 (room history, users, emoticons).
type Cloud struct{}

var serverInput = sdk.InputSpec{
	Description: "a HipChat Server/Data Center export (hipchat-YYYY-MM-DD_HH-MM-SS.tar.gz.aes) or its extracted folder",
	Containers:  []string{"openssl-enc", "gzip", "tar"},
	Encrypted:   true,
}

// Manifest implements sdk.Adapter.
func (*Server) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:        NameServer,
		Title:       "HipChat Server",
		Version:     Version,
		Description: "HipChat Server and Data Center data exports, read and written (users, rooms, room and one-to-one history, files, emoticons)",
		Source:      true,
		Target:      true,
		Options: []sdk.Option{
			{Name: OptIncludeOTO, Type: sdk.OptionBool, Default: false, Role: "target",
				Description: "write one-to-one chat history (users/<id>/history.json), like `hipchat export --include_oto`"},
			{Name: OptIncludeAttachments, Type: sdk.OptionBool, Default: false, Role: "target",
				Description: "write file attachments (rooms/<id>/files, users/files), like `hipchat export --include_attachments`"},
		},
		Input: serverInput,
		Output: sdk.OutputSpec{
			Form:               "tar.gz.aes",
			PassphraseRequired: true,
			KDF:                "md5",
			Description:        "an archive for Server admin > Import (or `hipchat import --import -u URL -p PASSWORD`): AES-256-CBC, openssl -md md5",
		},
		// HipChat's API documents 1–50 characters for user names, mention
		// names and room names. E-mail addresses are not required: HipChat's
		// own exports hold guests and deleted users without one.
		Constraints: sdk.Constraints{
			UserNameMax:    50,
			RoomNameMax:    50,
			MentionNameMax: 50,
			RoomNamesFold:  true,
		},
	}
}

// Manifest implements sdk.Adapter.
func (*Cloud) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:        NameCloud,
		Title:       "HipChat Cloud",
		Version:     Version,
		Description: "HipChat Cloud exports: the 2018 archive (same format as Server), the older hipchat_export zip, and API v2 JSON pages",
		Source:      true,
		Input: sdk.InputSpec{
			Description:    "a HipChat Cloud export (hipchat-<group>-YYYY-MM-DD_HH-MM-SS.tar.gz.aes, or the older zip), or API v2 JSON pages",
			Containers:     []string{"openssl-enc", "gzip", "tar", "zip"},
			Encrypted:      true,
			MultipleInputs: true,
		},
	}
}

// Read implements sdk.Source.
func (s *Server) Read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	return read(ctx, NameServer, req, out)
}

// Read implements sdk.Source.
func (c *Cloud) Read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	return read(ctx, NameCloud, req, out)
}

// Write implements sdk.Target.
func (s *Server) Write(ctx context.Context, req *sdk.WriteRequest) error {
	return write(ctx, req)
}
