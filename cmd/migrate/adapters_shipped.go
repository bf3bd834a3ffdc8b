package main

// The shipped adapters register themselves with the sdk when imported.
import (
	_ "github.com/migrate-chat/migrate/plugins/gitter"
	_ "github.com/migrate-chat/migrate/plugins/hipchat"
	_ "github.com/migrate-chat/migrate/plugins/pixtoome"
)
