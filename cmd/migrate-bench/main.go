// Command migrate-bench measures migrate end to end on generated exports
// and compares it with the physical floor of the same input.
//
//	go run ./cmd/migrate-bench                       # small scale: 100,000 messages per pipeline
//	go run ./cmd/migrate-bench --scale 1m --out results.json
//	go run ./cmd/migrate-bench --scale 1m --compare results.json
//	go run ./cmd/migrate-bench --scale scaling --pipelines hipchat-server-pixtoome
//	go run ./cmd/migrate-bench --go-bench [--benchstat old.txt]
//
// It builds the migrate binary once, generates each input with
// internal/gen into a cache directory (keyed by format, size and seed, so
// later runs reuse it), runs every pipeline as a subprocess
// ("migrate --from X --to Y INPUT -o OUT", the passphrase in
// MIGRATE_PASSPHRASE) and records wall time and peak resident memory. In
// the same run it measures the floor for the same input:
//
//   - encrypted HipChat archives: the time of
//     "openssl enc -d -aes-256-cbc -md md5 | tar xz", run through sh;
//   - JSON inputs (Gitter, canonical archives): the time for one pass of
//     encoding/json over every .json and .ndjson file, streaming each
//     value into a json.RawMessage (which scans and validates it without
//     building anything), in this process on one goroutine, with the files
//     already in the page cache. encoding/json is the only JSON decoder in
//     the module graph.
//
// The ratio to the floor says how much of the time is the conversion
// itself. A pipeline whose adapters the migrate binary does not have is
// reported as unavailable with the reason, not as a failure.
//
// --go-bench runs the testing.B benchmarks of every package
// ("go test -run ^$ -bench . -benchmem -count 5 ./...") into a file in
// benchstat's input format; --benchstat OLD compares it with an earlier one
// by running golang.org/x/perf/cmd/benchstat@latest (fetched by the go
// command, not a module dependency).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "migrate-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate-bench", flag.ContinueOnError)
	var o Options
	var pipes, sizes string
	fs.StringVar(&o.Scale, "scale", "small", "small (100,000 messages), 1m (1,000,000) or scaling (100k, 1M and 10M for one pipeline)")
	fs.Int64Var(&o.Messages, "messages", 0, "messages per pipeline, overriding --scale")
	fs.StringVar(&sizes, "sizes", "", "comma-separated sizes for --scale scaling (default 100000,1000000,10000000)")
	fs.StringVar(&pipes, "pipelines", "", "comma-separated pipelines to run (default all): "+strings.Join(pipelineNames(), ", "))
	fs.Uint64Var(&o.Seed, "seed", 1, "generator seed")
	fs.IntVar(&o.Users, "users", 0, "generate this many users (0: grows with the messages, as in real exports)")
	fs.IntVar(&o.Rooms, "rooms", 0, "generate this many rooms (0: grows with the messages); with --users, isolates memory per message in --scale scaling")
	fs.StringVar(&o.Out, "out", "", "write the results as JSON to this file")
	fs.StringVar(&o.Compare, "compare", "", "compare with the results in this JSON file")
	fs.StringVar(&o.CacheDir, "cache", "", "where generated inputs are kept (default $TMPDIR/migrate-bench-cache)")
	fs.StringVar(&o.WorkDir, "work", "", "where outputs and the binary go (default a temporary directory, removed afterwards)")
	fs.StringVar(&o.Migrate, "migrate", "", "use this migrate binary instead of building ./cmd/migrate")
	fs.BoolVar(&o.Quiet, "q", false, "no progress on stderr")
	goBench := fs.Bool("go-bench", false, "run the Go benchmarks of every package into a benchstat file instead")
	benchOut := fs.String("go-bench-out", "", "file for --go-bench output (default bench-<time>.txt)")
	benchCount := fs.Int("count", 5, "with --go-bench: runs of each benchmark")
	benchFilter := fs.String("bench", ".", "with --go-bench: benchmark name pattern")
	benchPkgs := fs.String("pkgs", "./...", "with --go-bench: packages")
	benchstat := fs.String("benchstat", "", "with --go-bench: compare with this earlier --go-bench file using benchstat")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: migrate-bench [--scale small|1m|scaling] [--out results.json] [--compare old.json]\n       migrate-bench --go-bench [--benchstat old.txt]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *goBench {
		return runGoBench(ctx, GoBenchOptions{Out: *benchOut, Count: *benchCount, Filter: *benchFilter, Pkgs: *benchPkgs, Old: *benchstat})
	}
	if pipes != "" {
		o.Pipelines = strings.Split(pipes, ",")
	}
	if sizes != "" {
		for _, s := range strings.Split(sizes, ",") {
			var n int64
			if _, err := fmt.Sscan(strings.TrimSpace(s), &n); err != nil || n <= 0 {
				return fmt.Errorf("--sizes: %q is not a positive number", s)
			}
			o.Sizes = append(o.Sizes, n)
		}
	}
	o.Log = os.Stderr
	rep, err := Run(ctx, o)
	if err != nil {
		return err
	}
	printTable(os.Stdout, rep)
	if o.Out != "" {
		if err := rep.Save(o.Out); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "migrate-bench: results written to %s\n", o.Out)
	}
	if o.Compare != "" {
		old, err := LoadReport(o.Compare)
		if err != nil {
			return err
		}
		printCompare(os.Stdout, old, rep)
	}
	return nil
}
