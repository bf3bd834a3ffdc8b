package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

func TestFramesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	c := NewStreamConn(&buf, &buf)
	big := bytes.Repeat([]byte("x"), 300<<10)
	for _, p := range [][]byte{nil, []byte("hello"), big} {
		if err := c.Send(FrameNotice, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range [][]byte{nil, []byte("hello"), big} {
		typ, got, err := c.Recv()
		if err != nil || typ != FrameNotice || !bytes.Equal(got, want) {
			t.Fatalf("got %q %d bytes %v", typ, len(got), err)
		}
	}
	if _, _, err := c.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last frame: %v", err)
	}
}

func TestRecvRefusesBadLengths(t *testing.T) {
	for _, in := range []string{"\x00\x00\x00\x00R", "\xff\xff\xff\xffR", "\x05\x00\x00\x00Rab"} {
		c := NewStreamConn(strings.NewReader(in), io.Discard)
		if _, _, err := c.Recv(); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

func TestBatchKeepsRecordsAndOrder(t *testing.T) {
	var b Batch
	b.Reset(7)
	recs := []sdk.Record{
		&sdk.User{ID: "u1", Role: sdk.RoleMember},
		&sdk.Message{ID: "m1", Kind: sdk.MessageNormal, Room: "r", Sender: "u1", SentAt: time.Unix(5, 0).UTC(), Body: "hi"},
	}
	for _, r := range recs {
		js, _ := json.Marshal(r)
		b.Add(r.RecordKind(), js)
	}
	var got []sdk.Record
	first, err := Walk(b.Bytes(), func(k sdk.Kind, js []byte) error {
		r, err := DecodeRecord(k, js)
		got = append(got, r)
		return err
	})
	if err != nil || first != 7 || len(got) != 2 {
		t.Fatalf("first %d, %d records, %v", first, len(got), err)
	}
	if got[1].(*sdk.Message).Body != "hi" || got[0].RecordID() != "u1" {
		t.Errorf("records changed on the way: %+v", got)
	}
	if _, err := DecodeRecord(sdk.KindUser, []byte(`{"id":"u","role":"member","shoe_size":44}`)); err == nil {
		t.Error("a record with an unknown field was accepted")
	}
}

func TestOptionsKeepTheirTypes(t *testing.T) {
	decl := []sdk.Option{{Name: "n", Type: sdk.OptionInt}, {Name: "l", Type: sdk.OptionStrings}, {Name: "f", Type: sdk.OptionFile}, {Name: "b", Type: sdk.OptionBool}}
	in := sdk.Options{"n": int64(1) << 60, "l": []string{"a", "b"}, "f": []byte{0, 1, 2}, "b": true}
	raw, err := EncodeOptions(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeOptions(raw, decl)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Check(decl); err != nil {
		t.Fatal(err)
	}
	if out.Int("n") != 1<<60 || out.Strings("l")[1] != "b" || out.File("f")[2] != 2 || !out.Bool("b") {
		t.Errorf("got %#v", out)
	}
}

func TestVersionErrorSaysWhichSideToUpgrade(t *testing.T) {
	newer := (&VersionError{Plugin: "x.wasm", Theirs: []int{2}}).Error()
	if newer != "plugin x.wasm speaks protocol 2, this migrate speaks 1: upgrade migrate or use an older plugin" {
		t.Error(newer)
	}
	older := (&VersionError{Plugin: "x.wasm", Theirs: []int{0}}).Error()
	if !strings.Contains(older, "rebuild the plugin") {
		t.Error(older)
	}
}

func FuzzRecv(f *testing.F) {
	var buf bytes.Buffer
	c := NewStreamConn(&buf, &buf)
	var b Batch
	b.Add(sdk.KindUser, []byte(`{"id":"u","role":"member"}`))
	c.Send(FrameRecords, b.Bytes())
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		c := NewStreamConn(bytes.NewReader(in), io.Discard)
		for {
			typ, p, err := c.Recv()
			if err != nil {
				return
			}
			if typ == FrameRecords {
				_, _ = Walk(p, func(k sdk.Kind, js []byte) error { _, err := DecodeRecord(k, js); return err })
			}
			var req Request
			_, _ = DecodeMessage(p, &req)
		}
	})
}
