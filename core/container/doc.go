// Package container turns the files a user hands to migrate into a directory
// tree an adapter can read, and turns a finished tree back into the file the
// user asked for.
//
// Input side: [Unwrap] looks at the first bytes of a file (never at its name)
// and peels, one layer at a time, an OpenSSL "enc" salted envelope
// (AES-256-CBC, as produced by HipChat exports and by "openssl enc -salt"),
// gzip or zstd compression, and a tar or zip archive, until it reaches either
// a tree on disk or a single plain file. Everything is streamed: memory use
// does not grow with the size of the archive, and the input is never read
// twice except for zip archives nested inside another layer, which are
// spooled to a private temporary file because zip needs random access.
//
// Output side: [AtomicDir] and [AtomicFile] build an output next to its final
// place and rename it there only on success, so a failed run never leaves
// something that looks complete. [PackTar] writes a reproducible tar stream,
// [NewEncryptWriter] an envelope that "openssl enc -d" can open, and
// [WriteOutput] picks the combination from the output file name.
//
// # Untrusted archives
//
// Inputs come from users and from the internet, so tar and zip entries are
// checked one by one, and the first bad entry fails the whole input:
//
//   - Names must be relative paths. A name that is absolute (leading "/" or
//     a drive letter), has a ".." component or contains a NUL byte is
//     refused. Backslashes count as separators, because zip files made on
//     Windows use them, so "..\x" is refused too. "./" prefixes and doubled
//     slashes are harmless and cleaned away.
//   - Regular files and directories are unpacked. Files get mode 0600 and
//     directories 0700 whatever the archive says: the tree is private to
//     this process and no set-id or executable bit survives.
//   - Symbolic links are always refused, wherever they point. Chat exports
//     contain none, and a link even to a place inside the tree would let a
//     later entry or the adapter reach somewhere else.
//   - A hard link is accepted only when it names a regular file this
//     archive has already unpacked, and it is unpacked as a copy, counted
//     against the size limits like any file (so links cannot multiply a
//     small archive into a huge tree unnoticed). Any other hard link is
//     refused.
//   - Device files, fifos, sockets, password-protected zip entries and
//     unknown entry types are refused.
//   - Files are created through an [os.Root] opened on the tree, so even a
//     name that slipped past these checks could not resolve outside it.
//   - The sizes in [Limits] are enforced as the bytes are written (and a
//     declared size over a limit is refused before writing), so a
//     decompression bomb is stopped early instead of filling the disk.
//
// Every error names the input file and, where there is one, the archive
// entry, and nothing is left in the temporary directory after an error.
package container
