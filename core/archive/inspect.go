package archive

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

// DefaultTop is how many rooms and users Inspect ranks.
const DefaultTop = 10

// Stats summarises a dataset.
type Stats struct {
	Workspace string
	Source    string
	// Counts holds the records of each kind, as read (not as declared).
	Counts map[sdk.Kind]int64
	// First and Last are the earliest and latest message times; zero when
	// there are no messages.
	First, Last time.Time
	// RoomMessages and DirectMessages split messages by where they were
	// posted.
	RoomMessages, DirectMessages int64
	// Replies counts messages in a thread (with a thread root); Edited
	// counts edited messages.
	Replies, Edited int64
	// GroupConversations counts conversations of more than two people.
	GroupConversations int64
	// AttachmentBytes is the total declared size of attachments;
	// AttachmentsWithContent counts those whose content is in the dataset.
	AttachmentBytes        int64
	AttachmentsWithContent int64
	// TopRooms and TopUsers rank rooms by messages and users by messages
	// sent, most first.
	TopRooms []Ranked
	TopUsers []Ranked
}

// Ranked is a room or user with its number of messages.
type Ranked struct {
	ID       string
	Name     string
	Messages int64
}

// Inspect reads a dataset once and summarises it, ranking the top
// DefaultTop rooms and users. Memory grows with rooms and users (a counter
// each), not with messages.
func Inspect(ctx context.Context, ds sdk.Dataset) (*Stats, error) {
	return InspectTop(ctx, ds, DefaultTop)
}

// InspectTop is Inspect ranking the top n rooms and users.
func InspectTop(ctx context.Context, ds sdk.Dataset, n int) (*Stats, error) {
	s := &Stats{Counts: map[sdk.Kind]int64{}}
	if ws := ds.Workspace(); ws != nil {
		s.Counts[sdk.KindWorkspace] = 1
		s.Workspace = ws.Name
		s.Source = ws.SourceSystem
		if ws.SourceVersion != "" {
			s.Source += " " + ws.SourceVersion
		}
	}
	userNames := map[string]string{}
	for u, err := range ds.Users() {
		if err != nil {
			return nil, err
		}
		s.Counts[sdk.KindUser]++
		userNames[u.ID] = cmp.Or(u.DisplayName, u.Username, u.MentionName)
	}
	roomNames := map[string]string{}
	for r, err := range ds.Rooms() {
		if err != nil {
			return nil, err
		}
		s.Counts[sdk.KindRoom]++
		roomNames[r.ID] = r.Name
	}
	for c, err := range ds.Conversations() {
		if err != nil {
			return nil, err
		}
		s.Counts[sdk.KindConversation]++
		if c.Group || len(c.Participants) > 2 {
			s.GroupConversations++
		}
	}
	for _, err := range ds.Emoji() {
		if err != nil {
			return nil, err
		}
		s.Counts[sdk.KindEmoji]++
	}
	perRoom, perUser := map[string]int64{}, map[string]int64{}
	for m, err := range ds.Messages() {
		if err != nil {
			return nil, err
		}
		c := s.Counts[sdk.KindMessage]
		if c%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		s.Counts[sdk.KindMessage] = c + 1
		if s.First.IsZero() || m.SentAt.Before(s.First) {
			s.First = m.SentAt
		}
		if m.SentAt.After(s.Last) {
			s.Last = m.SentAt
		}
		if m.Room != "" {
			s.RoomMessages++
			perRoom[m.Room]++
		} else {
			s.DirectMessages++
		}
		perUser[m.Sender]++
		if m.ThreadRoot != "" {
			s.Replies++
		}
		if m.EditedAt != nil || len(m.Edits) > 0 {
			s.Edited++
		}
	}
	for a, err := range ds.Attachments() {
		if err != nil {
			return nil, err
		}
		s.Counts[sdk.KindAttachment]++
		s.AttachmentBytes += a.Size
		if a.SHA256 != "" {
			s.AttachmentsWithContent++
		}
	}
	s.TopRooms = rank(perRoom, roomNames, n)
	s.TopUsers = rank(perUser, userNames, n)
	return s, nil
}

func rank(counts map[string]int64, names map[string]string, n int) []Ranked {
	out := make([]Ranked, 0, len(counts))
	for id, c := range counts {
		out = append(out, Ranked{ID: id, Name: names[id], Messages: c})
	}
	slices.SortFunc(out, func(a, b Ranked) int {
		if c := cmp.Compare(b.Messages, a.Messages); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// WriteText writes the statistics as a table for people.
func (s *Stats) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	p("Workspace\t%s\n", s.Workspace)
	p("Source\t%s\n", s.Source)
	p("Users\t%d\n", s.Counts[sdk.KindUser])
	p("Rooms\t%d\n", s.Counts[sdk.KindRoom])
	p("Conversations\t%d (%d group)\n", s.Counts[sdk.KindConversation], s.GroupConversations)
	p("Custom emoji\t%d\n", s.Counts[sdk.KindEmoji])
	p("Messages\t%d (%d in rooms, %d direct)\n", s.Counts[sdk.KindMessage], s.RoomMessages, s.DirectMessages)
	p("Thread replies\t%d\n", s.Replies)
	p("Edited messages\t%d\n", s.Edited)
	if !s.First.IsZero() {
		p("Date range\t%s – %s\n", s.First.UTC().Format(time.DateTime), s.Last.UTC().Format(time.DateTime))
	}
	p("Attachments\t%d (%s, %d with content)\n", s.Counts[sdk.KindAttachment], humanBytes(s.AttachmentBytes), s.AttachmentsWithContent)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, part := range []struct {
		title string
		list  []Ranked
	}{{"Rooms by messages", s.TopRooms}, {"Users by messages sent", s.TopUsers}} {
		if len(part.list) == 0 {
			continue
		}
		fmt.Fprintf(tw, "\n%s\tid\tmessages\n", part.title)
		for i, r := range part.list {
			fmt.Fprintf(tw, "%2d. %s\t%s\t%d\n", i+1, cmp.Or(r.Name, "(unknown)"), r.ID, r.Messages)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
