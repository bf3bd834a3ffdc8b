package jobs

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// workerEnv makes the test binary a worker process: the fault and
// PostgreSQL tests start it (twice, or kill it with SIGKILL) to have real,
// separate worker processes on one queue.
const workerEnv = "MIGRATE_JOBS_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(workerMain())
	}
	os.Exit(m.Run())
}

func workerMain() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	lease, _ := time.ParseDuration(os.Getenv("MIGRATE_JOBS_TEST_LEASE"))
	beat, _ := time.ParseDuration(os.Getenv("MIGRATE_JOBS_TEST_HEARTBEAT"))
	q, err := Open(ctx, Config{
		DataDir:   os.Getenv("MIGRATE_JOBS_TEST_DATA"),
		Database:  os.Getenv("MIGRATE_JOBS_TEST_DATABASE"),
		Workers:   1,
		Lease:     lease,
		Heartbeat: beat,
		Log:       zerolog.New(os.Stderr).Level(zerolog.InfoLevel).With().Timestamp().Str("process", fmt.Sprint(os.Getpid())).Logger(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	if err := q.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	fmt.Fprintln(os.Stdout, "worker ready")
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := q.Close(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	return 0
}
