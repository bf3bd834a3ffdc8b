package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"

	"github.com/migrate-chat/migrate/sdk"
)

// merged is the merged workspace handed to the target. Users, rooms,
// conversations and emoji come from the plan; messages and attachments are
// merged and mapped anew on every pass.
type merged struct{ p *plan }

var _ sdk.Dataset = (*merged)(nil)

func (d *merged) Workspace() *sdk.Workspace { return d.p.ws }

func (d *merged) Counts() map[sdk.Kind]int64 { return maps.Clone(d.p.counts) }

func records[T any](xs []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, x := range xs {
			if !yield(x, nil) {
				return
			}
		}
	}
}

func (d *merged) Users() iter.Seq2[*sdk.User, error]                 { return records(d.p.users) }
func (d *merged) Rooms() iter.Seq2[*sdk.Room, error]                 { return records(d.p.rooms) }
func (d *merged) Conversations() iter.Seq2[*sdk.Conversation, error] { return records(d.p.convs) }
func (d *merged) Emoji() iter.Seq2[*sdk.Emoji, error]                { return records(d.p.emoji) }

// Messages merges the existing and incoming messages by time.
func (d *merged) Messages() iter.Seq2[*sdk.Message, error] {
	return func(yield func(*sdk.Message, error) bool) {
		stopped := false
		err := d.p.walk(context.Background(), func(m *sdk.Message, v *verdict) bool {
			switch v.fate {
			case fateExisting:
				stopped = !yield(m, nil)
			case fateWrite:
				stopped = !yield(d.p.mapMessage(m, v), nil)
			}
			return !stopped
		})
		if err != nil && !stopped {
			yield(nil, fmt.Errorf("merging messages: %w", err))
		}
	}
}

// Attachments yields the existing attachments, then those of each input.
func (d *merged) Attachments() iter.Seq2[*sdk.Attachment, error] {
	return func(yield func(*sdk.Attachment, error) bool) {
		if ex := d.p.existing; ex != nil {
			for a, err := range ex.Attachments() {
				if err != nil {
					yield(nil, fmt.Errorf("existing workspace: attachments: %w", err))
					return
				}
				if !yield(a, nil) {
					return
				}
			}
		}
		for _, in := range d.p.ins {
			for a, err := range in.ds.Attachments() {
				if err != nil {
					yield(nil, fmt.Errorf("input %d: attachments: %w", in.n, err))
					return
				}
				if f, _ := in.attFate(a); f != fateWrite {
					continue
				}
				if !yield(d.p.mapAttachment(in, a), nil) {
					return
				}
			}
		}
	}
}

// OpenBlob opens a blob from whichever dataset holds it, the existing one
// first.
func (d *merged) OpenBlob(sha256 string) (io.ReadCloser, error) {
	var errs []error
	if ex := d.p.existing; ex != nil {
		rc, err := ex.OpenBlob(sha256)
		if err == nil {
			return rc, nil
		}
		errs = append(errs, err)
	}
	for _, in := range d.p.ins {
		rc, err := in.ds.OpenBlob(sha256)
		if err == nil {
			return rc, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("blob %s is in none of the merged workspaces: %w", sha256, errors.Join(errs...))
}
