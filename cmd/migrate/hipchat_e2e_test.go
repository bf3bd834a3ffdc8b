package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	_ "github.com/migrate-chat/migrate/plugins/hipchat"
)

// These tests run the HipChat adapters through the real command line,
// container layer and the real openssl and tar, the way HipChat Server's
// own export and import do: an AES-256-CBC openssl archive (-md md5) of a
// gzip'd tar.

const hipchatSample = "../../plugins/hipchat/testdata/server"

func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"openssl", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed for this test: %v", tool, err)
		}
	}
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// hipchatArchive packs the sample export as HipChat does: tar czf, then
// openssl enc -aes-256-cbc -md md5.
func hipchatArchive(t *testing.T, dir, pass string) string {
	t.Helper()
	tgz := filepath.Join(dir, "hipchat-2018-08-08_14-23-54.tar.gz")
	abs, err := filepath.Abs(hipchatSample)
	if err != nil {
		t.Fatal(err)
	}
	run(t, abs, "tar", "czf", tgz, ".")
	aes := tgz + ".aes"
	run(t, dir, "openssl", "enc", "-aes-256-cbc", "-md", "md5", "-salt", "-in", tgz, "-out", aes, "-pass", "pass:"+pass)
	return aes
}

func TestHipChatServerToServerThroughOpenSSL(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	const pass = "correct horse"
	in := hipchatArchive(t, dir, pass)
	out := filepath.Join(dir, "server-import.tar.gz.aes")
	r := runCLI(t, map[string]string{passphraseEnv: pass},
		"--from", "hipchat-server", "--to", "hipchat-server", in, "-o", out,
		"--include-oto", "--include-attachments")
	if r.code != exitOK && r.code != exitWarnings {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// HipChat's own decrypt command (with -md md5) opens our output...
	plain := filepath.Join(dir, "out.tar.gz")
	run(t, dir, "openssl", "aes-256-cbc", "-d", "-md", "md5", "-in", out, "-out", plain, "-pass", "pass:"+pass)
	// ...and tar lists the export's layout.
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(run(t, dir, "tar", "tzf", plain)), "\n") {
		names = append(names, strings.TrimPrefix(l, "./"))
	}
	for _, want := range []string{"users.json", "rooms.json", "emoticons.json", "emoticons/yasss.png",
		"rooms/10/history.json", "rooms/10/files/AbC123/notes.txt", "users/1/history.json", "users/files/Qz9/plan.txt"} {
		if !slices.Contains(names, want) {
			t.Errorf("tar tzf lacks %s:\n%s", want, strings.Join(names, "\n"))
		}
	}
	ex := filepath.Join(dir, "extracted")
	if err := os.MkdirAll(ex, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, ex, "tar", "xzf", plain)
	b, err := os.ReadFile(filepath.Join(ex, "rooms", "10", "history.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Newest first, HipChat's timestamp form.
	if i, j := strings.Index(string(b), `"id":"m14"`), strings.Index(string(b), `"id":"m01"`); i < 0 || j < 0 || i > j {
		t.Errorf("history is not newest first:\n%s", b)
	}
	if !strings.Contains(string(b), `"timestamp":"2018-08-08T14:00:00Z 000001"`) {
		t.Errorf("timestamps are not HipChat's:\n%s", b)
	}

	// Our output reads back through the same command line, every
	// message included.
	ws := filepath.Join(dir, "again")
	back := runCLI(t, map[string]string{passphraseEnv: pass}, "export", "--from", "hipchat-server", out, "-o", ws)
	if back.code != exitOK && back.code != exitWarnings {
		t.Fatalf("reading our own output: exit %d\n%s%s", back.code, back.stdout, back.stderr)
	}
	if !regexp.MustCompile(`messages\s+23\s+23\s`).MatchString(back.stdout) {
		t.Errorf("reading our own output should account for all 23 messages:\n%s", back.stdout)
	}

	// A wrong passphrase is refused, not turned into garbage.
	bad := runCLI(t, map[string]string{passphraseEnv: "wrong"}, "--from", "hipchat-server", "--to", "hipchat-server", in, "-o", filepath.Join(dir, "x.tar.gz.aes"))
	if bad.code == exitOK || bad.code == exitWarnings {
		t.Errorf("wrong passphrase: exit %d", bad.code)
	}
}

func TestHipChatExportToCanonicalArchive(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	const pass = "pw"
	in := hipchatArchive(t, dir, pass)
	out := filepath.Join(dir, "workspace")
	r := runCLI(t, map[string]string{passphraseEnv: pass}, "export", "--from", "hipchat-server", in, "-o", out)
	if r.code != exitOK && r.code != exitWarnings {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if v := runCLI(t, nil, "validate", out); v.code != exitOK {
		t.Fatalf("validate: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
}
