// Package check validates a Pixtoome import directory against the rules
// the server's `./manage.py import` relies on, without a server: every
// table and key the importer reads for the chosen format version, value
// types, date fields, unique ids, every reference between rows and files,
// contiguous message files, valid e-mails and the server's length limits.
//
// It streams through the message files twice (once for messages, once for
// user messages), keeping message ids in a compact set (see idSet), so its
// memory grows with users, channels and attachments, and only by about a
// bit per message id.
package check

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem is one rule the directory breaks.
type Problem struct {
	// File is the file, relative to the directory.
	File string `json:"file"`
	// Table is the table (top-level key) inside the file, if any.
	Table string `json:"table,omitempty"`
	// Row is the row's index in its table, or -1.
	Row int `json:"row"`
	// ID is the row's id, when it has one.
	ID string `json:"id,omitempty"`
	// Field is the key at fault, if any.
	Field string `json:"field,omitempty"`
	// Message says what is wrong and what the importer would do.
	Message string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Table != "" {
		b.WriteString(": " + p.Table)
	}
	if p.Row >= 0 {
		fmt.Fprintf(&b, " row %d", p.Row)
	}
	if p.ID != "" {
		b.WriteString(" (id " + p.ID + ")")
	}
	if p.Field != "" {
		b.WriteString(" ." + p.Field)
	}
	return b.String() + ": " + p.Message
}

// MaxProblems bounds how many problems one run reports; a broken
// directory otherwise yields one per row.
const MaxProblems = 1000

// Limits, in characters, as the server enforces them.
const (
	maxStreamName  = 60
	maxTopic       = 60
	maxMessage     = 10000
	maxFullName    = 100
	maxDescription = 1024
	maxEmail       = 254
)

// Profiles lists the format versions Dir knows.
var Profiles = []string{"gitter-final", "latest"}

// Dir checks the import directory dir for the given profile
// ("gitter-final" or "latest"; "" is gitter-final).
func Dir(ctx context.Context, dir, profile string) []Problem {
	st, err := os.Stat(dir)
	if err != nil {
		return []Problem{{File: dir, Row: -1, Message: err.Error()}}
	}
	if !st.IsDir() {
		return []Problem{{File: dir, Row: -1, Message: "not a directory: the importer refuses anything else (unpack a tarball first)"}}
	}
	return FS(ctx, os.DirFS(dir), profile)
}

// FS is Dir over any file tree.
func FS(ctx context.Context, fsys fs.FS, profile string) []Problem {
	c := &checker{ctx: ctx, fsys: fsys, latest: profile == "latest",
		ids: map[string]map[int64]bool{}, msgs: newIDSet(), recipType: map[int64]int64{},
		huddleSubs: map[int64]map[int64]bool{}, attMsgs: map[int64][]string{}, uploads: map[string]bool{}}
	switch profile {
	case "", "gitter-final", "2024-05", "latest":
	default:
		return []Problem{{File: ".", Row: -1, Message: fmt.Sprintf("unknown profile %q (want gitter-final or latest)", profile)}}
	}
	c.run()
	return c.problems
}

type checker struct {
	ctx      context.Context
	fsys     fs.FS
	latest   bool
	problems []Problem
	capped   bool

	ids          map[string]map[int64]bool // table -> ids
	msgs         *idSet
	recipType    map[int64]int64 // recipient id -> type
	huddleSubs   map[int64]map[int64]bool
	activeOwner  bool
	nullAuthor   []row
	lastActive   []row
	reactions    []row
	attMsgs      map[int64][]string // message id -> path_ids of its attachments
	uploads      map[string]bool    // s3_path of uploads/records.json
	messageFiles []string
}

// row is one decoded row, with where it came from.
type row struct {
	file, table string
	index       int
	m           map[string]json.RawMessage
}

func (r row) id() string {
	if v, ok := r.m["id"]; ok {
		return string(v)
	}
	return ""
}

func (c *checker) add(p Problem) {
	if len(c.problems) >= MaxProblems {
		if !c.capped {
			c.capped = true
			c.problems = append(c.problems, Problem{File: ".", Row: -1, Message: fmt.Sprintf("more than %d problems; the rest are not listed", MaxProblems)})
		}
		return
	}
	c.problems = append(c.problems, p)
}

func (c *checker) fail(r row, field, format string, args ...any) {
	c.add(Problem{File: r.file, Table: r.table, Row: r.index, ID: r.id(), Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) fileProblem(file, format string, args ...any) {
	c.add(Problem{File: file, Row: -1, Message: fmt.Sprintf(format, args...)})
}

// ---- typed field access ----

type kind int

const (
	kInt     kind = iota // integer
	kOptInt              // integer or null
	kStr                 // string
	kOptStr              // string or null
	kBool                // boolean
	kOptBool             // boolean or null
	kDate                // epoch seconds
	kOptDate             // epoch seconds or null
	kList                // list
	kAny                 // present, any value
)

var kindNames = map[kind]string{kInt: "an integer", kOptInt: "an integer or null", kStr: "a string", kOptStr: "a string or null",
	kBool: "true or false", kOptBool: "true, false or null", kDate: "a date as epoch seconds", kOptDate: "a date as epoch seconds, or null",
	kList: "a list", kAny: "any value"}

type field struct {
	name string
	k    kind
}

func isNull(v json.RawMessage) bool { return string(v) == "null" }

func typeOK(v json.RawMessage, k kind) bool {
	if len(v) == 0 {
		return false
	}
	null := isNull(v)
	switch k {
	case kAny:
		return true
	case kOptInt, kOptStr, kOptBool, kOptDate:
		if null {
			return true
		}
	}
	switch k {
	case kInt, kOptInt:
		_, err := strconv.ParseInt(string(v), 10, 64)
		return err == nil
	case kStr, kOptStr:
		return v[0] == '"'
	case kBool, kOptBool:
		return string(v) == "true" || string(v) == "false"
	case kDate, kOptDate:
		_, err := strconv.ParseFloat(string(v), 64)
		return err == nil && v[0] != '"'
	case kList:
		return v[0] == '['
	}
	return false
}

// fields checks that r has every field with the right type; it reports
// whether all were fine.
func (c *checker) fields(r row, fs []field) bool {
	ok := true
	for _, f := range fs {
		v, present := r.m[f.name]
		if !present {
			c.fail(r, f.name, "missing; the importer reads it directly and stops with a KeyError")
			ok = false
			continue
		}
		if !typeOK(v, f.k) {
			c.fail(r, f.name, "must be %s, found %s", kindNames[f.k], clip(v))
			ok = false
		}
	}
	return ok
}

func clip(v json.RawMessage) string {
	s := string(v)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

func (r row) int(name string) (int64, bool) {
	v, ok := r.m[name]
	if !ok || isNull(v) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	return n, err == nil
}

func (r row) str(name string) string {
	var s string
	if v, ok := r.m[name]; ok {
		json.Unmarshal(v, &s)
	}
	return s
}

func (r row) bool(name string) bool { return string(r.m[name]) == "true" }

// ref checks that an integer field (when set) names a row of table.
func (c *checker) ref(r row, name, table string, nullable bool) {
	v, present := r.m[name]
	if !present {
		return // reported by fields()
	}
	if isNull(v) {
		if !nullable {
			c.fail(r, name, "must name a row of %s, found null", table)
		}
		return
	}
	id, ok := r.int(name)
	if !ok {
		return
	}
	if !c.ids[table][id] {
		c.fail(r, name, "%d is not an id of %s", id, table)
	}
}

// unique records r's id in table and reports a duplicate.
func (c *checker) unique(r row, table string) (int64, bool) {
	id, ok := r.int("id")
	if !ok {
		return 0, false
	}
	set := c.ids[table]
	if set == nil {
		set = map[int64]bool{}
		c.ids[table] = set
	}
	if set[id] {
		c.fail(r, "id", "id %d appears twice in %s; the importer maps ids one to one", id, table)
		return id, false
	}
	set[id] = true
	return id, true
}

// ---- the run ----

func (c *checker) run() {
	if c.latest {
		c.checkMigrationStatus()
	}
	tables := c.readRealm()
	if tables == nil {
		return
	}
	c.checkRealmTables(tables)
	c.readUploads()
	c.readAttachments()
	if c.ctx.Err() != nil {
		c.fileProblem(".", "stopped: %v", c.ctx.Err())
		return
	}
	c.checkMessageFiles()
	c.afterMessages()
	c.readAvatars()
	c.readEmoji(tables)
}

func (c *checker) checkMigrationStatus() {
	const name = "migration_status.json"
	b, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		c.fileProblem(name, "missing: servers of the latest format refuse to import without it (\"Missing migration_status.json file!\"); copy it from the target server")
		return
	}
	var ms struct {
		MigrationsByApp map[string][]string `json:"migrations_by_app"`
		ZulipVersion    *string             `json:"zulip_version"`
	}
	if err := json.Unmarshal(b, &ms); err != nil {
		c.fileProblem(name, "cannot be read: %v", err)
		return
	}
	if len(ms.MigrationsByApp) == 0 {
		c.add(Problem{File: name, Row: -1, Field: "migrations_by_app", Message: "missing or empty: the server compares it with its own migrations"})
	}
	if ms.ZulipVersion == nil || *ms.ZulipVersion == "" {
		c.add(Problem{File: name, Row: -1, Field: "zulip_version", Message: "missing: the server compares its major version with its own"})
	}
}

// readRealm decodes realm.json into rows by table. realm.json grows with
// users, channels, subscriptions and reactions; it is held whole, as the
// importer holds it.
func (c *checker) readRealm() map[string][]row {
	const name = "realm.json"
	b, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		c.fileProblem(name, "missing: the importer stops with \"Missing realm.json file!\"")
		return nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		c.fileProblem(name, "not a JSON object: %v", err)
		return nil
	}
	required := []string{"zerver_client", "zerver_customprofilefield", "zerver_customprofilefieldvalue",
		"zerver_userpresence", "zerver_userprofile_mirrordummy", "zerver_realmdomain", "zerver_useractivity",
		"zerver_realm", "zerver_huddle", "zerver_userprofile_crossrealm", "zerver_useractivityinterval",
		"zerver_reaction", "zerver_realmemoji", "zerver_realmfilter", "zerver_realmplayground",
		"zerver_realmauthenticationmethod", "zerver_userprofile", "zerver_stream", "zerver_defaultstream",
		"zerver_recipient", "zerver_subscription"}
	if c.latest {
		v, ok := top["import_source"]
		switch {
		case !ok:
			c.add(Problem{File: name, Table: "import_source", Row: -1, Message: "missing: the latest importer pops it first and stops with a KeyError"})
		case !typeOK(v, kStr):
			c.add(Problem{File: name, Table: "import_source", Row: -1, Message: "must be a string naming the source system"})
		}
	}
	tables := map[string][]row{}
	for _, t := range required {
		v, ok := top[t]
		if !ok {
			c.add(Problem{File: name, Table: t, Row: -1, Message: "missing table: the importer indexes it directly (write [] when there are no rows)"})
			continue
		}
		var rows []map[string]json.RawMessage
		if err := json.Unmarshal(v, &rows); err != nil {
			c.add(Problem{File: name, Table: t, Row: -1, Message: "must be a list of row objects: " + err.Error()})
			continue
		}
		for i, m := range rows {
			tables[t] = append(tables[t], row{file: name, table: t, index: i, m: m})
		}
	}
	if v, ok := top["sort_by_date"]; ok && !typeOK(v, kBool) {
		c.add(Problem{File: name, Table: "sort_by_date", Row: -1, Message: "must be true or false"})
	}
	return tables
}

func (c *checker) checkRealmTables(t map[string][]row) {
	// Ids first, so that references can be checked in any order.
	for _, tbl := range []string{"zerver_realm", "zerver_client", "zerver_stream", "zerver_huddle", "zerver_realmemoji"} {
		for _, r := range t[tbl] {
			c.fields(r, []field{{"id", kInt}})
			c.unique(r, tbl)
		}
	}
	users := append(slices.Clone(t["zerver_userprofile"]), t["zerver_userprofile_mirrordummy"]...)
	for _, r := range users {
		c.fields(r, []field{{"id", kInt}})
		c.unique(r, "zerver_userprofile")
	}
	if n := len(t["zerver_realm"]); n != 1 {
		c.add(Problem{File: "realm.json", Table: "zerver_realm", Row: -1, Message: fmt.Sprintf("must hold exactly one row, found %d", n)})
	}
	realmFields := []field{{"id", kInt}, {"date_created", kDate}, {"deactivated", kBool},
		{"new_stream_announcements_stream", kOptInt}, {"signup_announcements_stream", kOptInt}, {"zulip_update_announcements_stream", kOptInt}}
	if c.latest {
		realmFields = append(realmFields, field{"moderation_request_channel", kOptInt})
	}
	for _, r := range t["zerver_realm"] {
		c.fields(r, realmFields)
		for _, f := range realmFields[3:] {
			c.ref(r, f.name, "zerver_stream", true)
		}
	}
	for _, r := range t["zerver_client"] {
		c.fields(r, []field{{"name", kStr}})
	}
	c.checkUsers(users)
	c.checkStreams(t["zerver_stream"])
	// Recipients.
	for _, r := range t["zerver_recipient"] {
		if !c.fields(r, []field{{"id", kInt}, {"type", kInt}, {"type_id", kInt}}) {
			continue
		}
		id, ok := c.unique(r, "zerver_recipient")
		typ, _ := r.int("type")
		target := map[int64]string{1: "zerver_userprofile", 2: "zerver_stream", 3: "zerver_huddle"}[typ]
		if target == "" {
			c.fail(r, "type", "%d is not a recipient type (1 personal, 2 channel, 3 group)", typ)
			continue
		}
		c.ref(r, "type_id", target, false)
		if ok {
			c.recipType[id] = typ
		}
	}
	// Every user, stream and huddle needs its recipient.
	have := map[[2]int64]bool{}
	for _, r := range t["zerver_recipient"] {
		typ, _ := r.int("type")
		tid, _ := r.int("type_id")
		have[[2]int64{typ, tid}] = true
	}
	for typ, rows := range map[int64][]row{1: t["zerver_userprofile"], 2: t["zerver_stream"], 3: t["zerver_huddle"]} {
		what := map[int64]string{1: "personal", 2: "channel", 3: "group"}[typ]
		for _, r := range rows {
			if id, ok := r.int("id"); ok && !have[[2]int64{typ, id}] {
				c.fail(r, "id", "has no %s recipient in zerver_recipient; the importer links it to one", what)
			}
		}
	}
	// Subscriptions.
	subs := map[[2]int64]bool{}
	for _, r := range t["zerver_subscription"] {
		if !c.fields(r, []field{{"id", kInt}, {"user_profile", kInt}, {"recipient", kInt}}) {
			continue
		}
		c.unique(r, "zerver_subscription")
		c.ref(r, "user_profile", "zerver_userprofile", false)
		c.ref(r, "recipient", "zerver_recipient", false)
		u, _ := r.int("user_profile")
		rc, _ := r.int("recipient")
		if subs[[2]int64{u, rc}] {
			c.fail(r, "recipient", "user %d is subscribed to recipient %d twice", u, rc)
		}
		subs[[2]int64{u, rc}] = true
		if c.recipType[rc] == 3 {
			if c.huddleSubs[rc] == nil {
				c.huddleSubs[rc] = map[int64]bool{}
			}
			c.huddleSubs[rc][u] = true
		}
	}
	for rc, typ := range c.recipType {
		if typ == 3 && len(c.huddleSubs[rc]) == 0 {
			c.add(Problem{File: "realm.json", Table: "zerver_recipient", Row: -1, ID: strconv.FormatInt(rc, 10),
				Message: "group recipient without subscriptions: the importer rebuilds each group from its subscriptions"})
		}
	}
	for _, r := range t["zerver_defaultstream"] {
		if c.fields(r, []field{{"id", kInt}, {"realm", kInt}, {"stream", kInt}}) {
			c.unique(r, "zerver_defaultstream")
			c.ref(r, "realm", "zerver_realm", false)
			c.ref(r, "stream", "zerver_stream", false)
		}
	}
	for _, r := range t["zerver_realmauthenticationmethod"] {
		if c.fields(r, []field{{"id", kInt}, {"realm", kInt}, {"name", kStr}}) {
			c.ref(r, "realm", "zerver_realm", false)
		}
	}
	for _, r := range t["zerver_realmdomain"] {
		if c.fields(r, []field{{"id", kInt}, {"realm", kInt}, {"domain", kStr}}) {
			c.ref(r, "realm", "zerver_realm", false)
		}
	}
	emojiNames := map[int64]string{}
	for _, r := range t["zerver_realmemoji"] {
		if !c.fields(r, []field{{"realm", kInt}, {"author", kOptInt}, {"name", kStr}, {"file_name", kStr}}) {
			continue
		}
		c.ref(r, "realm", "zerver_realm", false)
		c.ref(r, "author", "zerver_userprofile", true)
		if isNull(r.m["author"]) {
			c.nullAuthor = append(c.nullAuthor, r)
		}
		id, _ := r.int("id")
		emojiNames[id] = r.str("name")
	}
	if !c.activeOwner {
		for _, r := range c.nullAuthor {
			c.fail(r, "author", "null, and the organization has no active owner (role 100): the importer makes the first owner the author and fails without one; set an author or make someone owner")
		}
	}
	for _, r := range t["zerver_reaction"] {
		if !c.fields(r, []field{{"user_profile", kInt}, {"message", kInt}, {"emoji_name", kStr}, {"reaction_type", kStr}, {"emoji_code", kStr}}) {
			continue
		}
		c.ref(r, "user_profile", "zerver_userprofile", false)
		switch r.str("reaction_type") {
		case "unicode_emoji", "zulip_extra_emoji":
		case "realm_emoji":
			code, err := strconv.ParseInt(r.str("emoji_code"), 10, 64)
			name, ok := emojiNames[code]
			if err != nil || !ok {
				c.fail(r, "emoji_code", "%q is not the id of a row of zerver_realmemoji", r.str("emoji_code"))
			} else if name != r.str("emoji_name") {
				c.fail(r, "emoji_name", "%q differs from the name %q of custom emoji %d; the importer asserts they are equal", r.str("emoji_name"), name, code)
			}
		default:
			c.fail(r, "reaction_type", "%q is not unicode_emoji, realm_emoji or zulip_extra_emoji", r.str("reaction_type"))
		}
		c.reactions = append(c.reactions, row{file: r.file, table: r.table, index: r.index, m: map[string]json.RawMessage{"id": r.m["id"], "message": r.m["message"]}})
	}
}

func (c *checker) checkUsers(users []row) {
	fs := []field{{"id", kInt}, {"realm", kInt}, {"bot_owner", kOptInt}, {"default_sending_stream", kOptInt},
		{"default_events_register_stream", kOptInt}, {"last_active_message_id", kOptInt},
		{"date_joined", kDate}, {"last_login", kOptDate}, {"last_reminder", kOptDate},
		{"user_permissions", kList}, {"groups", kList}, {"email", kStr}, {"delivery_email", kStr},
		{"is_bot", kBool}, {"translate_emoticons", kBool}, {"full_name", kStr}}
	emails := map[string]int{}
	for _, r := range users {
		c.fields(r, fs)
		c.ref(r, "realm", "zerver_realm", false)
		c.ref(r, "bot_owner", "zerver_userprofile", true)
		c.ref(r, "default_sending_stream", "zerver_stream", true)
		c.ref(r, "default_events_register_stream", "zerver_stream", true)
		if _, ok := r.int("last_active_message_id"); ok {
			c.lastActive = append(c.lastActive, r)
		}
		for _, f := range []string{"email", "delivery_email"} {
			if v, ok := r.m[f]; ok && typeOK(v, kStr) && !ValidEmail(r.str(f)) {
				c.fail(r, f, "%q is not a valid e-mail address; the importer validates every address", r.str(f))
			}
		}
		if e := strings.ToLower(r.str("delivery_email")); e != "" {
			if prev, dup := emails[e]; dup {
				c.fail(r, "delivery_email", "%s is also the address of user row %d; addresses must be unique", r.str("delivery_email"), prev)
			}
			emails[e] = r.index
		}
		name := r.str("full_name")
		if _, ok := r.m["full_name"]; ok {
			switch n := utf8.RuneCountInString(name); {
			case strings.TrimSpace(name) == "":
				c.fail(r, "full_name", "empty; every user needs a name")
			case n > maxFullName:
				c.fail(r, "full_name", "%d characters; the limit is %d", n, maxFullName)
			}
		}
		if v, ok := r.m["role"]; ok {
			role, _ := r.int("role")
			if !typeOK(v, kInt) || (role != 100 && role != 200 && role != 300 && role != 400 && role != 600) {
				c.fail(r, "role", "%s is not a role (100 owner, 200 admin, 300 moderator, 400 member, 600 guest)", clip(v))
			}
			active := true
			if v, ok := r.m["is_active"]; ok {
				active = string(v) == "true"
			}
			if role == 100 && active && !r.bool("is_bot") {
				c.activeOwner = true
			}
		}
	}
}

func (c *checker) checkStreams(streams []row) {
	fs := []field{{"id", kInt}, {"name", kStr}, {"realm", kInt}, {"creator", kOptInt}, {"date_created", kDate}, {"description", kStr}}
	if c.latest {
		fs = append(fs, field{"folder", kAny})
	}
	names := map[string]int{}
	for _, r := range streams {
		c.fields(r, fs)
		c.ref(r, "realm", "zerver_realm", false)
		c.ref(r, "creator", "zerver_userprofile", true)
		if _, ok := r.m["name"]; ok {
			name := r.str("name")
			switch n := utf8.RuneCountInString(name); {
			case strings.TrimSpace(name) == "":
				c.fail(r, "name", "empty; channels need a name")
			case n > maxStreamName:
				c.fail(r, "name", "%d characters; channel names are at most %d (the importer cuts them, which can make two equal)", n, maxStreamName)
			case strings.IndexFunc(name, unicode.IsControl) >= 0:
				c.fail(r, "name", "holds a control character, which channel names may not")
			}
			key := strings.ToLower(name)
			if prev, dup := names[key]; dup {
				c.fail(r, "name", "%q is also the name of stream row %d (ignoring case); channel names must be unique", name, prev)
			}
			names[key] = r.index
		}
		if n := utf8.RuneCountInString(r.str("description")); n > maxDescription {
			c.fail(r, "description", "%d characters; the limit is %d", n, maxDescription)
		}
	}
}

// ---- uploads and attachments ----

func (c *checker) records(name string) ([]row, bool) {
	b, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		return nil, false
	}
	var rows []map[string]json.RawMessage
	if err := json.Unmarshal(b, &rows); err != nil {
		c.fileProblem(name, "must be a list of record objects: %v", err)
		return nil, true
	}
	out := make([]row, len(rows))
	for i, m := range rows {
		out[i] = row{file: name, index: i, m: m}
	}
	return out, true
}

// localFile checks that a record's path names a file inside dir.
func (c *checker) localFile(r row, dir string) {
	p := r.str("path")
	if p == "" {
		return
	}
	full := path.Join(dir, p)
	if path.IsAbs(p) || !fs.ValidPath(full) || !strings.HasPrefix(full, dir+"/") {
		c.fail(r, "path", "%q leaves %s/", p, dir)
		return
	}
	if st, err := fs.Stat(c.fsys, full); err != nil || st.IsDir() {
		c.fail(r, "path", "%s does not exist; the importer copies it", full)
	}
}

func (c *checker) readUploads() {
	const name = "uploads/records.json"
	recs, ok := c.records(name)
	if !ok {
		c.fileProblem(name, "missing: the importer opens it unconditionally (write [] when there are no uploads)")
		return
	}
	for _, r := range recs {
		if !c.fields(r, []field{{"realm_id", kInt}, {"user_profile_id", kInt}, {"s3_path", kStr}, {"path", kStr}}) {
			continue
		}
		c.ref(r, "realm_id", "zerver_realm", false)
		c.ref(r, "user_profile_id", "zerver_userprofile", false)
		s3 := r.str("s3_path")
		if c.uploads[s3] {
			c.fail(r, "s3_path", "%q appears twice", s3)
		}
		c.uploads[s3] = true
		c.localFile(r, "uploads")
	}
}

func (c *checker) readAttachments() {
	const name = "attachment.json"
	b, err := fs.ReadFile(c.fsys, name)
	if err != nil {
		c.fileProblem(name, "missing: the importer stops with \"Missing attachment.json file!\" (write {\"zerver_attachment\": []})")
		return
	}
	var top struct {
		Rows *[]map[string]json.RawMessage `json:"zerver_attachment"`
	}
	if err := json.Unmarshal(b, &top); err != nil || top.Rows == nil {
		c.fileProblem(name, "must be {\"zerver_attachment\": [...]}")
		return
	}
	fs := []field{{"id", kInt}, {"owner", kInt}, {"realm", kInt}, {"path_id", kStr}, {"create_time", kDate}, {"messages", kList}, {"scheduled_messages", kList}}
	if c.latest {
		fs = append(fs, field{"content_type", kOptStr})
	}
	for i, m := range *top.Rows {
		r := row{file: name, table: "zerver_attachment", index: i, m: m}
		if !c.fields(r, fs) {
			continue
		}
		c.unique(r, "zerver_attachment")
		c.ref(r, "owner", "zerver_userprofile", false)
		c.ref(r, "realm", "zerver_realm", false)
		p := r.str("path_id")
		if !c.uploads[p] {
			c.fail(r, "path_id", "%q has no record in uploads/records.json; the importer looks every path up there", p)
		}
		var msgs []int64
		if err := json.Unmarshal(m["messages"], &msgs); err != nil {
			c.fail(r, "messages", "must be a list of message ids")
			continue
		}
		for _, id := range msgs {
			c.attMsgs[id] = append(c.attMsgs[id], p)
		}
	}
}

// ---- message files ----

var messageFile = regexp.MustCompile(`^messages-(\d+)\.json$`)

func (c *checker) checkMessageFiles() {
	entries, err := fs.ReadDir(c.fsys, ".")
	if err != nil {
		c.fileProblem(".", "cannot list: %v", err)
		return
	}
	present := map[int]bool{}
	maxN := 0
	for _, e := range entries {
		m := messageFile.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || fmt.Sprintf("messages-%06d.json", n) != e.Name() {
			c.fileProblem(e.Name(), "not named messages-%%06d.json, so the importer never reads it")
			continue
		}
		present[n] = true
		maxN = max(maxN, n)
	}
	for n := 1; n <= maxN; n++ {
		if !present[n] {
			c.fileProblem(fmt.Sprintf("messages-%06d.json", n), "missing: the importer stops at the first missing number, so messages-%06d.json to messages-%06d.json are never read", n+1, maxN)
			break
		}
		c.messageFiles = append(c.messageFiles, fmt.Sprintf("messages-%06d.json", n))
	}
	for _, name := range c.messageFiles {
		if c.ctx.Err() != nil {
			return
		}
		c.walkMessageFile(name, true)
	}
	for _, name := range c.messageFiles {
		if c.ctx.Err() != nil {
			return
		}
		c.walkMessageFile(name, false)
	}
}

// walkMessageFile streams one messages file: on the first pass it checks
// message rows, on the second usermessage rows.
func (c *checker) walkMessageFile(name string, messages bool) {
	f, err := c.fsys.Open(name)
	if err != nil {
		c.fileProblem(name, "cannot open: %v", err)
		return
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	tok, err := dec.Token()
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '{' {
		if messages {
			c.fileProblem(name, "must be a JSON object {\"zerver_message\": [...], \"zerver_usermessage\": [...]}")
		}
		return
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			if messages {
				c.fileProblem(name, "invalid JSON: %v", err)
			}
			return
		}
		key, _ := tok.(string)
		seen[key] = true
		var handle func(i int, raw json.RawMessage)
		switch {
		case key == "zerver_message" && messages:
			handle = func(i int, raw json.RawMessage) { c.messageRow(name, i, raw) }
		case key == "zerver_usermessage" && !messages:
			um := &umChecker{c: c, file: name}
			handle = um.row
		}
		if err := eachRow(dec, handle); err != nil {
			if messages {
				c.add(Problem{File: name, Table: key, Row: -1, Message: "invalid: " + err.Error()})
			}
			return
		}
	}
	if messages {
		for _, k := range []string{"zerver_message", "zerver_usermessage"} {
			if !seen[k] {
				c.add(Problem{File: name, Table: k, Row: -1, Message: "missing table: the importer reads both zerver_message and zerver_usermessage"})
			}
		}
	}
}

// eachRow walks a JSON array, handing each element's raw bytes to handle
// (or skipping it when handle is nil).
func eachRow(dec *json.Decoder, handle func(int, json.RawMessage)) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("want a list, found %v", tok)
	}
	var raw json.RawMessage
	for i := 0; dec.More(); i++ {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if handle != nil {
			handle(i, raw)
		}
	}
	_, err = dec.Token()
	return err
}

var messageFields = []field{{"id", kInt}, {"sender", kInt}, {"recipient", kInt}, {"sending_client", kInt}, {"realm", kOptInt},
	{"date_sent", kDate}, {"last_edit_time", kOptDate}, {"rendered_content", kOptStr}, {"has_attachment", kBool},
	{"subject", kStr}, {"content", kStr}}

func (c *checker) messageRow(file string, i int, raw json.RawMessage) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		c.add(Problem{File: file, Table: "zerver_message", Row: i, Message: "not an object"})
		return
	}
	r := row{file: file, table: "zerver_message", index: i, m: m}
	if !c.fields(r, messageFields) {
		return
	}
	id, _ := r.int("id")
	if !c.msgs.Add(id) {
		c.fail(r, "id", "message id %d appears twice", id)
	}
	c.ref(r, "sender", "zerver_userprofile", false)
	c.ref(r, "recipient", "zerver_recipient", false)
	c.ref(r, "sending_client", "zerver_client", false)
	c.ref(r, "realm", "zerver_realm", true)
	content := r.str("content")
	if n := utf8.RuneCountInString(content); n > maxMessage {
		c.fail(r, "content", "%d characters; messages are at most %d", n, maxMessage)
	}
	if n := utf8.RuneCountInString(r.str("subject")); n > maxTopic {
		c.fail(r, "subject", "%d characters; topics are at most %d", n, maxTopic)
	}
	rc, _ := r.int("recipient")
	if c.recipType[rc] == 3 {
		if s, _ := r.int("sender"); !c.huddleSubs[rc][s] {
			c.fail(r, "sender", "user %d sends to group recipient %d without being subscribed to it", s, rc)
		}
	}
	if paths := c.attMsgs[id]; len(paths) > 0 {
		if !r.bool("has_attachment") {
			c.fail(r, "has_attachment", "false, but attachment.json lists this message; the importer only rewrites upload links of messages with has_attachment")
		}
		for _, p := range paths {
			if !strings.Contains(content, p) {
				c.fail(r, "content", "does not link the upload %q that attachment.json gives it", p)
			}
		}
	}
	if v, ok := m["edit_history"]; ok && !isNull(v) {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			c.fail(r, "edit_history", "must be a string holding JSON, or null")
			return
		}
		var edits []map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &edits); err != nil {
			c.fail(r, "edit_history", "does not hold a JSON list of edits: %v", err)
			return
		}
		for j, e := range edits {
			er := row{m: e}
			uid, ok := er.int("user_id")
			if !ok || !c.ids["zerver_userprofile"][uid] {
				c.fail(r, "edit_history", "edit %d: user_id %s is not a user", j, clip(e["user_id"]))
			}
			if !typeOK(e["timestamp"], kDate) {
				c.fail(r, "edit_history", "edit %d: timestamp must be epoch seconds", j)
			}
		}
	}
}

// umChecker checks usermessage rows of one file; it decodes into a fixed
// struct, since these rows are the bulk of the data.
type umChecker struct {
	c    *checker
	file string
}

type umRow struct {
	UserProfile *int64 `json:"user_profile"`
	Message     *int64 `json:"message"`
	FlagsMask   *int64 `json:"flags_mask"`
}

func (u *umChecker) row(i int, raw json.RawMessage) {
	c := u.c
	var r umRow
	if err := json.Unmarshal(raw, &r); err != nil {
		c.add(Problem{File: u.file, Table: "zerver_usermessage", Row: i, Message: "invalid row: " + err.Error()})
		return
	}
	p := func(field, msg string) {
		c.add(Problem{File: u.file, Table: "zerver_usermessage", Row: i, Field: field, Message: msg})
	}
	switch {
	case r.UserProfile == nil:
		p("user_profile", "missing")
	case !c.ids["zerver_userprofile"][*r.UserProfile]:
		p("user_profile", fmt.Sprintf("%d is not a user", *r.UserProfile))
	}
	switch {
	case r.Message == nil:
		p("message", "missing")
	case !c.msgs.Has(*r.Message):
		p("message", fmt.Sprintf("%d is not a message of any messages file", *r.Message))
	}
	if r.FlagsMask == nil {
		p("flags_mask", "missing; the importer renames it to flags")
	} else if *r.FlagsMask < 0 || *r.FlagsMask >= 1<<13 {
		p("flags_mask", fmt.Sprintf("%d has bits no flag uses", *r.FlagsMask))
	}
}

func (c *checker) afterMessages() {
	for _, r := range c.lastActive {
		if id, _ := r.int("last_active_message_id"); !c.msgs.Has(id) {
			c.fail(r, "last_active_message_id", "%d is not a message id", id)
		}
	}
	for _, r := range c.reactions {
		if id, ok := r.int("message"); ok && !c.msgs.Has(id) {
			c.fail(r, "message", "%d is not a message of any messages file", id)
		}
	}
	ids := make([]int64, 0, len(c.attMsgs))
	for id := range c.attMsgs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if !c.msgs.Has(id) {
			c.add(Problem{File: "attachment.json", Table: "zerver_attachment", Row: -1, Field: "messages",
				Message: fmt.Sprintf("message %d (of the attachment %s) is not in any messages file", id, c.attMsgs[id][0])})
		}
	}
}

// ---- avatars and emoji ----

func (c *checker) readAvatars() {
	const name = "avatars/records.json"
	recs, ok := c.records(name)
	if !ok {
		c.fileProblem(name, "missing: the importer opens it unconditionally (write [] when there are no avatars)")
		return
	}
	fs := []field{{"realm_id", kInt}, {"user_profile_id", kInt}, {"s3_path", kStr}, {"path", kStr}}
	if c.latest {
		fs = append(fs, field{"avatar_version", kInt})
	}
	for _, r := range recs {
		if !c.fields(r, fs) {
			continue
		}
		c.ref(r, "realm_id", "zerver_realm", false)
		c.ref(r, "user_profile_id", "zerver_userprofile", false)
		c.localFile(r, "avatars")
	}
}

func (c *checker) readEmoji(t map[string][]row) {
	st, err := fs.Stat(c.fsys, "emoji")
	if err != nil || !st.IsDir() {
		if len(t["zerver_realmemoji"]) > 0 {
			c.fileProblem("emoji/records.json", "missing, but zerver_realmemoji has rows: their images are never imported")
		}
		return
	}
	const name = "emoji/records.json"
	recs, ok := c.records(name)
	if !ok {
		c.fileProblem(name, "missing: the importer reads it whenever emoji/ exists")
		return
	}
	files := map[string]bool{}
	for _, r := range recs {
		if !c.fields(r, []field{{"realm_id", kInt}, {"file_name", kStr}, {"s3_path", kStr}, {"path", kStr}}) {
			continue
		}
		c.ref(r, "realm_id", "zerver_realm", false)
		files[r.str("file_name")] = true
		c.localFile(r, "emoji")
	}
	for _, r := range t["zerver_realmemoji"] {
		if fn := r.str("file_name"); fn != "" && !files[fn] {
			c.fail(r, "file_name", "%q has no record in emoji/records.json, so the emoji has no image", fn)
		}
	}
}

// ValidEmail reports whether s passes the server's e-mail validation: a
// dot-atom local part and a domain of letter/digit/dash labels with an
// alphabetic top-level label.
func ValidEmail(s string) bool {
	if len(s) == 0 || len(s) > maxEmail {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || at > 64 {
		return false
	}
	for atom := range strings.SplitSeq(s[:at], ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			ch := atom[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("!#$%&'*+/=?^_`{|}~-", ch) >= 0) {
				return false
			}
		}
	}
	labels := strings.Split(s[at+1:], ".")
	if len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for j := 0; j < len(l); j++ {
			ch := l[j]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
				return false
			}
		}
		if i == len(labels)-1 && !strings.HasPrefix(strings.ToLower(l), "xn--") {
			if len(l) < 2 {
				return false
			}
			for j := 0; j < len(l); j++ {
				if ch := l[j] | 0x20; ch < 'a' || ch > 'z' {
					return false
				}
			}
		}
	}
	return true
}
