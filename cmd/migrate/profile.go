package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// startHeapProfile keeps at path (MIGRATE_HEAP_PROFILE) a pprof heap
// profile taken when the heap in use was at its largest, checked once a
// second: the profile to read when a conversion uses too much memory.
func startHeapProfile(path string, stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc <= peak+peak/20 {
				continue
			}
			peak = ms.HeapAlloc
			f, err := os.Create(path)
			if err == nil {
				err = pprof.WriteHeapProfile(f)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Fprintf(stderr, "migrate: MIGRATE_HEAP_PROFILE: %v\n", err)
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// startCPUProfile writes a pprof CPU profile of the whole run to path when
// it is set (MIGRATE_CPU_PROFILE), for reports of slow conversions.
func startCPUProfile(path string, stderr io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "migrate: MIGRATE_CPU_PROFILE: %v; running without a profile\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
