package container

import (
	"bytes"
	"unicode/utf8"
)

// format is what the first bytes of a stream say it is.
type format int

const (
	fmtPlain format = iota // nothing we peel: hand it to the adapter as is
	fmtSalted
	fmtSaltedBase64
	fmtGzip
	fmtZstd
	fmtZip
	fmtTar
	fmtBzip2
	fmtXz
	fmt7z
	fmtRar
)

// sniffLen is how many bytes sniff wants to see: a whole tar header block.
const sniffLen = 512

var (
	magicGzip = []byte{0x1f, 0x8b, 0x08} // 0x08: deflate, the only method gzip defines
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	// A zip starts with a local file header, or with the end-of-directory
	// record when it is empty, or with the spanning marker.
	magicZip      = []byte("PK\x03\x04")
	magicZipEmpty = []byte("PK\x05\x06")
	magicZipSpan  = []byte("PK\x07\x08")
	magicBzip2    = []byte("BZh")
	magicXz       = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magic7z       = []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}
	magicRar      = []byte("Rar!\x1a\x07")
	// "Salted__" in base64, as written by "openssl enc -a".
	magicSaltedB64 = []byte("U2FsdGVkX1")
)

// sniff classifies a stream by its first bytes (up to sniffLen of them).
func sniff(b []byte) format {
	switch {
	case bytes.HasPrefix(b, saltedMagic):
		return fmtSalted
	case bytes.HasPrefix(b, magicSaltedB64):
		return fmtSaltedBase64
	case bytes.HasPrefix(b, magicGzip):
		return fmtGzip
	case bytes.HasPrefix(b, magicZstd):
		return fmtZstd
	case bytes.HasPrefix(b, magicZip), bytes.HasPrefix(b, magicZipEmpty), bytes.HasPrefix(b, magicZipSpan):
		return fmtZip
	case bytes.HasPrefix(b, magicXz):
		return fmtXz
	case bytes.HasPrefix(b, magic7z):
		return fmt7z
	case bytes.HasPrefix(b, magicRar):
		return fmtRar
	case len(b) >= 4 && bytes.HasPrefix(b, magicBzip2) && b[3] >= '1' && b[3] <= '9':
		return fmtBzip2
	case isTarHeader(b):
		return fmtTar
	}
	return fmtPlain
}

// isTarHeader reports whether b starts with a tar header block. Every tar
// header carries a checksum of its own bytes, which is a far stronger test
// than the "ustar" magic at offset 257 alone (a JSON document can contain
// "ustar" there, as in "mustard"), and also recognises old v7 archives,
// which have no magic at all.
func isTarHeader(b []byte) bool {
	if len(b) < sniffLen {
		return false
	}
	if b[0] == 0 {
		// An archive with no entries is nothing but zero blocks.
		return allZero(b[:sniffLen])
	}
	// The checksum field (148..156) holds octal digits, padded with spaces
	// or NULs; it is the sum of all header bytes with the field itself
	// counted as spaces. Some old tars summed signed bytes.
	var want int64
	digits := 0
	for _, c := range b[148:156] {
		switch {
		case c >= '0' && c <= '7':
			want = want*8 + int64(c-'0')
			digits++
		case c == ' ' || c == 0:
		default:
			return false
		}
	}
	if digits == 0 {
		return false
	}
	var unsigned, signed int64
	for i, c := range b[:sniffLen] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return want == unsigned || want == signed
}

// plausiblePlaintext is the test KDF auto-detection applies to the first
// decrypted bytes: a wrong key gives random bytes, which neither start with a
// known magic number nor read as text.
func plausiblePlaintext(p []byte) bool {
	if len(p) == 0 {
		// An empty plaintext (one block of pure padding) already passed the
		// padding check, which is all there is to go on.
		return true
	}
	if sniff(p) != fmtPlain {
		return true
	}
	return looksLikeText(p)
}

// looksLikeText reports whether p is UTF-8 text without control characters
// other than tab, newline, carriage return and form feed. JSON and NDJSON
// (the plain inputs adapters read) always pass; 16 random bytes pass with a
// probability of about one in ten million. The last rune may be cut off,
// since p is usually a prefix.
func looksLikeText(p []byte) bool {
	p = bytes.TrimPrefix(p, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	for len(p) > 0 {
		c := p[0]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7f {
				return false
			}
			p = p[1:]
			continue
		}
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size <= 1 {
			return !utf8.FullRune(p) // a rune cut off at the end is fine
		}
		p = p[size:]
	}
	return true
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
