package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSuiteTiny runs the whole suite at 2,000 messages per pipeline, with
// the real migrate binary built from this tree, so that the harness keeps
// working as the code changes. Pipelines whose adapters the binary lacks
// must be reported as unavailable; every other one must succeed with sane
// numbers.
func TestSuiteTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the migrate binary and runs every pipeline")
	}
	work := t.TempDir()
	rep, err := Run(context.Background(), Options{Scale: "small", Messages: 2000, Seed: 1,
		CacheDir: filepath.Join(work, "cache"), WorkDir: filepath.Join(work, "work"), Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(pipelines) {
		t.Fatalf("%d results, want one per pipeline (%d)", len(rep.Results), len(pipelines))
	}
	ran := 0
	for _, r := range rep.Results {
		switch r.Status {
		case "unavailable":
			if !strings.Contains(r.Reason, "adapter") {
				t.Errorf("%s: unavailable without naming the missing adapter: %q", r.Pipeline, r.Reason)
			}
		case "ok":
			ran++
			if r.Messages != 2000 || r.Seconds <= 0 || r.MsgPerSec <= 0 || r.PeakRSSMiB <= 0 || r.InputBytes <= 0 || r.OutputBytes <= 0 {
				t.Errorf("%s: implausible measurement %+v", r.Pipeline, r)
			}
			if r.FloorSeconds <= 0 || r.Ratio <= 0 || r.WriteFloorSeconds <= 0 || r.WriteRatio <= 0 {
				t.Errorf("%s: no floor measured: %+v", r.Pipeline, r)
			}
		default:
			t.Errorf("%s: %s: %s", r.Pipeline, r.Status, r.Reason)
		}
	}
	t.Logf("%d of %d pipelines available", ran, len(rep.Results))
	for _, g := range rep.Generator {
		if g.Bytes <= 0 || g.MsgPerSec <= 0 {
			t.Errorf("generator %s: implausible %+v", g.Format, g)
		}
	}

	// The table names every pipeline; the JSON round-trips; comparing a
	// run with itself shows no change.
	var tab bytes.Buffer
	printTable(&tab, rep)
	for _, p := range pipelines {
		if !strings.Contains(tab.String(), p.Name) {
			t.Errorf("table lacks %s:\n%s", p.Name, tab.String())
		}
	}
	path := filepath.Join(work, "results.json")
	if err := rep.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadReport(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != len(rep.Results) || back.Results[0] != rep.Results[0] {
		t.Errorf("results changed in the JSON round trip")
	}
	var cmp bytes.Buffer
	printCompare(&cmp, back, rep)
	if ran > 0 && strings.Count(cmp.String(), "+0.0%") < 4*ran {
		t.Errorf("comparing a run with itself shows changes:\n%s", cmp.String())
	}

	// A second run reuses the cached inputs instead of generating them.
	rep2, err := Run(context.Background(), Options{Messages: 2000, Seed: 1, Pipelines: []string{"canonical-pixtoome"},
		CacheDir: filepath.Join(work, "cache"), WorkDir: filepath.Join(work, "work2"), Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Results[0].Status == "ok" && len(rep2.Generator) != 0 {
		t.Errorf("cached input generated again: %+v", rep2.Generator)
	}
}

func TestJSONFloor(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.json", `[{"id":"1","text":"hi"},{"id":"2","text":"\u00e9"}]`)
	write("b.ndjson", "{\"x\":1}\n{\"x\":[1,2,{\"y\":null}]}\n")
	write("c.json", `{"items":[1,2,3],"lookups":{"users":{}}}`)
	write("blob.bin", "\x00\x01 not json")
	if sec, err := jsonFloor(context.Background(), dir); err != nil || sec <= 0 {
		t.Fatalf("jsonFloor = %v, %v", sec, err)
	}
	write("d.json", `[{"id":"1"},{"id":`)
	if _, err := jsonFloor(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "d.json") {
		t.Errorf("truncated JSON: err = %v, want one naming d.json", err)
	}
	if _, err := jsonFloor(context.Background(), t.TempDir()); err == nil {
		t.Errorf("an empty directory has no floor to measure")
	}
}

func TestScalingVerdict(t *testing.T) {
	rs := []Result{
		{Pipeline: "p", Messages: 100_000, Status: "ok", Seconds: 1, PeakRSSMiB: 90},
		{Pipeline: "p", Messages: 1_000_000, Status: "ok", Seconds: 10, PeakRSSMiB: 100},
		{Pipeline: "p", Messages: 10_000_000, Status: "ok", Seconds: 104, PeakRSSMiB: 110},
	}
	s := scalingVerdict(rs)
	if !s.MemoryFlat || !s.TimeLinear {
		t.Errorf("flat and linear run judged %+v", s)
	}
	rs[2].PeakRSSMiB, rs[2].Seconds = 400, 200
	s = scalingVerdict(rs)
	if s.MemoryFlat || s.TimeLinear {
		t.Errorf("growing memory and superlinear time judged %+v", s)
	}
}
