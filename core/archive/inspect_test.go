package archive

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

func TestInspectSample(t *testing.T) {
	r, err := Open(sampleDir, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := InspectTop(context.Background(), r, 3)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[sdk.Kind]int64{"workspace": 1, "user": 7, "room": 2, "conversation": 2, "emoji": 1, "message": 30, "attachment": 2}
	for k, n := range wantCounts {
		if s.Counts[k] != n {
			t.Errorf("%s: %d, want %d", k, s.Counts[k], n)
		}
	}
	if !s.First.Equal(time.Date(2017, 3, 14, 8, 55, 0, 0, time.UTC)) || !s.Last.Equal(time.Date(2017, 3, 14, 12, 30, 0, 0, time.UTC)) {
		t.Errorf("date range %v – %v", s.First, s.Last)
	}
	if s.RoomMessages != 23 || s.DirectMessages != 7 || s.GroupConversations != 1 {
		t.Errorf("room %d direct %d group %d", s.RoomMessages, s.DirectMessages, s.GroupConversations)
	}
	// Replies: m04, m05 in m03's thread, m17, m18 in m16's.
	if s.Replies != 4 || s.Edited != 1 {
		t.Errorf("replies %d edited %d", s.Replies, s.Edited)
	}
	if s.AttachmentBytes != int64(len(sampleChecklist)+len(sampleTelemetry)) || s.AttachmentsWithContent != 2 {
		t.Errorf("attachment bytes %d with content %d", s.AttachmentBytes, s.AttachmentsWithContent)
	}
	if len(s.TopRooms) != 2 || s.TopRooms[0] != (Ranked{ID: "10", Name: "general", Messages: 18}) || s.TopRooms[1].Messages != 5 {
		t.Errorf("top rooms %+v", s.TopRooms)
	}
	// Ada sent 11 messages; Grace and Linus 7 each (ties by id).
	if len(s.TopUsers) != 3 || s.TopUsers[0] != (Ranked{ID: "1", Name: "Ada Lovelace", Messages: 11}) || s.TopUsers[1].ID != "2" || s.TopUsers[2].ID != "3" {
		t.Errorf("top users %+v", s.TopUsers)
	}
	var buf bytes.Buffer
	if err := s.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Messages         30 (23 in rooms, 7 direct)", "Date range       2017-03-14 08:55:00 – 2017-03-14 12:30:00", " 1. general", "Ada Lovelace"} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}
	t.Logf("\n%s", buf.String())
}
