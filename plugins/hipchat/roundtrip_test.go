package hipchat

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/adaptertest"
)

var allOn = sdk.Options{OptIncludeOTO: true, OptIncludeAttachments: true}

// canonical renders a result as comparable JSON lines: every kind sorted
// by id, messages in the order the host sorts them, blobs by hash.
func canonical(t *testing.T, r *adaptertest.Result) string {
	t.Helper()
	var b strings.Builder
	line := func(v any) {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	line(r.Workspace)
	sorted := func(n int, id func(int) string, emit func(int)) {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(id(a), id(b)) })
		for _, i := range idx {
			emit(i)
		}
	}
	sorted(len(r.Users), func(i int) string { return r.Users[i].ID }, func(i int) { line(r.Users[i]) })
	sorted(len(r.Rooms), func(i int) string { return r.Rooms[i].ID }, func(i int) { line(r.Rooms[i]) })
	sorted(len(r.Conversations), func(i int) string { return r.Conversations[i].ID }, func(i int) { line(r.Conversations[i]) })
	sorted(len(r.Emoji), func(i int) string { return r.Emoji[i].ID }, func(i int) { line(r.Emoji[i]) })
	for _, m := range r.Messages {
		line(m)
	}
	sorted(len(r.Attachments), func(i int) string { return r.Attachments[i].ID }, func(i int) { line(r.Attachments[i]) })
	var sums []string
	for s := range r.Blobs {
		sums = append(sums, s)
	}
	slices.Sort(sums)
	for _, s := range sums {
		line(map[string]int{s: len(r.Blobs[s])})
	}
	return b.String()
}

func diffLines(t *testing.T, a, b string) {
	t.Helper()
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			t.Errorf("first difference at line %d:\n pass 1: %s\n pass 2: %s", i+1, x, y)
			return
		}
	}
}

// TestRoundTripServer: hipchat-server → canonical → hipchat-server →
// canonical gives the same canonical records, and writing them again gives
// the same bytes.
func TestRoundTripServer(t *testing.T) {
	first := adaptertest.RunSource(t, &Server{}, nil, "testdata/server")
	if errs := first.CheckReferences(); len(errs) > 0 {
		t.Fatalf("pass 1 references: %v", errs)
	}
	out1, _ := adaptertest.RunTarget(t, &Server{}, first.Dataset(), allOn)
	second := adaptertest.RunSource(t, &Server{}, nil, out1)
	if errs := second.CheckReferences(); len(errs) > 0 {
		t.Fatalf("pass 2 references: %v", errs)
	}
	a, b := canonical(t, first), canonical(t, second)
	if a != b {
		diffLines(t, a, b)
	}
	// 15 messages in rooms/10, 2 in rooms/11, 6 one-to-one ones once each.
	if len(first.Messages) != 23 || len(first.Attachments) != 3 || len(first.Users) != 9 {
		t.Fatalf("pass 1 read %d messages, %d attachments, %d users; the sample has 23, 3 and 9",
			len(first.Messages), len(first.Attachments), len(first.Users))
	}
	out2, _ := adaptertest.RunTarget(t, &Server{}, second.Dataset(), allOn)
	f1, f2 := adaptertest.ReadTree(t, out1), adaptertest.ReadTree(t, out2)
	if len(f1) != len(f2) {
		t.Fatalf("second write has %d files, first %d", len(f2), len(f1))
	}
	for name, b1 := range f1 {
		if !bytes.Equal(b1, f2[name]) {
			t.Errorf("%s differs between the first and second write", name)
		}
	}
}

// TestRoundTripCloudAndFixtures: other forms go through the Server target
// and back without losing messages, users or rooms.
func TestRoundTripCloudLegacy(t *testing.T) {
	first := adaptertest.RunSource(t, &Cloud{}, nil, "testdata/cloud-legacy")
	out, _ := adaptertest.RunTarget(t, &Server{}, first.Dataset(), allOn)
	second := adaptertest.RunSource(t, &Server{}, nil, out)
	if got, want := adaptertest.SortedIDs(second.Messages), adaptertest.SortedIDs(first.Messages); !slices.Equal(got, want) {
		t.Fatalf("messages after the round trip:\n got %v\nwant %v", got, want)
	}
	for i, m := range second.Messages {
		if m.Body != first.Messages[i].Body || m.Sender != first.Messages[i].Sender || !m.SentAt.Equal(first.Messages[i].SentAt) {
			t.Errorf("message %s changed:\n got %+v\nwant %+v", m.ID, m, first.Messages[i])
		}
	}
	if errs := second.CheckReferences(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
