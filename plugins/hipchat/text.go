package hipchat

import (
	"regexp"
	"strings"

	"github.com/migrate-chat/migrate/sdk"
)

// HipChat's slash commands that change how a message reads. The prefix
// stays in the export's text; canonical bodies carry their meaning instead.
const (
	slashCode  = "/code"
	slashQuote = "/quote"
	slashMe    = "/me"
)

// cutSlash reports whether text starts with the slash command cmd followed
// by a space or a line break, and returns what follows.
func cutSlash(text, cmd string) (string, bool) {
	rest, ok := strings.CutPrefix(text, cmd)
	if !ok {
		return "", false
	}
	if rest == "" {
		return "", true
	}
	switch rest[0] {
	case ' ':
		return rest[1:], true
	case '\n':
		return rest[1:], true
	case '\r':
		return strings.TrimPrefix(rest[1:], "\n"), true
	}
	return "", false
}

// textToMarkdown turns a plain-text HipChat message into a canonical body
// and kind. /code becomes a fenced block, /quote a block quote, /me an
// emote; (shortcut) emoticons become :shortcode: references. Plain text is
// otherwise kept as written: people typed it for HipChat's plain renderer
// and escaping every '*' would make the common case worse.
func (r *reader) textToMarkdown(text string) (string, sdk.MessageKind) {
	if code, ok := cutSlash(text, slashCode); ok {
		return fenced(code), sdk.MessageNormal
	}
	if q, ok := cutSlash(text, slashQuote); ok {
		lines := strings.Split(r.emoticons(q), "\n")
		for i, l := range lines {
			if l == "" {
				lines[i] = ">"
			} else {
				lines[i] = "> " + l
			}
		}
		return strings.Join(lines, "\n"), sdk.MessageNormal
	}
	if me, ok := cutSlash(text, slashMe); ok {
		return r.emoticons(me), sdk.MessageEmote
	}
	return r.emoticons(text), sdk.MessageNormal
}

var emoticonToken = regexp.MustCompile(`\(([A-Za-z0-9]{1,100})\)`)

// emoticons replaces (shortcut) tokens by :shortcode: references: a custom
// emoticon's own shortcut first, then HipChat's built-ins that have a
// standard emoji. Unknown tokens stay as written.
func (r *reader) emoticons(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	return emoticonToken.ReplaceAllStringFunc(s, func(tok string) string {
		name := strings.ToLower(tok[1 : len(tok)-1])
		if code, ok := r.custom[name]; ok {
			return ":" + code + ":"
		}
		if code, ok := builtinEmoticons[name]; ok {
			return ":" + code + ":"
		}
		return tok
	})
}

var specialMention = regexp.MustCompile(`(?:^|[^\w@])@(all|here)\b`)

// specialMentions finds @all and @here in text, in order of appearance.
func specialMentions(text string) []sdk.Mention {
	if !strings.Contains(text, "@all") && !strings.Contains(text, "@here") {
		return nil
	}
	var out []sdk.Mention
	seen := map[string]bool{}
	for _, m := range specialMention.FindAllStringSubmatch(text, -1) {
		if seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		kind := sdk.MentionAll
		if m[1] == "here" {
			kind = sdk.MentionHere
		}
		out = append(out, sdk.Mention{Kind: kind, Text: m[1]})
	}
	return out
}

// builtinEmoticons maps HipChat's built-in (shortcut) emoticons that have
// a standard emoji to its shortcode (the Unicode/Zulip names the canonical
// form uses, as in "thumbs_up"). Meme emoticons without an emoji
// equivalent ((allthethings), (yuno), …) are deliberately absent: their
// text stays as written rather than turning into a wrong picture.
var builtinEmoticons = map[string]string{
	"thumbsup":        "thumbs_up",
	"thumbsdown":      "thumbs_down",
	"upvote":          "thumbs_up",
	"downvote":        "thumbs_down",
	"beer":            "beer",
	"greenbeer":       "beer",
	"cake":            "cake",
	"coffee":          "coffee",
	"tea":             "tea",
	"heart":           "heart",
	"taco":            "taco",
	"cookie":          "cookie",
	"poo":             "poop",
	"ninja":           "ninja",
	"fireworks":       "fireworks",
	"present":         "gift",
	"tree":            "christmas_tree",
	"santa":           "santa",
	"shamrock":        "shamrock",
	"boom":            "boom",
	"zzz":             "zzz",
	"goldstar":        "star",
	"shrug":           "shrug",
	"facepalm":        "face_palm",
	"pumpkin":         "jack-o-lantern",
	"turkey":          "turkey",
	"bunny":           "rabbit",
	"pingpong":        "ping_pong",
	"pirate":          "pirate_flag",
	"chef":            "cook",
	"bicepleft":       "muscle",
	"bicepright":      "muscle",
	"menorah":         "menorah",
	"basket":          "basket",
	"lol":             "laughing",
	"haha":            "laughing",
	"rudolph":         "deer",
	"android":         "robot",
	"waiting":         "hourglass",
	"disappear":       "dash",
	"omg":             "astonished",
	"ohmy":            "astonished",
	"wtf":             "face_with_symbols_on_mouth",
	"huh":             "confused",
	"meh":             "neutral",
	"okay":            "ok",
	"success":         "check",
	"failed":          "cross_mark",
	"salute":          "salute",
	"tableflip":       "upside_down",
	"pride":           "rainbow_flag",
	"rockon":          "rock_on",
	"smile":           "smile",
	"sadpanda":        "cry",
	"fu":              "middle_finger",
	"drool":           "drooling",
	"whoa":            "exploding_head",
	"mindblown":       "exploding_head",
	"candycorn":       "candy",
	"dealwithit":      "sunglasses",
	"content":         "relieved",
	"stare":           "expressionless",
	"notsureif":       "thinking",
	"cereal":          "bowl_with_spoon",
	"cerealspit":      "bowl_with_spoon",
	"chocobunny":      "rabbit",
	"kwanzaa":         "candle",
	"pbr":             "beer",
	"vote":            "ballot_box",
	"unknown":         "question",
	"continue":        "arrow_forward",
	"standup":         "standing_person",
	"awesome":         "star_struck",
	"excellent":       "ok_hand",
	"nice":            "ok_hand",
	"yey":             "tada",
	"areyoukiddingme": "unamused",
}

// builtinReverse maps a standard shortcode back to one HipChat built-in,
// for writing canonical bodies as HipChat text. Where several built-ins
// share an emoji, the first in alphabetical order wins, so that the choice
// is stable.
var builtinReverse = func() map[string]string {
	out := map[string]string{}
	for hc, std := range builtinEmoticons {
		if prev, ok := out[std]; !ok || hc < prev {
			out[std] = hc
		}
	}
	return out
}()
