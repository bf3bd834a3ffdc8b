package recordjson

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
)

// benchLines are typical converted messages: a short one, one with a
// mention, and a multi-line one with escapes, from the Gitter conversion
// in testdata.
func benchLines(b *testing.B) [][]byte {
	data, err := readTestdata("gitter-messages.ndjson")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(data, []byte("\n"))
	return [][]byte{lines[0], lines[1], lines[2]}
}

func benchMessages(b *testing.B) []*sdk.Message {
	var ms []*sdk.Message
	for _, line := range benchLines(b) {
		m := new(sdk.Message)
		if err := json.Unmarshal(line, m); err != nil {
			b.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

func benchBytes(b *testing.B) {
	n := 0
	for _, l := range benchLines(b) {
		n += len(l)
	}
	b.SetBytes(int64(n / 3))
}

func BenchmarkAppendMessage(b *testing.B) {
	ms := benchMessages(b)
	benchBytes(b)
	b.ReportAllocs()
	var buf []byte
	for i := 0; b.Loop(); i++ {
		var err error
		if buf, err = AppendMessage(buf[:0], ms[i%len(ms)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncoderMessage is what AppendMessage replaces: a json.Encoder
// reused on one buffer, as the archive writer had it.
func BenchmarkEncoderMessage(b *testing.B) {
	ms := benchMessages(b)
	benchBytes(b)
	b.ReportAllocs()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := 0; b.Loop(); i++ {
		buf.Reset()
		if err := enc.Encode(ms[i%len(ms)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeMessage(b *testing.B) {
	lines := benchLines(b)
	benchBytes(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var m sdk.Message
		if err := DecodeMessage(lines[i%len(lines)], &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalMessage(b *testing.B) {
	lines := benchLines(b)
	benchBytes(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		var m sdk.Message
		if err := json.Unmarshal(lines[i%len(lines)], &m); err != nil {
			b.Fatal(err)
		}
	}
}
