package recordjson

// Strings are scanned eight bytes at a time: one word tells whether any of
// its bytes needs a closer look (the bit tricks are the classic "has a zero
// byte" and "has a byte less than n" tests, exact as booleans).

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasZeroByte reports whether any byte of x is zero.
func hasZeroByte(x uint64) bool { return (x-lsb)&^x&msb != 0 }

// hasLess reports whether any byte of x is less than n (n <= 128).
func hasLess(x uint64, n byte) bool { return (x-lsb*uint64(n))&^x&msb != 0 }

// load8 reads eight bytes of s from i, little-endian (the compiler makes
// this one load).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// needsEscape8 reports whether any byte of x is one that encoding/json
// escapes or that needs a UTF-8 check: a control character, ", \, <, >,
// & or a non-ASCII byte.
func needsEscape8(x uint64) bool {
	return x&msb != 0 || hasLess(x, 0x20) ||
		hasZeroByte(x^(lsb*'"')) || hasZeroByte(x^(lsb*'\\')) || hasZeroByte(x^(lsb*'&')) ||
		// '<' and '>' differ only in the bit 0x02.
		hasZeroByte((x^(lsb*'<'))&^(lsb*0x02))
}

// needsUnquote8 reports whether any byte of x ends a plain run in a string
// literal: a quote, a backslash, a control character or a non-ASCII byte.
func needsUnquote8(x uint64) bool {
	return x&msb != 0 || hasLess(x, 0x20) || hasZeroByte(x^(lsb*'"')) || hasZeroByte(x^(lsb*'\\'))
}
