package gen

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"strings"
)

// blobReader streams an attachment's content: pseudo-random bytes from the
// attachment's seed (incompressible, like images and archives), or for text
// types printable log-like lines. Nothing is held beyond one small buffer.
type blobReader struct {
	pcg  *rand.PCG
	left int64
	text bool
}

func newBlobReader(a *attachment) *blobReader {
	return &blobReader{pcg: rand.NewPCG(a.Seed, mix(a.Seed)), left: a.Size,
		text: strings.HasPrefix(a.CType, "text/") || strings.HasSuffix(a.CType, "+xml")}
}

const logAlphabet = "abcdefghijklmnopqrstuvwxyz      0123456789:.-=\n"

func (b *blobReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n := len(p)
	for i := 0; i < n; {
		v := b.pcg.Uint64()
		for k := 0; k < 8 && i < n; k++ {
			c := byte(v >> (8 * k))
			if b.text {
				c = logAlphabet[int(c)%len(logAlphabet)]
			}
			p[i] = c
			i++
		}
	}
	b.left -= int64(n)
	return n, nil
}

// pngImage draws a small deterministic PNG: an avatar or an emoticon.
func pngImage(h uint64, size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	c1 := color.NRGBA{byte(h), byte(h >> 8), byte(h >> 16), 255}
	c2 := color.NRGBA{byte(h >> 24), byte(h >> 32), byte(h >> 40), 255}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			// A symmetric pattern, like identicons.
			xx := min(x, size-1-x)
			if mix(h^uint64(xx*31+y*7))&1 == 0 {
				img.SetNRGBA(x, y, c1)
			} else {
				img.SetNRGBA(x, y, c2)
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory cannot fail
	return buf.Bytes()
}

// base64Lines encodes with a newline every 76 characters, the way HipChat
// stored avatars in users.json.
func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(s) > 76 {
		sb.WriteString(s[:76])
		sb.WriteByte('\n')
		s = s[76:]
	}
	sb.WriteString(s)
	return sb.String()
}
