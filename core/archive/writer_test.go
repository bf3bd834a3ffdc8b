package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/schema"
	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

// synth emits a workspace with a few users and rooms and n messages whose
// times come from when(i); it returns the message ids in emission order
// with their times.
type synthMsg struct {
	id string
	at time.Time
}

func emitSynth(t testing.TB, out sdk.Sink, n int, when func(i int) time.Time) []synthMsg {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(out.Emit(&sdk.Workspace{ID: "w", Name: "Synthetic", SourceSystem: "gitter", ExportOptions: sdk.ExportOptions{Files: true}}))
	for u := range 5 {
		must(out.Emit(&sdk.User{ID: fmt.Sprintf("u%d", u), DisplayName: fmt.Sprintf("User %d", u), Role: sdk.RoleMember}))
	}
	for r := range 3 {
		must(out.Emit(&sdk.Room{ID: fmt.Sprintf("r%d", r), Name: fmt.Sprintf("room-%d", r), Members: []string{"u0", "u1"}}))
	}
	var msgs []synthMsg
	for i := range n {
		m := &sdk.Message{ID: fmt.Sprintf("m%07d", i), Kind: sdk.MessageNormal, Room: fmt.Sprintf("r%d", i%3),
			Sender: fmt.Sprintf("u%d", i%5), SentAt: when(i), Body: fmt.Sprintf("message number %d, with some text to make it realistic", i)}
		if i > 0 && i%10 == 0 {
			m.ThreadRoot = fmt.Sprintf("m%07d", i-10)
		}
		must(out.Emit(m))
		msgs = append(msgs, synthMsg{m.ID, m.SentAt})
	}
	return msgs
}

// stableOrder is what messages.ndjson must hold: sorted by time, ties in
// emission order.
func stableOrder(msgs []synthMsg) []string {
	s := slices.Clone(msgs)
	slices.SortStableFunc(s, func(a, b synthMsg) int { return a.at.Compare(b.at) })
	ids := make([]string, len(s))
	for i, m := range s {
		ids[i] = m.id
	}
	return ids
}

func messageIDs(t testing.TB, r *Reader) []string {
	t.Helper()
	var ids []string
	for m, err := range r.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	return ids
}

func TestWriterSortsWithSpilledRuns(t *testing.T) {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name string
		n    int
		opt  WriterOptions
		when func(int) time.Time
	}{
		// In order: written straight through.
		{"in order", 500, WriterOptions{SortMemory: 7}, func(i int) time.Time { return base.Add(time.Duration(i/3) * time.Second) }},
		// Random with many ties; 3000/7 runs is more than maxFanIn, so
		// runs are also compacted along the way.
		{"random with ties", 3000, WriterOptions{SortMemory: 7}, func(int) time.Time { return base.Add(time.Duration(rng.IntN(200)) * time.Minute) }},
		{"in order then one early", 300, WriterOptions{SortMemory: 50}, func(i int) time.Time {
			if i == 250 {
				return base.Add(-time.Hour)
			}
			return base.Add(time.Duration(i) * time.Second)
		}},
		{"reversed, runs in TempDir, validated", 2000, WriterOptions{SortMemory: 64, TempDir: t.TempDir(), Validate: true}, func(i int) time.Time {
			return base.Add(-time.Duration(i) * time.Millisecond)
		}},
		{"bytes bound spills", 1000, WriterOptions{SortBytes: 4096}, func(i int) time.Time { return base.Add(time.Duration(1000-i) * time.Second) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a")
			w, err := Create(dir, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			msgs := emitSynth(t, w, tc.n, tc.when)
			m, err := w.Close()
			if err != nil {
				t.Fatal(err)
			}
			if m.Counts["message"] != int64(tc.n) || !m.MessagesSorted {
				t.Fatalf("manifest counts %v sorted %v", m.Counts, m.MessagesSorted)
			}
			r, err := Open(dir, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := messageIDs(t, r), stableOrder(msgs); !slices.Equal(got, want) {
				t.Fatalf("messages out of order: first 10 got %v want %v", got[:10], want[:10])
			}
			if errs := r.VerifyAll(context.Background()); len(errs) > 0 {
				t.Fatalf("verify: %v", joinErrs(errs))
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".") || strings.Contains(e.Name(), "sorting") {
					t.Errorf("temporary %s left in the archive", e.Name())
				}
			}
			if tc.opt.TempDir != "" {
				left, _ := os.ReadDir(tc.opt.TempDir)
				if len(left) > 0 {
					t.Errorf("%d temporary entries left in TempDir", len(left))
				}
			}
			// Copying gives the same bytes.
			copyDir := filepath.Join(t.TempDir(), "b")
			w2, err := Create(copyDir, WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := Copy(context.Background(), r, w2); err != nil {
				t.Fatal(err)
			}
			if _, err := w2.Close(); err != nil {
				t.Fatal(err)
			}
			adaptertest.SameTree(t, dir, copyDir)
		})
	}
}

func TestWriterRefuses(t *testing.T) {
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	ws := &sdk.Workspace{ID: "w", Name: "W", SourceSystem: "gitter"}
	user := &sdk.User{ID: "u1", Role: sdk.RoleMember}
	room := &sdk.Room{ID: "r1", Name: "r"}
	msg := func(id string, sec int) *sdk.Message {
		return &sdk.Message{ID: id, Kind: sdk.MessageNormal, Room: "r1", Sender: "u1", SentAt: at.Add(time.Duration(sec) * time.Second), Body: "x"}
	}
	cases := []struct {
		name    string
		opt     WriterOptions
		recs    []sdk.Record
		atClose bool // the error comes from Close, not Emit
		want    string
	}{
		{"no workspace", WriterOptions{}, []sdk.Record{user}, true, "no workspace record"},
		{"two workspaces", WriterOptions{}, []sdk.Record{ws, &sdk.Workspace{ID: "w2", Name: "x", SourceSystem: "y"}}, false, `a second workspace record ("w2" after "w")`},
		{"duplicate user", WriterOptions{}, []sdk.Record{ws, user, &sdk.User{ID: "u1", Role: sdk.RoleGuest}}, false, `duplicate user id "u1"`},
		{"duplicate room", WriterOptions{}, []sdk.Record{ws, room, room}, false, `duplicate room id "r1"`},
		{"duplicate message in order", WriterOptions{}, []sdk.Record{ws, user, room, msg("m1", 1), msg("m2", 2), msg("m1", 3)}, true,
			`duplicate message id "m1" (messages.ndjson lines 1 and 3)`},
		{"duplicate message sorted", WriterOptions{SortMemory: 1}, []sdk.Record{ws, user, room, msg("m1", 5), msg("m2", 2), msg("m3", 9), msg("m1", 1)}, true,
			`duplicate message id "m1" (messages.ndjson lines 1 and 3)`},
		{"duplicate escaped id", WriterOptions{}, []sdk.Record{ws, user, room, msg("a\"<b>", 1), msg("a\"<b>", 2)}, true,
			`duplicate message id "a\"<b>"`},
		{"duplicate attachment", WriterOptions{}, []sdk.Record{ws, &sdk.Attachment{ID: "a1", Message: "m", Name: "f"}, &sdk.Attachment{ID: "a1", Message: "n", Name: "g"}}, true,
			`duplicate attachment id "a1" (attachments.ndjson lines 1 and 2)`},
		{"invalid message", WriterOptions{Validate: true}, []sdk.Record{ws, user, room, &sdk.Message{ID: "m9", Kind: "shout", Sender: "u1", SentAt: at, Body: "x"}}, false,
			"messages.ndjson record 1: message m9 does not match the canonical schema"},
		{"nil record", WriterOptions{}, []sdk.Record{ws, (*sdk.User)(nil)}, false, "cannot store a record of type *sdk.User"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a")
			w, err := Create(dir, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			var emitErr error
			for _, r := range tc.recs {
				if emitErr = w.Emit(r); emitErr != nil {
					break
				}
			}
			if tc.atClose != (emitErr == nil) {
				t.Fatalf("Emit error %v; want one from Emit: %v", emitErr, !tc.atClose)
			}
			err = emitErr
			if err == nil {
				_, err = w.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v\nwant one containing %s", err, tc.want)
			}
			if tc.opt.Validate {
				var se *schema.Error
				if !errors.As(err, &se) || se.ID != "m9" {
					t.Fatalf("error %v does not wrap the *schema.Error", err)
				}
			}
		})
	}
}

func TestCreateAndAbort(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	if _, err := Create(full, WriterOptions{}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Create in a non-empty directory: %v", err)
	}
	// Abort in a directory that existed empty empties it and keeps it.
	empty := t.TempDir()
	w, err := Create(empty, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	emitSample(t, w)
	w.Abort()
	if ents, err := os.ReadDir(empty); err != nil || len(ents) != 0 {
		t.Fatalf("after Abort: %v %v", ents, err)
	}
	// Abort in a directory Create made removes it.
	made := filepath.Join(t.TempDir(), "new")
	w, err = Create(made, WriterOptions{SortMemory: 2})
	if err != nil {
		t.Fatal(err)
	}
	emitSample(t, w)
	w.Abort()
	if _, err := os.Stat(made); !os.IsNotExist(err) {
		t.Fatalf("after Abort the directory is still there: %v", err)
	}
}

func TestWriterNoticesAndProgress(t *testing.T) {
	var done, total int64
	w, err := Create(filepath.Join(t.TempDir(), "a"), WriterOptions{OnProgress: func(d, t int64) { done, total = d, t }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	w.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "x", Message: "m"})
	w.Progress(3, 10)
	if len(w.Notices()) != 1 || w.Notices()[0].Code != "x" || done != 3 || total != 10 {
		t.Fatalf("notices %v progress %d/%d", w.Notices(), done, total)
	}
}

// TestWriterMemoryBounded writes 300k messages out of order with room for
// 10k in memory and checks that the heap never holds anything near the
// 50 MB the messages take encoded.
func TestWriterMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 300k messages")
	}
	const n = 300_000
	dir := filepath.Join(t.TempDir(), "a")
	w, err := Create(dir, WriterOptions{SortMemory: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	var payload int64
	rng := rand.New(rand.NewPCG(3, 4))
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Emit(&sdk.Workspace{ID: "w", Name: "W", SourceSystem: "gitter"}))
	must(w.Emit(&sdk.User{ID: "u", Role: sdk.RoleMember}))
	must(w.Emit(&sdk.Room{ID: "r", Name: "r"}))
	for i := range n {
		m := &sdk.Message{ID: fmt.Sprintf("%024d", i), Kind: sdk.MessageNormal, Room: "r", Sender: "u",
			SentAt: base.Add(time.Duration(rng.IntN(1_000_000)) * time.Second), Body: strings.Repeat("x", 60)}
		must(w.Emit(m))
		payload += 170
		if i%20_000 == 0 {
			sample()
		}
	}
	sample()
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sample()
	st, _ := os.Stat(filepath.Join(dir, "messages.ndjson"))
	t.Logf("messages.ndjson %d MB, peak heap in use %.1f MB", st.Size()>>20, float64(peak)/(1<<20))
	if peak > 24<<20 || int64(peak) > st.Size()/2 {
		t.Fatalf("peak heap in use %d bytes for a %d-byte messages file", peak, st.Size())
	}
}

func TestScanMessageMatchesDecoding(t *testing.T) {
	// The fast scan must agree with encoding/json on lines the Writer
	// writes, including ids and bodies that mimic the field it looks for.
	at := time.Date(2021, 5, 6, 7, 8, 9, 123, time.FixedZone("", -5*3600))
	for _, m := range []*sdk.Message{
		{ID: `x","sent_at":"1999-01-01T00:00:00Z`, Kind: "normal", Room: "r", Sender: `,"sent_at":"`, SentAt: at, Body: `"sent_at":"2000-01-01T00:00:00Z"`},
		{ID: "plain", Kind: "normal", Conversation: "c", Sender: "s", SenderName: `a\"b,"sent_at":"`, SentAt: at},
	} {
		var buf bytes.Buffer
		w, _ := Create(filepath.Join(t.TempDir(), "a"), WriterOptions{})
		w.enc.Encode(m)
		buf.Write(w.encBuf.Bytes())
		w.Abort()
		id, k, err := scanMessage(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if err != nil || idString(id) != m.ID || k != keyOf(m.SentAt) {
			t.Errorf("scan of %s: id %q key %v err %v", buf.Bytes(), id, k, err)
		}
	}
}

// writeRepairing writes recs with both repair options on (reporting into
// notices), checks that the archive verifies, and returns its manifest and
// messages in order.
func writeRepairing(t *testing.T, sortMemory int, recs []sdk.Record) (*Manifest, []sdk.Notice, []*sdk.Message) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "a")
	var notices []sdk.Notice
	note := func(n sdk.Notice) { notices = append(notices, n) }
	w, err := Create(dir, WriterOptions{SortMemory: sortMemory, OnDuplicate: note, OnDanglingReference: note})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Emit(r); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Verify(context.Background()); err != nil {
		t.Fatalf("the repaired archive does not verify: %v", err)
	}
	var msgs []*sdk.Message
	for m, err := range r.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	return m, notices, msgs
}

// repairHead is the workspace, user and room the repair tests' messages
// belong to.
func repairHead() []sdk.Record {
	return []sdk.Record{
		&sdk.Workspace{ID: "w", Name: "W", SourceSystem: "gitter"},
		&sdk.User{ID: "u1", Role: sdk.RoleMember}, &sdk.Room{ID: "r1", Name: "r"},
	}
}

// With OnDuplicate, repeated ids are reported skips: the first record in
// archive order stays, the archive verifies, and its counts and hashes
// describe the file without the later copies.
func TestWriterDropsDuplicates(t *testing.T) {
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	msg := func(id string, sec int, body string) *sdk.Message {
		return &sdk.Message{ID: id, Kind: sdk.MessageNormal, Room: "r1", Sender: "u1", SentAt: at.Add(time.Duration(sec) * time.Second), Body: body}
	}
	withAttachment := func(m *sdk.Message) *sdk.Message { m.Attachments = []string{"a1"}; return m }
	for _, sortMemory := range []int{0, 1} {
		t.Run(fmt.Sprintf("sort memory %d", sortMemory), func(t *testing.T) {
			recs := append(repairHead(),
				withAttachment(msg("m1", 1, "first")), msg("m2", 2, "two"), msg("m1", 3, "again"), msg("m3", 4, "three"), msg("m2", 5, "two again"), msg("m1", 6, "thrice"),
				&sdk.Attachment{ID: "a1", Message: "m1", Name: "f"}, &sdk.Attachment{ID: "a1", Message: "m1", Name: "f"},
			)
			if sortMemory == 1 {
				// Out of order, so the messages go through the external sort.
				recs = append(recs, msg("m0", 0, "zero"))
			}
			m, notices, msgs := writeRepairing(t, sortMemory, recs)
			var codes []string
			for _, n := range notices {
				if !n.Skipped || n.Code != "duplicate-id" {
					t.Errorf("notice %+v: want a skipped duplicate-id", n)
				}
				codes = append(codes, string(n.Kind)+":"+n.Record)
			}
			slices.Sort(codes)
			if want := []string{"attachment:a1", "message:m1", "message:m1", "message:m2"}; !slices.Equal(codes, want) {
				t.Errorf("notices %v, want %v", codes, want)
			}
			var got []string
			for _, m := range msgs {
				got = append(got, m.ID+"="+m.Body)
			}
			want := []string{"m1=first", "m2=two", "m3=three"}
			if sortMemory == 1 {
				want = append([]string{"m0=zero"}, want...)
			}
			if !slices.Equal(got, want) {
				t.Errorf("messages %v, want %v", got, want)
			}
			if m.Counts["message"] != int64(len(want)) || m.Counts["attachment"] != 1 {
				t.Errorf("manifest counts %v", m.Counts)
			}
		})
	}
}

// With OnDanglingReference, a thread_root or reply_to naming a message the
// archive lacks is cleared, its id kept in extra, and reported; references
// that resolve stay, whatever "extra" holds.
func TestWriterClearsDanglingReferences(t *testing.T) {
	at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	msg := func(id string, sec int) *sdk.Message {
		return &sdk.Message{ID: id, Kind: sdk.MessageNormal, Room: "r1", Sender: "u1", SentAt: at.Add(time.Duration(sec) * time.Second), Body: `"thread_root":"m1" ,"extra":{`}
	}
	for _, sortMemory := range []int{0, 1} {
		t.Run(fmt.Sprintf("sort memory %d", sortMemory), func(t *testing.T) {
			root := msg("m1", 1)
			ok := msg("m2", 2)
			ok.ThreadRoot, ok.ReplyTo = "m1", "m1"
			lost := msg("m3", 3)
			lost.ThreadRoot, lost.Extra = "gone", map[string]string{"thread_root": "m1", "note": "kept"}
			lostReply := msg("m4\"x", 4)
			lostReply.ReplyTo = "also \"gone\""
			dup := msg("m3", 5)
			dup.ThreadRoot = "gone too"
			recs := repairHead()
			if sortMemory == 1 {
				recs = append(recs, lostReply, dup, lost, ok, root)
			} else {
				recs = append(recs, root, ok, lost, lostReply, dup)
			}
			_, notices, msgs := writeRepairing(t, sortMemory, recs)
			var codes []string
			for _, n := range notices {
				codes = append(codes, n.Code+":"+n.Record)
			}
			slices.Sort(codes)
			want := []string{"duplicate-id:m3", "reply-target-missing:m4\"x", "thread-root-missing:m3"}
			if !slices.Equal(codes, want) {
				t.Errorf("notices %v, want %v", codes, want)
			}
			got := map[string]*sdk.Message{}
			for _, m := range msgs {
				got[m.ID] = m
			}
			if len(got) != 4 {
				t.Errorf("%d messages, want 4", len(got))
			}
			if m := got["m2"]; m.ThreadRoot != "m1" || m.ReplyTo != "m1" || m.Extra != nil {
				t.Errorf("a resolving reference was changed: %+v", m)
			}
			if m := got["m3"]; m.ThreadRoot != "" || m.Extra["thread_root_missing"] != "gone" || m.Extra["thread_root"] != "m1" || m.Extra["note"] != "kept" {
				t.Errorf("dangling thread root not cleared into extra: %+v", m)
			}
			if m := got["m4\"x"]; m.ReplyTo != "" || m.Extra["reply_to_missing"] != "also \"gone\"" {
				t.Errorf("dangling reply not cleared into extra: %+v", m)
			}
		})
	}
}
