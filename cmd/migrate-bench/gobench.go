package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// GoBenchOptions configures --go-bench.
type GoBenchOptions struct {
	Out    string
	Count  int
	Filter string
	Pkgs   string
	// Old is an earlier output to compare with through benchstat.
	Old string
}

// runGoBench runs every package's testing.B benchmarks and keeps their
// output, which is benchstat's input format.
func runGoBench(ctx context.Context, o GoBenchOptions) error {
	if o.Out == "" {
		o.Out = "bench-" + time.Now().Format("20060102-150405") + ".txt"
	}
	if o.Count <= 0 {
		o.Count = 5
	}
	f, err := os.Create(o.Out)
	if err != nil {
		return err
	}
	args := []string{"test", "-run", "^$", "-bench", o.Filter, "-benchmem", "-count", fmt.Sprint(o.Count), o.Pkgs}
	fmt.Fprintf(os.Stderr, "migrate-bench: go %v > %s\n", args, o.Out)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Stdout = io.MultiWriter(f, os.Stdout)
	cmd.Stderr = os.Stderr
	runErr := cmd.Run()
	if err := f.Close(); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("go test -bench: %w (partial output in %s)", runErr, o.Out)
	}
	if o.Old == "" {
		fmt.Fprintf(os.Stderr, "migrate-bench: compare later with: go run ./cmd/migrate-bench --go-bench --benchstat %s\n", o.Out)
		return nil
	}
	cmd = exec.CommandContext(ctx, "go", "run", "golang.org/x/perf/cmd/benchstat@latest", o.Old, o.Out)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("benchstat: %w", err)
	}
	return nil
}
