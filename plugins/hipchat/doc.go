// Package hipchat teaches migrate HipChat: the "hipchat-server" adapter
// reads and writes HipChat Server / Data Center exports, and the
// "hipchat-cloud" adapter reads HipChat Cloud's exports (the 2018 archive,
// which has the Server format, the older hipchat_export zip) and pages of
// the HipChat API v2.
//
// Both adapters register themselves from init; the host finds them by
// name. They never decrypt or unpack: the host turns the
// hipchat-….tar.gz.aes archive (openssl enc, AES-256-CBC, MD5 key
// derivation, gzip'd tar) into a read-only tree, and packs what the target
// writes the same way.
//
// Reading streams every history file element by element, so memory grows
// with users, rooms and one-to-one pairs but not with messages. Each
// one-to-one message, which HipChat writes into both participants' files,
// is taken from the file of the participant with the lower id (or from the
// other one when that file is missing), which needs no memory of messages
// seen. Writing keeps each history's records in a scratch file on disk and
// reads it back from the end, since HipChat wants newest-first histories
// and the dataset yields messages oldest first.
//
// Whatever the source knows and the canonical model has no field for
// (a notification's colour, the export's role list, which system record a
// message was) travels in Extra, so that HipChat → canonical → HipChat →
// canonical gives the same records. README.md lists every mapping.
package hipchat
