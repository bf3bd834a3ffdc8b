package engine

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// fold is the case-insensitive form of a name.
func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// cut shortens s to at most max characters (runes); max 0 means no limit.
func cut(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

// withSuffix appends suffix to s, shortening s so that the result stays
// within max characters.
func withSuffix(s, suffix string, max int) string {
	if max <= 0 {
		return s + suffix
	}
	keep := max - utf8.RuneCountInString(suffix)
	if keep < 1 {
		keep = 1
	}
	return cut(s, keep) + suffix
}

// uniqueName returns s shortened to max characters and, when that is taken,
// the first free name with a numbered suffix made by suffix(n).
func uniqueName(s string, max int, taken func(string) bool, suffix func(n int) string) string {
	c := cut(s, max)
	for n := 2; taken(c); n++ {
		c = withSuffix(s, suffix(n), max)
	}
	return c
}

func roomSuffix(n int) string { return fmt.Sprintf(" (%d)", n) }
func userSuffix(n int) string { return fmt.Sprint(n) }

// replaceForbidden replaces each character of s found in forbidden with a
// replacement character the target allows.
func replaceForbidden(s, forbidden string) string {
	if forbidden == "" || !strings.ContainsAny(s, forbidden) {
		return s
	}
	repl := "_"
	for _, r := range []string{"_", "-", " "} {
		if !strings.Contains(forbidden, r) {
			repl = r
			break
		}
	}
	if strings.Contains(forbidden, repl) {
		repl = ""
	}
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(forbidden, r) {
			if repl == "" {
				return -1
			}
			return []rune(repl)[0]
		}
		return r
	}, s)
}

// validEmail is a deliberately loose check: one @ with something on each
// side, no spaces. Targets do their own stricter checks.
func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n<>,;") && strings.Count(s, "@") == 1
}

// localPart makes an e-mail local part out of a name.
func localPart(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune("._-+", r):
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('.')
		}
	}
	return strings.Trim(b.String(), ".")
}

// whyRenamed says, for a notice, why a name had to change: too long, or
// taken once shortened to fit.
func whyRenamed(name string, max int) string {
	if max > 0 && utf8.RuneCountInString(name) > max {
		return fmt.Sprintf("is longer than %d characters", max)
	}
	return "is already taken"
}
