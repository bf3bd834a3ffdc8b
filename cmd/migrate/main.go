// Command migrate converts a team's chat history from one chat system to
// another: users, rooms, conversations, messages, files and emoji.
//
//	migrate --from gitter --to pixtoome gitter_data.json -o converted/
//	migrate --from hipchat-server --to pixtoome export.tar.gz.aes --passphrase-file pw -o converted/
//	migrate export --from hipchat-cloud export.tar.gz.aes -o workspace.tar.gz
//	migrate import --to pixtoome workspace.tar.gz -o converted/
//	migrate validate workspace.tar.gz
//	migrate inspect export.tar.gz.aes
//	migrate adapters
//
// Exit codes: 0 success, 1 success with warnings, 2 failure, 64 bad usage.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startCPUProfile(os.Getenv("MIGRATE_CPU_PROFILE"), os.Stderr)
	stopHeap := startHeapProfile(os.Getenv("MIGRATE_HEAP_PROFILE"), os.Stderr)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stopHeap()
	stopProfile()
	stop()
	os.Exit(code)
}

// startHeapProfile keeps at path (MIGRATE_HEAP_PROFILE) a pprof heap
// profile taken when the live heap was at its largest, checked once a
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

// Main runs the command line in-process; tests call it directly.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newApp(stdin, stdout, stderr, os.Getenv).run(ctx, args)
}
