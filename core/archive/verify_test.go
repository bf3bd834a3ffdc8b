package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/core/container"
	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// copyTree copies the sample archive to a fresh directory.
func copySample(t testing.TB) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "archive")
	err := filepath.WalkDir(sampleDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(sampleDir, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// editLine rewrites line no (from 1) of a file; a line number past the end
// appends.
func editLine(t testing.TB, dir, file string, no int, edit func(string) string) {
	t.Helper()
	p := filepath.Join(dir, file)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if no > len(lines) {
		lines = append(lines, edit(""))
	} else {
		old := lines[no-1]
		lines[no-1] = edit(old)
		if lines[no-1] == old {
			t.Fatalf("%s:%d: the edit changed nothing", file, no)
		}
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceIn(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

// fixManifest makes the manifest agree with the files again, so that a test
// sees only the problem it made.
func fixManifest(t testing.TB, dir string) {
	t.Helper()
	p := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for i, name := range fileNames {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		n := int64(strings.Count(string(data), "\n"))
		m.Files[name] = FileInfo{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), Records: n}
		m.Counts[string(sdk.Kinds[i])] = n
	}
	out, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, out, 0o644)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestVerifyFindsEachProblem(t *testing.T) {
	checklist, avatar := sum(sampleChecklist), sum(sampleAvatar)
	cases := []struct {
		name   string
		opt    ReadOptions
		mutate func(t *testing.T, dir string)
		// want holds one substring per expected error, in order.
		want []string
	}{
		{"tampered file", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "users.ndjson", 2, replaceIn("Grace Hopper", "Grace Hoppex"))
		}, []string{"users.ndjson: SHA-256 is "}},
		{"missing blob", ReadOptions{}, func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, blobPath(checklist)))
		}, []string{
			"manifest.json: blobs says 4 blobs of 637 bytes in all, the archive holds 3 of ",
			"attachments.ndjson:1: attachment a1: content blob " + checklist + " is missing from blobs/sha256/" + checklist[:2] + "/",
		}},
		{"unknown sender", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "messages.ndjson", 5, replaceIn(`"sender":"2"`, `"sender":"u9"`))
			fixManifest(t, dir)
		}, []string{`messages.ndjson:5: message m04: sender "u9" is not in users.ndjson`}},
		{"unknown room", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "messages.ndjson", 4, replaceIn(`"room":"10"`, `"room":"99"`))
			fixManifest(t, dir)
		}, []string{`messages.ndjson:4: message m03: room "99" is not in rooms.ndjson`}},
		{"unknown conversation, mention and reaction", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "messages.ndjson", 28, replaceIn(`"conversation":"g-1-3-7"`, `"conversation":"g-x"`))
			editLine(t, dir, "messages.ndjson", 28, replaceIn(`"users":["1"]`, `"users":["ghost"]`))
			editLine(t, dir, "messages.ndjson", 22, replaceIn(`"user":"3"`, `"user":"33"`))
			fixManifest(t, dir)
		}, []string{
			`messages.ndjson:22: message m19: mention of "33" is not in users.ndjson`,
			`messages.ndjson:28: message m25: conversation "g-x" is not in conversations.ndjson`,
			`messages.ndjson:28: message m25: reaction thumbs_up by "ghost" is not in users.ndjson`,
		}},
		{"unknown room member and participant", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "rooms.ndjson", 2, replaceIn(`"members":["1"`, `"members":["42","1"`))
			editLine(t, dir, "conversations.ndjson", 1, replaceIn(`"participants":["1"`, `"participants":["0"`))
			fixManifest(t, dir)
		}, []string{
			`rooms.ndjson:2: room 11: member "42" is not in users.ndjson`,
			`conversations.ndjson:1: conversation 1-2: participant "0" is not in users.ndjson`,
		}},
		{"duplicate user", ReadOptions{}, func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "users.ndjson"))
			second := strings.Split(string(b), "\n")[1]
			editLine(t, dir, "users.ndjson", 99, func(string) string { return second })
			fixManifest(t, dir)
		}, []string{`users.ndjson:8: user 2: duplicate id: line 2 has it already`}},
		{"duplicate message", ReadOptions{SortMemory: 1}, func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "messages.ndjson"))
			last := strings.Split(string(b), "\n")[29]
			editLine(t, dir, "messages.ndjson", 99, func(string) string { return last })
			fixManifest(t, dir)
		}, []string{`messages.ndjson:31: message m27: duplicate id: line 30 has it already`}},
		{"invalid record", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "messages.ndjson", 10, replaceIn(`"kind":"emote"`, `"kind":"shout"`))
			fixManifest(t, dir)
		}, []string{`messages.ndjson:10: message m09 does not match the canonical schema: at /kind: `}},
		{"not JSON", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "rooms.ndjson", 1, func(string) string { return `{"id":"10","name":` })
			fixManifest(t, dir)
		}, []string{`rooms.ndjson:1: room 10 does not match the canonical schema: at /: not valid JSON`}},
		{"bad manifest", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, ManifestName, 3, replaceIn(`"format_version": 1`, `"format_version": "one"`))
		}, []string{`manifest.json: manifest (no id) does not match the canonical schema: at /format_version: `}},
		{"truncated file", ReadOptions{}, func(t *testing.T, dir string) {
			p := filepath.Join(dir, "messages.ndjson")
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()-20)
		}, []string{
			`messages.ndjson: 5160 bytes, the manifest says 5180: the file was changed or truncated`,
			`messages.ndjson: SHA-256 is `,
			`messages.ndjson:30: message: the file ends without a newline: it looks truncated`,
			`messages.ndjson:30: message m27 does not match the canonical schema: at /: not valid JSON`,
		}},
		{"oversize line", ReadOptions{MaxLineBytes: 1000}, func(t *testing.T, dir string) {
			editLine(t, dir, "messages.ndjson", 30, replaceIn(`"body":"Menu:`, `"body":"`+strings.Repeat("long ", 300)+`Menu:`))
			fixManifest(t, dir)
		}, []string{`messages.ndjson:30: message: line too long: more than 1000 bytes in one record`}},
		{"dangling thread root and reply", ReadOptions{SortMemory: 1}, func(t *testing.T, dir string) {
			editLine(t, dir, "messages.ndjson", 6, replaceIn(`"thread_root":"m03"`, `"thread_root":"m99"`))
			editLine(t, dir, "messages.ndjson", 15, replaceIn(`"reply_to":"m13"`, `"reply_to":"m13x"`))
			fixManifest(t, dir)
		}, []string{
			`messages.ndjson:6: message m05: thread_root "m99" is not in messages.ndjson`,
			`messages.ndjson:15: message m15: reply_to "m13x" is not in messages.ndjson`,
		}},
		{"attachment not listed", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "messages.ndjson", 5, replaceIn(`,"attachments":["a2"]`, ``))
			fixManifest(t, dir)
		}, []string{`attachments.ndjson:2: attachment a2: message "m04" does not list it in its attachments`}},
		{"listed attachment missing", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "messages.ndjson", 19, replaceIn(`"attachments":["a1"]`, `"attachments":["a1","a9"]`))
			fixManifest(t, dir)
		}, []string{`messages.ndjson:19: message m16: attachment "a9" is not in attachments.ndjson`}},
		{"attachment of another message", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "messages.ndjson", 19, replaceIn(`"attachments":["a1"]`, `"attachments":["a1","a2"]`))
			fixManifest(t, dir)
		}, []string{`messages.ndjson:19: message m16: attachment "a2" belongs to message "m04" (attachments.ndjson:2)`}},
		{"attachment's message missing", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "attachments.ndjson", 1, replaceIn(`"message":"m16"`, `"message":"m77"`))
			fixManifest(t, dir)
		}, []string{
			`messages.ndjson:19: message m16: attachment "a1" belongs to message "m77" (attachments.ndjson:1)`,
			`attachments.ndjson:1: attachment a1: message "m77" is not in messages.ndjson`,
		}},
		{"damaged blob", ReadOptions{}, func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, blobPath(avatar)), []byte(strings.ToUpper(string(sampleAvatar))), 0o644)
		}, []string{"blobs/sha256/" + avatar[:2] + "/" + avatar + ": content has SHA-256 "}},
		{"avatar of the wrong size", ReadOptions{}, func(t *testing.T, dir string) {
			editLine(t, dir, "users.ndjson", 1, replaceIn(fmt.Sprintf(`"size":%d`, len(sampleAvatar)), `"size":999`))
			fixManifest(t, dir)
		}, []string{fmt.Sprintf("users.ndjson:1: user 1: avatar blob %s has %d bytes, the record says 999", avatar, len(sampleAvatar))}},
		{"stray file among blobs", ReadOptions{}, func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "blobs/sha256/zz"), 0o755)
			os.WriteFile(filepath.Join(dir, "blobs/sha256/zz/readme"), []byte("x"), 0o644)
		}, []string{"blobs/sha256/zz/readme: not a blob"}},
		{"unsorted messages", ReadOptions{}, func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "messages.ndjson"))
			lines := strings.Split(string(b), "\n")
			lines[1], lines[2] = lines[2], lines[1]
			os.WriteFile(filepath.Join(dir, "messages.ndjson"), []byte(strings.Join(lines, "\n")), 0o644)
			fixManifest(t, dir)
		}, []string{`messages.ndjson:3: message m01: sent_at 2017-03-14T09:00:00Z is earlier than line 2's 2017-03-14T09:02:00Z`}},
		{"missing file", ReadOptions{}, func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "emoji.ndjson"))
		}, []string{"emoji.ndjson: no such file or directory: every canonical archive has this file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copySample(t)
			if errs := VerifyDir(context.Background(), dir, tc.opt); len(errs) > 0 {
				t.Fatalf("the copy does not verify before the change: %v", joinErrs(errs))
			}
			tc.mutate(t, dir)
			errs := VerifyDir(context.Background(), dir, tc.opt)
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(tc.want), joinErrs(errs))
			}
			for i, w := range tc.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d:\n got %s\nwant it to contain %s", i, errs[i], w)
				}
			}
		})
	}
}

func TestVerifyErrorLimit(t *testing.T) {
	dir := copySample(t)
	for i := 1; i <= 30; i++ {
		editLine(t, dir, "messages.ndjson", i, func(s string) string {
			s = strings.Replace(s, `"sender":"`, `"sender":"x`, 1)
			return s
		})
	}
	fixManifest(t, dir)
	errs := VerifyDir(context.Background(), dir, ReadOptions{MaxErrors: 5})
	if len(errs) != 6 || !strings.Contains(errs[5].Error(), "and 25 more problems") {
		t.Fatalf("got %d errors: %s", len(errs), joinErrs(errs))
	}
}

func TestOpenRefuses(t *testing.T) {
	if _, err := Open(filepath.Join(sampleDir, "manifest.json"), ReadOptions{}); err == nil || !strings.Contains(err.Error(), "is a single file") {
		t.Errorf("Open of a file: %v", err)
	}
	if _, err := Open(t.TempDir(), ReadOptions{}); err == nil || !strings.Contains(err.Error(), "a canonical archive?)") {
		t.Errorf("Open of an empty directory: %v", err)
	}
	dir := copySample(t)
	editLine(t, dir, "workspace.ndjson", 2, func(string) string {
		return `{"id":"w2","name":"x","source_system":"y","export_options":{"one_to_one_history":false,"files":false}}`
	})
	if _, err := Open(dir, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "holds 2 records; an archive has exactly one workspace") {
		t.Errorf("Open with two workspaces: %v", err)
	}
	r, err := Open(sampleDir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"../../../etc/passwd", strings.Repeat("A", 64), ""} {
		if _, err := r.OpenBlob(bad); err == nil {
			t.Errorf("OpenBlob(%q) succeeded", bad)
		}
	}
}

func TestPackedArchive(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"sample.tar.gz", "sample.tar.zst"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), name)
			if err := Pack(ctx, sampleDir, out, container.OutputOptions{}); err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			r, err := Open(out, ReadOptions{TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			if errs := r.VerifyAll(ctx); len(errs) > 0 {
				t.Fatal(joinErrs(errs))
			}
			if r.Counts()[sdk.KindMessage] != 30 || r.Workspace().Name != "Acme Rockets" {
				t.Fatalf("counts %v workspace %+v", r.Counts(), r.Workspace())
			}
			unpacked := r.Dir()
			adaptertest.SameTree(t, sampleDir, unpacked)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(unpacked); !os.IsNotExist(err) {
				t.Fatalf("Close left the unpacked tree: %v", err)
			}
		})
	}
	// A packed tree that is not an archive.
	bad := filepath.Join(t.TempDir(), "x.tar.gz")
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("not an archive"), 0o644)
	if err := Pack(ctx, other, bad, container.OutputOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "no manifest.json at the top") {
		t.Fatalf("Open of a packed empty tree: %v", err)
	}
}
