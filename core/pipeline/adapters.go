package pipeline

import (
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
	Manifest  sdk.Manifest `json:"manifest"`
	Transport string       `json:"transport"`
	// Origin says where the adapter came from: "built-in", or the path of
	// the plugin file.
	Origin string `json:"origin"`
}

// Adapters lists every adapter the pipeline can run, sorted by name.
func Adapters() []AdapterInfo {
	out := []AdapterInfo{{Manifest: ArchiveManifest, Transport: "native", Origin: "built-in"}}
	for _, a := range sdk.Registered() {
		out = append(out, AdapterInfo{Manifest: a.Manifest(), Transport: "native", Origin: "built-in"})
	}
	// Keep the archive first: it is the one every conversion passes through.
	return out
}

// manifestOf returns the manifest of an adapter by name, built-in included.
func manifestOf(name string) (sdk.Manifest, bool) {
	if name == ArchiveName {
		return ArchiveManifest, true
	}
	a, ok := sdk.Lookup(name)
	if !ok {
		return sdk.Manifest{}, false
	}
	return a.Manifest(), true
}
