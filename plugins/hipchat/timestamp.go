package hipchat

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeLayouts are the forms HipChat and its API used besides its own
// "Z microseconds" form, tried in order.
var timeLayouts = []string{
	time.RFC3339Nano,                     // 2018-06-16T23:01:40.827038Z, 2018-01-04T10:16:02.809766+00:00
	"2006-01-02T15:04:05.999999999-0700", // 2015-08-21T06:32:37+0000 (legacy Cloud export)
	"2006-01-02T15:04:05.999999999",      // no zone: taken as UTC
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// parseTime reads a HipChat timestamp. The export's own form is
// "2018-08-08T14:23:54Z 626267": UTC seconds, "Z", a space and the
// microseconds as six digits. ISO 8601 forms from the API and from Stride
// are accepted too. The result is in UTC.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if base, frac, ok := strings.Cut(s, "Z "); ok {
		t, err := time.Parse("2006-01-02T15:04:05", base)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q: %w", s, err)
		}
		if frac == "" || len(frac) > 9 {
			return time.Time{}, fmt.Errorf("timestamp %q: want six digits of microseconds after \"Z \"", s)
		}
		n, err := strconv.ParseUint(frac, 10, 32)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q: bad microseconds %q", s, frac)
		}
		// Six digits are microseconds; scale other widths as a decimal
		// fraction so that "5" means half a second, not 5 µs.
		ns := int64(n)
		for i := len(frac); i < 9; i++ {
			ns *= 10
		}
		return t.Add(time.Duration(ns)).UTC(), nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q: not a HipChat time (want 2018-08-08T14:23:54Z 626267 or ISO 8601)", s)
}

// formatTime writes t in the export's form, truncated to microseconds.
func formatTime(t time.Time) string {
	t = t.UTC()
	return t.Format("2006-01-02T15:04:05") + "Z " + fmt.Sprintf("%06d", t.Nanosecond()/1000)
}

// formatCreated writes a user's or room's creation time as the export does.
func formatCreated(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05+00:00")
}

// epochTime converts the legacy export's Unix seconds; 0 means unknown.
func epochTime(sec int64) *time.Time {
	if sec <= 0 {
		return nil
	}
	t := time.Unix(sec, 0).UTC()
	return &t
}
