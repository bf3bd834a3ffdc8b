package jobs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseAge reads an age as HipChat's --purge-older-than took it, a number
// of days ("7"), or with a unit: "7d", "2w", "36h", "90m".
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, fmt.Errorf("empty age: give a number of days such as 7 or 7d")
	}
	unit := time.Duration(24 * time.Hour)
	num := s
	switch {
	case strings.HasSuffix(s, "d"):
		num = s[:len(s)-1]
	case strings.HasSuffix(s, "w"):
		num, unit = s[:len(s)-1], 7*24*time.Hour
	case strings.HasSuffix(s, "h"), strings.HasSuffix(s, "m"), strings.HasSuffix(s, "s"):
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("age %q: give days (7 or 7d), weeks (2w) or hours (36h)", s)
		}
		return d, nil
	}
	n, err := strconv.ParseFloat(num, 64)
	// Written so that NaN, which fails every comparison, is refused too.
	if err != nil || !(n >= 0 && n <= 100000) {
		return 0, fmt.Errorf("age %q: give days (7 or 7d), weeks (2w) or hours (36h)", s)
	}
	return time.Duration(n * float64(unit)), nil
}
