package recordjson

import (
	"math/rand/v2"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// Pieces of text that exercise every escaping rule.
var textPieces = []string{
	"hello", "world", " ", "Deploy of build 42", "**bold**", "`code`",
	"<b>", "</a>", "&amp;", "a<b>c&d", "\"quoted\"", `back\slash`, "/", "\\n",
	"\n", "\r\n", "\t", "\b", "\f", "\x00", "\x01", "\x1f", "\x7f",
	"é", "ünïcödé", "日本語", "🚀", "👍🏽", "\u2028", "\u2029", "\u2027", "\u202a", "\ufffd", "\ufeff",
	"\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
	"@all", "#195", "http://example.com/?a=1&b=<2>",
}

func randText(r *rand.Rand, maxPieces int) string {
	n := r.IntN(maxPieces + 1)
	var b strings.Builder
	for range n {
		b.WriteString(textPieces[r.IntN(len(textPieces))])
	}
	return b.String()
}

// randID is an identifier-like string, now and then with odd characters.
func randID(r *rand.Rand) string {
	if r.IntN(10) == 0 {
		return randText(r, 3)
	}
	const alnum = "0123456789abcdef"
	b := make([]byte, 1+r.IntN(24))
	for i := range b {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return string(b)
}

var zones = []*time.Location{
	time.UTC,
	time.FixedZone("", 3600),
	time.FixedZone("", -5*3600),
	time.FixedZone("", 5*3600+30*60),
	time.FixedZone("", -(9*3600 + 30*60)),
	time.FixedZone("CEST", 2*3600),
	time.FixedZone("", 14*3600),
	time.FixedZone("", 0),
}

// randTime gives times in and now and then out of what JSON can hold.
func randTime(r *rand.Rand) time.Time {
	sec := r.Int64N(4_102_444_800) // 1970 … 2100
	switch r.IntN(20) {
	case 0:
		sec = r.Int64N(253_402_300_799+62_135_596_800) - 62_135_596_800 // year 1 … 9999
	case 1:
		sec = 253_402_300_799 + r.Int64N(2) // the last second of 9999, or 10000
	case 2:
		sec = -62_167_219_200 - r.Int64N(2) // year 0 or -1
	}
	var nsec int64
	switch r.IntN(4) {
	case 1:
		nsec = r.Int64N(1_000_000_000)
	case 2:
		nsec = r.Int64N(1000) * 1_000_000
	case 3:
		nsec = r.Int64N(10) * 100_000_000
	}
	t := time.Unix(sec, nsec)
	switch r.IntN(40) {
	case 0:
		return t.In(time.FixedZone("", 24*3600)) // refused by MarshalJSON
	case 1:
		return t.In(time.FixedZone("", -(25*3600 + 60)))
	case 2:
		return time.Time{}
	}
	return t.In(zones[r.IntN(len(zones))])
}

func randTimePtr(r *rand.Rand) *time.Time {
	if r.IntN(3) == 0 {
		return nil
	}
	t := randTime(r)
	return &t
}

func maybe(r *rand.Rand, s string) string {
	if r.IntN(2) == 0 {
		return ""
	}
	return s
}

// randStrings returns nil, an empty slice or a few strings.
func randStrings(r *rand.Rand) []string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	ss := make([]string, 1+r.IntN(4))
	for i := range ss {
		ss[i] = randID(r)
	}
	return ss
}

func randExtra(r *rand.Rand) map[string]string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return map[string]string{}
	}
	n := 1 + r.IntN(5)
	if r.IntN(5) == 0 {
		n = 20 + r.IntN(40)
	}
	m := make(map[string]string, n)
	for range n {
		m[randText(r, 2)] = randText(r, 3)
	}
	return m
}

var messageKindValues = []sdk.MessageKind{"normal", "emote", "notification", "topic_change", "system", "", "Normal", "other<>"}
var mentionKindValues = []sdk.MentionKind{"user", "all", "here", "group", "", "USER", "x\u2028"}

func randMessage(r *rand.Rand) *sdk.Message {
	m := &sdk.Message{
		ID:             randID(r),
		Kind:           messageKindValues[r.IntN(len(messageKindValues))],
		Room:           maybe(r, randID(r)),
		Conversation:   maybe(r, randID(r)),
		Sender:         randID(r),
		SenderName:     maybe(r, randText(r, 3)),
		SentAt:         randTime(r),
		EditedAt:       randTimePtr(r),
		Body:           randText(r, 12),
		Original:       maybe(r, randText(r, 12)),
		OriginalFormat: maybe(r, "gitter-markdown"),
		ThreadRoot:     maybe(r, randID(r)),
		Topic:          maybe(r, randText(r, 3)),
		ReplyTo:        maybe(r, randID(r)),
		Attachments:    randStrings(r),
		Deleted:        r.IntN(5) == 0,
		Extra:          randExtra(r),
	}
	switch r.IntN(4) {
	case 1:
		m.Edits = []sdk.Edit{}
	case 2, 3:
		for range 1 + r.IntN(3) {
			m.Edits = append(m.Edits, sdk.Edit{EditedAt: randTime(r), Body: randText(r, 6), Editor: maybe(r, randID(r))})
		}
	}
	switch r.IntN(4) {
	case 1:
		m.Mentions = []sdk.Mention{}
	case 2, 3:
		for range 1 + r.IntN(3) {
			m.Mentions = append(m.Mentions, sdk.Mention{
				Kind: mentionKindValues[r.IntN(len(mentionKindValues))],
				User: maybe(r, randID(r)), Text: maybe(r, randText(r, 2)),
			})
		}
	}
	switch r.IntN(4) {
	case 1:
		m.Reactions = []sdk.Reaction{}
	case 2, 3:
		for range 1 + r.IntN(3) {
			m.Reactions = append(m.Reactions, sdk.Reaction{
				Emoji: randText(r, 2), Custom: r.IntN(3) == 0, Users: randStrings(r),
			})
		}
	}
	return m
}

func randAttachment(r *rand.Rand) *sdk.Attachment {
	sizes := []int64{0, 1, 1 << 20, -1, 9_223_372_036_854_775_807, -9_223_372_036_854_775_808, 999_999_999_999_999_999, 1_000_000_000_000_000_000}
	return &sdk.Attachment{
		ID:          randID(r),
		Message:     randID(r),
		Name:        randText(r, 4),
		Size:        sizes[r.IntN(len(sizes))] + r.Int64N(3) - 1,
		ContentType: maybe(r, "image/png"),
		SHA256:      maybe(r, randID(r)),
		URL:         maybe(r, "https://files.example.com/a?b=1&c=<d>"),
		Path:        maybe(r, randText(r, 3)),
		Uploader:    maybe(r, randID(r)),
		CreatedAt:   randTimePtr(r),
	}
}
