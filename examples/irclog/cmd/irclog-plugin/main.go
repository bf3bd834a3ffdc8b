// Command irclog-plugin is the irclog adapter as a plugin executable:
//
//	go build -o migrate-adapter-irclog ./examples/irclog/cmd/irclog-plugin
package main

import (
	"github.com/migrate-chat/migrate/examples/irclog"
	"github.com/migrate-chat/migrate/sdk/plugin"
)

func main() { plugin.Serve(&irclog.Source{}) }
