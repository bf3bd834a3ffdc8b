package hipchat

import (
	"html"
	"strconv"
	"strings"
)

// htmlToMarkdown converts the HTML that HipChat notifications carry into
// CommonMark. It knows the tags integrations used (a, b/strong, i/em,
// code, pre, br, p, div, ul/ol/li, img, h1–h6); other tags are dropped and
// their text kept, script and style are dropped whole. It never fails: bad
// markup degrades to text.
//
// The tokenizer is a small one of our own rather than a full HTML5 parser:
// notification bodies are short and machine-made, and this keeps the
// adapter free of dependencies (it must also build for WebAssembly).
func htmlToMarkdown(s string) string {
	c := &mdConv{}
	tokenizeHTML(s, c.token)
	return c.finish()
}

type htmlTok struct {
	kind  int // tokText, tokStart, tokEnd
	name  string
	text  string // decoded text for tokText
	attrs map[string]string
	self  bool // <br/>
}

const (
	tokText = iota
	tokStart
	tokEnd
)

// tokenizeHTML splits s into text, start tags and end tags. Comments,
// doctypes and processing instructions are dropped.
func tokenizeHTML(s string, emit func(htmlTok)) {
	text := func(t string) {
		if t != "" {
			emit(htmlTok{kind: tokText, text: html.UnescapeString(t)})
		}
	}
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			text(s)
			return
		}
		text(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "<!--"):
			j := strings.Index(s[4:], "-->")
			if j < 0 {
				return
			}
			s = s[4+j+3:]
			continue
		case strings.HasPrefix(s, "<!") || strings.HasPrefix(s, "<?"):
			j := strings.IndexByte(s, '>')
			if j < 0 {
				return
			}
			s = s[j+1:]
			continue
		}
		end := len(s) > 1 && s[1] == '/'
		k := 1
		if end {
			k = 2
		}
		if k >= len(s) || !isASCIILetter(s[k]) {
			// A lone "<" is text.
			text("<")
			s = s[1:]
			continue
		}
		n := k
		for n < len(s) && (isASCIILetter(s[n]) || (s[n] >= '0' && s[n] <= '9')) {
			n++
		}
		tok := htmlTok{kind: tokStart, name: strings.ToLower(s[k:n])}
		if end {
			tok.kind = tokEnd
		}
		rest, attrs, self, ok := parseAttrs(s[n:])
		if !ok {
			// Unterminated tag: the rest is dropped, as browsers do.
			return
		}
		tok.attrs, tok.self = attrs, self
		emit(tok)
		s = rest
		if tok.kind == tokStart && (tok.name == "script" || tok.name == "style") {
			j := strings.Index(strings.ToLower(s), "</"+tok.name)
			if j < 0 {
				return
			}
			s = s[j:]
		}
	}
}

func isASCIILetter(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }

// parseAttrs reads attributes up to and including '>'.
func parseAttrs(s string) (rest string, attrs map[string]string, self, ok bool) {
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return "", nil, false, false
		}
		switch s[i] {
		case '>':
			return s[i+1:], attrs, self, true
		case '/':
			self = true
			i++
			continue
		}
		start := i
		for i < len(s) && !isSpace(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/' {
			i++
		}
		name := strings.ToLower(s[start:i])
		if name == "" {
			i++
			continue
		}
		self = false
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		val := ""
		if i < len(s) && s[i] == '=' {
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				j := strings.IndexByte(s[i+1:], q)
				if j < 0 {
					return "", nil, false, false
				}
				val = s[i+1 : i+1+j]
				i += j + 2
			} else {
				start := i
				for i < len(s) && !isSpace(s[i]) && s[i] != '>' {
					i++
				}
				val = s[start:i]
			}
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[name] = html.UnescapeString(val)
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' }

// mdConv builds CommonMark from tokens.
type mdConv struct {
	b       strings.Builder
	lists   []listState
	raw     *strings.Builder // collects <pre> or <code> text
	rawCode bool             // raw is an inline code span
	links   []linkState
	strong  []int // output length at each open <b>, to drop empty pairs
	em      []int
}

type listState struct {
	ordered bool
	n       int
}

type linkState struct {
	href  string
	start int
}

func (c *mdConv) token(t htmlTok) {
	if c.raw != nil {
		// Inside <pre> or <code>: keep text, watch for the closing tag.
		switch {
		case t.kind == tokText:
			c.raw.WriteString(t.text)
		case t.kind == tokStart && t.name == "br":
			c.raw.WriteByte('\n')
		case t.kind == tokEnd && t.name == "pre" && !c.rawCode:
			c.closePre()
		case t.kind == tokEnd && t.name == "code" && c.rawCode:
			c.closeCode()
		}
		return
	}
	switch t.kind {
	case tokText:
		c.text(t.text)
	case tokStart:
		c.start(t)
	case tokEnd:
		c.end(t.name)
	}
}

// text writes text with HTML's white space collapsed and CommonMark's
// special characters escaped.
func (c *mdConv) text(s string) {
	var w strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\f' {
			space = true
			continue
		}
		if space {
			w.WriteByte(' ')
			space = false
		}
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|':
			w.WriteByte('\\')
		case '#', '-', '+', '=':
			// Only special at the start of a line.
			if w.Len() == 0 && c.atLineStart() {
				w.WriteByte('\\')
			}
		}
		w.WriteRune(r)
	}
	if space {
		w.WriteByte(' ')
	}
	out := w.String()
	if c.atLineStart() {
		out = strings.TrimLeft(out, " ")
		// "1. " at the start of a line would start a list.
		if i := strings.IndexFunc(out, func(r rune) bool { return r < '0' || r > '9' }); i > 0 && i < len(out) && (out[i] == '.' || out[i] == ')') {
			out = out[:i] + `\` + out[i:]
		}
	}
	c.b.WriteString(out)
}

func (c *mdConv) atLineStart() bool {
	s := c.b.String()
	if s == "" {
		return true
	}
	s = strings.TrimRight(s, " ")
	return s == "" || s[len(s)-1] == '\n' || strings.HasSuffix(s, "- ") || strings.HasSuffix(s, ". ")
}

func (c *mdConv) newline(n int) {
	s := c.b.String()
	if s == "" {
		return
	}
	have := len(s) - len(strings.TrimRight(s, "\n"))
	trimmed := strings.TrimRight(s, " \n")
	if have >= n {
		return
	}
	c.b.Reset()
	c.b.WriteString(trimmed)
	if len(trimmed) > 0 {
		c.b.WriteString(strings.Repeat("\n", max(n, have)))
	}
}

func (c *mdConv) indent() string {
	var n int
	for _, l := range c.lists[:max(len(c.lists)-1, 0)] {
		if l.ordered {
			n += 3
		} else {
			n += 2
		}
	}
	return strings.Repeat(" ", n)
}

func (c *mdConv) start(t htmlTok) {
	switch t.name {
	case "b", "strong":
		c.strong = append(c.strong, c.b.Len())
		c.b.WriteString("**")
	case "i", "em":
		c.em = append(c.em, c.b.Len())
		c.b.WriteString("_")
	case "br":
		c.b.WriteString("\n")
	case "p", "div", "table", "blockquote":
		if len(c.lists) == 0 {
			c.newline(2)
		} else {
			c.newline(1)
		}
	case "tr":
		c.newline(1)
	case "td", "th":
		if !c.atLineStart() {
			c.b.WriteString(" ")
		}
	case "h1", "h2", "h3", "h4", "h5", "h6":
		c.newline(2)
		n, _ := strconv.Atoi(t.name[1:])
		c.b.WriteString(strings.Repeat("#", n) + " ")
	case "ul", "ol":
		c.newline(1)
		c.lists = append(c.lists, listState{ordered: t.name == "ol"})
	case "li":
		c.newline(1)
		if len(c.lists) == 0 {
			c.lists = append(c.lists, listState{})
		}
		l := &c.lists[len(c.lists)-1]
		l.n++
		if l.ordered {
			c.b.WriteString(c.indent() + strconv.Itoa(l.n) + ". ")
		} else {
			c.b.WriteString(c.indent() + "- ")
		}
	case "a":
		c.links = append(c.links, linkState{href: t.attrs["href"], start: c.b.Len()})
	case "img":
		src := t.attrs["src"]
		if src == "" {
			return
		}
		c.b.WriteString("![" + escapeInline(t.attrs["alt"]) + "](" + escapeURL(src) + ")")
	case "pre":
		c.newline(2)
		c.raw, c.rawCode = &strings.Builder{}, false
	case "code":
		c.raw, c.rawCode = &strings.Builder{}, true
	}
}

func (c *mdConv) end(name string) {
	switch name {
	case "b", "strong":
		c.closeMark(&c.strong, "**")
	case "i", "em":
		c.closeMark(&c.em, "_")
	case "p", "div", "table", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6":
		if len(c.lists) == 0 {
			c.newline(2)
		} else {
			c.newline(1)
		}
	case "ul", "ol":
		if len(c.lists) > 0 {
			c.lists = c.lists[:len(c.lists)-1]
		}
		c.newline(1)
	case "a":
		if len(c.links) == 0 {
			return
		}
		l := c.links[len(c.links)-1]
		c.links = c.links[:len(c.links)-1]
		if l.href == "" || l.start > c.b.Len() {
			return
		}
		s := c.b.String()
		label := strings.TrimSpace(s[l.start:])
		c.b.Reset()
		c.b.WriteString(s[:l.start])
		switch {
		case label == "":
			c.b.WriteString("<" + escapeURL(l.href) + ">")
		case label == escapeInline(l.href) && !strings.ContainsAny(l.href, " <>"):
			c.b.WriteString("<" + l.href + ">")
		default:
			c.b.WriteString("[" + label + "](" + escapeURL(l.href) + ")")
		}
	}
}

// closeMark closes an emphasis, or removes its opener when nothing was
// written in between ("<b></b>" must not leave "****").
func (c *mdConv) closeMark(stack *[]int, mark string) {
	if len(*stack) == 0 {
		return
	}
	at := (*stack)[len(*stack)-1]
	*stack = (*stack)[:len(*stack)-1]
	s := c.b.String()
	if at > len(s) {
		return
	}
	if strings.TrimSpace(s[at+len(mark):]) == "" {
		c.b.Reset()
		c.b.WriteString(s[:at])
		return
	}
	// CommonMark emphasis may not start or end with a space inside its
	// markers: move such spaces outside.
	body := s[at+len(mark):]
	inner := strings.TrimSpace(body)
	lead := ""
	if strings.HasPrefix(body, " ") && at > 0 && s[at-1] != '\n' && s[at-1] != ' ' {
		lead = " "
	}
	trail := ""
	if strings.HasSuffix(body, " ") {
		trail = " "
	}
	c.b.Reset()
	c.b.WriteString(s[:at] + lead + mark + inner + mark + trail)
}

func (c *mdConv) closeCode() {
	code := strings.ReplaceAll(c.raw.String(), "\n", " ")
	c.raw = nil
	if strings.TrimSpace(code) == "" {
		return
	}
	fence := strings.Repeat("`", longestRun(code, '`')+1)
	pad := ""
	if strings.HasPrefix(code, "`") || strings.HasSuffix(code, "`") {
		pad = " "
	}
	c.b.WriteString(fence + pad + code + pad + fence)
}

func (c *mdConv) closePre() {
	code := strings.Trim(c.raw.String(), "\n")
	c.raw = nil
	c.newline(2)
	c.b.WriteString(fenced(code))
	c.newline(2)
}

func (c *mdConv) finish() string {
	if c.raw != nil {
		if c.rawCode {
			c.closeCode()
		} else {
			c.closePre()
		}
	}
	for len(c.strong) > 0 {
		c.closeMark(&c.strong, "**")
	}
	for len(c.em) > 0 {
		c.closeMark(&c.em, "_")
	}
	lines := strings.Split(c.b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// fenced wraps code in a fence longer than any backtick run inside it.
func fenced(code string) string {
	fence := strings.Repeat("`", max(3, longestRun(code, '`')+1))
	return fence + "\n" + code + "\n" + fence
}

func longestRun(s string, b byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// escapeInline escapes text for use inside a link label or image alt.
func escapeInline(s string) string {
	var w strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>':
			w.WriteByte('\\')
		case '\n':
			r = ' '
		}
		w.WriteRune(r)
	}
	return w.String()
}

// escapeURL makes a URL safe inside a CommonMark link destination.
func escapeURL(s string) string {
	r := strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "\n", "", "\r", "")
	return r.Replace(strings.TrimSpace(s))
}
