// Command hipchat-cloud is the shipped hipchat-cloud adapter as a plugin, for running it with
// --transport wasm or --transport process (see cmd/migrate-plugins).
package main

import (
	"github.com/migrate-chat/migrate/cmd/adapters/internal/serve"
	"github.com/migrate-chat/migrate/plugins/hipchat"
)

func main() { serve.Main(&hipchat.Cloud{}) }
