package gen

// Name pools: {name in its own script, ASCII spelling for logins}. Mixed
// scripts and diacritics on purpose: exports carry them and converters
// break on them.
var firstNames = [][2]string{
	{"Alice", "Alice"}, {"Bob", "Bob"}, {"Carlos", "Carlos"}, {"Dana", "Dana"}, {"Émile", "Emile"},
	{"Fatima", "Fatima"}, {"Grace", "Grace"}, {"Hiroshi", "Hiroshi"}, {"Ingrid", "Ingrid"}, {"José", "Jose"},
	{"Kwame", "Kwame"}, {"Léa", "Lea"}, {"Mateo", "Mateo"}, {"Nadia", "Nadia"}, {"Oğuz", "Oguz"},
	{"Priya", "Priya"}, {"Quentin", "Quentin"}, {"Rosa", "Rosa"}, {"Søren", "Soren"}, {"Tomasz", "Tomasz"},
	{"Uma", "Uma"}, {"Viktor", "Viktor"}, {"Wei", "Wei"}, {"Ximena", "Ximena"}, {"Yusuf", "Yusuf"},
	{"Zoë", "Zoe"}, {"Łukasz", "Lukasz"}, {"Đorđe", "Djordje"}, {"Иван", "Ivan"}, {"Ngọc", "Ngoc"},
	{"陈", "Chen"}, {"美咲", "Misaki"}, {"지훈", "Jihoon"}, {"محمد", "Mohammed"}, {"יוסי", "Yossi"},
	{"Anne-Marie", "AnneMarie"}, {"O'Brien", "OBrien"}, {"Siobhán", "Siobhan"}, {"Björk", "Bjork"}, {"Ævar", "Aevar"},
}

var lastNames = [][2]string{
	{"Smith", "Smith"}, {"Müller", "Mueller"}, {"García", "Garcia"}, {"Nakamura", "Nakamura"}, {"Okafor", "Okafor"},
	{"Kowalski", "Kowalski"}, {"Dubois", "Dubois"}, {"Rossi", "Rossi"}, {"Andersson", "Andersson"}, {"Novák", "Novak"},
	{"Nguyễn", "Nguyen"}, {"王", "Wang"}, {"김", "Kim"}, {"Haddad", "Haddad"}, {"Cohen", "Cohen"},
	{"Petrov", "Petrov"}, {"Silva", "Silva"}, {"van der Berg", "VanDerBerg"}, {"de la Cruz", "DeLaCruz"}, {"Østergaard", "Ostergaard"},
	{"Abebe", "Abebe"}, {"Singh", "Singh"}, {"Yılmaz", "Yilmaz"}, {"Fernández", "Fernandez"}, {"Schmidt", "Schmidt"},
	{"Taylor", "Taylor"}, {"Brown", "Brown"}, {"Lee", "Lee"}, {"Martin", "Martin"}, {"", "X"},
}

var timeZones = []string{"UTC", "America/New_York", "America/Los_Angeles", "America/Denver", "Europe/Berlin",
	"Europe/London", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo", "Africa/Lagos", "Asia/Jerusalem"}

var roomBases = []string{"general", "random", "Engineering", "ops-alerts", "Design: Old", "support/tier-2",
	"Frontend #web", "backend", "Releases", "Vertrieb", "開発チーム", "Marketing & Sales", "data-science",
	"incident-2017", "mobile", "QA", "Hiring", "café ☕", "security", "docs", "infra", "watercooler",
	"product", "customer-success", "فريق-الدعم", "Ögon", "ml-research", "payments", "search", "platform"}

var roomTopics = []string{"", "Welcome! Read the pinned guide before asking.", "Deploys: Tue/Thu only",
	"Ask anything — no question is too small 🙂", "On call: see the wiki", "Q3 planning → https://wiki.example.com/q3",
	"議論はこちら", "Please use threads", "<b>not html</b> & friends", "Topic with \"quotes\" and \\backslashes\\"}

var words = []string{"the", "a", "to", "is", "it", "we", "I", "you", "and", "of", "in", "that", "for", "on",
	"this", "with", "but", "not", "can", "just", "so", "if", "have", "be", "do", "what", "there", "should",
	"deploy", "build", "test", "failing", "works", "fixed", "merged", "branch", "release", "config", "server",
	"client", "cache", "latency", "query", "index", "database", "migration", "rollback", "ticket", "review",
	"PR", "bug", "feature", "API", "endpoint", "token", "timeout", "retry", "memory", "CPU", "disk", "log",
	"error", "warning", "stack", "trace", "thread", "lock", "race", "flaky", "CI", "pipeline", "docker",
	"kubernetes", "pod", "node", "cluster", "staging", "prod", "hotfix", "patch", "version", "upgrade",
	"schema", "JSON", "YAML", "script", "function", "variable", "null", "undefined", "regex", "unicode",
	"meeting", "lunch", "today", "tomorrow", "yesterday", "later", "now", "soon", "thanks", "please",
	"sorry", "great", "nice", "weird", "interesting", "maybe", "probably", "definitely", "agreed", "+1",
	"lgtm", "ok", "yes", "no", "why", "how", "when", "where", "anyone", "everyone", "someone", "again"}

var greetings = []string{"hi", "hey", "morning", "hello all", "thanks!", "ty", "brb", "back", "👍", "np", "ack", "done", "on it"}

// Phrases in other scripts and emoji, inserted whole.
var cjkPhrases = []string{"了解しました", "明日リリースします", "这个问题已经修复了", "请看一下日志", "확인했습니다", "배포 완료"}
var rtlPhrases = []string{"شكرا جزيلا", "تم الإصلاح", "תודה רבה", "זה עובד עכשיו", "مرحبا بالجميع"}
var emojiLiterals = []string{"😀", "🎉", "🚀", "🔥", "👍🏽", "❤️", "🤔", "😅", "👨‍👩‍👧‍👦", "🏳️‍🌈", "✅", "⚠️", "🐛"}
var emojiShortcodes = []string{"smile", "tada", "rocket", "fire", "thumbsup", "heart", "thinking_face", "sweat_smile", "bug", "eyes"}
var reactionEmoji = []string{"👍", "❤️", "😂", "🎉", "👀", "🚀", "😮", "🙏", "+1", "✅"}
var reactionShortcodes = []string{"thumbs_up", "heart", "joy", "tada", "eyes", "rocket", "open_mouth", "pray", "+1", "check"}

// emoticonNames are HipChat-style custom emoticon shortcuts.
var emoticonNames = []string{"yasss", "shipit", "partyparrot", "facepalm", "coffee", "doge", "lgtm", "sadpanda",
	"notbad", "disapproval", "yuno", "haha"}

// builtinEmoticons are HipChat's own "(shortcut)" tokens.
var builtinEmoticons = []string{"(thumbsup)", "(shrug)", "(lol)", "(awthanks)", "(coffee)", "(success)", "(failed)"}

var integrations = []string{"JIRA", "Bitbucket", "Jenkins", "Confluence", "GitHub", "Zendesk", "PagerDuty", "fred_bot", "Statuspage"}

var codeSnippets = [][2]string{
	{"go", "func main() {\n\tfmt.Println(\"hello, 世界\")\n}"},
	{"python", "def f(x):\n    return {k: v for k, v in x.items() if v is not None}"},
	{"js", "const x = await fetch(`/api/v2/items?limit=${n}`);\nconsole.log(x.status)"},
	{"sql", "SELECT id, name FROM users WHERE email IS NULL ORDER BY created DESC LIMIT 10;"},
	{"", "Traceback (most recent call last):\n  File \"app.py\", line 42, in <module>\n    main()\nKeyError: 'user_id'"},
	{"bash", "kubectl -n prod rollout undo deploy/api && kubectl get pods | grep -v Running"},
	{"json", "{\"ok\": false, \"error\": \"rate_limited\", \"retry_after\": 30}"},
	{"html", "<div class=\"x\">&amp; <script>alert('x')</script></div>"},
}

// markdownOddities are strings that converters get wrong.
var markdownOddities = []string{"**bold** and __also bold__", "*emph*_not_emph_", "a\\*b\\_c", "1. one\n2. two\n- three",
	"> quoted\n>> nested", "| a | b |\n|---|---|\n| 1 | 2 |", "$$ e^{i\\pi} + 1 = 0 $$", "&amp; &lt;tag&gt; &#x1F600;",
	"line one  \nline two", "~~strike~~", "[link](https://example.com/a_(b)_c)", "<https://example.com>",
	"`code with ``backticks`` inside`", "trailing backslash \\", "tab\tseparated\tvalues", "crlf line\r\nnext",
	"@ not-a-mention", "email me: a.b@example.com", "#not-an-issue", "zero\u200bwidth", "e\u0301 combining", "   leading spaces"}

var urls = []string{"https://github.com/migrate-chat/migrate/pull/123", "https://example.com/docs?a=1&b=2#frag",
	"http://localhost:8080/debug/pprof/", "https://wiki.example.com/pages/viewpage.action?pageId=42",
	"https://ja.wikipedia.org/wiki/日本語", "https://example.com/path%20with%20spaces"}

var repos = []string{"migrate-chat/migrate", "golang/go", "kubernetes/kubernetes", "nodejs/node", "rust-lang/rust", "scala/scala"}

var attachmentNames = []struct{ base, ext, ctype string }{
	{"image", "png", "image/png"}, {"Screen Shot 2018-01-10 at 18.41.57", "png", "image/png"},
	{"photo", "jpg", "image/jpeg"}, {"report", "pdf", "application/pdf"}, {"logs", "txt", "text/plain"},
	{"dump", "tar.gz", "application/gzip"}, {"diagram", "svg", "image/svg+xml"}, {"spreadsheet", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	{"recording", "mp4", "video/mp4"}, {"议程", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	{" leading space", "png", "image/png"}, {"README", "", "application/octet-stream"}, {"heap profile", "pb.gz", "application/gzip"},
}
