package plugin

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

func sumOf(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// withTimeout bounds every read and write of a plugin's adapter.
func withTimeout(a sdk.Adapter, d time.Duration) sdk.Adapter {
	b := timed{a: a, d: d}
	s, isSource := a.(sdk.Source)
	t, isTarget := a.(sdk.Target)
	switch {
	case isSource && isTarget:
		return &timedBoth{timed: b, s: s, t: t}
	case isSource:
		return &timedSource{timed: b, s: s}
	default:
		return &timedTarget{timed: b, t: t}
	}
}

type timed struct {
	a sdk.Adapter
	d time.Duration
}

func (t timed) Manifest() sdk.Manifest { return t.a.Manifest() }

func (t timed) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, t.d, fmt.Errorf("it ran longer than the %s limit (--plugin-timeout)", t.d))
}

type timedSource struct {
	timed
	s sdk.Source
}

func (t *timedSource) Read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Read(ctx, req, out)
}

type timedTarget struct {
	timed
	t sdk.Target
}

func (t *timedTarget) Write(ctx context.Context, req *sdk.WriteRequest) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.t.Write(ctx, req)
}

type timedBoth struct {
	timed
	s sdk.Source
	t sdk.Target
}

func (t *timedBoth) Read(ctx context.Context, req *sdk.ReadRequest, out sdk.Sink) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.s.Read(ctx, req, out)
}

func (t *timedBoth) Write(ctx context.Context, req *sdk.WriteRequest) error {
	ctx, cancel := t.ctx(ctx)
	defer cancel()
	return t.t.Write(ctx, req)
}
