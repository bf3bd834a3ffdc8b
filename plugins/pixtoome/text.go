package pixtoome

import (
	"fmt"
	"github.com/migrate-chat/migrate/plugins/pixtoome/check"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// truncateRunes shortens s to at most max characters, ending it with
// ellipsis (counted in max) when it had to be cut.
func truncateRunes(s string, max int, ellipsis string) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	keep := max - utf8.RuneCountInString(ellipsis)
	i := 0
	for n := 0; n < keep && i < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace) + ellipsis
}

// topicFromText makes a topic name out of a thread's first message: its
// first line with text, without Markdown block markers, with spaces
// collapsed, cut to the topic length limit as the server cuts topics.
func topicFromText(body string) string {
	for line := range strings.SplitSeq(body, "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimLeft(line, "#>*-+ \t")
		line = strings.Join(strings.FieldsFunc(line, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r)
		}), " ")
		if line == "" || strings.HasPrefix(line, "```") {
			continue
		}
		return truncateRunes(line, MaxTopic, "...")
	}
	return ""
}

// cleanTopic makes a topic the source named acceptable: one line, no
// control characters, within the length limit.
func cleanTopic(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	return truncateRunes(s, MaxTopic, "...")
}

// validEmail is the check the importer makes of every address.
func validEmail(s string) bool { return check.ValidEmail(s) }

// emailLocal turns a username into an e-mail local part: letters, digits
// and . _ - + kept, everything else replaced by '-'.
func emailLocal(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-+", r)):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), ".-")
	for strings.Contains(out, "..") {
		out = strings.ReplaceAll(out, "..", ".")
	}
	if len(out) > 64 {
		out = strings.TrimRight(out[:64], ".")
	}
	return out
}

// hasControl reports whether s holds a control character, which stream
// names may not.
func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// mentionSyntax renders a user mention the way the server parses it; the
// id form disambiguates users who share a name.
func mentionSyntax(name string, id int64, ambiguous bool) string {
	if ambiguous {
		return "@**" + name + "|" + strconv.FormatInt(id, 10) + "**"
	}
	return "@**" + name + "**"
}

// replaceMention replaces each "@"+text in body that is not followed by a
// word character (so "@ann" does not touch "@anna") with repl. It reports
// whether anything was replaced.
func replaceMention(body, text, repl string) (string, bool) {
	if text == "" {
		return body, false
	}
	needle := "@" + text
	var b strings.Builder
	found := false
	rest := body
	for {
		i := strings.Index(rest, needle)
		if i < 0 {
			break
		}
		end := i + len(needle)
		if end < len(rest) {
			r, _ := utf8.DecodeRuneInString(rest[end:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' {
				b.WriteString(rest[:end])
				rest = rest[end:]
				continue
			}
		}
		// "@" glued to a preceding word is an e-mail address, not a mention.
		if i > 0 {
			r, _ := utf8.DecodeLastRuneInString(rest[:i])
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteString(rest[:end])
				rest = rest[end:]
				continue
			}
		}
		if b.Len() == 0 {
			b.Grow(len(body) + len(repl))
		}
		b.WriteString(rest[:i])
		b.WriteString(repl)
		rest = rest[end:]
		found = true
	}
	if !found {
		return body, false
	}
	b.WriteString(rest)
	return b.String(), true
}

// parsedMention is a mention found in message content.
type parsedMention struct {
	// Name is the text between the stars, without the "|id" part.
	Name string
	// ID is the user id of the "|id" form, or 0.
	ID int64
	// Raw is the whole syntax without the leading "@".
	Raw string
}

// wildcardNames are the mention names that address everyone.
var wildcardNames = map[string]bool{"all": true, "everyone": true, "stream": true, "channel": true, "topic": true}

// parseMentions finds the "@**Name**" and "@**Name|id**" mentions in
// content. Silent mentions ("@_**Name**") notify nobody and are left out.
func parseMentions(content string) []parsedMention {
	var out []parsedMention
	rest := content
	for {
		i := strings.Index(rest, "@**")
		if i < 0 {
			return out
		}
		body := rest[i+3:]
		j := strings.Index(body, "**")
		if j <= 0 || strings.IndexByte(body[:j], '\n') >= 0 {
			rest = rest[i+3:]
			continue
		}
		inner := body[:j]
		pm := parsedMention{Name: inner, Raw: "**" + inner + "**"}
		if k := strings.LastIndexByte(inner, '|'); k >= 0 && allDigits(inner[k+1:]) {
			if id, err := strconv.ParseInt(inner[k+1:], 10, 64); err == nil {
				pm.Name, pm.ID = inner[:k], id
			}
		}
		out = append(out, pm)
		rest = body[j+2:]
	}
}

// emojiCodes maps common shortcodes to the Unicode code points the server
// names a reaction's image by. Reactions whose shortcode is neither here
// nor an emoji character itself are reported and left out.
var emojiCodes = map[string]string{
	"+1": "1f44d", "thumbs_up": "1f44d", "thumbsup": "1f44d", "like": "1f44d",
	"-1": "1f44e", "thumbs_down": "1f44e", "thumbsdown": "1f44e",
	"heart": "2764", "broken_heart": "1f494", "blue_heart": "1f499", "green_heart": "1f49a",
	"yellow_heart": "1f49b", "purple_heart": "1f49c",
	"smile": "1f604", "big_smile": "1f604", "smiley": "1f603", "grinning": "1f600", "grin": "1f601",
	"joy": "1f602", "laughing": "1f606", "satisfied": "1f606", "wink": "1f609", "blush": "1f60a",
	"slight_smile": "1f642", "slightly_smiling_face": "1f642", "heart_eyes": "1f60d",
	"thinking": "1f914", "thinking_face": "1f914", "cry": "1f622", "sob": "1f62d",
	"angry": "1f620", "rage": "1f621", "confused": "1f615", "disappointed": "1f61e",
	"scream": "1f631", "sweat_smile": "1f605", "stuck_out_tongue": "1f61b", "sunglasses": "1f60e",
	"neutral_face": "1f610", "expressionless": "1f611", "open_mouth": "1f62e", "astonished": "1f632",
	"flushed": "1f633", "relieved": "1f60c", "pensive": "1f614", "upside_down": "1f643",
	"rolling_eyes": "1f644", "tada": "1f389", "party_popper": "1f389", "confetti_ball": "1f38a",
	"clap": "1f44f", "pray": "1f64f", "raised_hands": "1f64c", "wave": "1f44b", "ok_hand": "1f44c",
	"point_up": "261d", "muscle": "1f4aa", "eyes": "1f440", "fire": "1f525", "rocket": "1f680",
	"star": "2b50", "sparkles": "2728", "100": "1f4af", "white_check_mark": "2705", "check": "2714",
	"heavy_check_mark": "2714", "x": "274c", "warning": "26a0", "question": "2753",
	"exclamation": "2757", "bulb": "1f4a1", "beer": "1f37a", "coffee": "2615", "cake": "1f370",
	"pizza": "1f355", "trophy": "1f3c6", "bug": "1f41b", "zap": "26a1", "boom": "1f4a5",
	"skull": "1f480", "poop": "1f4a9", "hankey": "1f4a9", "robot": "1f916", "see_no_evil": "1f648",
	"facepalm": "1f926", "shrug": "1f937", "hourglass": "231b", "lock": "1f512", "key": "1f511",
	"memo": "1f4dd", "link": "1f517", "email": "1f4e7", "calendar": "1f4c5", "gift": "1f381",
	"sun": "2600", "cloud": "2601", "umbrella": "2614", "snowflake": "2744", "rainbow": "1f308",
	"dog": "1f436", "cat": "1f431", "unicorn": "1f984", "octopus": "1f419", "heart_eyes_cat": "1f63b",
	"smiley_cat": "1f63a", "money": "1f4b0", "chart": "1f4c8",
}

// emojiCode returns the code the server stores for a Unicode reaction.
func emojiCode(name string) (string, bool) {
	if c, ok := emojiCodes[strings.ToLower(strings.Trim(name, ":"))]; ok {
		return c, true
	}
	// The reaction is the emoji itself ("👍").
	var parts []string
	for _, r := range name {
		if r == 0xFE0F || r == 0x200D {
			continue
		}
		if r < 0x2000 {
			return "", false
		}
		parts = append(parts, fmt.Sprintf("%x", r))
	}
	if len(parts) == 0 {
		return "", false
	}
	return strings.Join(parts, "-"), true
}

// emojiName turns a custom emoji's shortcode into a name the server
// accepts: lower-case letters, digits, '_' and '-', not ending in either.
func emojiName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.Trim(s, ":() ")) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return strings.TrimRight(b.String(), "_-")
}

// sanitizeFileName keeps a file name safe in a path: no separators, no
// leading dots, no control characters.
func sanitizeFileName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || unicode.IsControl(r) || r == '?' || r == '#' || r == '%' || unicode.IsSpace(r) {
			return '_'
		}
		return r
	}, s)
	s = strings.TrimLeft(s, ".")
	if s == "" {
		s = "file"
	}
	return truncateRunes(s, 100, "")
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// continuedMark ends every part but the last of a message split to fit the
// server's length limit. The source recognises it and joins the parts
// again, so a round trip gives back the original text.
const continuedMark = "\n\n*(continued in the next message)*"

// splitMessage cuts text into parts of at most max characters, marks included,
// preferring to cut after a newline near the end of each part. Joining the
// parts after removing the marks gives text back exactly.
func splitMessage(text string, max int) []string {
	if utf8.RuneCountInString(text) <= max {
		return []string{text}
	}
	room := max - utf8.RuneCountInString(continuedMark)
	var parts []string
	for utf8.RuneCountInString(text) > max {
		// Byte offset of the room-th rune.
		cut, n := 0, 0
		for cut < len(text) && n < room {
			_, size := utf8.DecodeRuneInString(text[cut:])
			cut += size
			n++
		}
		// A newline in the last tenth makes a tidier cut.
		if nl := strings.LastIndexByte(text[:cut], '\n'); nl > 0 && utf8.RuneCountInString(text[nl+1:cut]) < room/10 {
			cut = nl + 1
		}
		parts = append(parts, text[:cut]+continuedMark)
		text = text[cut:]
	}
	return append(parts, text)
}
