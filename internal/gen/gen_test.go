package gen

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/core/archive"
	"github.com/migrate-chat/migrate/sdk"
)

const testPass = "s3cret pass"

func generate(t *testing.T, format string, cfg Config, out string) Stats {
	t.Helper()
	cfg.Passphrase = testPass
	st, err := Generate(context.Background(), format, cfg, out)
	if err != nil {
		t.Fatalf("Generate(%s): %v", format, err)
	}
	return st
}

// decryptHipChat runs the real openssl and tar on an archive, the way
// administrators did, and returns the extracted directory.
func decryptHipChat(t *testing.T, file string) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is needed to check HipChat archives: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `openssl enc -d -aes-256-cbc -md md5 -pass env:P -in "$F" | tar xzf - -C "$D"`)
	cmd.Env = append(os.Environ(), "P="+testPass, "F="+file, "D="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl | tar: %v\n%s", err, out)
	}
	return dir
}

// treeHash hashes every file's path and content under root.
func treeHash(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// contentHash hashes a generated output; encrypted archives are hashed
// after decryption, since their salt is random by design.
func contentHash(t *testing.T, format, path string) string {
	if strings.HasPrefix(format, "hipchat-") && format != "hipchat-cloud-zip" {
		return treeHash(t, decryptHipChat(t, path))
	}
	return treeHash(t, path)
}

func TestDeterministic(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			cfg := Config{Messages: 3000, Seed: 7, AttachmentRate: 0.01, MaxAttachmentSize: 64 << 10}
			dir := t.TempDir()
			a := generate(t, format, cfg, filepath.Join(dir, "a", "out"))
			b := generate(t, format, cfg, filepath.Join(dir, "b", "out"))
			cfg.Seed = 8
			c := generate(t, format, cfg, filepath.Join(dir, "c", "out"))
			ha, hb, hc := contentHash(t, format, a.Path), contentHash(t, format, b.Path), contentHash(t, format, c.Path)
			if ha != hb {
				t.Errorf("same seed gave different output: %s vs %s", ha, hb)
			}
			if ha == hc {
				t.Errorf("seeds 7 and 8 gave identical output")
			}
		})
	}
}

// jsonFiles checks that every .json file parses and every .ndjson line
// does, and returns how many of each it saw.
func checkJSONTree(t *testing.T, root string) (files, lines int) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".json"):
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !json.Valid(b) {
				t.Errorf("%s: not valid JSON", p)
			}
			files++
		case strings.HasSuffix(p, ".ndjson"):
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<24)
			for sc.Scan() {
				if !json.Valid(sc.Bytes()) {
					t.Errorf("%s:%d: not valid JSON", p, lines+1)
				}
				lines++
			}
			files++
			return sc.Err()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, lines
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

const shapeN = 5000

func TestGitterShapes(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Messages: shapeN, Seed: 3}

	st := generate(t, "gitter-rest", cfg, filepath.Join(dir, "rest.json"))
	var rest []map[string]any
	readJSON(t, st.Path, &rest)
	if len(rest) != shapeN {
		t.Fatalf("gitter-rest: %d messages, want %d", len(rest), shapeN)
	}
	raw, _ := os.ReadFile(st.Path)
	if bytes.ContainsFunc(raw, func(r rune) bool { return r > 0x7f }) {
		t.Errorf("gitter-rest: non-ASCII bytes; archive-gitter escapes them")
	}
	ids := map[string]bool{}
	var edited, replies, roots, allMentions, emotes int
	for _, m := range rest {
		id, _ := m["id"].(string)
		if len(id) != 24 || ids[id] {
			t.Fatalf("bad or duplicate id %q", id)
		}
		ids[id] = true
		if _, ok := m["fromUser"].(map[string]any); !ok {
			t.Fatalf("fromUser is not an object: %v", m["fromUser"])
		}
		if _, err := time.Parse(time.RFC3339Nano, m["sent"].(string)); err != nil {
			t.Fatal(err)
		}
		if m["editedAt"] != nil {
			edited++
		}
		if m["threadMessageCount"] != nil {
			roots++
		}
		if m["status"] == true {
			emotes++
		}
		for _, x := range m["mentions"].([]any) {
			if x.(map[string]any)["group"] == true {
				allMentions++
			}
		}
	}
	for _, m := range rest {
		if p, ok := m["parentId"].(string); ok {
			replies++
			if !ids[p] {
				t.Errorf("reply %s names missing parent %s", m["id"], p)
			}
		}
	}
	for name, n := range map[string]int{"edited": edited, "thread replies": replies, "thread roots": roots, "@/all": allMentions, "/me": emotes} {
		if n == 0 {
			t.Errorf("gitter-rest: no %s messages in %d", name, shapeN)
		}
	}

	st = generate(t, "gitter-items", cfg, filepath.Join(dir, "items.json"))
	var items struct {
		Items   []map[string]any          `json:"items"`
		Lookups map[string]map[string]any `json:"lookups"`
	}
	readJSON(t, st.Path, &items)
	if len(items.Items) != shapeN {
		t.Fatalf("gitter-items: %d items", len(items.Items))
	}
	for _, m := range items.Items {
		id, ok := m["fromUser"].(string)
		if !ok || items.Lookups["users"][id] == nil {
			t.Fatalf("fromUser %v does not resolve in lookups", m["fromUser"])
		}
	}

	st = generate(t, "gitter-ndjson", cfg, filepath.Join(dir, "nd"))
	files, lines := checkJSONTree(t, st.Path)
	rooms, _ := filepath.Glob(filepath.Join(st.Path, "*", "messages.ndjson"))
	if len(rooms) != st.Rooms || files != 2*st.Rooms {
		t.Errorf("gitter-ndjson: %d rooms, %d files; want %d rooms with messages and users", len(rooms), files, st.Rooms)
	}
	var msgLines int
	for _, p := range rooms {
		b, _ := os.ReadFile(p)
		msgLines += bytes.Count(b, []byte("\n"))
	}
	if msgLines != shapeN || lines <= shapeN {
		t.Errorf("gitter-ndjson: %d message lines (want %d), %d lines in all", msgLines, shapeN, lines)
	}

	st = generate(t, "gitter-matrix", cfg, filepath.Join(dir, "mx"))
	exports, _ := filepath.Glob(filepath.Join(st.Path, "matrix - * - Chat Export - *.json"))
	var msgs, edits, reactions, threads int
	for _, p := range exports {
		var e struct {
			RoomName string `json:"room_name"`
			Messages []struct {
				Type    string         `json:"type"`
				Content map[string]any `json:"content"`
				TS      int64          `json:"origin_server_ts"`
			} `json:"messages"`
		}
		readJSON(t, p, &e)
		last := int64(0)
		for _, ev := range e.Messages {
			if ev.TS < last {
				t.Errorf("%s: events out of time order", p)
			}
			last = ev.TS
			rel, _ := ev.Content["m.relates_to"].(map[string]any)
			switch {
			case ev.Type == "m.reaction":
				reactions++
			case ev.Type == "m.room.message" && rel["rel_type"] == "m.replace":
				edits++
			case ev.Type == "m.room.message":
				msgs++
				if rel["rel_type"] == "m.thread" {
					threads++
				}
			}
		}
	}
	if len(exports) != st.Rooms || msgs != shapeN || edits == 0 || reactions == 0 || threads == 0 {
		t.Errorf("gitter-matrix: %d files, %d messages (want %d), %d edits, %d reactions, %d thread replies",
			len(exports), msgs, shapeN, edits, reactions, threads)
	}
}

type hcUser struct {
	ID          int64   `json:"id"`
	Email       *string `json:"email"`
	IsDeleted   bool    `json:"is_deleted"`
	AccountType string  `json:"account_type"`
}

func TestHipChatServerShape(t *testing.T) {
	for _, format := range []string{"hipchat-server", "hipchat-cloud"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			st := generate(t, format, Config{Messages: shapeN, Seed: 5, AttachmentRate: 0.02, MaxAttachmentSize: 32 << 10}, dir+"/")
			want := "hipchat-2018-08-08_23-23-22.tar.gz.aes"
			if format == "hipchat-cloud" {
				want = "hipchat-124688-2018-08-08_23-23-22.tar.gz.aes"
			}
			if filepath.Base(st.Path) != want {
				t.Errorf("file name %s, want %s", filepath.Base(st.Path), want)
			}
			head := make([]byte, 8)
			f, _ := os.Open(st.Path)
			io.ReadFull(f, head)
			f.Close()
			if string(head) != "Salted__" {
				t.Fatalf("archive starts %q, want the openssl Salted__ header", head)
			}
			// The layout, as tar lists it.
			cmd := exec.Command("sh", "-c", `openssl enc -d -aes-256-cbc -md md5 -pass env:P -in "$F" | tar tzf -`)
			cmd.Env = append(os.Environ(), "P="+testPass, "F="+st.Path)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("openssl | tar tzf: %v", err)
			}
			listing := map[string]bool{}
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				listing[l] = true
			}
			for _, name := range []string{"users.json", "rooms.json", "emoticons.json", "emoticons/yasss.png"} {
				if !listing[name] {
					t.Errorf("tar has no %s", name)
				}
			}
			var roomFiles, userFiles, roomAtt, userAtt int
			for name := range listing {
				switch {
				case strings.HasPrefix(name, "rooms/") && strings.HasSuffix(name, "/history.json"):
					roomFiles++
				case strings.HasPrefix(name, "users/files/"):
					userAtt++
				case strings.HasPrefix(name, "users/") && strings.HasSuffix(name, "/history.json"):
					userFiles++
				case strings.HasPrefix(name, "rooms/") && strings.Contains(name, "/files/"):
					roomAtt++
				}
			}
			if roomFiles != st.Rooms || userFiles == 0 || roomAtt == 0 || userAtt == 0 {
				t.Errorf("layout: %d room histories (want %d), %d user histories, %d room files, %d direct files", roomFiles, st.Rooms, userFiles, roomAtt, userAtt)
			}

			x := decryptHipChat(t, st.Path)
			checkJSONTree(t, x)
			var users []map[string]hcUser
			readJSON(t, filepath.Join(x, "users.json"), &users)
			byID := map[int64]hcUser{}
			var guestsNoMail, deleted int
			for _, w := range users {
				u := w["User"]
				byID[u.ID] = u
				if u.AccountType == "guest" && u.Email == nil {
					guestsNoMail++
				}
				if u.IsDeleted {
					deleted++
					if _, err := os.Stat(filepath.Join(x, "users", fmt.Sprint(u.ID), "history.json")); err == nil {
						t.Errorf("deleted user %d has a history file", u.ID)
					}
				}
			}
			if guestsNoMail == 0 || deleted == 0 {
				t.Errorf("%d guests without e-mail, %d deleted users; want some of each", guestsNoMail, deleted)
			}
			var rooms []map[string]map[string]any
			readJSON(t, filepath.Join(x, "rooms.json"), &rooms)
			objects := 0
			for _, r := range rooms {
				for _, m := range r["Room"]["members"].([]any) {
					if _, ok := m.(map[string]any); ok {
						objects++
					}
				}
			}
			if (format == "hipchat-server") != (objects > 0) {
				t.Errorf("%s: %d member objects in rooms.json", format, objects)
			}

			// Room histories newest-first; integrations post as strings.
			total := 0
			kinds := map[string]int{}
			hist, _ := filepath.Glob(filepath.Join(x, "rooms", "*", "history.json"))
			for _, p := range hist {
				var h []map[string]map[string]any
				readJSON(t, p, &h)
				prev := ""
				for _, w := range h {
					for kind, m := range w {
						kinds[kind]++
						ts := m["timestamp"].(string)
						if prev != "" && ts > prev {
							t.Fatalf("%s: %s after %s; history.json must be newest-first", p, ts, prev)
						}
						prev = ts
						if kind == "NotificationMessage" {
							if _, ok := m["sender"].(string); !ok {
								t.Errorf("notification sender %v is not a string", m["sender"])
							}
						}
					}
				}
				total += len(h)
			}
			if kinds["UserMessage"] == 0 || kinds["NotificationMessage"] == 0 {
				t.Errorf("room message kinds: %v", kinds)
			}
			// Each direct message is in both participants' files.
			copies := map[string]int{}
			pair := map[string][2]int64{}
			dms, _ := filepath.Glob(filepath.Join(x, "users", "*", "history.json"))
			for _, p := range dms {
				var h []map[string]struct {
					ID       string `json:"id"`
					Sender   struct{ ID int64 }
					Receiver struct{ ID int64 }
				}
				readJSON(t, p, &h)
				for _, w := range h {
					m := w["PrivateUserMessage"]
					copies[m.ID]++
					pair[m.ID] = [2]int64{m.Sender.ID, m.Receiver.ID}
				}
			}
			for id, n := range copies {
				s, r := pair[id][0], pair[id][1]
				want := 0
				for _, u := range []int64{s, r} {
					if !byID[u].IsDeleted {
						want++
					}
				}
				if s == r {
					want = min(want, 1)
				}
				if n != want {
					t.Fatalf("direct message %s (%d -> %d) is in %d files, want %d", id, s, r, n, want)
				}
			}
			if total+len(copies) != shapeN {
				t.Errorf("%d room + %d direct messages, want %d in all", total, len(copies), shapeN)
			}
		})
	}
}

func TestHipChatCloudZipShape(t *testing.T) {
	dir := t.TempDir()
	st := generate(t, "hipchat-cloud-zip", Config{Messages: shapeN, Seed: 2}, dir+"/")
	zr, err := zip.OpenReader(st.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var n int
	seen := map[string]bool{}
	for _, f := range zr.File {
		seen[f.Name] = true
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !json.Valid(b) {
			t.Fatalf("%s: invalid JSON (%v)", f.Name, err)
		}
		if strings.HasPrefix(f.Name, "hipchat_export/rooms/") && !strings.HasSuffix(f.Name, "list.json") {
			var day []struct {
				Date string `json:"date"`
			}
			json.Unmarshal(b, &day)
			for _, m := range day {
				if !strings.Contains(f.Name, m.Date[:10]) {
					t.Fatalf("%s holds a message of %s", f.Name, m.Date)
				}
			}
			n += len(day)
		}
	}
	if !seen["hipchat_export/users/list.json"] || !seen["hipchat_export/rooms/list.json"] {
		t.Errorf("zip lacks list.json files")
	}
	if n != shapeN {
		t.Errorf("%d messages in day files, want %d", n, shapeN)
	}
}

func TestCanonicalAndPixtoome(t *testing.T) {
	dir := t.TempDir()
	st := generate(t, "canonical", Config{Messages: shapeN, Seed: 4, AttachmentRate: 0.01}, filepath.Join(dir, "canon"))
	if errs := archive.VerifyDir(context.Background(), st.Path, archive.ReadOptions{}); len(errs) > 0 {
		t.Fatalf("canonical archive does not verify: %v", errs[0])
	}
	r, err := archive.Open(st.Path, archive.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Counts()[sdk.KindMessage]; got != shapeN {
		t.Errorf("canonical: %d messages, want %d", got, shapeN)
	}
	if r.Counts()[sdk.KindAttachment] == 0 || r.Counts()[sdk.KindConversation] == 0 {
		t.Errorf("canonical counts %v: want attachments and conversations", r.Counts())
	}

	st = generate(t, "pixtoome", Config{Messages: 2000, Seed: 4}, filepath.Join(dir, "pix"))
	var realm map[string]any
	readJSON(t, filepath.Join(st.Path, "realm.json"), &realm)
	if realm["zerver_userprofile"] == nil {
		t.Errorf("pixtoome realm.json has no users")
	}
	if files, _ := filepath.Glob(filepath.Join(st.Path, "messages-*.json")); len(files) == 0 {
		t.Errorf("pixtoome output has no message files")
	}
}

// The same stream walked both ways gives the same messages.
func TestCursorDirectionsAgree(t *testing.T) {
	cfg := Config{Messages: 4000, Seed: 9}.withDefaults("canonical")
	w := newWorld(cfg, true)
	for _, s := range []*stream{w.rooms[0], w.convs[0]} {
		var fwd []string
		c := w.cursor(s, true)
		for m, ok := c.next(); ok; m, ok = c.next() {
			fwd = append(fwd, fmt.Sprint(m.SentUS, m.Sender, string(w.appendText(nil, m, dHipChat))))
		}
		var back []string
		c = w.cursor(s, false)
		for m, ok := c.next(); ok; m, ok = c.next() {
			back = append(back, fmt.Sprint(m.SentUS, m.Sender, string(w.appendText(nil, m, dHipChat))))
		}
		if int64(len(fwd)) != s.n || len(back) != len(fwd) {
			t.Fatalf("stream %d: %d forward, %d backward, want %d", s.idx, len(fwd), len(back), s.n)
		}
		for i := range fwd {
			if fwd[i] != back[len(back)-1-i] {
				t.Fatalf("stream %d message %d: forward %q, backward %q", s.idx, i, fwd[i], back[len(back)-1-i])
			}
		}
	}
}

func TestActiveTimeRoundTrip(t *testing.T) {
	for _, us := range []int64{0, 1, hourMicros - 1, 5*24*hourMicros + 17, 400 * 24 * hourMicros, 2_000_000_000_000_000 / 10} {
		if got := fromActive(toActive(us)); got != us {
			t.Errorf("fromActive(toActive(%d)) = %d", us, got)
		}
	}
	// Weekday working hours are busier than weekend nights.
	day := func(h int64) int64 { return toActive((h+1)*hourMicros) - toActive(h*hourMicros) }
	if day(10) <= 10*day(5*24+3) {
		t.Errorf("Monday 10:00 has %d active units, Saturday 03:00 %d", day(10), day(5*24+3))
	}
}

// Real exports have a few very busy people and rooms and a long tail.
func TestSkewedActivity(t *testing.T) {
	cfg := Config{Messages: 50000, Seed: 1}.withDefaults("canonical")
	w := newWorld(cfg, true)
	biggest, smallest := w.rooms[0].n, w.rooms[len(w.rooms)-1].n
	if biggest < 5*smallest {
		t.Errorf("room sizes %d..%d: want a Zipf-like spread", smallest, biggest)
	}
	counts := map[int]int{}
	c := w.cursor(w.rooms[0], true)
	for m, ok := c.next(); ok; m, ok = c.next() {
		counts[m.Sender]++
	}
	var top []int
	for _, n := range counts {
		top = append(top, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(top)))
	share := 0
	for _, n := range top[:max(1, len(top)/10)] {
		share += n
	}
	if float64(share) < 0.4*float64(w.rooms[0].n) {
		t.Errorf("the busiest 10%% of senders wrote %d of %d messages; want a heavy head", share, w.rooms[0].n)
	}
}

// peakHeap runs fn while sampling the heap and returns the highest
// HeapInuse seen.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}

func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 200,000 messages per format")
	}
	for _, format := range []string{"hipchat-server", "gitter-rest", "gitter-matrix"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			peak := func(n int64) uint64 {
				return peakHeap(func() {
					// Users and rooms fixed: memory may grow with them, not
					// with messages.
					generate(t, format, Config{Messages: n, Seed: 1, Users: 500, Rooms: 20}, filepath.Join(dir, fmt.Sprint(n))+"/")
				})
			}
			small, large := peak(20_000), peak(200_000)
			t.Logf("%s: peak heap %.1f MiB at 20k messages, %.1f MiB at 200k", format, float64(small)/(1<<20), float64(large)/(1<<20))
			if large > small*3/2+8<<20 {
				t.Errorf("peak heap grew from %d to %d bytes with 10x the messages", small, large)
			}
		})
	}
}
