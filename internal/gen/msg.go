package gen

import (
	"math"
	"strconv"
	"time"
)

// msgKind says what a generated message is; formats spell it their way.
type msgKind uint8

const (
	kindNormal msgKind = iota
	kindEmote
	kindNotification
	kindTopic
)

// segKind is one piece of a message's text. Text is kept as segments so
// that each format renders mentions, issue references and code its own way
// (Markdown, Gitter HTML, HipChat plain text, Matrix HTML).
type segKind uint8

const (
	segText      segKind = iota // words; may hold any Unicode
	segMention                  // @user
	segAll                      // @all (@/all on Gitter)
	segHere                     // @here
	segIssue                    // #12 or org/repo#34
	segCode                     // `inline code`
	segCodeBlock                // fenced block
	segURL                      // bare link
	segEmoji                    // :shortcode:
	segEmoticon                 // HipChat (shortcut)
	segBold                     // **strong**
	segRaw                      // Markdown corner case, kept verbatim
	segBreak                    // line break
)

type seg struct {
	kind segKind
	text string // words, code, URL, shortcode, repo for issues
	user int    // mentions
	num  int    // issue number
	lang string // code block language
}

// attachment is a generated file: its bytes are a pure function of Seed
// and Size and are produced on demand, never held.
type attachment struct {
	Name  string
	CType string
	Size  int64
	Seed  uint64
	Dir   string // a short random folder, like HipChat's and Gitter's upload paths
}

// reaction is one emoji and the members who gave it.
type reaction struct {
	emoji int // index into reactionEmoji / reactionShortcodes
	users []int
}

// Msg is one generated message. A cursor reuses one Msg, so formats must
// not keep references to it across calls to next.
type Msg struct {
	s      *stream
	Index  int64
	SentUS int64 // microseconds since epoch
	// NextSentUS is the time of the following message in the stream, or
	// -1 for the newest; formats that write edits and reactions as events
	// keep them before it.
	NextSentUS  int64
	Sender      int
	Receiver    int // direct messages: the other participant
	Kind        msgKind
	Integration string
	Segs        []seg
	Mentions    []int // distinct mentioned users, in order of appearance
	All, Here   bool
	EditedUS    int64 // 0 when never edited
	ThreadCount int   // replies, when this message starts a thread
	Parent      int64 // index of the thread root, or -1
	ParentUS    int64 // the root's time (walks oldest-first only)
	Reactions   []reaction
	Attach      *attachment
	att         attachment
	reactUsers  []int
}

// Sent is the message time.
func (m *Msg) Sent() time.Time { return wallTime(m.SentUS) }

// Direct reports whether the message is in a direct conversation.
func (m *Msg) Direct() bool { return m.s.room < 0 }

const threadWindow = 40

// cursor walks one stream oldest-first (dir > 0) or newest-first.
type cursor struct {
	w       *world
	s       *stream
	dir     int
	i       int64
	tau     int64
	started bool
	r       *rng
	m       Msg
	// ring remembers recent times (oldest-first walks) so thread replies
	// can name their root's time, which Gitter ids encode.
	ring [threadWindow + 1]int64
}

func (w *world) cursor(s *stream, forward bool) *cursor {
	c := &cursor{w: w, s: s, dir: 1, r: newRNG()}
	if !forward {
		c.dir = -1
	}
	c.m.s = s
	return c
}

// next fills the cursor's Msg with the next message; false at the end.
func (c *cursor) next() (*Msg, bool) {
	s := c.s
	if s.n == 0 {
		return nil, false
	}
	if !c.started {
		c.started = true
		if c.dir > 0 {
			c.i, c.tau = 0, s.tauStart
		} else {
			c.i, c.tau = s.n-1, s.tauEnd
		}
	} else if c.dir > 0 {
		if c.i+1 >= s.n {
			return nil, false
		}
		c.i++
		c.tau += c.w.gap(s, c.i)
	} else {
		if c.i == 0 {
			return nil, false
		}
		c.tau -= c.w.gap(s, c.i)
		c.i--
	}
	m := &c.m
	m.Index = c.i
	m.SentUS = fromActive(c.tau)
	if c.i+1 < s.n {
		m.NextSentUS = fromActive(c.tau + c.w.gap(s, c.i+1))
	} else {
		m.NextSentUS = -1
	}
	if c.dir > 0 {
		c.ring[c.i%int64(len(c.ring))] = m.SentUS
	}
	c.w.fill(c.r, m)
	if m.Parent >= 0 && c.dir > 0 {
		m.ParentUS = c.ring[m.Parent%int64(len(c.ring))]
	}
	return m, true
}

// isRoot and threadParent decide thread structure from hashes alone, so
// that a root can count its replies without generating them.
func (w *world) isRoot(s *stream, i int64) bool {
	return s.room >= 0 && unit(hash3(w.cfg.Seed, uint64(s.idx), uint64(i), tagThreadRoot)) < 0.03
}

func (w *world) threadParent(s *stream, i int64) int64 {
	if s.room < 0 || w.isRoot(s, i) || unit(hash3(w.cfg.Seed, uint64(s.idx), uint64(i), tagReply)) >= 0.12 {
		return -1
	}
	for j := i - 1; j >= 0 && j >= i-threadWindow; j-- {
		if w.isRoot(s, j) {
			return j
		}
	}
	return -1
}

func (w *world) threadCount(s *stream, j int64) int {
	n := 0
	for i := j + 1; i < s.n && i <= j+threadWindow; i++ {
		if w.isRoot(s, i) {
			break
		}
		if w.threadParent(s, i) == j {
			n++
		}
	}
	return n
}

// hasAttachment and attachmentOf depend only on the message's coordinates,
// so a format can list a stream's files without generating its messages.
func (w *world) hasAttachment(s *stream, i int64) bool {
	return w.cfg.AttachmentRate > 0 && unit(hash3(w.cfg.Seed, uint64(s.idx), uint64(i), tagAttach)) < w.cfg.AttachmentRate
}

func (w *world) attachmentOf(s *stream, i int64, a *attachment) {
	h := hash3(w.cfg.Seed, uint64(s.idx), uint64(i), tagBlob)
	r := newRNGSeeded(h)
	kind := attachmentNames[r.IntN(len(attachmentNames))]
	a.CType = kind.ctype
	a.Name = kind.base
	if r.IntN(3) == 0 {
		a.Name += " (" + strconv.Itoa(r.IntN(20)+1) + ")"
	}
	if kind.ext != "" {
		a.Name += "." + kind.ext
	}
	size := logNormal(r, 24<<10, 1.6)
	if kind.ctype == "video/mp4" {
		size *= 8
	}
	a.Size = int64(math.Max(1, math.Min(float64(w.cfg.MaxAttachmentSize), size)))
	if r.IntN(200) == 0 {
		a.Size = 0 // empty files happen
	}
	a.Seed = h
	a.Dir = token(h, 6)
}

func newRNGSeeded(h uint64) *rng { r := newRNG(); r.seed(h); return r }

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// token spells n characters of h in letters and digits.
func token(h uint64, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = tokenAlphabet[h%uint64(len(tokenAlphabet))]
		h /= uint64(len(tokenAlphabet))
		if h == 0 {
			h = mix(uint64(i) + 1)
		}
	}
	return string(b)
}

// fill decides everything about message m.Index of its stream.
func (w *world) fill(r *rng, m *Msg) {
	s := m.s
	r.seed(hash3(w.cfg.Seed, uint64(s.idx), uint64(m.Index), tagMsg))
	m.Segs = m.Segs[:0]
	m.Mentions = m.Mentions[:0]
	m.All, m.Here = false, false
	m.Reactions = m.Reactions[:0]
	m.reactUsers = m.reactUsers[:0]
	m.EditedUS = 0
	m.Integration = ""
	m.Kind = kindNormal
	m.Attach = nil
	m.ThreadCount = 0
	m.Parent = -1
	m.ParentUS = 0

	users := len(w.users)
	if s.room < 0 {
		if r.IntN(2) == 0 {
			m.Sender, m.Receiver = s.a, s.b
		} else {
			m.Sender, m.Receiver = s.b, s.a
		}
	} else {
		m.Sender = s.member(zipfIndex(r.Float64(), s.members, 1.2), users)
		m.Receiver = -1
		switch x := r.Float64(); {
		case x < s.notifyRate:
			m.Kind = kindNotification
			m.Integration = integrations[zipfIndex(r.Float64(), len(integrations), 1.0)]
		case x < s.notifyRate+0.0005:
			m.Kind = kindTopic
		case x < s.notifyRate+0.0155:
			m.Kind = kindEmote
		}
		m.Parent = w.threadParent(s, m.Index)
		if w.isRoot(s, m.Index) {
			m.ThreadCount = w.threadCount(s, m.Index)
		}
	}

	switch m.Kind {
	case kindTopic:
		m.Segs = append(m.Segs, seg{kind: segText, text: pick(r, roomTopics[1:])})
	case kindNotification:
		w.notificationText(r, m)
	default:
		w.bodyText(r, m)
	}

	if m.Kind == kindNormal && r.Float64() < 0.05 {
		m.EditedUS = m.SentUS + 1_000_000 + r.Int64N(599_000_000)
	}
	if m.Kind != kindTopic && r.Float64() < 0.06 {
		nr := 1 + zipfIndex(r.Float64(), 3, 1.5)
		for k := 0; k < nr; k++ {
			start := len(m.reactUsers)
			nu := 1 + zipfIndex(r.Float64(), min(6, s.members), 1.3)
			for u := 0; u < nu; u++ {
				id := s.member(r.IntN(s.members), users)
				dup := false
				for _, x := range m.reactUsers[start:] {
					dup = dup || x == id
				}
				if !dup {
					m.reactUsers = append(m.reactUsers, id)
				}
			}
			m.Reactions = append(m.Reactions, reaction{emoji: (k*3 + r.IntN(len(reactionEmoji))) % len(reactionEmoji)})
			m.Reactions[len(m.Reactions)-1].users = m.reactUsers[start:len(m.reactUsers):len(m.reactUsers)]
		}
		// Distinct emoji per message.
		for a := 1; a < len(m.Reactions); a++ {
			for b := 0; b < a; b++ {
				if m.Reactions[a].emoji == m.Reactions[b].emoji {
					m.Reactions[a].emoji = (m.Reactions[a].emoji + 1 + a) % len(reactionEmoji)
					b = -1
				}
			}
		}
	}
	if m.Kind != kindTopic && w.hasAttachment(s, m.Index) {
		w.attachmentOf(s, m.Index, &m.att)
		m.Attach = &m.att
	}
}

func (w *world) addMention(m *Msg, u int) {
	m.Segs = append(m.Segs, seg{kind: segMention, user: u})
	for _, x := range m.Mentions {
		if x == u {
			return
		}
	}
	m.Mentions = append(m.Mentions, u)
}

func (w *world) bodyText(r *rng, m *Msg) {
	s := m.s
	users := len(w.users)
	other := func() int { return s.member(zipfIndex(r.Float64(), s.members, 1.1), users) }

	if r.Float64() < 0.12 {
		m.Segs = append(m.Segs, seg{kind: segText, text: pick(r, greetings)})
		return
	}
	if s.room >= 0 && r.Float64() < 0.08 {
		w.addMention(m, other())
	}
	if s.room >= 0 {
		switch x := r.Float64(); {
		case x < 0.004:
			m.All = true
			m.Segs = append(m.Segs, seg{kind: segAll})
		case x < 0.007:
			m.Here = true
			m.Segs = append(m.Segs, seg{kind: segHere})
		}
	}
	if r.Float64() < 0.025 {
		cs := codeSnippets[r.IntN(len(codeSnippets))]
		if r.Float64() < 0.4 {
			m.Segs = append(m.Segs, seg{kind: segCodeBlock, lang: cs[0], text: cs[1]})
			return
		}
		defer func() {
			m.Segs = append(m.Segs, seg{kind: segBreak}, seg{kind: segCodeBlock, lang: cs[0], text: cs[1]})
		}()
	}
	nWords := int(math.Min(120, math.Max(1, logNormal(r, 9, 0.8))))
	long := r.Float64() < 0.001
	if long {
		nWords = 300 + r.IntN(3000) // up to ~20 KB
	}
	for k := 0; k < nWords; k++ {
		x := r.Float64()
		switch {
		case x < 0.004:
			w.addMention(m, other())
		case x < 0.006:
			if r.IntN(2) == 0 {
				m.Segs = append(m.Segs, seg{kind: segIssue, num: 1 + zipfIndex(r.Float64(), 5000, 1.1)})
			} else {
				m.Segs = append(m.Segs, seg{kind: segIssue, text: pick(r, repos), num: 1 + r.IntN(40000)})
			}
		case x < 0.010:
			m.Segs = append(m.Segs, seg{kind: segURL, text: pick(r, urls)})
		case x < 0.016:
			m.Segs = append(m.Segs, seg{kind: segCode, text: pick(r, words) + "()"})
		case x < 0.020:
			m.Segs = append(m.Segs, seg{kind: segText, text: pick(r, cjkPhrases)})
		case x < 0.022:
			m.Segs = append(m.Segs, seg{kind: segText, text: pick(r, rtlPhrases)})
		case x < 0.030:
			m.Segs = append(m.Segs, seg{kind: segText, text: pick(r, emojiLiterals)})
		case x < 0.035:
			m.Segs = append(m.Segs, seg{kind: segEmoji, text: pick(r, emojiShortcodes)})
		case x < 0.039:
			if r.IntN(3) == 0 {
				m.Segs = append(m.Segs, seg{kind: segEmoticon, text: "(" + pick(r, w.emoticons) + ")"})
			} else {
				m.Segs = append(m.Segs, seg{kind: segEmoticon, text: pick(r, builtinEmoticons)})
			}
		case x < 0.042:
			m.Segs = append(m.Segs, seg{kind: segRaw, text: pick(r, markdownOddities)})
		case x < 0.046:
			m.Segs = append(m.Segs, seg{kind: segBold, text: pick(r, words)})
		case x < 0.052 || (long && x < 0.07):
			m.Segs = append(m.Segs, seg{kind: segBreak})
		default:
			m.Segs = append(m.Segs, seg{kind: segText, text: pick(r, words)})
		}
	}
}

func (w *world) notificationText(r *rng, m *Msg) {
	n := 1 + r.IntN(9000)
	switch m.Integration {
	case "JIRA":
		m.Segs = append(m.Segs, seg{kind: segText, text: "PROJ-" + strconv.Itoa(n) + " updated: " + pick(r, words) + " " + pick(r, words)})
	case "Jenkins":
		m.Segs = append(m.Segs, seg{kind: segText, text: "Build #" + strconv.Itoa(n) + " " + pick(r, []string{"SUCCESS", "FAILURE", "UNSTABLE", "ABORTED"})})
	case "Bitbucket", "GitHub":
		m.Segs = append(m.Segs, seg{kind: segText, text: "Pull request opened:"}, seg{kind: segIssue, text: pick(r, repos), num: n})
	default:
		m.Segs = append(m.Segs, seg{kind: segText, text: m.Integration + ": " + pick(r, words) + " " + pick(r, words) + " " + pick(r, words)})
	}
	if r.IntN(3) == 0 {
		m.Segs = append(m.Segs, seg{kind: segURL, text: pick(r, urls)})
	}
}
