package engine

import (
	"context"
	"fmt"

	"github.com/migrate-chat/migrate/sdk"
)

// attFate decides an incoming attachment's fate from what the message pass
// and the attachment pass settled. Only planAttachments may see
// fateWrite for an attachment it then drops; after it, the answer is final.
func (in *input) attFate(a *sdk.Attachment) (fate, string) {
	ha := hashID(a.ID)
	if owner, ok := in.listed[ha]; ok && owner == hashID(a.Message) {
		if _, gone := in.droppedAtts[ha]; gone {
			return fateDrop, ""
		}
		return fateWrite, ""
	}
	if _, ok := in.dupListed[ha]; ok {
		return fateDuplicate, ""
	}
	if _, ok := in.droppedMsgs[hashID(a.Message)]; ok {
		return fateDrop, fmt.Sprintf("its message %s was not imported", a.Message)
	}
	return fateDrop, fmt.Sprintf("its message %s is not in the export or does not list it", a.Message)
}

// planAttachments is the planning pass over incoming attachments. It
// drops the files of users who were not imported and the files whose
// content is missing, so that their messages stop listing them.
func (p *plan) planAttachments(ctx context.Context) error {
	if p.existing != nil {
		p.existingAtts = p.existing.Counts()[sdk.KindAttachment]
		p.rep.SetExisting(sdk.KindAttachment, p.existingAtts)
	}
	var in, written, merged int64
	defer func() { p.rep.Count(sdk.KindAttachment, in, written, merged) }()
	for _, inp := range p.ins {
		n := 0
		for a, err := range inp.ds.Attachments() {
			if err != nil {
				return fmt.Errorf("input %d: attachments: %w", inp.n, err)
			}
			if n++; n&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			in++
			f, reason := inp.attFate(a)
			switch f {
			case fateDuplicate:
				written++
				merged++
				continue
			case fateDrop:
				p.rep.Lose(sdk.KindAttachment, a.ID, reason)
				continue
			}
			drop := func(reason string) {
				inp.droppedAtts[hashID(a.ID)] = struct{}{}
				p.rep.Lose(sdk.KindAttachment, a.ID, reason)
			}
			if a.Uploader != "" {
				if out, why := inp.outUser(a.Uploader); out == "" {
					drop("uploader: " + why)
					continue
				}
			}
			if a.SHA256 != "" {
				rc, err := inp.ds.OpenBlob(a.SHA256)
				if err != nil {
					msg := fmt.Sprintf(MsgFileUploadFailed, a.Name)
					p.notify(sdk.LevelError, CodeFileUploadFailed, sdk.KindAttachment, a.ID, msg)
					drop(msg)
					continue
				}
				rc.Close()
			}
			written++
		}
	}
	return nil
}

// mapAttachment builds the merged copy of an incoming attachment.
func (p *plan) mapAttachment(in *input, a *sdk.Attachment) *sdk.Attachment {
	c := *a
	c.ID = in.msgID(a.ID)
	c.Message = in.msgID(a.Message)
	if a.Uploader != "" {
		c.Uploader, _ = in.outUser(a.Uploader)
	}
	return &c
}
