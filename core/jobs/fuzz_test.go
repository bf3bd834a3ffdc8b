package jobs

import (
	"testing"
)

// FuzzParseAge: any text either parses to a non-negative age or is
// refused with an error; nothing panics.
func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"7", "7d", "2w", "36h", "1.5d", "-1", "", "1e308", "NaN", "9999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseAge(s)
		if err == nil && d < 0 {
			t.Fatalf("ParseAge(%q) = %v", s, d)
		}
	})
}
