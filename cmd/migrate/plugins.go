package main

import (
	"context"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/migrate-chat/migrate/core/pipeline"
	"github.com/migrate-chat/migrate/core/plugin"
)

// registerPluginFlags adds the flags that say where plugins are and how
// adapters run.
func registerPluginFlags(f *pflag.FlagSet) {
	f.StringArray("plugin-dir", nil, "a directory of adapter plugins (.wasm modules and plugin executables); repeatable (default: $MIGRATE_PLUGIN_PATH, then ~/.local/share/migrate/plugins)")
	f.String("transport", "native", "how shipped adapters run: native (in this process), wasm or process (their builds in the plugin directories; see 'go run ./cmd/migrate-plugins')")
	f.StringArray("plugin-checksum", nil, "pin a plugin's SHA-256 as NAME=HEX (NAME is the adapter's or the file's name); a plugin that does not match is refused; repeatable")
	f.Duration("plugin-timeout", 0, "stop a plugin whose read or write runs longer than this (default: no limit)")
	f.Int64("plugin-memory", 1024, "memory limit of a WebAssembly adapter, in MiB")
}

// pluginResolver builds the resolver the flags describe.
func pluginResolver(cmd *cobra.Command, log *slog.Logger) (pipeline.Resolver, error) {
	f := cmd.Flags()
	cfg := plugin.Config{Log: log}
	dirs, _ := f.GetStringArray("plugin-dir")
	if len(dirs) > 0 {
		cfg.Dirs = dirs
	} else {
		cfg.Dirs = plugin.DefaultDirs(os.Getenv)
	}
	cfg.Transport, _ = f.GetString("transport")
	pins, _ := f.GetStringArray("plugin-checksum")
	for _, p := range pins {
		name, hexSum, ok := strings.Cut(p, "=")
		sum, err := hex.DecodeString(strings.TrimSpace(hexSum))
		if !ok || name == "" || err != nil || len(sum) != 32 {
			return nil, usagef("--plugin-checksum %q: write NAME=SHA256 with 64 hex digits (sha256sum prints them)", p)
		}
		if cfg.Checksums == nil {
			cfg.Checksums = map[string][]byte{}
		}
		cfg.Checksums[name] = sum
	}
	cfg.Timeout, _ = f.GetDuration("plugin-timeout")
	mib, _ := f.GetInt64("plugin-memory")
	if mib < 4 {
		return nil, usagef("--plugin-memory %d: give at least 4 (MiB)", mib)
	}
	cfg.MemoryLimit = mib << 20
	r, err := plugin.New(cfg)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return r, nil
}

// resolvedOnce serves adapters already resolved for this run, so that a
// plugin process or module is started once rather than once for the
// command line's checks and again for the pipeline.
type resolvedOnce struct {
	pipeline.Resolver
	done map[string]*pipeline.Resolved
}

func (r *resolvedOnce) Resolve(ctx context.Context, name string) (*pipeline.Resolved, error) {
	if res, ok := r.done[name]; ok {
		c := *res
		c.Close = nil // closed by whoever resolved it first
		return &c, nil
	}
	return r.Resolver.Resolve(ctx, name)
}
