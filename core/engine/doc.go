// Package engine merges canonical workspaces: the records of one or more
// inputs into what the target already holds (nothing, unless the user
// named an existing export with --into). It applies the conflict rules that
// HipChat Server's importer documented, satisfies the target's constraints
// by renaming or filling in, and accounts for every record in the run's
// report.
//
// # Rules
//
//   - Users are matched, in this order, by source identity (a record this
//     engine wrote before), by username or e-mail address (ignoring case),
//     and by @mention name (ignoring case). Rooms are matched by source
//     identity, then by name (ignoring case when the target's constraints
//     fold room names). Conversations are matched by their participants,
//     custom emoji by shortcode. The existing record wins: the incoming one's
//     messages, files and memberships are mapped onto it, and the report says
//     so in HipChat's words.
//   - Inputs are matched against each other the same way, so that several
//     inputs (say, a few Gitter rooms and a HipChat export) become one
//     workspace with each person once.
//   - A user who cannot be created (no e-mail address where the target needs
//     one and no domain to make one up, or no name at all) takes their
//     messages, files and one-to-one conversations out of the import. A room
//     that cannot be created takes its messages and files out. Each loss is
//     listed in the report with its reason.
//   - A room whose owner was not imported gets the group admin (Request.Admin,
//     or the first owner, else the first admin, of the workspace) as owner.
//     Members who were not imported, and deleted users of private rooms, are
//     left out of the member list with a notice.
//   - Names that break the target's constraints are changed — shortened,
//     stripped of forbidden characters, made unique with a suffix — and
//     missing e-mail addresses are filled in from the target's e-mail domain;
//     every change is a warning naming the value before and after.
//   - Running the same import again adds nothing twice (see Identity).
//
// # Identity and ids
//
// A record's source identity is its source key: the workspace it came from
// (source system and workspace id) and its id there. A record whose output
// id or workspace differs from its source carries the key in
// Extra["source_key"] (ExtraSourceKey), so that the next run recognises it.
// A message already in the target is recognised while merging, because both
// streams are sorted by time: a message is a duplicate when a message
// already written at the very same instant has the same source key, or the
// same room or conversation, sender and body.
//
// Ids of different inputs must not collide in the merged workspace. Users,
// rooms, conversations and emoji keep their ids unless one is taken, in
// which case it gets the input's prefix (IDPrefix). Message and attachment
// ids cannot be checked that way without holding them all, so an input's
// messages and attachments are prefixed whenever the merge holds another id
// space: the existing workspace holds messages from another source
// workspace, or another input comes from another source workspace.
//
// # Memory
//
// Merge plans in memory for users, rooms, conversations and emoji, and
// makes one streaming pass over the messages and attachments to settle the
// account. The Dataset it returns is lazy: each pass over Messages merges the
// sorted input streams again (k-way, by time) and maps every message on the
// fly. Memory grows with users, rooms, attachments (a few dozen bytes each),
// messages not imported, and duplicates found under another id (the same
// each, so that replies and files can follow them), never with the
// messages imported. Merge itself holds no message: a target may iterate
// the result as often as it likes, and the account, settled by the
// planning pass, does not change.
//
// Limits: a message counts as a duplicate only at the very same instant,
// so a target that rounds times (say, to milliseconds) defeats the check
// by time and leaves the source key, if the target kept Extra; a reply
// whose thread root is not in its own input keeps the reference as is.
package engine
