package archive

import (
	"encoding/json"
	"fmt"

	"github.com/migrate-chat/migrate/schema"
	"github.com/migrate-chat/migrate/sdk"
)

// Format is the value of the manifest's "format" field.
const Format = "migrate-canonical"

// FormatVersion is the archive format version this package writes and reads.
const FormatVersion = 1

// ManifestName is the name of the manifest file in an archive.
const ManifestName = "manifest.json"

// BlobDir is the directory, relative to the archive root, that holds blobs
// as BlobDir/<first two hex digits>/<64 hex digits>.
const BlobDir = "blobs/sha256"

// fileNames maps each record kind to its file, in dependency order.
var fileNames = [...]string{
	"workspace.ndjson",
	"users.ndjson",
	"rooms.ndjson",
	"conversations.ndjson",
	"emoji.ndjson",
	"messages.ndjson",
	"attachments.ndjson",
}

// kind indexes, in the order of sdk.Kinds and fileNames.
const (
	kWorkspace = iota
	kUser
	kRoom
	kConversation
	kEmoji
	kMessage
	kAttachment
	numKinds
)

// FileName returns the name of the file holding records of a kind, or "" for
// an unknown kind.
func FileName(k sdk.Kind) string {
	i := kindIndex(k)
	if i < 0 {
		return ""
	}
	return fileNames[i]
}

func kindIndex(k sdk.Kind) int {
	for i, x := range sdk.Kinds {
		if x == k {
			return i
		}
	}
	return -1
}

// SourceInfo says which system and adapter produced an archive.
type SourceInfo struct {
	System         string `json:"system"`
	Version        string `json:"version,omitempty"`
	Adapter        string `json:"adapter,omitempty"`
	AdapterVersion string `json:"adapter_version,omitempty"`
}

// FileInfo describes one NDJSON file of an archive.
type FileInfo struct {
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Records int64  `json:"records"`
}

// BlobStats counts the blobs of an archive.
type BlobStats struct {
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"`
}

// Manifest is the content of manifest.json.
type Manifest struct {
	Format        string             `json:"format"`
	FormatVersion int                `json:"format_version"`
	Source        SourceInfo         `json:"source"`
	ExportOptions *sdk.ExportOptions `json:"export_options,omitempty"`
	// Counts holds the number of records of each kind, and of blobs under
	// the key "blob".
	Counts         map[string]int64    `json:"counts"`
	Files          map[string]FileInfo `json:"files"`
	Blobs          BlobStats           `json:"blobs"`
	MessagesSorted bool                `json:"messages_sorted"`
}

// encode returns the canonical encoding of the manifest.
func (m *Manifest) encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// parseManifest checks raw manifest bytes against the schema and the format
// version this package understands, and decodes them.
func parseManifest(b []byte) (*Manifest, error) {
	if err := schema.Validate("manifest", b); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	if m.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("%s: format_version %d is not supported (this build reads version %d); use a newer migrate", ManifestName, m.FormatVersion, FormatVersion)
	}
	return &m, nil
}

// KindCounts returns the record counts by kind (without blobs).
func (m *Manifest) KindCounts() map[sdk.Kind]int64 {
	out := make(map[sdk.Kind]int64, len(sdk.Kinds))
	for _, k := range sdk.Kinds {
		out[k] = m.Counts[string(k)]
	}
	return out
}

// blobPath returns the slash-separated path of a blob inside an archive, or
// "" when sum is not 64 lower-case hex digits (so that a hostile reference
// can never name a path outside the blob tree).
func blobPath(sum string) string {
	if !validSHA256(sum) {
		return ""
	}
	return BlobDir + "/" + sum[:2] + "/" + sum
}

func validSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
