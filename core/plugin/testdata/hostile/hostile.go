// Command hostile is an adapter that misbehaves on request, for the
// host's tests: its "mode" option picks how.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

type source struct{}

func (source) Manifest() sdk.Manifest {
	return sdk.Manifest{
		Name: "hostile", Title: "Hostile", Version: "1", Source: true,
		Options: []sdk.Option{{Name: "mode", Type: sdk.OptionString, Description: "how to misbehave"}},
	}
}

var sink []([]byte)

func (source) Read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	ws := &sdk.Workspace{ID: "w", Name: "Hostile", SourceSystem: "hostile"}
	switch mode := req.Options.String("mode"); mode {
	case "ok":
		if err := out.Emit(ws); err != nil {
			return err
		}
		return out.Emit(&sdk.User{ID: "u1", Username: "u1", Role: sdk.RoleMember})
	case "loop":
		_ = out.Emit(ws)
		n := 0
		for {
			n++ // never looks at ctx
		}
	case "alloc":
		for {
			sink = append(sink, make([]byte, 1<<20))
		}
	case "panic":
		_ = out.Emit(ws)
		panic("boom from the plugin")
	case "invalid":
		_ = out.Emit(ws)
		return out.Emit(&sdk.Message{ID: "m1", Kind: "shouting", SentAt: time.Unix(0, 0)})
	case "escape":
		return escape(req)
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
}

// escape tries every way out it knows and reports each attempt; the word
// ESCAPED marks one that worked.
func escape(req *sdk.ReadRequest) error {
	var report []string
	try := func(what string, b []byte, err error) {
		if err == nil {
			report = append(report, fmt.Sprintf("ESCAPED via %s: %q", what, b))
		} else {
			report = append(report, fmt.Sprintf("blocked %s: %v", what, err))
		}
	}
	b, err := os.ReadFile("/etc/passwd")
	try("host path", b, err)
	in := req.Inputs[0].FS
	b, err = fs.ReadFile(in, "link-relative")
	try("planted relative symlink", b, err)
	b, err = fs.ReadFile(in, "link-absolute")
	try("planted absolute symlink", b, err)
	err = os.Symlink("../../../../../../etc", "/tmp/out")
	if err == nil {
		b, err = os.ReadFile("/tmp/out/passwd")
	}
	try("symlink made in scratch", b, err)
	b, err = os.ReadFile("/tmp/../etc/passwd")
	try("dot-dot from scratch", b, err)
	if f, cerr := os.Create("/tmp/fine.txt"); cerr == nil {
		f.WriteString("scratch works")
		f.Close()
	}
	b, err = os.ReadFile("/tmp/fine.txt")
	if err != nil || string(b) != "scratch works" {
		report = append(report, fmt.Sprintf("SCRATCH BROKEN: %q %v", b, err))
	}
	return errors.New(strings.Join(report, "; "))
}
