package recordjson

import (
	"bytes"
	"testing"
	"time"

	"github.com/migrate-chat/migrate/sdk"
)

// FuzzAppendMessage puts fuzzed text and times into a message's fields:
// the encoding must equal encoding/json's, and decode back to what
// encoding/json decodes.
func FuzzAppendMessage(f *testing.F) {
	f.Add("m1", "hello <b>&amp;</b>\n", "k", "v\u2028", int64(1_600_000_000), int64(0), 0)
	f.Add("\xff\xfe", "\x00\x1f\x7f\"\\", "", "\xed\xa0\x80", int64(-62_135_596_800), int64(999_999_999), 3600)
	f.Add("id", "🚀 日本語", "z", "a", int64(253_402_300_800), int64(1), -86400)
	f.Fuzz(func(t *testing.T, id, body, key, val string, sec, nsec int64, offset int) {
		at := time.Unix(sec, nsec%1_000_000_000).In(time.FixedZone("", offset%(48*3600)))
		m := &sdk.Message{
			ID: id, Kind: sdk.MessageKind(val), Room: key, Sender: id, SentAt: at, EditedAt: &at,
			Edits: []sdk.Edit{{EditedAt: at, Body: body, Editor: val}},
			Body:  body, Original: body + val, Topic: key,
			Mentions:    []sdk.Mention{{Kind: sdk.MentionKind(key), User: id, Text: val}},
			Reactions:   []sdk.Reaction{{Emoji: key, Users: []string{id, val}}, {Emoji: val}},
			Attachments: []string{body},
			Extra:       map[string]string{key: val, val: body, id: key},
		}
		checkAppend(t, m, AppendMessage)
		if line, err := stdEncode(m); err == nil {
			if !fastMessage(line) {
				t.Fatalf("the scanner fell back on an encoded line: %s", line)
			}
			checkDecode(t, line, dirtyMessage(), DecodeMessage)
		}
		a := &sdk.Attachment{ID: id, Message: key, Name: body, Size: sec, URL: val, CreatedAt: &at}
		checkAppend(t, a, AppendAttachment)
	})
}

// FuzzDecodeMessage decodes arbitrary bytes: never a panic, and always the
// error-ness and value of json.Unmarshal.
func FuzzDecodeMessage(f *testing.F) {
	seedLines(f, "sample-messages.ndjson")
	f.Add([]byte(`{"id":"1","body":"a\ud83d\ude80\u00e9","extra":{"k":"v","k":"w"},"reactions":[{"emoji":"x","users":null}]}`))
	f.Add([]byte(`{"ID":null,"edits":[null],"sent_at":"2020-01-01T00:00:00+25:00"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		checkDecode(t, bytes.Clone(line), dirtyMessage(), DecodeMessage)
	})
}

// FuzzDecodeAttachment is FuzzDecodeMessage for attachments.
func FuzzDecodeAttachment(f *testing.F) {
	seedLines(f, "sample-attachments.ndjson")
	f.Add([]byte(`{"size":-9223372036854775808,"created_at":"2020-01-01T00:00:00.1Z"}`))
	f.Add([]byte(`{"size":1e2}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		checkDecode(t, bytes.Clone(line), &sdk.Attachment{ID: "old", Size: 9}, DecodeAttachment)
	})
}

func seedLines(f *testing.F, name string) {
	b, err := readTestdata(name)
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) > 0 {
			f.Add(line)
		}
	}
}
