package irclog_test

import (
	"testing"

	"github.com/migrate-chat/migrate/examples/irclog"
	"github.com/migrate-chat/migrate/sdk/conformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Config{
		Adapter:        &irclog.Source{},
		Inputs:         []string{"testdata/network", "testdata/single.log"},
		WASMPackage:    "github.com/migrate-chat/migrate/examples/irclog/cmd/irclog-wasm",
		ProcessPackage: "github.com/migrate-chat/migrate/examples/irclog/cmd/irclog-plugin",
	})
}
