package hipchat

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
	}{
		{"2018-08-08T14:23:54Z 626267", time.Date(2018, 8, 8, 14, 23, 54, 626267000, time.UTC)},
		{"2018-08-08T14:23:54Z 000001", time.Date(2018, 8, 8, 14, 23, 54, 1000, time.UTC)},
		{"2018-06-16T23:01:40.827038Z", time.Date(2018, 6, 16, 23, 1, 40, 827038000, time.UTC)},
		{"2018-01-04T10:16:02.809766+00:00", time.Date(2018, 1, 4, 10, 16, 2, 809766000, time.UTC)},
		{"2015-08-21T06:32:37+0000", time.Date(2015, 8, 21, 6, 32, 37, 0, time.UTC)},
		{"2015-08-21T08:32:37+0200", time.Date(2015, 8, 21, 6, 32, 37, 0, time.UTC)},
		{"2013-12-02T18:04:15+00:00", time.Date(2013, 12, 2, 18, 4, 15, 0, time.UTC)},
		{"2013-12-02T18:04:15", time.Date(2013, 12, 2, 18, 4, 15, 0, time.UTC)},
	}
	for _, c := range cases {
		got, err := parseTime(c.in)
		if err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2018-08-08T14:23:54Z abc", "2018-08-08T14:23:54Z -1", "2018-13-08T14:23:54Z 000000", "2018-08-08T14:23:54Z 1234567890"} {
		if _, err := parseTime(bad); err == nil {
			t.Errorf("parseTime(%q): no error", bad)
		}
	}
	in := time.Date(2018, 8, 8, 14, 23, 54, 626267999, time.UTC)
	if got := formatTime(in); got != "2018-08-08T14:23:54Z 626267" {
		t.Errorf("formatTime = %q", got)
	}
	if got := formatTime(time.Date(2018, 8, 8, 16, 23, 54, 5000, time.FixedZone("x", 7200))); got != "2018-08-08T14:23:54Z 000005" {
		t.Errorf("formatTime in another zone = %q", got)
	}
}

func TestHTMLToMarkdown(t *testing.T) {
	cases := []struct{ in, want string }{
		{`<b>bold</b> and <strong>strong</strong>`, `**bold** and **strong**`},
		{`<i>it</i> <em>em</em>`, `_it_ _em_`},
		{`<b> spaced </b>x`, `**spaced** x`},
		{`<b></b>empty`, `empty`},
		{`<a href="https://x.example/a b">link</a>`, `[link](https://x.example/a%20b)`},
		{`<a href="https://x.example">https://x.example</a>`, `<https://x.example>`},
		{`<a>no href</a>`, `no href`},
		{`line<br>break<br/>again`, "line\nbreak\nagain"},
		{`<p>one</p><p>two</p>`, "one\n\ntwo"},
		{`<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>`, "- a\n- b\n  - c"},
		{`<ol><li>x</li><li>y</li></ol>`, "1. x\n2. y"},
		{`use <code>a*b</code> now`, "use `a*b` now"},
		{"<code>x`y</code>", "``x`y``"},
		{"<pre>if a < b {\n  x()\n}</pre>", "```\nif a < b {\n  x()\n}\n```"},
		{`<img src="https://x.example/i.png" alt="pic">`, `![pic](https://x.example/i.png)`},
		{`1 &lt; 2 &amp;&amp; 3 &gt; 2`, `1 \< 2 && 3 \> 2`},
		{`a_b*c [d]`, `a\_b\*c \[d\]`},
		{`# not a heading`, `\# not a heading`},
		{`<p>2018. A year</p>`, `2018\. A year`},
		{`<script>alert(1)</script>ok<style>p{}</style>`, `ok`},
		{`<!-- note -->visible`, `visible`},
		{`a < b`, `a \< b`},
		{`<unknown attr="1">kept</unknown>`, `kept`},
		{`<b>never closed`, `**never closed**`},
		{`<a href="x"`, ``},
		{"\n\n\n<p><b><a href=\"https://g.example/r\">r</a></b></p>\n\n\n<p>desc</p>\n\n", "**[r](https://g.example/r)**\n\ndesc"},
		{`<h2>Title</h2>text`, "## Title\n\ntext"},
	}
	for _, c := range cases {
		if got := htmlToMarkdown(c.in); got != c.want {
			t.Errorf("htmlToMarkdown(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestTextToMarkdown(t *testing.T) {
	r := &reader{custom: map[string]string{"yasss": "yasss", "party": "Party"}}
	cases := []struct {
		in, want string
		emote    bool
	}{
		{"plain *text* stays", "plain *text* stays", false},
		{"/code x := 1", "```\nx := 1\n```", false},
		{"/code\nmulti\nline (yasss)", "```\nmulti\nline (yasss)\n```", false},
		{"/codex not a command", "/codex not a command", false},
		{"/quote a\n\nb", "> a\n>\n> b", false},
		{"/me dances (party)", "dances :Party:", true},
		{"(yasss)(thumbsup) (THUMBSUP) (nope) ()", ":yasss::thumbs_up: :thumbs_up: (nope) ()", false},
		{"/me", "", true},
	}
	for _, c := range cases {
		got, kind := r.textToMarkdown(c.in)
		if got != c.want || (kind == "emote") != c.emote {
			t.Errorf("textToMarkdown(%q) = %q, %s; want %q emote=%v", c.in, got, kind, c.want, c.emote)
		}
	}
	if got := specialMentions("hi @all and @here, mail a@all.example, @alliance"); len(got) != 2 || got[0].Text != "all" || got[1].Text != "here" {
		t.Errorf("specialMentions = %+v", got)
	}
	for hc, std := range builtinEmoticons {
		if back := builtinReverse[std]; builtinEmoticons[back] != std {
			t.Errorf("(%s) → :%s: → (%s) does not map back", hc, std, back)
		}
	}
}

func TestSpillReverse(t *testing.T) {
	sp, err := newSpill(3) // fewer open files than histories
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	// Lines longer than the 64 KiB read block, many histories, ties.
	long := strings.Repeat("x", 150<<10)
	want := map[string][]string{}
	for i := range 2000 {
		key := fmt.Sprint("r", i%7)
		micros := int64(i / 3) // three records per instant
		line := fmt.Sprintf(`{"n":%d}`, i)
		if i%500 == 0 {
			line = fmt.Sprintf(`{"n":%d,"pad":%q}`, i, long)
		}
		if err := sp.add(key, micros, []byte(line)); err != nil {
			t.Fatal(err)
		}
		want[key] = append(want[key], strconv.FormatInt(micros, 10)+"\t"+line)
	}
	for key, lines := range want {
		// Expected: newest instant first, same-instant lines in input order.
		exp := slices.Clone(lines)
		slices.SortStableFunc(exp, func(a, b string) int {
			ta, _ := strconv.Atoi(a[:strings.IndexByte(a, '\t')])
			tb, _ := strconv.Atoi(b[:strings.IndexByte(b, '\t')])
			return tb - ta
		})
		var got []string
		if err := sp.reverse(key, func(l []byte) error { got = append(got, string(l)); return nil }); err != nil {
			t.Fatal(err)
		}
		for i := range exp {
			exp[i] = exp[i][strings.IndexByte(exp[i], '\t')+1:]
		}
		if !slices.Equal(got, exp) {
			t.Fatalf("%s: %d lines back, want %d, or order differs", key, len(got), len(exp))
		}
	}
	dir := sp.dir
	sp.Close()
	if _, err := os.Stat(filepath.Join(dir)); !os.IsNotExist(err) {
		t.Errorf("spill directory left behind: %v", err)
	}
}
