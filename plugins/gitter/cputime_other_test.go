//go:build !unix

package gitter

import "time"

func cpuTime() time.Duration { return 0 }
