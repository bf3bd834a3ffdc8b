// Package gitter is the source adapter for Gitter room exports. It
// registers itself as "gitter" and reads, detected by content:
//
//   - REST dumps: a JSON array of message objects with full fromUser
//     objects (minrk/archive-gitter, gitter-export-room, perceval, the
//     gitter_data.json of other importers), optionally with a "room" field
//     per message when several rooms were merged into one file;
//   - {items, lookups} pages, whose fromUser is an id looked up in
//     lookups.users;
//   - the official NDJSON room export (messages.ndjson beside users.ndjson);
//   - Element "Export chat" JSON of rooms that moved to Matrix;
//   - room lists (GET /v1/rooms) and room user lists, which add room ids,
//     topics, privacy, repositories, members and admins.
//
// Messages are streamed with a small pull parser (jsonReader) that skips
// unused fields such as html without building them; memory grows with
// users, rooms and thread roots, plus 12 bytes or so per message id for
// duplicate detection, never with file sizes. Gitter Markdown is translated
// to CommonMark (see translator) and the original text is kept beside it.
package gitter
