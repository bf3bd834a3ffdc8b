//go:build unix

package gitter

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, so that benchmarks on a
// shared machine can report throughput per CPU-second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
