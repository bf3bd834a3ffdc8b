package archive

import (
	"context"
	"fmt"
	"iter"

	"github.com/migrate-chat/migrate/sdk"
)

// Copy streams a dataset into a Writer, with every blob that users, emoji
// and attachments refer to. It does not Close the Writer. When ds is a
// Reader (or anything with a Manifest method) and the Writer was created
// without a source, the dataset's source is kept, so that copying an
// archive gives the same bytes.
func Copy(ctx context.Context, ds sdk.Dataset, w *Writer) error {
	if m, ok := ds.(interface{ Manifest() *Manifest }); ok && w.opt.Source == (SourceInfo{}) && m.Manifest() != nil {
		w.SetSource(m.Manifest().Source)
	}
	ws := ds.Workspace()
	if ws == nil {
		return fmt.Errorf("archive: copy: the dataset has no workspace")
	}
	if err := w.Emit(ws); err != nil {
		return err
	}
	c := &copier{ctx: ctx, ds: ds, w: w}
	if err := copyKind(c, ds.Users(), func(u *sdk.User) error { return c.blob(u.Avatar, "user", u.ID) }); err != nil {
		return err
	}
	if err := copyKind(c, ds.Rooms(), nil); err != nil {
		return err
	}
	if err := copyKind(c, ds.Conversations(), nil); err != nil {
		return err
	}
	if err := copyKind(c, ds.Emoji(), func(e *sdk.Emoji) error { return c.blob(e.Image, "emoji", e.ID) }); err != nil {
		return err
	}
	if err := copyKind(c, ds.Messages(), nil); err != nil {
		return err
	}
	return copyKind(c, ds.Attachments(), func(a *sdk.Attachment) error {
		if a.SHA256 == "" {
			return nil
		}
		return c.blob(&sdk.BlobRef{SHA256: a.SHA256, Size: a.Size, ContentType: a.ContentType}, "attachment", a.ID)
	})
}

type copier struct {
	ctx context.Context
	ds  sdk.Dataset
	w   *Writer
	n   int
}

func copyKind[T sdk.Record](c *copier, seq iter.Seq2[T, error], before func(T) error) error {
	for rec, err := range seq {
		if err != nil {
			return fmt.Errorf("archive: copy: %w", err)
		}
		if c.n++; c.n%4096 == 0 {
			if err := c.ctx.Err(); err != nil {
				return err
			}
		}
		if before != nil {
			if err := before(rec); err != nil {
				return err
			}
		}
		if err := c.w.Emit(rec); err != nil {
			return err
		}
	}
	return c.ctx.Err()
}

// blob copies one blob unless the Writer holds it already, and checks that
// its content matches its name.
func (c *copier) blob(ref *sdk.BlobRef, kind, id string) error {
	if ref == nil || c.w.hasBlob(ref.SHA256) {
		return nil
	}
	rc, err := c.ds.OpenBlob(ref.SHA256)
	if err != nil {
		return fmt.Errorf("archive: copy: %s %s: %w", kind, id, err)
	}
	defer rc.Close()
	got, err := c.w.PutBlob(rc, ref.ContentType)
	if err != nil {
		return fmt.Errorf("archive: copy: %s %s: %w", kind, id, err)
	}
	if got.SHA256 != ref.SHA256 {
		return fmt.Errorf("archive: copy: %s %s: blob %s holds content whose SHA-256 is %s; the source archive is damaged", kind, id, ref.SHA256, got.SHA256)
	}
	return nil
}
