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
// Inputs are untrusted. Archive entries that would land outside the tree
// ("..", absolute names), links, device files and fifos are refused, files
// are created through an [os.Root] so no name can reach outside it, and the
// sizes in [Limits] are enforced while the bytes are written, so a
// decompression bomb is stopped early instead of filling the disk. Every
// error names the input file and, where there is one, the archive entry.
//
// Output side: [AtomicDir] and [AtomicFile] build an output next to its final
// place and rename it there only on success, so a failed run never leaves
// something that looks complete. [PackTar] writes a reproducible tar stream,
// [NewEncryptWriter] an envelope that "openssl enc -d" can open, and
// [WriteOutput] picks the combination from the output file name.
package container
