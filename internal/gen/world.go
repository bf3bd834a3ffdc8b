package gen

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Config says what to generate. Zero fields take defaults that scale with
// Messages.
type Config struct {
	// Messages is the total number of messages: room messages plus direct
	// messages (each direct message counted once, although HipChat writes
	// it into both participants' files).
	Messages int64
	// Seed makes the output reproducible: the same Config gives the same
	// bytes.
	Seed uint64
	// Users and Rooms default to values that grow slowly with Messages.
	Users int
	Rooms int
	// AttachmentRate is the share of messages that carry a file; zero
	// means the default (0.4 %), negative means none.
	AttachmentRate float64
	// MaxAttachmentSize caps a file's size; 0 means 4 MiB.
	MaxAttachmentSize int64
	// DirectShare is the share of messages that are direct messages, for
	// formats that have them; zero means the default (10 %), negative
	// means none.
	DirectShare float64
	// ExportTime is when the export was taken; zero means a fixed date
	// that suits the format.
	ExportTime time.Time
	// Passphrase encrypts HipChat archives; "" means DefaultPassphrase.
	Passphrase string
	// GzipLevel compresses HipChat archives; 0 means gzip.BestSpeed, since
	// decompression speed hardly depends on the level and generation of
	// millions of messages should not wait on compression.
	GzipLevel int
	// Progress, when set, is called now and then with messages done.
	Progress func(done, total int64)
}

// DefaultPassphrase encrypts HipChat archives when Config.Passphrase is
// empty.
const DefaultPassphrase = "migrate-gen"

// user is one generated person, bot or integration account.
type user struct {
	idx         int
	first, last string
	asciiFirst  string
	asciiLast   string
	guest       bool
	deleted     bool
	admin       bool
	virtual     bool // seen through the Matrix bridge (Gitter)
	provider    string
	tz          string
	created     time.Time
}

// stream is one room's or one direct conversation's message sequence.
type stream struct {
	idx      int   // position in world.streams
	room     int   // room index, or -1 for a direct conversation
	conv     int   // conversation index, or -1
	n        int64 // messages
	meanGap  float64
	tauEnd   int64 // active time of the newest message
	tauStart int64 // active time of the oldest message
	// members is the room's membership as an affine walk over users:
	// member k is (mulA*k + addB) mod users. It costs O(1) memory and gives
	// each room a different cast of most active people.
	members    int
	mulA, addB int
	a, b       int // conversation participants
	private    bool
	archived   bool
	guest      bool // guest access enabled
	created    time.Time
	topic      string
	name       string
	notifyRate float64 // share of integration (notification) messages
}

// world is everything that is not a message: users, rooms, conversations.
// It is O(users + rooms) in size.
type world struct {
	cfg        Config
	users      []user
	rooms      []*stream
	convs      []*stream
	streams    []*stream
	exportTime time.Time
	// emoticons are the custom emoji shortcodes of HipChat and canonical
	// formats.
	emoticons []string
}

func (c Config) withDefaults(format string) Config {
	if c.Messages < 0 {
		c.Messages = 0
	}
	if c.Users <= 0 {
		c.Users = int(math.Min(20000, math.Max(12, 3*math.Sqrt(float64(c.Messages)))))
	}
	if c.Rooms <= 0 {
		c.Rooms = int(math.Min(2000, math.Max(3, float64(c.Messages)/4000)))
	}
	switch {
	case c.AttachmentRate == 0:
		c.AttachmentRate = 0.004
	case c.AttachmentRate < 0:
		c.AttachmentRate = 0
	}
	if c.MaxAttachmentSize <= 0 {
		c.MaxAttachmentSize = 4 << 20
	}
	switch {
	case c.DirectShare == 0:
		c.DirectShare = 0.10
	case c.DirectShare < 0:
		c.DirectShare = 0
	}
	if c.ExportTime.IsZero() {
		switch format {
		case "hipchat-cloud-zip":
			c.ExportTime = time.Date(2017, 6, 12, 16, 4, 11, 0, time.UTC)
		case "gitter-rest", "gitter-items", "gitter-ndjson":
			c.ExportTime = time.Date(2020, 11, 3, 9, 41, 7, 0, time.UTC)
		case "gitter-matrix":
			c.ExportTime = time.Date(2024, 10, 16, 19, 19, 7, 63e6, time.UTC)
		default:
			c.ExportTime = time.Date(2018, 8, 8, 23, 23, 22, 0, time.UTC)
		}
	}
	if c.Passphrase == "" {
		c.Passphrase = DefaultPassphrase
	}
	return c
}

// newWorld lays out users, rooms and conversations and computes each
// stream's time span. It walks every message's time gap once (cheap: one
// hash and one logarithm each) so that both walking directions agree.
func newWorld(cfg Config, direct bool) *world {
	w := &world{cfg: cfg, exportTime: cfg.ExportTime.UTC()}
	r := newRNG()
	w.users = make([]user, cfg.Users)
	for i := range w.users {
		w.users[i] = makeUser(cfg.Seed, i, w.exportTime, r)
	}
	for i := 0; i < 12; i++ {
		w.emoticons = append(w.emoticons, emoticonNames[i%len(emoticonNames)])
	}

	nDirect := int64(0)
	nConvs := 0
	if direct && cfg.Users >= 2 {
		nDirect = int64(math.Round(float64(cfg.Messages) * cfg.DirectShare))
		nConvs = int(math.Min(float64(cfg.Users)*2, math.Max(1, float64(nDirect)/50)))
	}
	nRoom := cfg.Messages - nDirect
	roomSizes := zipfSplit(nRoom, cfg.Rooms, 1.1)
	convSizes := zipfSplit(nDirect, nConvs, 1.0)

	for i, n := range roomSizes {
		r.seed(hash3(cfg.Seed, uint64(i), 0, tagStream))
		s := &stream{room: i, conv: -1, n: n}
		s.private = r.Float64() < 0.25
		s.archived = r.Float64() < 0.08
		s.guest = !s.private && r.Float64() < 0.1
		// Big rooms have most of the people; small rooms a handful.
		frac := math.Min(1, 0.02+float64(n)/float64(max(1, nRoom))*3+r.Float64()*0.1)
		s.members = max(2, min(cfg.Users, int(float64(cfg.Users)*frac)))
		if s.private { // private rooms are small teams
			s.members = min(s.members, 3+r.IntN(300))
		}
		s.mulA, s.addB = coprimeStep(r, cfg.Users), r.IntN(cfg.Users)
		s.name = roomName(i, r)
		s.topic = pick(r, roomTopics)
		if r.Float64() < 0.3 || i == 1 {
			s.notifyRate = 0.02 + r.Float64()*0.15
		}
		w.rooms = append(w.rooms, s)
	}
	for i, n := range convSizes {
		r.seed(hash3(cfg.Seed, uint64(i), 1, tagStream))
		s := &stream{room: -1, conv: i, n: n, members: 2}
		// Active people talk to each other most.
		s.a = zipfIndex(r.Float64(), cfg.Users, 1.05)
		s.b = zipfIndex(r.Float64(), cfg.Users, 1.05)
		if s.a == s.b {
			if r.Float64() < 0.05 { // notes to self exist
				s.b = s.a
			} else {
				s.b = (s.a + 1 + r.IntN(cfg.Users-1)) % cfg.Users
			}
		}
		w.convs = append(w.convs, s)
	}
	w.streams = append(append(w.streams, w.rooms...), w.convs...)

	endActive := toActive(w.exportTime.Sub(epoch).Microseconds())
	for i, s := range w.streams {
		s.idx = i
		r.seed(hash3(cfg.Seed, uint64(i), 2, tagStream))
		// Wall-clock span: bigger streams ran longer; a few ended early.
		days := 30 + 1400*math.Pow(float64(s.n)/float64(max(1, cfg.Messages)), 0.3)*(0.5+r.Float64())
		end := endActive
		if r.Float64() < 0.2 {
			end -= int64(r.Float64() * 200 * 24 * 0.3 * float64(hourMicros) * 100)
		}
		// Active units in that span, at an average weight of about 30.
		span := days * 24 * float64(hourMicros) * 30
		s.meanGap = math.Max(float64(activeUnitsPerWorkSecond)/100, span/float64(max(1, s.n)))
		var total int64
		for k := int64(1); k < s.n; k++ {
			total += w.gap(s, k)
		}
		s.tauEnd = end
		s.tauStart = end - total
		s.created = wallTime(fromActive(s.tauStart)).Add(-time.Duration(1+r.IntN(90*24)) * time.Hour).Truncate(time.Second)
	}
	return w
}

// gap is the active time between message k-1 and message k of s: mostly
// short (conversation bursts), sometimes long (lulls).
func (w *world) gap(s *stream, k int64) int64 {
	h := hash3(w.cfg.Seed, uint64(s.idx), uint64(k), tagGap)
	u := unit(h)
	mean := s.meanGap
	var g float64
	if h&0xff < 166 { // ~65 %: in a burst
		g = -math.Log(1-u) * mean * 0.15
	} else {
		g = -math.Log(1-u) * mean * 2.57
	}
	return int64(g) + activeUnitsPerWorkSecond/100 // at least 10 ms of working time
}

// member returns the user index of room member k.
func (s *stream) member(k, users int) int {
	if s.room < 0 {
		if k == 0 {
			return s.a
		}
		return s.b
	}
	return (s.mulA*k + s.addB) % users
}

// coprimeStep picks a multiplier coprime with n, so that k -> a*k mod n is
// a permutation.
func coprimeStep(r *rng, n int) int {
	if n <= 1 {
		return 1
	}
	for {
		a := 1 + r.IntN(n-1)
		if gcd(a, n) == 1 {
			return a
		}
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// zipfSplit divides total into n parts proportional to 1/(i+1)^s, exactly
// (largest remainders), so a few streams are huge and most are small.
func zipfSplit(total int64, n int, s float64) []int64 {
	if n <= 0 {
		return nil
	}
	ws := make([]float64, n)
	var sum float64
	for i := range ws {
		ws[i] = 1 / math.Pow(float64(i+1), s)
		sum += ws[i]
	}
	out := make([]int64, n)
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, n)
	var used int64
	for i := range ws {
		x := float64(total) * ws[i] / sum
		out[i] = int64(x)
		used += out[i]
		rems[i] = rem{i, x - float64(out[i])}
	}
	sort.Slice(rems, func(a, b int) bool {
		if rems[a].f != rems[b].f {
			return rems[a].f > rems[b].f
		}
		return rems[a].i < rems[b].i
	})
	for k := 0; used < total; k++ {
		out[rems[k%n].i]++
		used++
	}
	return out
}

func makeUser(seed uint64, i int, exportTime time.Time, r *rng) user {
	r.seed(hash3(seed, uint64(i), 0, tagUser))
	fi := i % len(firstNames)
	// Spread last names so neighbouring (equally active) users differ;
	// 11 and 13 are coprime with 30, so pairs stay unique within a cycle.
	li := (11*(i/len(firstNames)) + 13*fi) % len(lastNames)
	u := user{idx: i, first: firstNames[fi][0], asciiFirst: firstNames[fi][1], last: lastNames[li][0], asciiLast: lastNames[li][1]}
	// The most active users (low indices) are never guests or deleted.
	if i >= 3 {
		u.guest = r.Float64() < 0.03
		u.deleted = r.Float64() < 0.04
		u.virtual = r.Float64() < 0.02
	}
	u.admin = i == 0 || r.Float64() < 0.02
	switch x := r.Float64(); {
	case x < 0.06:
		u.provider = "_twitter"
	case x < 0.09:
		u.provider = "_gitlab"
	}
	u.tz = pick(r, timeZones)
	u.created = exportTime.AddDate(-7, 0, 0).Add(time.Duration(r.Int64N(int64(5 * 365 * 24 * time.Hour)))).Truncate(time.Second)
	return u
}

// suffix makes names unique once the name pools repeat.
func (u *user) suffix() string {
	n := u.idx / (len(firstNames) * len(lastNames))
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n + 1)
}

// displayName is the user's full name, in their own script.
func (u *user) displayName() string {
	if u.last == "" {
		return u.first + u.suffix()
	}
	return u.first + " " + u.last + u.suffix()
}

// handle is an ASCII login: "jdoe", "jane.roe2".
func (u *user) handle() string {
	return u.asciiFirst + u.asciiLast + u.suffix()
}

// mentionName is HipChat's @name: FirstLast.
func (u *user) mentionName() string { return u.handle() }

func roomName(i int, r *rng) string {
	base := roomBases[i%len(roomBases)]
	if n := i / len(roomBases); n > 0 {
		base = fmt.Sprintf("%s %d", base, n+1)
	}
	_ = r
	return base
}
