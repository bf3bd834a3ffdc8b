// Package inspect summarises a canonical dataset for people: how many
// records of each kind, the date range of the messages, the biggest rooms
// and the most active users. It streams the messages once, keeping one
// counter per room and per user.
package inspect

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// Count is a name with a number of messages.
type Count struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Messages int64  `json:"messages"`
}

// Stats is what Dataset found.
type Stats struct {
	Workspace         string             `json:"workspace"`
	SourceSystem      string             `json:"source_system"`
	Counts            map[sdk.Kind]int64 `json:"counts"`
	First             time.Time          `json:"first,omitzero"`
	Last              time.Time          `json:"last,omitzero"`
	RoomMessages      int64              `json:"room_messages"`
	DirectMessages    int64              `json:"direct_messages"`
	ThreadReplies     int64              `json:"thread_replies"`
	Edited            int64              `json:"edited"`
	AttachmentBytes   int64              `json:"attachment_bytes"`
	AttachmentsNoBlob int64              `json:"attachments_without_content"`
	Rooms             []Count            `json:"rooms"`
	Users             []Count            `json:"users"`
}

// Dataset reads ds once and returns its statistics, with the top rooms by
// message count and top users by messages sent.
func Dataset(ctx context.Context, ds sdk.Dataset, top int) (*Stats, error) {
	ws := ds.Workspace()
	st := &Stats{Counts: ds.Counts()}
	if ws != nil {
		st.Workspace, st.SourceSystem = ws.Name, ws.SourceSystem
	}
	roomNames := map[string]string{}
	for r, err := range ds.Rooms() {
		if err != nil {
			return nil, err
		}
		roomNames[r.ID] = r.Name
	}
	userNames := map[string]string{}
	for u, err := range ds.Users() {
		if err != nil {
			return nil, err
		}
		name := u.DisplayName
		if name == "" {
			name = cmp.Or(u.Username, u.MentionName, u.Email, u.ID)
		}
		userNames[u.ID] = name
	}
	perRoom := map[string]int64{}
	perUser := map[string]int64{}
	n := 0
	for m, err := range ds.Messages() {
		if err != nil {
			return nil, err
		}
		if n++; n%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if st.First.IsZero() || m.SentAt.Before(st.First) {
			st.First = m.SentAt
		}
		if m.SentAt.After(st.Last) {
			st.Last = m.SentAt
		}
		if m.Room != "" {
			st.RoomMessages++
			perRoom[m.Room]++
		} else {
			st.DirectMessages++
		}
		if m.ThreadRoot != "" {
			st.ThreadReplies++
		}
		if m.EditedAt != nil || len(m.Edits) > 0 {
			st.Edited++
		}
		perUser[m.Sender]++
	}
	for a, err := range ds.Attachments() {
		if err != nil {
			return nil, err
		}
		if a.SHA256 == "" {
			st.AttachmentsNoBlob++
		} else {
			st.AttachmentBytes += a.Size
		}
	}
	st.Rooms = topCounts(perRoom, roomNames, top)
	st.Users = topCounts(perUser, userNames, top)
	return st, nil
}

func topCounts(counts map[string]int64, names map[string]string, top int) []Count {
	out := make([]Count, 0, len(counts))
	for id, n := range counts {
		out = append(out, Count{ID: id, Name: names[id], Messages: n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.Messages, a.Messages); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if top >= 0 && len(out) > top {
		out = out[:top]
	}
	return out
}

// WriteText prints the statistics as a few small tables.
func (s *Stats) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Workspace\t%s (from %s)\n", s.Workspace, s.SourceSystem)
	for _, k := range sdk.Kinds[1:] {
		fmt.Fprintf(tw, "%s\t%d\n", plural(k), s.Counts[k])
	}
	if !s.First.IsZero() {
		fmt.Fprintf(tw, "messages from\t%s\n", s.First.UTC().Format(time.DateTime))
		fmt.Fprintf(tw, "messages to\t%s\n", s.Last.UTC().Format(time.DateTime))
	}
	fmt.Fprintf(tw, "in rooms / direct\t%d / %d\n", s.RoomMessages, s.DirectMessages)
	fmt.Fprintf(tw, "thread replies\t%d\n", s.ThreadReplies)
	fmt.Fprintf(tw, "edited\t%d\n", s.Edited)
	fmt.Fprintf(tw, "attachment bytes\t%d (%d attachments without content)\n", s.AttachmentBytes, s.AttachmentsNoBlob)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range []struct {
		title string
		rows  []Count
	}{{"Rooms by messages", s.Rooms}, {"Users by messages sent", s.Users}} {
		if len(t.rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", t.title)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		for _, r := range t.rows {
			fmt.Fprintf(tw, "%d\t  %s\t\n", r.Messages, cmp.Or(r.Name, r.ID))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func plural(k sdk.Kind) string {
	switch k {
	case sdk.KindEmoji:
		return "custom emoji"
	}
	return string(k) + "s"
}
