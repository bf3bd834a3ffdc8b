package container

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// need fails the test when a binary the test relies on is missing: these
// tests are about agreeing with the real tools, so skipping would hide that.
func need(t testing.TB, bins ...string) {
	t.Helper()
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			t.Fatalf("this test needs the %q binary on PATH: %v", b, err)
		}
	}
}

// run runs a command and fails the test with its output if it fails.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	need(t, name)
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// shell runs a pipeline through sh -c.
func shell(t testing.TB, script string) []byte {
	t.Helper()
	return run(t, "sh", "-c", "set -e; "+script)
}

// writeSampleTree writes a small HipChat-shaped export with some awkward
// names, an empty file, an empty directory and an incompressible attachment.
func writeSampleTree(t testing.TB, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	photo := make([]byte, 300_000)
	for i := range photo {
		photo[i] = byte(rng.Uint32())
	}
	files := map[string][]byte{
		"users.json":                        []byte(`[{"User": {"id": 1, "name": "Ann"}}, {"User": {"id": 2, "name": "Bob"}}]`),
		"rooms.json":                        []byte(`[{"Room": {"id": 1, "name": "general"}}]`),
		"rooms/1/history.json":              bytes.Repeat([]byte(`{"UserMessage": {"message": "hello, world"}},`), 5000),
		"rooms/1/files/abc/photo.png":       photo,
		"users/2/history.json":              []byte(`[]`),
		"users/files/x y/Zürich café.txt":   []byte("non-ASCII name\n"),
		"metadata.json":                     {},
		"emoticons/yasss.jpg":               []byte("not really a jpeg"),
		"rooms/1/files/def/name with space": []byte("x"),
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// treeListing maps each path under dir to its content ("<dir>" for
// directories), for comparing trees.
func treeListing(t testing.TB, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch {
		case de.IsDir():
			m[rel] = "<dir>"
		case de.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			m[rel] = string(b)
		default:
			m[rel] = "<" + de.Type().String() + ">"
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sameTree fails the test if the trees differ in names or contents.
func sameTree(t testing.TB, want, got string) {
	t.Helper()
	w, g := treeListing(t, want), treeListing(t, got)
	var diffs []string
	for k, v := range w {
		gv, ok := g[k]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+k)
		case gv != v:
			diffs = append(diffs, "content differs: "+k)
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			diffs = append(diffs, "unexpected "+k)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatalf("trees %s and %s differ:\n%s", want, got, strings.Join(diffs, "\n"))
	}
}

// assertEmptyDir fails the test if dir has anything in it: Unwrap must
// clean up its temporary tree on every error.
func assertEmptyDir(t testing.TB, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("%s should be empty, has %v", dir, names)
	}
}

// fixedPass returns a Passphrase callback for Options.
func fixedPass(p string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(p), nil }
}
