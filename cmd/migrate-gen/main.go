// Command migrate-gen writes large, realistic, deterministic chat exports
// for tests and benchmarks.
//
//	go run ./cmd/migrate-gen --format hipchat-server --messages 1000000 --seed 1 -o /tmp/export.tar.gz.aes
//
// Output is streamed: memory stays flat from a few messages to ten
// million. Run with --list to see the formats. HipChat archives are
// encrypted with the passphrase from --passphrase-file, else
// $MIGRATE_PASSPHRASE, else "migrate-gen".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/internal/gen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "migrate-gen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("migrate-gen", flag.ContinueOnError)
	var (
		format   = fs.String("format", "", "export format to write (see --list)")
		messages = fs.Int64("messages", 10000, "total number of messages")
		seed     = fs.Uint64("seed", 1, "random seed; the same seed gives the same output")
		out      = fs.String("o", "", "output file or directory")
		users    = fs.Int("users", 0, "number of users (0: grows with --messages)")
		rooms    = fs.Int("rooms", 0, "number of rooms (0: grows with --messages)")
		attach   = fs.Float64("attachments", -1, "share of messages with a file, 0..1; 0 for none (default 0.004)")
		maxAtt   = fs.Int64("max-attachment-size", 0, "largest file in bytes (0: 4 MiB)")
		direct   = fs.Float64("direct", -1, "share of direct messages where the format has them, 0..1; 0 for none (default 0.10)")
		passFile = fs.String("passphrase-file", "", "file holding the passphrase for encrypted archives")
		level    = fs.Int("gzip-level", 0, "gzip level for HipChat archives, 1..9 (0: 1, fastest)")
		list     = fs.Bool("list", false, "list the formats and exit")
		quiet    = fs.Bool("q", false, "no progress on stderr")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: migrate-gen --format F --messages N --seed S -o OUT [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *list {
		for _, f := range gen.Formats() {
			fmt.Printf("%-18s %s\n", f, gen.FormatDoc(f))
		}
		return nil
	}
	if *format == "" || *out == "" {
		fs.Usage()
		return errors.New("--format and -o are required")
	}
	pass := os.Getenv("MIGRATE_PASSPHRASE")
	if *passFile != "" {
		b, err := os.ReadFile(*passFile)
		if err != nil {
			return fmt.Errorf("read passphrase: %w", err)
		}
		pass = strings.TrimRight(string(b), "\r\n")
	}
	// The library reads 0 as "default" and a negative share as "none".
	share := func(v float64) float64 {
		switch {
		case v < 0:
			return 0
		case v == 0:
			return -1
		}
		return v
	}
	cfg := gen.Config{
		Messages: *messages, Seed: *seed, Users: *users, Rooms: *rooms,
		AttachmentRate: share(*attach), MaxAttachmentSize: *maxAtt, DirectShare: share(*direct),
		Passphrase: pass, GzipLevel: *level,
	}
	start := time.Now()
	if !*quiet {
		cfg.Progress = func(done, total int64) {
			el := time.Since(start).Seconds()
			fmt.Fprintf(os.Stderr, "migrate-gen: %d/%d messages (%.0f%%), %.1fs, %.0f msg/s\n",
				done, total, 100*float64(done)/float64(max(total, 1)), el, float64(done)/max(el, 1e-9))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st, err := gen.Generate(ctx, *format, cfg, *out)
	if err != nil {
		return err
	}
	sec := st.Duration.Seconds()
	fmt.Fprintf(os.Stderr, "migrate-gen: wrote %s: %d messages, %d users, %d rooms, %d files, %.1f MB in %.2fs (%.0f msg/s, %.1f MB/s)\n",
		st.Path, st.Messages, st.Users, st.Rooms, st.Files, float64(st.Bytes)/1e6, sec,
		float64(st.Messages)/sec, float64(st.Bytes)/1e6/sec)
	return nil
}
