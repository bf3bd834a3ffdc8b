package pipeline

import (
	"context"
	"fmt"

	"github.com/migrate-chat/migrate/sdk"
)

// ArchiveName is the built-in adapter that reads and writes the canonical
// archive itself, so that any conversion can be split into an export and
// an import, and the pipeline runs end to end without any other adapter.
const ArchiveName = "archive"

// ArchiveManifest describes the built-in canonical archive adapter.
var ArchiveManifest = sdk.Manifest{
	Name:        ArchiveName,
	Title:       "migrate canonical archive",
	Version:     "1",
	Description: "The canonical archive: manifest.json, NDJSON record streams and content-addressed blobs, as a directory, .tar.gz or .tar.zst.",
	Source:      true,
	Target:      true,
	Input:       sdk.InputSpec{Description: "a canonical archive directory, .tar.gz or .tar.zst", Containers: []string{"gzip", "zstd", "tar"}},
	Output:      sdk.OutputSpec{Form: "directory", Description: "a canonical archive; name the output .tar.gz or .tar.zst for a single file"},
}

// AdapterInfo is one adapter as `migrate adapters` lists it.
type AdapterInfo struct {
	Manifest sdk.Manifest `json:"manifest"`
	// Transport is how the adapter runs: "native" (in this process),
	// "wasm" or "process".
	Transport string `json:"transport"`
	// Origin says where the adapter came from: "built-in", or the path of
	// the plugin file.
	Origin string `json:"origin"`
}

// Resolved is an adapter ready to run.
type Resolved struct {
	Adapter sdk.Adapter
	Info    AdapterInfo
	// Close releases what running the adapter needed (a plugin process, a
	// compiled module); nil when there is nothing to release.
	Close func() error
}

// Resolver finds the adapter that a name given with --from or --to stands
// for: a shipped adapter, a plugin found in a plugin directory, or a path
// to a plugin file.
type Resolver interface {
	Resolve(ctx context.Context, name string) (*Resolved, error)
	// List returns every adapter the resolver can find, sorted by name.
	List(ctx context.Context) ([]AdapterInfo, error)
}

// Builtin resolves the adapters compiled into this binary, which run in
// this process.
type Builtin struct{}

// Resolve implements Resolver.
func (Builtin) Resolve(_ context.Context, name string) (*Resolved, error) {
	a, ok := sdk.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown adapter %q: run 'migrate adapters' to list them", name)
	}
	return &Resolved{Adapter: a, Info: AdapterInfo{Manifest: a.Manifest(), Transport: "native", Origin: "built-in"}}, nil
}

// List implements Resolver.
func (Builtin) List(context.Context) ([]AdapterInfo, error) {
	var out []AdapterInfo
	for _, a := range sdk.Registered() {
		out = append(out, AdapterInfo{Manifest: a.Manifest(), Transport: "native", Origin: "built-in"})
	}
	return out, nil
}

// Adapters lists every adapter the pipeline can run with the built-in
// resolver, the canonical archive first.
func Adapters() []AdapterInfo {
	list, _ := ListAdapters(context.Background(), Builtin{})
	return list
}

// ListAdapters lists the canonical archive and every adapter r finds.
func ListAdapters(ctx context.Context, r Resolver) ([]AdapterInfo, error) {
	list, err := r.List(ctx)
	return append([]AdapterInfo{{Manifest: ArchiveManifest, Transport: "native", Origin: "built-in"}}, list...), err
}

// resolve finds an adapter, the built-in archive included (which has no
// sdk.Adapter: the pipeline handles it itself).
func resolve(ctx context.Context, r Resolver, name string) (*Resolved, error) {
	if name == ArchiveName {
		return &Resolved{Info: AdapterInfo{Manifest: ArchiveManifest, Transport: "native", Origin: "built-in"}}, nil
	}
	if r == nil {
		r = Builtin{}
	}
	return r.Resolve(ctx, name)
}

func (r *Resolved) close() {
	if r != nil && r.Close != nil {
		_ = r.Close()
	}
}
