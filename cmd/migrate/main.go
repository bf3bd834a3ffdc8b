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
	"io"
	"os"
	"os/signal"
	"syscall"
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

// Main runs the command line in-process; tests call it directly.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newApp(stdin, stdout, stderr, os.Getenv).run(ctx, args)
}
