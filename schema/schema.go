// Package schema owns the canonical contract: the JSON Schema (draft
// 2020-12) of every canonical record kind and of the archive manifest. The
// files under json/ are the single source of truth; they are embedded,
// compiled once, and exposed through Validate.
package schema

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

//go:embed json/*.schema.json
var files embed.FS

// BaseURL is the base of every schema's $id.
const BaseURL = "https://schemas.migrate-chat.invalid/v1/"

// Names lists the schemas by the record kind (or "manifest", "report") they
// describe.
var Names = []string{"workspace", "user", "room", "conversation", "emoji", "message", "attachment", "manifest", "report"}

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

func compileAll() {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	// Refuse to fetch anything: every schema we need is embedded.
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		if name, ok := strings.CutPrefix(u, BaseURL); ok {
			return files.Open("json/" + name)
		}
		return nil, fmt.Errorf("schema %q is not embedded", u)
	}
	err := fs.WalkDir(files, "json", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		return c.AddResource(BaseURL+strings.TrimPrefix(p, "json/"), bytes.NewReader(b))
	})
	if err != nil {
		compileErr = err
		return
	}
	compiled = map[string]*jsonschema.Schema{}
	for _, n := range Names {
		s, err := c.Compile(BaseURL + n + ".schema.json")
		if err != nil {
			compileErr = fmt.Errorf("schema %s: %w", n, err)
			return
		}
		compiled[n] = s
	}
}

// Raw returns the text of the schema for a kind ("user") or "manifest".
func Raw(name string) ([]byte, error) {
	return files.ReadFile("json/" + name + ".schema.json")
}

// Violation is one way a record breaks its schema.
type Violation struct {
	// Pointer is the JSON pointer of the offending value in the record
	// ("" for the record itself).
	Pointer string `json:"pointer"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// Error reports every violation of one record.
type Error struct {
	Kind       string
	ID         string
	Violations []Violation
}

func (e *Error) Error() string {
	var b strings.Builder
	id := e.ID
	if id == "" {
		id = "(no id)"
	}
	fmt.Fprintf(&b, "%s %s does not match the canonical schema:", e.Kind, id)
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString(";")
		}
		p := v.Pointer
		if p == "" {
			p = "/"
		}
		fmt.Fprintf(&b, " at %s: %s", p, v.Message)
	}
	return b.String()
}

// Validate checks one record, given as its JSON encoding, against the schema
// for kind. It returns nil or an *Error listing every violation.
func Validate(kind string, record []byte) error {
	d := json.NewDecoder(bytes.NewReader(record))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return &Error{Kind: kind, Violations: []Violation{{Message: "not valid JSON: " + err.Error()}}}
	}
	return ValidateValue(kind, v)
}

// ValidateValue is Validate for a record already decoded with
// json.Decoder.UseNumber into maps, slices and scalars.
func ValidateValue(kind string, v any) error {
	compileOnce.Do(compileAll)
	if compileErr != nil {
		return compileErr
	}
	s, ok := compiled[kind]
	if !ok {
		return fmt.Errorf("schema: unknown record kind %q", kind)
	}
	err := s.Validate(v)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err
	}
	out := &Error{Kind: kind}
	if m, ok := v.(map[string]any); ok {
		out.ID, _ = m["id"].(string)
	}
	// Only the leaves say what is actually wrong; the inner nodes repeat
	// "doesn't validate with ..." for every enclosing keyword.
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if strings.Contains(e.KeywordLocation, "/oneOf") && kind == "message" {
			// The schema's oneOf says "room xor conversation"; its leaves
			// ("not failed") would mean nothing to a person.
			out.Violations = append(out.Violations, Violation{Pointer: e.InstanceLocation,
				Message: "a message needs exactly one of room and conversation"})
			return
		}
		if len(e.Causes) == 0 {
			out.Violations = append(out.Violations, Violation{Pointer: e.InstanceLocation, Message: e.Message})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out.Violations, func(i, j int) bool { return out.Violations[i].Pointer < out.Violations[j].Pointer })
	return out
}

// Check compiles every schema and reports the first error. Tests and the
// command's start-up call it so that a broken schema fails early.
func Check() error {
	compileOnce.Do(compileAll)
	return compileErr
}
