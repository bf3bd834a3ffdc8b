// Package pixtoome teaches migrate the Pixtoome import format: the
// directory that a Pixtoome (Zulip-derived) server loads with
// `./manage.py import <subdomain> <dir>`.
//
// As a target it writes realm.json, messages-000001.json and following
// (1000 messages each, in date order), attachment.json, and the records
// and files under uploads/, avatars/ and emoji/, for one of two format
// versions (profiles): gitter-final, the format of the last server release
// that shipped a Gitter importer, and latest, which also needs the
// target server's migration_status.json. Rows are encoded by hand,
// because usermessage rows are the bulk of the output.
//
// As a source it reads such a directory, or a Pixtoome export of the same
// layout, back into canonical records, streaming the message files, so
// that `--into` can merge new data into an existing export.
//
// Package check (plugins/pixtoome/check) validates a directory against
// the rules the importer relies on; NextSteps lists what an administrator
// runs on the server afterwards.
package pixtoome
