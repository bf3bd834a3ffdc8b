package container

import (
	"fmt"
	"strconv"
)

// Limits bound what unpacking an untrusted archive may produce. A zero field
// takes its value from DefaultLimits; a negative field switches that limit
// off. The limits are checked while bytes are written, so unpacking stops as
// soon as one is exceeded rather than after the damage is done.
type Limits struct {
	// MaxTotalBytes bounds the bytes written for all entries together
	// (including bytes decompressed and skipped after the end of a tar).
	MaxTotalBytes int64
	// MaxFiles bounds the number of entries (files, directories, links).
	MaxFiles int
	// MaxFileBytes bounds the bytes written for any one entry.
	MaxFileBytes int64
	// MaxRatio bounds unpacked bytes divided by input bytes read so far. It
	// is checked only once more than ratioFloor bytes have been unpacked, so
	// small, very compressible files are not refused.
	MaxRatio float64
}

// ratioFloor is the unpacked size below which MaxRatio is not checked.
const ratioFloor = 1 << 20

const (
	gib = 1 << 30
	mib = 1 << 20
)

// DefaultLimits returns limits generous enough for any real chat export
// (HipChat exports with files run to tens of gigabytes) while still stopping
// a decompression bomb long before it fills a disk: 200 GiB in total,
// 5,000,000 entries, 100 GiB for one file and a compression ratio of 1000
// (gzip cannot exceed about 1030 on any input, so only other formats or
// crafted streams reach it).
func DefaultLimits() Limits {
	return Limits{
		MaxTotalBytes: 200 * gib,
		MaxFiles:      5_000_000,
		MaxFileBytes:  100 * gib,
		MaxRatio:      1000,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxTotalBytes == 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxFiles == 0 {
		l.MaxFiles = d.MaxFiles
	}
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxRatio == 0 {
		l.MaxRatio = d.MaxRatio
	}
	return l
}

func errTotalBytes(l Limits) error {
	return &LimitError{Limit: "MaxTotalBytes", Flag: "--max-total-bytes", Value: humanBytes(l.MaxTotalBytes),
		What: "the total unpacked size"}
}

func errFileBytes(l Limits) error {
	return &LimitError{Limit: "MaxFileBytes", Flag: "--max-file-bytes", Value: humanBytes(l.MaxFileBytes),
		What: "the unpacked size of this entry"}
}

func errFiles(l Limits) error {
	return &LimitError{Limit: "MaxFiles", Flag: "--max-files", Value: strconv.Itoa(l.MaxFiles),
		What: "the number of entries"}
}

func errRatio(l Limits, unpacked, consumed int64) error {
	return &LimitError{Limit: "MaxRatio", Flag: "--max-ratio", Value: strconv.FormatFloat(l.MaxRatio, 'g', -1, 64),
		What: "the compression ratio",
		Detail: fmt.Sprintf("%s unpacked from %s of input looks like a decompression bomb",
			humanBytes(unpacked), humanBytes(consumed))}
}

// humanBytes prints n in the largest binary unit it reaches, with one
// decimal unless the unit divides it exactly.
func humanBytes(n int64) string {
	units := []struct {
		size int64
		name string
	}{{1 << 40, "TiB"}, {gib, "GiB"}, {mib, "MiB"}, {1 << 10, "KiB"}}
	for _, u := range units {
		if n >= u.size {
			v := float64(n) / float64(u.size)
			s := strconv.FormatFloat(v, 'f', 1, 64)
			if n%u.size == 0 {
				s = strconv.FormatInt(n/u.size, 10)
			}
			return s + " " + u.name
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
