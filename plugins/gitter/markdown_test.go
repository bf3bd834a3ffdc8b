package gitter

import (
	"slices"
	"testing"
)

func TestTranslate(t *testing.T) {
	tests := []struct {
		name, repo, in, want string
		mentions, files      []string
	}{
		{name: "plain", in: "hello world", want: "hello world"},
		{name: "single newline is a line break", in: "line one\nline two\nline three", want: "line one\\\nline two\\\nline three"},
		{name: "paragraphs stay", in: "para one\n\npara two", want: "para one\n\npara two"},
		{name: "crlf", in: "a\r\nb", want: "a\\\nb"},
		{name: "existing hard break kept", in: "a  \nb", want: "a  \nb"},
		{name: "trailing backslash kept visible", in: `C:\` + "\nnext", want: `C:\\\` + "\nnext"},
		{name: "no break before list", in: "items:\n- one\n- two", want: "items:\n- one\n- two"},
		{name: "list item continuation breaks", in: "- one\n  more\n- two", want: "- one\\\n  more\n- two"},
		{name: "no break before heading", in: "text\n# Title", want: "text\n# Title"},
		{name: "setext heading untouched", in: "Title\n=====", want: "Title\n====="},
		{name: "blockquote lines break", in: "> a\n> b", want: "> a\\\n> b"},
		{name: "no break before quote", in: "a\n> b", want: "a\n> b"},
		{name: "heading without space", in: "#Title\n##Sub title", want: "# Title\n## Sub title"},
		{name: "heading with space untouched", in: "## Title", want: "## Title"},
		{name: "issue at line start is not a heading", in: "#12 is fixed", want: "#12 is fixed"},
		{name: "issue link with room repo", repo: "org/repo", in: "see #12, and #3.", want: "see [#12](https://github.com/org/repo/issues/12), and [#3](https://github.com/org/repo/issues/3)."},
		{name: "issue without repo stays text", in: "see #12", want: "see #12"},
		{name: "issue with explicit repo", in: "fixed in other/thing#7 today", want: "fixed in [other/thing#7](https://github.com/other/thing/issues/7) today"},
		{name: "hash inside word is not an issue", repo: "o/r", in: "C#12 and a#1", want: "C#12 and a#1"},
		{name: "fence with language kept", in: "```js\nvar a = b\nc\n```", want: "```js\nvar a = b\nc\n```"},
		{name: "no breaks inside fence", in: "look:\n```\na\nb\n```\nafter\nthat", want: "look:\n```\na\nb\n```\nafter\\\nthat"},
		{name: "closing fence glued to code", in: "```\nfoo()\nbar()```", want: "```\nfoo()\nbar()\n```"},
		{name: "inline triple backticks are a code span", in: "use ```x = 1``` here", want: "use ```x = 1``` here"},
		{name: "math block", in: "$$\nx_1 + y_1\n$$", want: "```math\nx_1 + y_1\n```"},
		{name: "math on one line", in: "$$ \\frac{a}{b} $$", want: "```math\n\\frac{a}{b}\n```"},
		{name: "math block with content on the fence lines", in: "$$a_1 +\nb_1$$", want: "```math\na_1 +\nb_1\n```"},
		{name: "inline math", in: "so $$a_1 * b_2$$ holds", want: "so $`a_1 * b_2`$ holds"},
		{name: "dollars alone stay", in: "costs $5 or $$ lots", want: "costs $5 or $$ lots"},
		{name: "bare url becomes autolink", in: "see https://example.com/a_b_c.", want: "see <https://example.com/a_b_c>."},
		{name: "url with parens", in: "(https://en.wikipedia.org/wiki/Go_(language))", want: "(<https://en.wikipedia.org/wiki/Go_(language)>)"},
		{name: "url in link untouched", in: "[site](https://example.com/*x*)", want: "[site](https://example.com/*x*)"},
		{name: "autolink untouched", in: "<https://example.com>", want: "<https://example.com>"},
		{name: "url in code untouched", in: "`https://example.com`", want: "`https://example.com`"},
		{name: "html escaped", in: "List<String> and <b>bold</b>", want: `List\<String> and \<b>bold\</b>`},
		{name: "comparison untouched", in: "a < b and c <3", want: "a < b and c <3"},
		{name: "mention kept", in: "hi @kapilt, thanks", want: "hi @kapilt, thanks", mentions: []string{"kapilt"}},
		{name: "mention with underscores", in: "@_private_ and @a_b", want: `@\_private\_ and @a_b`, mentions: []string{"_private_", "a_b"}},
		{name: "mention with sentence dot", in: "ask @jane.", want: "ask @jane.", mentions: []string{"jane"}},
		{name: "group mention", in: "@/all meeting now", want: "@/all meeting now", mentions: []string{"all"}},
		{name: "email is not a mention", in: "mail me@example.com", want: "mail me@example.com"},
		{name: "mention in code is not a mention", in: "`@Override`", want: "`@Override`"},
		{name: "strikethrough kept", in: "~~old~~ new", want: "~~old~~ new"},
		{name: "ordered paren escaped", in: "1) first\n2) second", want: "1\\) first\\\n2\\) second"},
		{name: "ordered dot is a list", in: "1. first\n2. second", want: "1. first\n2. second"},
		{name: "table untouched", in: "| a | b |\n|---|---|\n| 1 | 2 |", want: "| a | b |\n|---|---|\n| 1 | 2 |"},
		{name: "indented code untouched", in: "    code line\n    more", want: "    code line\n    more"},
		{name: "unicode", in: "héllo 😀\nwörld @jörg", want: "héllo 😀\\\nwörld @jörg", mentions: []string{"jörg"}},
		{name: "file link", in: "[image.png](https://files.gitter.im/org/room/ck1D/image.png)", want: "[image.png](https://files.gitter.im/org/room/ck1D/image.png)",
			files: []string{"https://files.gitter.im/org/room/ck1D/image.png"}},
		{name: "thumbnail folded into file", in: "[![image.png](https://files.gitter.im/org/room/ck1D/thumb/image.png)](https://files.gitter.im/org/room/ck1D/image.png)",
			want:  "[![image.png](https://files.gitter.im/org/room/ck1D/thumb/image.png)](https://files.gitter.im/org/room/ck1D/image.png)",
			files: []string{"https://files.gitter.im/org/room/ck1D/image.png"}},
		{name: "bare file url", in: "https://files.gitter.im/org/room/AbCd/report%20v2.pdf",
			want: "<https://files.gitter.im/org/room/AbCd/report%20v2.pdf>", files: []string{"https://files.gitter.im/org/room/AbCd/report%20v2.pdf"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &translator{repo: tc.repo}
			got := tr.translate(tc.in)
			if got != tc.want {
				t.Errorf("translate(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if !slices.Equal(tr.mentions, tc.mentions) && !(len(tr.mentions) == 0 && len(tc.mentions) == 0) {
				t.Errorf("mentions = %q, want %q", tr.mentions, tc.mentions)
			}
			if !slices.Equal(tr.files, tc.files) && !(len(tr.files) == 0 && len(tc.files) == 0) {
				t.Errorf("files = %q, want %q", tr.files, tc.files)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"https://files.gitter.im/org/room/AbCd/report%20v2.pdf": "report v2.pdf",
		"https://files.gitter.im/org/room/AbCd/image.png?x=1":   "image.png",
		"https://files.gitter.im/org/room/AbCd/":                "file",
	} {
		if got := fileName(in); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}
