package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/migrate-chat/migrate/core/report"
	"github.com/migrate-chat/migrate/sdk"
)

// ExtraSourceKey is the Extra key under which a merged record keeps its
// source identity.
const ExtraSourceKey = "source_key"

// ErrUnknownAdmin is returned (wrapped) when Request.Admin names nobody.
var ErrUnknownAdmin = errors.New("the group admin named is not a user of the target or of the inputs")

// Request is what Merge is asked to do.
type Request struct {
	// Incoming holds one dataset per input, in the order the user named
	// them. Earlier inputs win conflicts with later ones.
	Incoming []sdk.Dataset
	// Existing is what the target already holds; nil means an empty
	// target.
	Existing sdk.Dataset
	// Constraints are the target's rules (its adapter manifest's).
	Constraints sdk.Constraints
	// Admin names the group admin who replaces missing room owners: a user
	// id, username, e-mail address or @mention name. "" means the first
	// owner, else the first admin, of the existing workspace, else of the
	// incoming users.
	Admin string
	// DryRun computes the report only; Merge then returns no Dataset.
	DryRun bool
	// Report receives the account and the notices; nil makes a new one.
	Report *report.Report
}

// Merge plans the merge of req.Incoming into req.Existing, fills the
// report's accounts and notices, and returns the merged workspace as a lazy
// Dataset for the target. It does not finish the report: the caller does,
// after the target has written.
func Merge(ctx context.Context, req Request) (sdk.Dataset, *report.Report, error) {
	rep := req.Report
	if rep == nil {
		rep = report.New("", "", report.Options{})
	}
	rep.DryRun = req.DryRun
	if len(req.Incoming) == 0 {
		return nil, rep, errors.New("engine: nothing to import: no input dataset")
	}
	p := newPlan(req, rep)
	if err := p.run(ctx); err != nil {
		if !errors.Is(err, ErrUnknownAdmin) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			rep.Notify(sdk.Notice{Level: sdk.LevelError, Code: CodeInternal, Message: MsgSomethingWrong})
		}
		return nil, rep, err
	}
	if req.DryRun {
		return nil, rep, nil
	}
	return &merged{p: p}, rep, nil
}

// identity is the source identity of a workspace: its system and id.
func identity(ws *sdk.Workspace) string {
	if ws == nil {
		return ":"
	}
	return ws.SourceSystem + ":" + ws.ID
}

// sourceKey is the source identity of a record read from a workspace.
func sourceKey(ws string, id string, extra map[string]string) string {
	if k := extra[ExtraSourceKey]; k != "" {
		return k
	}
	return ws + "/" + id
}

// IDPrefix is the prefix given to the ids of records from a source
// workspace when they would collide with others: the system's name and a
// short digest of the workspace's identity, so that it is the same on
// every run.
func IDPrefix(ws *sdk.Workspace) string {
	sum := sha256.Sum256([]byte(identity(ws)))
	sys := "input"
	if ws != nil && ws.SourceSystem != "" {
		sys = strings.Map(func(r rune) rune {
			if r == ':' || r == '/' || r == ' ' {
				return '-'
			}
			return r
		}, ws.SourceSystem)
	}
	return sys + "-" + hex.EncodeToString(sum[:4]) + ":"
}

// collect drains a record sequence into a slice, naming the input on error.
func collect[T any](seq iter.Seq2[T, error], what string) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// withKey returns extra with the record's source key added, copying the
// map, when the merged record's identity would not lead back to its source
// (another workspace, or another id); otherwise extra itself.
func withKey(extra map[string]string, ws, id, outWS, outID string) map[string]string {
	if extra[ExtraSourceKey] != "" || (ws == outWS && id == outID) {
		return extra
	}
	c := make(map[string]string, len(extra)+1)
	for k, v := range extra {
		c[k] = v
	}
	c[ExtraSourceKey] = ws + "/" + id
	return c
}
