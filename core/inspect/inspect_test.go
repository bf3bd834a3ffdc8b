package inspect

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/core/archive"
)

func TestSampleArchive(t *testing.T) {
	r, err := archive.Open("../../testdata/sample-archive", archive.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st, err := Dataset(context.Background(), r, 1)
	if err != nil {
		t.Fatal(err)
	}
	if st.RoomMessages+st.DirectMessages != st.Counts["message"] || st.Counts["message"] == 0 {
		t.Fatalf("room %d + direct %d messages != %d", st.RoomMessages, st.DirectMessages, st.Counts["message"])
	}
	if len(st.Rooms) != 1 || len(st.Users) != 1 {
		t.Fatalf("top 1 gave %d rooms and %d users", len(st.Rooms), len(st.Users))
	}
	// The biggest room really is the biggest.
	var perRoom = map[string]int64{}
	for m, err := range r.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		if m.Room != "" {
			perRoom[m.Room]++
		}
	}
	for id, n := range perRoom {
		if n > st.Rooms[0].Messages {
			t.Errorf("room %s has %d messages, more than the top room's %d", id, n, st.Rooms[0].Messages)
		}
	}
	if st.First.IsZero() || st.Last.Before(st.First) {
		t.Errorf("date range %v – %v", st.First, st.Last)
	}
	var b bytes.Buffer
	if err := st.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"messages", "Rooms by messages", st.Rooms[0].Name} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}
