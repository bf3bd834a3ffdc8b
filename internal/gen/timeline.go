package gen

import "time"

// Activity follows the working week. Time is modelled as "active time"
// that passes at a rate set by the hour of the week; messages are spaced
// in active time, so they bunch up in working hours and thin out at night
// and at weekends. The mapping is monotonic and exact in integers, so a
// stream produces the same timestamps whether walked forwards or
// backwards.

// hourWeights is the relative chat activity of each hour of a weekday and
// of a weekend day, in percent of the busiest hour.
var (
	weekdayWeights = [24]int64{3, 2, 2, 2, 2, 3, 5, 10, 40, 100, 100, 95, 60, 90, 100, 100, 95, 70, 35, 15, 15, 12, 8, 5}
	weekendWeights = [24]int64{3, 2, 2, 2, 2, 2, 2, 3, 5, 8, 12, 12, 12, 12, 12, 12, 12, 10, 10, 10, 8, 6, 4, 3}
)

const (
	hourMicros = int64(time.Hour / time.Microsecond)
	weekHours  = 168
)

// weekTable holds each hour's weight and the active time before it.
type weekTable struct {
	weight [weekHours]int64
	cum    [weekHours + 1]int64 // active units before hour h
}

// epoch is a Monday, the origin of every stream's timeline.
var epoch = time.Date(2012, 1, 2, 0, 0, 0, 0, time.UTC)

var week = func() *weekTable {
	t := &weekTable{}
	for h := 0; h < weekHours; h++ {
		day, hr := h/24, h%24
		w := weekdayWeights[hr]
		if day >= 5 {
			w = weekendWeights[hr]
		}
		t.weight[h] = w
		t.cum[h+1] = t.cum[h] + w*hourMicros
	}
	return t
}()

// activeUnitsPerWorkSecond converts seconds of busiest-hour time into
// active units (an active unit is a microsecond at weight 1).
const activeUnitsPerWorkSecond = 100 * int64(time.Second/time.Microsecond)

// toActive maps microseconds since epoch to active time.
func toActive(us int64) int64 {
	w := us / (weekHours * hourMicros)
	rem := us - w*weekHours*hourMicros
	h := rem / hourMicros
	return w*week.cum[weekHours] + week.cum[h] + (rem-h*hourMicros)*week.weight[h]
}

// fromActive maps active time back to microseconds since epoch.
func fromActive(a int64) int64 {
	total := week.cum[weekHours]
	w := a / total
	rem := a - w*total
	// Binary search for the hour that holds rem.
	lo, hi := 0, weekHours-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if week.cum[mid] <= rem {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	h := int64(lo)
	return w*weekHours*hourMicros + h*hourMicros + (rem-week.cum[h])/week.weight[h]
}

// wallTime turns microseconds since epoch into a time.
func wallTime(us int64) time.Time { return epoch.Add(time.Duration(us) * time.Microsecond) }

// unixSec turns microseconds since epoch into Unix seconds.
func unixSec(us int64) int64 { return epoch.Unix() + us/1_000_000 }
