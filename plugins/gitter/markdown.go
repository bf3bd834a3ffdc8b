package gitter

import (
	"net/url"
	"strings"
)

// Gitter rendered chat text with a fork of marked (GFM, tables, "breaks",
// HTML sanitised away) plus its own inline rules for @mentions, group
// mentions, issue numbers and $$KaTeX$$. The canonical body is CommonMark,
// so translate rewrites exactly the constructs that the two read
// differently, and leaves everything else byte for byte:
//
//   - a single newline inside a paragraph was a line break in Gitter and
//     is a soft break (a space) in CommonMark: it becomes a backslash hard
//     break;
//   - "#Heading" without a space was a heading in Gitter; it gets the space
//     CommonMark needs (but "#12" stays an issue reference);
//   - $$...$$ on lines of their own becomes a ```math fence, inline
//     $$...$$ becomes $`...`$, so TeX's _ and * are not read as emphasis;
//   - a closing ``` glued to the last code line ("foo```"), which Gitter
//     accepted, is moved onto a line of its own;
//   - bare http(s) URLs, which Gitter linked and CommonMark does not,
//     become <autolinks> (trailing punctuation stays outside);
//   - issue references #12 and owner/repo#12 become links to GitHub;
//   - HTML tags, which Gitter showed as text, are escaped ("List<String>");
//   - "1) item", a list in CommonMark but text in Gitter, is escaped;
//   - @mentions are kept as written, with the * and edge _ that CommonMark
//     would read as emphasis escaped.
//
// While it scans, it collects what the message refers to: mentions, and
// files on files.gitter.im (attachments).
type translator struct {
	// repo is the room's repository ("owner/name"), for bare "#12".
	repo string

	out      strings.Builder
	mentions []string // names as written, without '@' ("all" for @/all)
	files    []string // files.gitter.im URLs, thumbnails folded into the file
	lines    []string
}

// quickPlain reports whether text has nothing translate would change or
// collect, so the common short message costs a byte scan and no
// allocation.
func quickPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n', '\r', '#', '@', '<', '$', ':', '`', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0':
			// Digits matter only as "1)" at the start; checking them all
			// keeps this loop simple and it is still cheap.
			if s[i] >= '0' && s[i] <= '9' && i != 0 {
				continue
			}
			return false
		}
	}
	return true
}

// translate converts Gitter Markdown to CommonMark.
func (t *translator) translate(src string) string {
	t.mentions = t.mentions[:0]
	t.files = t.files[:0]
	if quickPlain(src) {
		return src
	}
	if strings.IndexByte(src, '\r') >= 0 {
		src = strings.ReplaceAll(strings.ReplaceAll(src, "\r\n", "\n"), "\r", "\n")
	}
	t.out.Reset()
	t.out.Grow(len(src) + 16)
	t.lines = splitLines(t.lines[:0], src)
	lines := t.lines

	var (
		fence      string // the open fence's marker, "" when none
		inMath     bool
		inIndented bool
		inTable    bool
		inList     bool
		prevBlank  = true
	)
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if i > 0 {
			t.out.WriteByte('\n')
		}
		switch {
		case fence != "":
			trimmed := strings.TrimSpace(line)
			if isClosingFence(trimmed, fence) {
				fence = ""
				t.out.WriteString(line)
				continue
			}
			if fence[0] == '`' && strings.HasSuffix(trimmed, fence) {
				// "last code line```": Gitter closed the block here.
				t.out.WriteString(strings.TrimRight(strings.TrimSuffix(strings.TrimRight(line, " \t"), fence), " \t"))
				t.out.WriteByte('\n')
				t.out.WriteString(fence)
				fence = ""
				continue
			}
			t.out.WriteString(line)
			continue
		case inMath:
			trimmed := strings.TrimSpace(line)
			if trimmed == "$$" {
				t.out.WriteString("```")
				inMath = false
				continue
			}
			if strings.HasSuffix(trimmed, "$$") {
				t.out.WriteString(strings.TrimSuffix(strings.TrimRight(line, " \t"), "$$"))
				t.out.WriteString("\n```")
				inMath = false
				continue
			}
			t.out.WriteString(line)
			continue
		}
		if isBlank(line) {
			t.out.WriteString(line)
			prevBlank = true
			inTable = false
			continue
		}
		if inIndented {
			if indented(line) {
				t.out.WriteString(line)
				continue
			}
			inIndented = false
		}
		if prevBlank && !inList && indented(line) {
			inIndented = true
			prevBlank = false
			t.out.WriteString(line)
			continue
		}
		wasBlank := prevBlank
		prevBlank = false
		if f := openingFence(line); f != "" {
			fence = f
			t.out.WriteString(line)
			continue
		}
		// Only spaces and tabs are layout here: other white space (form
		// feeds, no-break spaces) is the author's text and must survive.
		if trimmed := strings.Trim(line, " \t"); strings.HasPrefix(trimmed, "$$") {
			if trimmed == "$$" {
				if hasMathClose(lines[i+1:]) {
					t.out.WriteString("```math")
					inMath = true
					continue
				}
			} else if len(trimmed) > 4 && strings.HasSuffix(trimmed, "$$") && !strings.Contains(trimmed[2:len(trimmed)-2], "$$") {
				t.out.WriteString("```math\n")
				t.out.WriteString(strings.Trim(trimmed[2:len(trimmed)-2], " \t"))
				t.out.WriteString("\n```")
				continue
			} else if !strings.Contains(trimmed[2:], "$$") && hasMathClose(lines[i+1:]) {
				t.out.WriteString("```math\n")
				t.out.WriteString(strings.Trim(trimmed[2:], " \t"))
				inMath = true
				continue
			}
		}
		if wasBlank {
			inList = false
		}
		if isListItem(line) {
			inList = true
		}
		if !inTable && strings.IndexByte(line, '|') >= 0 && i+1 < len(lines) && isDelimiterRow(lines[i+1]) {
			inTable = true
		}
		if inTable {
			t.inline(line)
			continue
		}
		heading := false
		if h := headingFix(line); h >= 0 {
			heading = true
			t.out.WriteString(line[:h])
			t.out.WriteByte(' ')
			t.inline(line[h:])
		} else if isATXHeading(line) || isThematicBreak(line) || isSetextUnderline(line) {
			heading = true
			t.inline(line)
		} else if p := orderedParen(line); p >= 0 {
			t.out.WriteString(line[:p])
			t.out.WriteByte('\\')
			t.inline(line[p:])
		} else {
			t.inline(line)
		}
		if !heading && i+1 < len(lines) && continuesParagraph(line, lines[i+1]) {
			hardBreak(&t.out, line)
		}
	}
	return t.out.String()
}

func splitLines(dst []string, s string) []string {
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// indented reports an indented code line: four spaces or a tab.
func indented(s string) bool {
	return strings.HasPrefix(s, "    ") || strings.HasPrefix(s, "\t") ||
		strings.HasPrefix(s, " \t") || strings.HasPrefix(s, "  \t") || strings.HasPrefix(s, "   \t")
}

func leadingSpaces(s string) int {
	n := 0
	for n < len(s) && s[n] == ' ' {
		n++
	}
	return n
}

// openingFence returns the marker of a fence that opens on this line.
func openingFence(line string) string {
	ind := leadingSpaces(line)
	if ind > 3 {
		return ""
	}
	rest := line[ind:]
	if len(rest) < 3 || (rest[0] != '`' && rest[0] != '~') {
		return ""
	}
	c := rest[0]
	n := 0
	for n < len(rest) && rest[n] == c {
		n++
	}
	if n < 3 {
		return ""
	}
	if c == '`' && strings.IndexByte(rest[n:], '`') >= 0 {
		return "" // ```inline``` is a code span in both dialects
	}
	return rest[:n]
}

func isClosingFence(trimmed, fence string) bool {
	if len(trimmed) < len(fence) || trimmed[0] != fence[0] {
		return false
	}
	for i := 0; i < len(trimmed); i++ {
		if trimmed[i] != fence[0] {
			return false
		}
	}
	return true
}

func hasMathClose(rest []string) bool {
	for _, l := range rest {
		if strings.HasSuffix(strings.TrimSpace(l), "$$") {
			return true
		}
	}
	return false
}

// headingFix returns where to insert the missing space of a "#Title"
// heading, or -1. "#12" and "#12 is fixed" stay issue references.
func headingFix(line string) int {
	ind := leadingSpaces(line)
	if ind > 3 {
		return -1
	}
	n := ind
	for n < len(line) && line[n] == '#' {
		n++
	}
	hashes := n - ind
	if hashes == 0 || hashes > 6 || n == len(line) {
		return -1
	}
	c := line[n]
	if c == ' ' || c == '\t' || c == '#' {
		return -1
	}
	if hashes == 1 && c >= '0' && c <= '9' {
		d := n
		for d < len(line) && line[d] >= '0' && line[d] <= '9' {
			d++
		}
		if d == len(line) || line[d] == ' ' || line[d] == '\t' || !isWordByte(line[d]) {
			return -1
		}
	}
	return n
}

func isATXHeading(line string) bool {
	ind := leadingSpaces(line)
	if ind > 3 {
		return false
	}
	n := ind
	for n < len(line) && line[n] == '#' {
		n++
	}
	h := n - ind
	return h >= 1 && h <= 6 && (n == len(line) || line[n] == ' ' || line[n] == '\t')
}

func isThematicBreak(line string) bool {
	t := strings.TrimSpace(line)
	if len(t) < 3 || leadingSpaces(line) > 3 {
		return false
	}
	c := t[0]
	if c != '-' && c != '*' && c != '_' {
		return false
	}
	n := 0
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case c:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}

func isSetextUnderline(line string) bool {
	t := strings.TrimSpace(line)
	if t == "" || leadingSpaces(line) > 3 || (t[0] != '=' && t[0] != '-') {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] != t[0] {
			return false
		}
	}
	return true
}

// isListItem recognises a bullet or ordered list item at any depth.
func isListItem(line string) bool {
	s := strings.TrimLeft(line, " \t")
	if s == "" {
		return false
	}
	if s[0] == '-' || s[0] == '*' || s[0] == '+' {
		return len(s) == 1 || s[1] == ' ' || s[1] == '\t'
	}
	d := 0
	for d < len(s) && d < 10 && s[d] >= '0' && s[d] <= '9' {
		d++
	}
	if d == 0 || d > 9 || d == len(s) || (s[d] != '.' && s[d] != ')') {
		return false
	}
	return d+1 == len(s) || s[d+1] == ' ' || s[d+1] == '\t'
}

// orderedParen returns where to put a backslash in "1) text": CommonMark
// starts a list there, Gitter did not.
func orderedParen(line string) int {
	ind := leadingSpaces(line)
	if ind > 3 {
		return -1
	}
	d := ind
	for d < len(line) && line[d] >= '0' && line[d] <= '9' {
		d++
	}
	if d == ind || d-ind > 9 || d == len(line) || line[d] != ')' {
		return -1
	}
	if d+1 == len(line) || line[d+1] == ' ' || line[d+1] == '\t' {
		return d
	}
	return -1
}

func isDelimiterRow(line string) bool {
	t := strings.TrimSpace(line)
	if t == "" || strings.IndexByte(t, '-') < 0 {
		return false
	}
	pipes := 0
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '|':
			pipes++
		case '-', ':', ' ', '\t':
		default:
			return false
		}
	}
	return pipes > 0
}

func isBlockquote(line string) bool {
	return leadingSpaces(line) <= 3 && strings.HasPrefix(strings.TrimLeft(line, " "), ">")
}

// continuesParagraph reports whether next continues the paragraph (or
// list item, or quote) that line belongs to, so that Gitter showed a line
// break between them.
func continuesParagraph(line, next string) bool {
	if isBlank(next) || openingFence(next) != "" || (isListItem(next) && orderedParen(next) < 0) ||
		isATXHeading(next) || headingFix(next) >= 0 || isThematicBreak(next) ||
		isSetextUnderline(next) || isDelimiterRow(next) ||
		strings.HasPrefix(strings.TrimSpace(next), "$$") {
		return false
	}
	if isBlockquote(next) && !isBlockquote(line) {
		return false
	}
	t := strings.TrimRight(line, " \t")
	if t == "" || t == ">" {
		return false
	}
	return true
}

// hardBreak ends the current output line with a CommonMark hard break,
// unless it already has one (two trailing spaces).
func hardBreak(out *strings.Builder, line string) {
	if strings.HasSuffix(line, "  ") {
		return
	}
	s := out.String()
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	if n%2 == 1 {
		// The line ends in a lone backslash that Gitter showed; escape
		// it so the break below does not swallow it.
		out.WriteByte('\\')
	}
	out.WriteByte('\\')
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

func isRepoByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func isMentionByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c >= 0x80
}

// inline rewrites the inline constructs of one line outside code spans.
func (t *translator) inline(s string) {
	out := &t.out
	i := 0
	for i < len(s) {
		c := s[i]
		prevWord := i > 0 && isWordByte(s[i-1])
		switch {
		case c == '\\':
			if i+1 < len(s) {
				out.WriteString(s[i : i+2])
				i += 2
			} else {
				out.WriteByte(c)
				i++
			}
			continue
		case c == '`':
			n := 0
			for i+n < len(s) && s[i+n] == '`' {
				n++
			}
			if end := closingTicks(s[i+n:], n); end >= 0 {
				out.WriteString(s[i : i+n+end+n])
				i += n + end + n
			} else {
				out.WriteString(s[i : i+n])
				i += n
			}
			continue
		case c == '[' || (c == '!' && i+1 < len(s) && s[i+1] == '['):
			if end := linkEnd(s, i); end > 0 {
				t.collectFiles(s[i:end])
				out.WriteString(s[i:end])
				i = end
				continue
			}
		case c == '<':
			if end := autolinkEnd(s, i); end > 0 {
				t.collectFiles(s[i+1 : end-1])
				out.WriteString(s[i:end])
				i = end
				continue
			}
			if i+1 < len(s) && (isLetter(s[i+1]) || s[i+1] == '/' || s[i+1] == '!' || s[i+1] == '?') {
				out.WriteString(`\<`)
				i++
				continue
			}
		case c == '@' && !prevWord:
			if strings.HasPrefix(s[i+1:], "/all") && (i+5 == len(s) || !isMentionByte(s[i+5])) {
				t.addMention("all")
				out.WriteString("@/all")
				i += 5
				continue
			}
			n := 0
			for i+1+n < len(s) && isMentionByte(s[i+1+n]) {
				n++
			}
			for n > 0 && (s[i+n] == '.' || s[i+n] == '-') {
				n-- // trailing sentence punctuation is not part of a name
			}
			if n > 0 {
				name := s[i+1 : i+1+n]
				t.addMention(name)
				out.WriteByte('@')
				writeMentionName(out, name)
				i += 1 + n
				continue
			}
		case c == '#' && !prevWord && i+1 < len(s) && isDigit(s[i+1]):
			d := i + 1
			for d < len(s) && isDigit(s[d]) {
				d++
			}
			if t.repo != "" && (d == len(s) || !isWordByte(s[d])) {
				writeIssue(out, s[i:d], t.repo, s[i+1:d])
				i = d
				continue
			}
			out.WriteString(s[i:d])
			i = d
			continue
		case c == '$' && strings.HasPrefix(s[i:], "$$"):
			if end := strings.Index(s[i+2:], "$$"); end > 0 {
				tex := s[i+2 : i+2+end]
				if strings.IndexByte(tex, '`') < 0 && strings.TrimSpace(tex) != "" {
					out.WriteString("$`")
					out.WriteString(tex)
					out.WriteString("`$")
					i += 2 + end + 2
					continue
				}
			}
		case !prevWord && (c == 'h' || c == 'H') && hasHTTPPrefix(s[i:]):
			end := bareURLEnd(s, i)
			u := s[i:end]
			if strings.IndexByte(u, '>') < 0 {
				t.collectFiles(u)
				out.WriteByte('<')
				out.WriteString(u)
				out.WriteByte('>')
			} else {
				out.WriteString(u)
			}
			i = end
			continue
		case !prevWord && isRepoByte(c):
			// owner/repo#12
			if end, slash, hash := repoIssue(s, i); end > 0 {
				writeIssue(out, s[i:end], s[i:hash], s[hash+1:end])
				_ = slash
				i = end
				continue
			}
			// Copy the whole word: nothing inside it can start a construct
			// that needs a word boundary.
			j := i + 1
			for j < len(s) && isRepoByte(s[j]) {
				j++
			}
			out.WriteString(s[i:j])
			i = j
			continue
		}
		out.WriteByte(c)
		i++
	}
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func hasHTTPPrefix(s string) bool {
	if len(s) < 8 {
		return false
	}
	l := strings.ToLower(s[:8])
	return strings.HasPrefix(l, "http://") || l == "https://"
}

// bareURLEnd finds where a bare URL starting at i ends: at white space or
// '<', without trailing punctuation or an unbalanced ')'.
func bareURLEnd(s string, i int) int {
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '<' {
		j++
	}
	for j > i {
		c := s[j-1]
		if strings.IndexByte(".,:;\"'!?*_~", c) >= 0 {
			j--
			continue
		}
		if c == ')' && strings.Count(s[i:j], "(") < strings.Count(s[i:j], ")") {
			j--
			continue
		}
		if c == ']' && strings.Count(s[i:j], "[") < strings.Count(s[i:j], "]") {
			j--
			continue
		}
		break
	}
	return j
}

// repoIssue recognises owner/repo#12 at i.
func repoIssue(s string, i int) (end, slash, hash int) {
	j := i
	for j < len(s) && isRepoByte(s[j]) {
		j++
	}
	if j == i || j >= len(s) || s[j] != '/' {
		return -1, 0, 0
	}
	slash = j
	j++
	k := j
	for k < len(s) && isRepoByte(s[k]) {
		k++
	}
	if k == j || k >= len(s) || s[k] != '#' {
		return -1, 0, 0
	}
	hash = k
	d := k + 1
	for d < len(s) && isDigit(s[d]) {
		d++
	}
	if d == k+1 || (d < len(s) && isWordByte(s[d])) {
		return -1, 0, 0
	}
	return d, slash, hash
}

func writeIssue(out *strings.Builder, text, repo, number string) {
	out.WriteByte('[')
	out.WriteString(text)
	out.WriteString("](https://github.com/")
	out.WriteString(repo)
	out.WriteString("/issues/")
	out.WriteString(number)
	out.WriteByte(')')
}

// writeMentionName writes a username so that CommonMark shows it as is:
// a '_' at its edges could start or end emphasis.
func writeMentionName(out *strings.Builder, name string) {
	for k := 0; k < len(name); k++ {
		c := name[k]
		if c == '_' && (k == 0 || k == len(name)-1) {
			out.WriteByte('\\')
		}
		out.WriteByte(c)
	}
}

func (t *translator) addMention(name string) {
	for _, m := range t.mentions {
		if strings.EqualFold(m, name) {
			return
		}
	}
	t.mentions = append(t.mentions, name)
}

// closingTicks finds a run of exactly n backticks in s; it returns the
// offset of the run or -1.
func closingTicks(s string, n int) int {
	for k := 0; k < len(s); {
		if s[k] != '`' {
			k++
			continue
		}
		m := 0
		for k+m < len(s) && s[k+m] == '`' {
			m++
		}
		if m == n {
			return k
		}
		k += m
	}
	return -1
}

// linkEnd returns the end of an inline link or image starting at i
// ("[text](dest)", "![alt](src)", nested as in "[![a](t)](f)"), or -1.
func linkEnd(s string, i int) int {
	j := i
	if s[j] == '!' {
		j++
	}
	depth := 0
	k := j
	for ; k < len(s); k++ {
		switch s[k] {
		case '\\':
			k++
		case '[':
			depth++
		case ']':
			depth--
		}
		if depth == 0 {
			break
		}
	}
	if k >= len(s) || depth != 0 || k+1 >= len(s) || s[k+1] != '(' {
		return -1
	}
	p := 0
	for m := k + 1; m < len(s); m++ {
		switch s[m] {
		case '\\':
			m++
		case '(':
			p++
		case ')':
			p--
			if p == 0 {
				return m + 1
			}
		}
	}
	return -1
}

// autolinkEnd returns the end of a CommonMark autolink at i ("<scheme:...>"
// or "<user@host>"), or -1.
func autolinkEnd(s string, i int) int {
	end := strings.IndexByte(s[i+1:], '>')
	if end < 0 {
		return -1
	}
	in := s[i+1 : i+1+end]
	if in == "" || strings.ContainsAny(in, " \t<") {
		return -1
	}
	if c := strings.IndexByte(in, ':'); c >= 2 && c <= 32 && isLetter(in[0]) {
		for k := 1; k < c; k++ {
			if !(isLetter(in[k]) || isDigit(in[k]) || in[k] == '+' || in[k] == '.' || in[k] == '-') {
				return -1
			}
		}
		return i + 1 + end + 1
	}
	if at := strings.IndexByte(in, '@'); at > 0 && strings.IndexByte(in[at:], '.') > 0 {
		return i + 1 + end + 1
	}
	return -1
}

const filesHost = "files.gitter.im/"

// collectFiles records every files.gitter.im URL in s.
func (t *translator) collectFiles(s string) {
	for {
		k := strings.Index(s, filesHost)
		if k < 0 {
			return
		}
		start := k
		for start > 0 && s[start-1] != '(' && s[start-1] != ' ' && s[start-1] != '<' && s[start-1] != '[' {
			start--
		}
		end := k + len(filesHost)
		for end < len(s) && !strings.ContainsRune(" )<>\"\t]", rune(s[end])) {
			end++
		}
		u := s[start:end]
		s = s[end:]
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "//") {
			continue
		}
		if strings.HasPrefix(u, "//") {
			u = "https:" + u
		}
		u = foldThumb(u)
		dup := false
		for _, f := range t.files {
			if f == u {
				dup = true
				break
			}
		}
		if !dup {
			t.files = append(t.files, u)
		}
	}
}

// foldThumb turns https://files.gitter.im/<room>/<key>/thumb/<name> into
// the full-size file's URL.
func foldThumb(u string) string {
	if k := strings.LastIndex(u, "/thumb/"); k > 0 && strings.IndexByte(u[k+len("/thumb/"):], '/') < 0 {
		return u[:k] + u[k+len("/thumb"):]
	}
	return u
}

// fileName returns the decoded last path segment of a file URL.
func fileName(u string) string {
	if q := strings.IndexAny(u, "?#"); q >= 0 {
		u = u[:q]
	}
	name := u[strings.LastIndexByte(u, '/')+1:]
	if dec, err := url.PathUnescape(name); err == nil {
		name = dec
	}
	if strings.TrimSpace(name) == "" {
		return "file"
	}
	return name
}
