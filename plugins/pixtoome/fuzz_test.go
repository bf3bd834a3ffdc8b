package pixtoome

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

func FuzzReadMessageFile(f *testing.F) {
	f.Add(mustReadF(f, "testdata/fixtures/messages-000001.json"))
	f.Add(mustReadF(f, "testdata/golden/latest/messages-000001.json"))
	f.Add([]byte(`{"zerver_usermessage":[[{}]],"zerver_message":[{"id":1e3}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		readMessageFile(bytes.NewReader(data), func(*zMessage) error { return nil })
	})
}

func FuzzReadRealm(f *testing.F) {
	f.Add(mustReadF(f, "testdata/golden/gitter-final/realm.json"))
	f.Add([]byte(`{"import_source":null,"zerver_realm":[{"id":1}],"x":[[1,{"a":[]}]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := readRealm(bytes.NewReader(data))
		if err == nil && len(d.Realm) == 0 {
			t.Fatal("accepted a realm.json without realm row")
		}
	})
}

func FuzzParseMentions(f *testing.F) {
	f.Add("hi @**Ada Lovelace** and @**Sam Lee|7** @**all** @_**silent**")
	f.Add("@****@**|**@**x|")
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range parseMentions(s) {
			if !strings.Contains(s, "@"+m.Raw) {
				t.Fatalf("mention %q is not in the text", m.Raw)
			}
			if _, digits, _ := strings.Cut(strings.TrimSuffix(m.Raw, "**"), "|"); m.ID != 0 && !strings.HasSuffix(digits, strconv.FormatInt(m.ID, 10)) {
				t.Fatalf("id %d not from %q", m.ID, m.Raw)
			}
		}
	})
}

func FuzzParseEditHistory(f *testing.F) {
	f.Add(`[{"user_id":1,"timestamp":1600000000.5,"prev_content":"a"},{"prev_topic":"x","timestamp":2}]`)
	f.Fuzz(func(t *testing.T, s string) {
		edits, err := parseEditHistory(s, func(id int64) string { return strconv.FormatInt(id, 10) })
		for i := 1; err == nil && i < len(edits); i++ {
			if edits[i].EditedAt.Before(edits[i-1].EditedAt) {
				t.Fatal("edits out of order")
			}
		}
	})
}

func FuzzReplaceMention(f *testing.F) {
	f.Add("hi @bob, @bobby and bob@example.com", "bob")
	f.Fuzz(func(t *testing.T, body, text string) {
		out, ok := replaceMention(body, text, "@**X**")
		if !ok && out != body {
			t.Fatal("changed text without a replacement")
		}
	})
}

func mustReadF(f *testing.F, name string) []byte {
	b, err := readFileF(name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func readFileF(name string) ([]byte, error) { return os.ReadFile(name) }
