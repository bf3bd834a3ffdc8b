// Package irclog is an example third-party adapter: it reads IRC channel
// logs as irssi writes them and emits canonical records. It imports
// nothing of migrate's but the sdk, so it runs in-process, as a
// WebAssembly module (cmd/irclog-wasm) and as a plugin process
// (cmd/irclog-plugin) alike.
//
// One file is one channel:
//
//	--- Log opened Tue Mar 05 09:12:44 2024
//	09:12 <@alice> morning all
//	09:13  * bob waves
//	09:14 -!- carol [~carol@example.org] has joined #go
//	09:15 -!- alice changed the topic of #go to: Release planning
//	--- Day changed Wed Mar 06 2024
//	00:01 < bob> carol: see you
//
// The channel is named by the file (go.log, #go.log) or, failing that, by
// the first join or topic line. Times are read as UTC.
package irclog

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/migrate-chat/migrate/sdk"
)

// Version is the adapter's version.
const Version = "0.1.0"

// Source reads irssi channel logs.
type Source struct{}

var _ sdk.Source = (*Source)(nil)

// Manifest implements sdk.Adapter.
func (*Source) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name:        "irclog",
		Title:       "IRC logs (irssi)",
		Version:     Version,
		Description: "Channel logs written by the irssi IRC client: one .log file per channel.",
		Source:      true,
		Options: []sdk.Option{
			{Name: "workspace-name", Type: sdk.OptionString, Default: "IRC", Description: "Name of the workspace."},
		},
		Input: sdk.InputSpec{
			Description:    "an irssi .log file, or a directory of them (one per channel)",
			MultipleInputs: true,
		},
	}
}

// Read implements sdk.Source.
func (s *Source) Read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	var files []logFile
	for _, in := range req.Inputs {
		if in.Entry != "" {
			files = append(files, logFile{fsys: in.FS, name: in.Entry, label: in.Name})
			continue
		}
		err := fs.WalkDir(in.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".log") {
				files = append(files, logFile{fsys: in.FS, name: p, label: path.Join(in.Name, p)})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", in.Name, err)
		}
	}
	if len(files) == 0 {
		return fmt.Errorf("no .log files in the input")
	}
	sort.Slice(files, func(i, j int) bool { return files[i].label < files[j].label })

	name := req.Options.String("workspace-name")
	if name == "" {
		name = "IRC"
	}
	if err := out.Emit(&sdk.Workspace{ID: "irc", Name: name, SourceSystem: "irc"}); err != nil {
		return err
	}
	r := &reader{out: out, users: map[string]*sdk.User{}, log: req}
	var total int64
	for _, f := range files {
		if st, err := fs.Stat(f.fsys, f.name); err == nil {
			total += st.Size()
		}
	}
	r.total = total
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.file(f); err != nil {
			return err
		}
	}
	// Users are emitted last: only then are all nicks known. The host
	// stores each kind apart, so order across kinds does not matter.
	nicks := make([]string, 0, len(r.users))
	for n := range r.users {
		nicks = append(nicks, n)
	}
	sort.Strings(nicks)
	for _, n := range nicks {
		if err := out.Emit(r.users[n]); err != nil {
			return err
		}
	}
	return nil
}

type logFile struct {
	fsys  fs.FS
	name  string
	label string
}

type reader struct {
	out   sdk.Sink
	log   *sdk.ReadRequest
	users map[string]*sdk.User
	done  int64
	total int64
}

// user returns the id of a nick's user, creating it on first sight. IRC
// nicks are case-insensitive.
func (r *reader) user(nick string) string {
	id := strings.ToLower(nick)
	if _, ok := r.users[id]; !ok {
		r.users[id] = &sdk.User{ID: id, Username: nick, DisplayName: nick, MentionName: nick, Role: sdk.RoleMember}
	}
	return id
}

func (r *reader) file(f logFile) error {
	fh, err := f.fsys.Open(f.name)
	if err != nil {
		return fmt.Errorf("%s: %w", f.label, err)
	}
	defer fh.Close()
	chanName := strings.TrimSuffix(path.Base(f.name), ".log")
	room := &sdk.Room{ID: strings.ToLower(strings.TrimPrefix(chanName, "#")), Name: "#" + strings.TrimPrefix(chanName, "#")}
	members := map[string]bool{}
	var day time.Time
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		r.done += int64(len(line) + 1)
		if lineNo%1000 == 0 {
			r.out.Progress(r.done, r.total)
		}
		if !utf8.ValidString(line) {
			line = strings.ToValidUTF8(line, "\uFFFD")
		}
		if rest, ok := strings.CutPrefix(line, "--- "); ok {
			if d, ok := parseDay(rest); ok {
				day = d
			}
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if day.IsZero() {
			r.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "irc-no-date", File: f.label,
				Message: fmt.Sprintf("%s:%d: a line before any \"--- Log opened\" or \"--- Day changed\" header has no date; skipped", f.label, lineNo)})
			continue
		}
		ev, ok := parseLine(line)
		if !ok {
			r.out.Notice(sdk.Notice{Level: sdk.LevelWarning, Code: "irc-unreadable-line", File: f.label,
				Message: fmt.Sprintf("%s:%d: not an irssi log line; skipped", f.label, lineNo)})
			continue
		}
		at := day.Add(ev.clock)
		sender := r.user(ev.nick)
		if ev.kind == "join" {
			members[sender] = true
			if room.CreatedAt == nil {
				t := at
				room.CreatedAt = &t
			}
			continue
		}
		members[sender] = true
		m := &sdk.Message{
			ID:             fmt.Sprintf("%s:%d", room.ID, lineNo),
			Room:           room.ID,
			Sender:         sender,
			SentAt:         at,
			Body:           ev.text,
			Original:       line,
			OriginalFormat: "irssi",
		}
		switch ev.kind {
		case "emote":
			m.Kind = sdk.MessageEmote
		case "topic":
			m.Kind = sdk.MessageTopicChange
			room.Topic = ev.text
		default:
			m.Kind = sdk.MessageNormal
		}
		m.Mentions = r.mentions(ev.text)
		if err := r.out.Emit(m); err != nil {
			return fmt.Errorf("%s:%d: %w", f.label, lineNo, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", f.label, err)
	}
	for id := range members {
		room.Members = append(room.Members, id)
	}
	sort.Strings(room.Members)
	room.MembersInferred = true
	return r.out.Emit(room)
}

// mentions finds "nick:" at the start of a message and "@nick" anywhere,
// for nicks already seen.
func (r *reader) mentions(text string) []sdk.Mention {
	var out []sdk.Mention
	seen := map[string]bool{}
	add := func(nick string) {
		id := strings.ToLower(nick)
		if _, ok := r.users[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, sdk.Mention{Kind: sdk.MentionUser, User: id, Text: nick})
		}
	}
	if i := strings.IndexAny(text, ":,"); i > 0 && !strings.ContainsRune(text[:i], ' ') {
		add(text[:i])
	}
	for _, w := range strings.Fields(text) {
		if nick, ok := strings.CutPrefix(w, "@"); ok {
			add(strings.TrimRight(nick, ".,:;!?"))
		}
	}
	return out
}

// parseDay reads "Log opened Tue Mar 05 09:12:44 2024" and
// "Day changed Wed Mar 06 2024".
func parseDay(s string) (time.Time, bool) {
	if rest, ok := strings.CutPrefix(s, "Log opened "); ok {
		t, err := time.Parse("Mon Jan 02 15:04:05 2006", rest)
		if err != nil {
			return time.Time{}, false
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
	}
	if rest, ok := strings.CutPrefix(s, "Day changed "); ok {
		t, err := time.Parse("Mon Jan 02 2006", rest)
		if err != nil {
			return time.Time{}, false
		}
		return t.UTC(), true
	}
	return time.Time{}, false
}

type event struct {
	clock time.Duration
	kind  string // "msg", "emote", "join", "topic"
	nick  string
	text  string
}

// parseLine reads one timestamped line.
func parseLine(line string) (event, bool) {
	var ev event
	if len(line) < 6 || line[2] != ':' || line[5] != ' ' {
		return ev, false
	}
	h, m := atoi2(line[0:2]), atoi2(line[3:5])
	if h < 0 || h > 23 || m < 0 || m > 59 {
		return ev, false
	}
	ev.clock = time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	rest := line[6:]
	switch {
	case strings.HasPrefix(rest, "<"):
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return ev, false
		}
		ev.kind = "msg"
		ev.nick = strings.TrimLeft(rest[1:end], "@+% ")
		ev.text = strings.TrimPrefix(rest[end+1:], " ")
	case strings.HasPrefix(rest, " * "):
		nick, text, _ := strings.Cut(rest[3:], " ")
		ev.kind, ev.nick, ev.text = "emote", nick, text
	case strings.HasPrefix(rest, "-!- "):
		body := rest[4:]
		nick, after, _ := strings.Cut(body, " ")
		switch {
		case strings.Contains(after, "has joined "):
			ev.kind, ev.nick = "join", nick
		case strings.HasPrefix(after, "changed the topic of "):
			_, topic, ok := strings.Cut(after, " to: ")
			if !ok {
				return ev, false
			}
			ev.kind, ev.nick, ev.text = "topic", nick, topic
		default:
			return ev, false
		}
	default:
		return ev, false
	}
	if ev.nick == "" {
		return ev, false
	}
	return ev, true
}

func atoi2(s string) int {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}
