package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Both profiling variables leave a gzip-compressed pprof profile behind;
// an unwritable path is reported and the run goes on.
func TestProfilesAreWritten(t *testing.T) {
	dir := t.TempDir()
	cpu, heap := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "heap.pprof")
	var stderr bytes.Buffer
	stopCPU := startCPUProfile(cpu, &stderr)
	stopHeap := startHeapProfile(heap, &stderr)
	var keep [][]byte
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		keep = append(keep, make([]byte, 64<<10))
	}
	stopHeap()
	stopCPU()
	_ = keep
	for _, p := range []string{cpu, heap} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s is not a pprof profile (%d bytes)", filepath.Base(p), len(b))
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("unexpected complaints: %s", stderr.String())
	}
	startCPUProfile(filepath.Join(dir, "missing", "cpu.pprof"), &stderr)()
	if !bytes.Contains(stderr.Bytes(), []byte("MIGRATE_CPU_PROFILE")) {
		t.Errorf("an unwritable CPU profile path was not reported: %q", stderr.String())
	}
}
