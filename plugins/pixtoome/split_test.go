package pixtoome

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func checkSplit(t *testing.T, text string, max int) {
	t.Helper()
	parts := splitMessage(text, max)
	var joined strings.Builder
	for i, p := range parts {
		if n := utf8.RuneCountInString(p); n > max {
			t.Fatalf("part %d has %d characters, more than %d", i, n, max)
		}
		if i < len(parts)-1 {
			if !strings.HasSuffix(p, continuedMark) {
				t.Fatalf("part %d lacks the continuation mark", i)
			}
			p = strings.TrimSuffix(p, continuedMark)
		}
		joined.WriteString(p)
	}
	if joined.String() != text {
		t.Fatalf("parts do not join back into the text")
	}
}

func TestSplitMessage(t *testing.T) {
	for _, text := range []string{
		"short",
		strings.Repeat("é", 25000),
		strings.Repeat("line of text\n", 2000),
		strings.Repeat("🎉", 10001),
		strings.Repeat("x", 9999) + "\n" + strings.Repeat("y", 5000),
	} {
		checkSplit(t, text, MaxMessage)
	}
}

func FuzzSplitMessage(f *testing.F) {
	f.Add("abc\ndef", 50)
	f.Fuzz(func(t *testing.T, text string, max int) {
		if max < utf8.RuneCountInString(continuedMark)+1 || max > 5000 || !utf8.ValidString(text) {
			t.Skip()
		}
		checkSplit(t, text, max)
	})
}
