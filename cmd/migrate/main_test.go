package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

const sampleArchive = "../../testdata/sample-archive"

type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line in-process with the given environment.
func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := newApp(strings.NewReader(""), &out, &errb, getenv).run(context.Background(), append([]string{"--log-format", "json"}, args...))
	return result{code, out.String(), errb.String()}
}

func TestArchiveRoundTripIsByteForByte(t *testing.T) {
	out := filepath.Join(t.TempDir(), "copy")
	r := runCLI(t, nil, "--from", "archive", "--to", "archive", sampleArchive, "-o", out)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	adaptertest.SameTree(t, sampleArchive, out)
	if _, err := os.Stat(out + ".report.json"); err != nil {
		t.Errorf("no report beside the output: %v", err)
	}
	if v := runCLI(t, nil, "validate", out); v.code != exitOK || !strings.Contains(v.stdout, "valid") {
		t.Fatalf("validate of the copy: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
}

func TestPackedArchivesWorkWithTar(t *testing.T) {
	dir := t.TempDir()
	packed := filepath.Join(dir, "ws.tar.gz")
	if r := runCLI(t, nil, "export", "--from", "archive", sampleArchive, "-o", packed); r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// tar reads ours...
	list, err := exec.Command("tar", "tzf", packed).CombinedOutput()
	if err != nil {
		t.Fatalf("tar tzf: %v\n%s", err, list)
	}
	if !strings.Contains(string(list), "manifest.json") || !strings.Contains(string(list), "messages.ndjson") {
		t.Fatalf("unexpected listing:\n%s", list)
	}
	// ...and we read tar's.
	theirs := filepath.Join(dir, "theirs.tar.gz")
	if out, err := exec.Command("tar", "czf", theirs, "-C", sampleArchive, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar czf: %v\n%s", err, out)
	}
	back := filepath.Join(dir, "back")
	if r := runCLI(t, nil, "import", "--to", "archive", theirs, "-o", back); r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	adaptertest.SameTree(t, sampleArchive, back)
}

func TestEncryptedOutputOpensWithOpenSSL(t *testing.T) {
	dir := t.TempDir()
	enc := filepath.Join(dir, "ws.tar.gz.aes")
	env := map[string]string{passphraseEnv: "correct horse"}
	if r := runCLI(t, env, "export", "--from", "archive", sampleArchive, "-o", enc); r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	cmd := exec.Command("sh", "-c", `openssl enc -d -aes-256-cbc -md md5 -pass env:P -in "$1" | tar tzf -`, "sh", enc)
	cmd.Env = append(os.Environ(), "P=correct horse")
	list, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(list), "manifest.json") {
		t.Fatalf("openssl | tar: %v\n%s", err, list)
	}
	// Read back with the right passphrase from a file.
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("correct horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(dir, "back")
	if r := runCLI(t, nil, "--from", "archive", "--to", "archive", "--passphrase-file", pw, enc, "-o", back); r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	adaptertest.SameTree(t, sampleArchive, back)

	// A wrong passphrase is HipChat's error, and nothing is left behind.
	bad := filepath.Join(dir, "bad")
	r := runCLI(t, map[string]string{passphraseEnv: "wrong"}, "--from", "archive", "--to", "archive", enc, "-o", bad)
	if r.code != exitFailed || !strings.Contains(r.stderr, "Couldn't decrypt the archive file. Make sure you're entering the correct password.") {
		t.Fatalf("wrong passphrase: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Fatalf("a failed run left %s behind", bad)
	}
	if strings.Contains(r.stderr, "wrong") && strings.Contains(r.stderr, "passphrase\":\"wrong") {
		t.Fatal("the passphrase reached the log")
	}
}

func TestValidateRejectsBrokenArchives(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(dir string) error
		want   string
	}{
		{"tampered messages", func(d string) error {
			p := filepath.Join(d, "messages.ndjson")
			b, _ := os.ReadFile(p)
			return os.WriteFile(p, bytes.Replace(b, []byte(`"body":"`), []byte(`"body":"X`), 1), 0o644)
		}, "messages.ndjson"},
		{"missing blob", func(d string) error {
			var first string
			filepath.WalkDir(filepath.Join(d, "blobs"), func(p string, e fs.DirEntry, err error) error {
				if err == nil && !e.IsDir() && first == "" {
					first = p
				}
				return err
			})
			return os.Remove(first)
		}, "blob"},
		{"no manifest", func(d string) error { return os.Remove(filepath.Join(d, "manifest.json")) }, "manifest.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a")
			if out, err := exec.Command("cp", "-r", sampleArchive, dir).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
			if err := c.break_(dir); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, nil, "validate", dir)
			if r.code != exitFailed {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, exitFailed, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, c.want) {
				t.Fatalf("error does not name %q:\n%s%s", c.want, r.stdout, r.stderr)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	cases := [][]string{
		{"--from", "nosuch", "--to", "archive", sampleArchive, "-o", "x"},
		{"--from", "archive", sampleArchive, "-o", "x"},
		{"--from", "archive", "--to", "archive", sampleArchive},
		{"--bogus-flag"},
		{"--from", "archive", "--to", "archive", "-O", "nothing=1", sampleArchive, "-o", "x"},
	}
	for _, args := range cases {
		r := runCLI(t, nil, args...)
		if r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s%s", args, r.code, exitUsage, r.stdout, r.stderr)
		}
	}
}

func TestAdaptersListsTheArchive(t *testing.T) {
	r := runCLI(t, nil, "adapters")
	if r.code != exitOK || !strings.Contains(r.stdout, "archive") || !strings.Contains(r.stdout, "source,target") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestSampleToPixtoomePassesItsChecker(t *testing.T) {
	out := filepath.Join(t.TempDir(), "px")
	r := runCLI(t, nil, "--from", "archive", "--to", "pixtoome", sampleArchive, "-o", out)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "manage.py import") {
		t.Errorf("no next steps printed:\n%s", r.stdout)
	}
	if v := runCLI(t, nil, "validate", "--target", "pixtoome", out); v.code != exitOK {
		t.Fatalf("checker: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	// Break one file the importer relies on: the checker must say so.
	if err := os.Remove(filepath.Join(out, "messages-000001.json")); err != nil {
		t.Fatal(err)
	}
	if v := runCLI(t, nil, "validate", "--target", "pixtoome", out); v.code != exitFailed || !strings.Contains(v.stdout, "is not in any messages file") {
		t.Fatalf("broken output: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
}

// A Gitter dump that repeats a message (overlapping pages) and holds a
// reply whose root is missing: the repeat is one reported skip, the orphan
// is kept unlinked with a warning, the report accounts for every message
// read, and the output passes the Pixtoome checker.
func TestGitterRepeatsAndOrphansAreAccounted(t *testing.T) {
	out := filepath.Join(t.TempDir(), "px")
	r := runCLI(t, nil, "--from", "gitter", "--to", "pixtoome", "testdata/gitter-repeats-and-orphans.json", "--owners", "ann", "-o", out)
	if r.code != exitWarnings {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(out + ".report.json")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Accounts map[string]struct {
			In, Written      int
			NotImportedCount int `json:"not_imported_count"`
		}
		Notices []struct{ Code, Record string }
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if a := rep.Accounts["message"]; a.In != 4 || a.Written != 3 || a.NotImportedCount != 1 {
		t.Errorf("message account %+v, want 4 in, 3 written, 1 not imported", a)
	}
	codes := map[string]string{}
	for _, n := range rep.Notices {
		codes[n.Code] = n.Record
	}
	if codes["duplicate-id"] != "5f0000000000000000000002" || codes["thread-root-missing"] != "5f0000000000000000000003" {
		t.Errorf("notices %v", codes)
	}
	if v := runCLI(t, nil, "validate", "--target", "pixtoome", out); v.code != exitOK {
		t.Fatalf("checker: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
}
