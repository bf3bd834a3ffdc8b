package recordjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/migrate-chat/migrate/sdk"
)

// stdEncode is what the archive wrote before this package: a json.Encoder
// line without its newline.
func stdEncode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkAppend compares an Append function with encoding/json on v,
// appending after a prefix to check that dst is extended, not replaced.
func checkAppend[T any](t *testing.T, v *T, appendFn func([]byte, *T) ([]byte, error)) {
	t.Helper()
	want, wantErr := stdEncode(v)
	prefix := []byte("prefix:")
	got, err := appendFn(bytes.Clone(prefix), v)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("error %v, encoding/json: %v\nvalue: %#v", err, wantErr, v)
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("the prefix was lost: %q", got)
	}
	got = got[len(prefix):]
	if err != nil {
		if len(got) != 0 {
			t.Fatalf("on error the result grew by %q", got)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encodings differ\n got: %s\nwant: %s", got, want)
	}
}

// checkDecode compares a Decode function with json.Unmarshal into a zero
// value: the same error-ness and the same value. dirty is a used value that
// decode must clear first.
func checkDecode[T any](t *testing.T, line []byte, dirty *T, decode func([]byte, *T) error) {
	t.Helper()
	var want T
	wantErr := json.Unmarshal(line, &want)
	orig := bytes.Clone(line)
	err := decode(line, dirty)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("input %q\nerror %v, encoding/json: %v", line, err, wantErr)
	}
	if !reflect.DeepEqual(*dirty, want) {
		t.Fatalf("input %q\n got %#v\nwant %#v", line, *dirty, want)
	}
	// Strings must not share memory with the line, which callers reuse.
	for i := range line {
		line[i] = 'X'
	}
	if !reflect.DeepEqual(*dirty, want) {
		t.Fatalf("input %q: the value changed when the line was overwritten", orig)
	}
	copy(line, orig)
}

// fastMessage reports whether the scanner decodes line without falling
// back to encoding/json.
func fastMessage(line []byte) bool {
	var m sdk.Message
	d := decoder{data: line}
	return d.message(&m)
}

func fastAttachment(line []byte) bool {
	var a sdk.Attachment
	d := decoder{data: line}
	return d.attachment(&a)
}

func dirtyMessage() *sdk.Message {
	return &sdk.Message{ID: "old", Body: "old body", Extra: map[string]string{"stale": "yes"},
		Mentions: []sdk.Mention{{Kind: "user", User: "stale"}}, Reactions: []sdk.Reaction{{Emoji: "x"}}}
}

func TestAppendMessageMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	errs := 0
	for range 20000 {
		m := randMessage(r)
		checkAppend(t, m, AppendMessage)
		if _, err := stdEncode(m); err != nil {
			errs++
		}
	}
	// The generator must reach the times that JSON refuses, or the error
	// path goes untested.
	if errs == 0 {
		t.Fatal("no message had an unencodable time")
	}
	checkAppend(t, (*sdk.Message)(nil), AppendMessage)
	checkAppend(t, &sdk.Message{}, AppendMessage)
}

func TestAppendAttachmentMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		checkAppend(t, randAttachment(r), AppendAttachment)
	}
	checkAppend(t, (*sdk.Attachment)(nil), AppendAttachment)
	checkAppend(t, &sdk.Attachment{}, AppendAttachment)
}

func TestDecodeMessageMatchesUnmarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 8000
	if testing.Short() {
		n = 1000
	}
	for range n {
		line, err := stdEncode(randMessage(r))
		if err != nil {
			continue
		}
		// Lines that the encoder writes are the scanner's whole purpose.
		if !fastMessage(line) {
			t.Fatalf("the scanner fell back on an encoded line: %s", line)
		}
		checkDecode(t, line, dirtyMessage(), DecodeMessage)
		// Indented, and with every member reordered (encoding/json accepts
		// both).
		var ind bytes.Buffer
		if err := json.Indent(&ind, line, " \r", "\t"); err != nil {
			t.Fatal(err)
		}
		if !fastMessage(ind.Bytes()) {
			t.Fatalf("the scanner fell back on an indented line: %s", ind.Bytes())
		}
		checkDecode(t, ind.Bytes(), dirtyMessage(), DecodeMessage)
		checkDecode(t, reorder(t, line, r), dirtyMessage(), DecodeMessage)
	}
}

func TestDecodeAttachmentMatchesUnmarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		line, err := stdEncode(randAttachment(r))
		if err != nil {
			continue
		}
		if !fastAttachment(line) {
			t.Fatalf("the scanner fell back on an encoded line: %s", line)
		}
		checkDecode(t, line, &sdk.Attachment{ID: "old", Size: 7}, DecodeAttachment)
		checkDecode(t, reorder(t, line, r), &sdk.Attachment{ID: "old"}, DecodeAttachment)
	}
}

// reorder shuffles the top-level members of an object line.
func reorder(t *testing.T, line []byte, r *rand.Rand) []byte {
	t.Helper()
	var members map[string]json.RawMessage
	if err := json.Unmarshal(line, &members); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", k, members[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// mutate damages or varies a line in one of the ways that the scanner must
// either handle exactly or leave to encoding/json.
func mutate(line []byte, r *rand.Rand) []byte {
	b := bytes.Clone(line)
	if len(b) == 0 {
		return b
	}
	i := r.IntN(len(b))
	special := []string{`"`, `\`, `{`, `}`, `[`, `]`, `,`, `:`, " ", "\n", "\x00", "\xff", "n", "0", "-", ".", "e",
		"null", "true", "false", `\u`, `\ud83d`, `\ude00`, `\ud83d\ude00`, `\u00e9`, `\/`, `\x`, `1e3`, `1.5`,
		`"ID":"dup"`, `"id":"dup",`, `"Body":"x",`, `"body":null,`, `"extra":{"k":null},`, `"edits":null,`,
		`"sent_at":"2020-01-01T00:00:00+01:00",`, `"sent_at":"2020-01-01T00:00:00\u005a",`, `"unknown":1,`,
		`"mentions":[{"kind":"user","KIND":"all"}],`, `"reactions":[{"emoji":"a","users":null}],`,
		`"attachments":[],`, `"extra":{"k":"1","k":"2"},`, `"size":-0,`, `"size":01,`, `"size":12345678901234567890,`}
	s := []byte(special[r.IntN(len(special))])
	switch r.IntN(5) {
	case 0: // replace a byte
		return append(b[:i], append(s, b[i+1:]...)...)
	case 1: // insert
		return append(b[:i], append(s, b[i:]...)...)
	case 2: // insert right after the opening brace, where a member fits
		return append([]byte{'{'}, append(s, b[1:]...)...)
	case 3: // cut
		j := i + r.IntN(len(b)-i)
		return append(b[:i], b[j:]...)
	default: // truncate
		return b[:i]
	}
}

func TestDecodeMutatedLines(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 30000 {
		line, err := stdEncode(randMessage(r))
		if err != nil {
			continue
		}
		for range 1 + r.IntN(3) {
			line = mutate(line, r)
		}
		checkDecode(t, line, dirtyMessage(), DecodeMessage)
	}
	for range 10000 {
		line, err := stdEncode(randAttachment(r))
		if err != nil {
			continue
		}
		line = mutate(line, r)
		checkDecode(t, line, &sdk.Attachment{ID: "old", Size: 3}, DecodeAttachment)
	}
}

func TestDecodeMessageCases(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		fast bool // the scanner handles it without encoding/json
	}{
		{"minimal", `{"id":"1","kind":"normal","sender":"u","sent_at":"2020-01-01T00:00:00Z","body":""}`, true},
		{"empty object", `{}`, true},
		{"spaces everywhere", " \t\r\n{ \"id\" : \"1\" , \"body\" :\"x\" ,\"mentions\": [ { \"kind\" : \"all\" } ] , \"extra\" : { } }\n ", true},
		{"escapes", `{"body":"a\"b\\c\/d\b\f\n\r\t\u00e9\u2028\ud83d\ude80"}`, true},
		{"lone high surrogate", `{"body":"a\ud83dz"}`, true},
		{"high surrogate then non-surrogate escape", `{"body":"\ud83d\u0041"}`, true},
		{"lone low surrogate", `{"body":"\ude00\ude00"}`, true},
		{"invalid UTF-8", "{\"body\":\"a\xffb\xed\xa0\x80c\xc3\"}", true},
		{"raw U+2028", "{\"body\":\"a\u2028b\"}", true},
		{"empty arrays", `{"edits":[],"mentions":[],"reactions":[{"emoji":"x","users":[]}],"attachments":[]}`, true},
		{"extra with escaped key and repeated key", `{"extra":{"a\nb":"1","k":"1","k":"2"}}`, true},
		{"time with offset", `{"sent_at":"2020-01-01T10:00:00.5+05:30","edited_at":"2020-01-01T10:00:00-00:00"}`, true},
		{"unknown kind value", `{"kind":"future_kind"}`, true},
		{"deleted false", `{"deleted":false}`, true},
		{"null top level", `null`, false},
		{"null field", `{"id":null}`, false},
		{"null extra value", `{"extra":{"a":null}}`, false},
		{"null users", `{"reactions":[{"emoji":"x","users":null}]}`, true},
		{"null users twice", `{"reactions":[{"users":null,"emoji":"x","users":null}]}`, false},
		{"nullx users", `{"reactions":[{"users":nullx}]}`, false},
		{"null edited_at", `{"edited_at":null}`, false},
		{"null edit element", `{"edits":[null]}`, false},
		{"folded key", `{"ID":"1","Body":"x"}`, false},
		{"escaped key", `{"\u0069d":"1"}`, false},
		{"unknown key", `{"id":"1","colour":"red"}`, false},
		{"repeated field", `{"id":"1","id":"2"}`, false},
		{"repeated array", `{"attachments":["a"],"attachments":["b","c"]}`, false},
		{"repeated nested field", `{"mentions":[{"kind":"user","kind":"all"}]}`, false},
		{"number for a string", `{"id":1}`, false},
		{"string for a bool", `{"deleted":"true"}`, false},
		{"time with escape", `{"sent_at":"2020-01-01T00:00:00\u005a"}`, false},
		{"bad time", `{"sent_at":"yesterday"}`, false},
		{"year 10000", `{"sent_at":"10000-01-01T00:00:00Z"}`, false},
		{"trailing comma", `{"id":"1",}`, false},
		{"trailing data", `{"id":"1"} x`, false},
		{"two objects", `{"id":"1"}{"id":"2"}`, false},
		{"unterminated string", `{"id":"1`, false},
		{"control character", "{\"id\":\"a\x01b\"}", false},
		{"bad escape", `{"id":"\x41"}`, false},
		{"short unicode escape", `{"id":"\u12"}`, false},
		{"array", `[]`, false},
		{"empty", ``, false},
		{"BOM", "\ufeff{}", false},
		{"truex", `{"deleted":truex}`, false},
		{"single quotes", `{'id':'1'}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fastMessage([]byte(tc.in)); got != tc.fast {
				t.Errorf("scanner handles it: %v, want %v", got, tc.fast)
			}
			checkDecode(t, []byte(tc.in), dirtyMessage(), DecodeMessage)
		})
	}
}

func TestDecodeAttachmentCases(t *testing.T) {
	for _, tc := range []struct {
		in   string
		fast bool
	}{
		{`{"id":"a","message":"m","name":"n","size":0}`, true},
		{`{"size":-0}`, true},
		{`{"size":-12}`, true},
		{`{"size":999999999999999999}`, true},
		{`{"size":9223372036854775807}`, true},
		{`{"size":9223372036854775808}`, false},
		{`{"size":-9223372036854775808}`, true},
		{`{"size":-9223372036854775809}`, false},
		{`{"size":10000000000000000000}`, false},
		{`{"size":99999999999999999999}`, false},
		{`{"size":01}`, false},
		{`{"size":1.0}`, false},
		{`{"size":1e3}`, false},
		{`{"size":-}`, false},
		{`{"size":"1"}`, false},
		{`{"size":null}`, false},
		{`{"created_at":"2020-01-01T00:00:00Z"}`, true},
		{`{"created_at":null}`, false},
		{`{"Size":1}`, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := fastAttachment([]byte(tc.in)); got != tc.fast {
				t.Errorf("scanner handles it: %v, want %v", got, tc.fast)
			}
			checkDecode(t, []byte(tc.in), &sdk.Attachment{ID: "old", Size: 5}, DecodeAttachment)
		})
	}
}

// TestRealRecords runs the records of real conversions through both
// directions: every line decodes on the fast path to what encoding/json
// decodes, and encodes back to the same bytes.
func TestRealRecords(t *testing.T) {
	for _, name := range []string{"sample-messages.ndjson", "gitter-messages.ndjson"} {
		n := 0
		eachLine(t, name, func(line []byte) {
			n++
			if !fastMessage(line) {
				t.Fatalf("%s:%d: the scanner fell back", name, n)
			}
			var m sdk.Message
			checkDecode(t, line, &m, DecodeMessage)
			out, err := AppendMessage(nil, &m)
			if err != nil || !bytes.Equal(out, line) {
				t.Fatalf("%s:%d: re-encoded as %s (%v)", name, n, out, err)
			}
		})
		if n < 10 {
			t.Fatalf("%s: only %d lines", name, n)
		}
	}
	for _, name := range []string{"sample-attachments.ndjson", "gitter-attachments.ndjson"} {
		n := 0
		eachLine(t, name, func(line []byte) {
			n++
			if !fastAttachment(line) {
				t.Fatalf("%s:%d: the scanner fell back", name, n)
			}
			var a sdk.Attachment
			checkDecode(t, line, &a, DecodeAttachment)
			out, err := AppendAttachment(nil, &a)
			if err != nil || !bytes.Equal(out, line) {
				t.Fatalf("%s:%d: re-encoded as %s (%v)", name, n, out, err)
			}
		})
		if n == 0 {
			t.Fatalf("%s: no lines", name)
		}
	}
}

func eachLine(t *testing.T, name string, fn func([]byte)) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fn(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestAppendTimeErrorsNameTheField(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	m := randMessage(r)
	m.EditedAt = nil
	m.SentAt = m.SentAt.AddDate(20000, 0, 0)
	_, err := AppendMessage(nil, m)
	if err == nil || !strings.Contains(err.Error(), "sent_at") || !strings.Contains(err.Error(), "0…9999") {
		t.Fatalf("error %v, want one about sent_at's year", err)
	}
}

func readTestdata(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}

// TestWordChecks compares the eight-byte checks with the byte tables on
// every byte value in every position, and on words mixing plain bytes.
func TestWordChecks(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	check := func(w [8]byte) {
		x := uint64(0)
		for i := 7; i >= 0; i-- {
			x = x<<8 | uint64(w[i])
		}
		wantEsc, wantUnq := false, false
		for _, c := range w {
			wantEsc = wantEsc || !plain[c]
			wantUnq = wantUnq || !strPlain[c]
		}
		if got := needsEscape8(x); got != wantEsc {
			t.Fatalf("needsEscape8(% x) = %v", w, got)
		}
		if got := needsUnquote8(x); got != wantUnq {
			t.Fatalf("needsUnquote8(% x) = %v", w, got)
		}
		if got := load8(string(w[:]), 0); got != x {
			t.Fatalf("load8(% x) = %x", w, got)
		}
	}
	for pos := range 8 {
		for c := range 256 {
			w := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
			w[pos] = byte(c)
			check(w)
			// Neighbours that borrow in the subtraction.
			for _, n := range []byte{0x00, 0x01, 0x20, 0x21, 0x7f, 0x80, 0xff} {
				w2 := w
				w2[(pos+1)%8] = n
				check(w2)
			}
		}
	}
	for range 200000 {
		var w [8]byte
		for i := range w {
			w[i] = byte(0x20 + r.IntN(0x60))
			if r.IntN(16) == 0 {
				w[i] = byte(r.IntN(256))
			}
		}
		check(w)
	}
}
