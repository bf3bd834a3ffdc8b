// Command pixtoome is the shipped pixtoome adapter as a plugin, for running it with
// --transport wasm or --transport process (see cmd/migrate-plugins).
package main

import (
	"github.com/migrate-chat/migrate/cmd/adapters/internal/serve"
	"github.com/migrate-chat/migrate/plugins/pixtoome"
)

func main() { serve.Main(&pixtoome.Adapter{}) }
