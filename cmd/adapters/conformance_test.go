package adapters_test

import (
	"testing"

	"github.com/migrate-chat/migrate/plugins/gitter"
	"github.com/migrate-chat/migrate/plugins/hipchat"
	"github.com/migrate-chat/migrate/plugins/pixtoome"
	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/conformance"
)

const cmds = "github.com/migrate-chat/migrate/cmd/adapters/"

// TestShippedAdaptersInEveryTransport runs each shipped adapter over its
// own test inputs in-process, as a WebAssembly module and as a plugin
// process, and demands byte-identical canonical output (and, for
// targets, byte-identical output trees).
func TestShippedAdaptersInEveryTransport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four WebAssembly modules and four executables")
	}
	for _, tc := range []struct {
		cmd     string
		adapter sdk.Adapter
		inputs  []string
	}{
		{"gitter", &gitter.Source{}, []string{
			"../../plugins/gitter/testdata/rest",
			"../../plugins/gitter/testdata/ndjson",
			"../../plugins/gitter/testdata/items/page.json",
			"../../plugins/gitter/testdata/matrix/scala-export.json",
			"../../plugins/gitter/testdata/multi",
		}},
		{"hipchat-server", &hipchat.Server{}, []string{"../../plugins/hipchat/testdata/server"}},
		{"hipchat-cloud", &hipchat.Cloud{}, []string{"../../plugins/hipchat/testdata/cloud-legacy"}},
		{"pixtoome", &pixtoome.Adapter{}, []string{
			"../../plugins/pixtoome/testdata/golden/gitter-final",
			"../../plugins/pixtoome/testdata/golden/latest",
		}},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			conformance.Run(t, conformance.Config{
				Adapter:        tc.adapter,
				Inputs:         tc.inputs,
				WASMPackage:    cmds + tc.cmd,
				ProcessPackage: cmds + tc.cmd,
			})
		})
	}
}
