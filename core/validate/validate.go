// Package validate checks canonical records against the canonical JSON
// Schema at the speed the pipeline needs.
//
// A general JSON Schema validator costs tens of microseconds per message,
// more than everything else the pipeline does. This package compiles the
// very same schema files (package schema) into a plan over the sdk's Go
// types once, and then checks a record with a few field reads. It
// understands only the keywords the canonical schema uses and refuses to
// build a plan for any other, so a schema change it does not understand
// fails loudly instead of being ignored; and a differential test holds it
// to the general validator's verdict on random valid and broken records.
package validate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/migrate-chat/migrate/schema"
	"github.com/migrate-chat/migrate/sdk"
)

// node is one compiled schema, ready to check values of one Go type.
type node struct {
	kind     string // JSON type: object, string, boolean, integer, array, or "" for any
	minLen   int
	maxLen   int
	pattern  *regexp.Regexp
	enum     []string
	constVal *string
	minimum  *float64
	format   string
	items    *node
	minItems int

	// Objects backed by structs.
	fields   []field
	required []string
	oneOf    []*node
	not      *node
	// Objects backed by maps (additionalProperties is a schema).
	values *node
	// propertyNames restricts map keys.
	keyEnum []string
}

type field struct {
	name      string
	index     int
	omitEmpty bool
	node      *node
}

var (
	plansOnce sync.Once
	plans     map[sdk.Kind]*node
	plansErr  error
)

var recordTypes = map[sdk.Kind]reflect.Type{
	sdk.KindWorkspace:    reflect.TypeOf(sdk.Workspace{}),
	sdk.KindUser:         reflect.TypeOf(sdk.User{}),
	sdk.KindRoom:         reflect.TypeOf(sdk.Room{}),
	sdk.KindConversation: reflect.TypeOf(sdk.Conversation{}),
	sdk.KindEmoji:        reflect.TypeOf(sdk.Emoji{}),
	sdk.KindMessage:      reflect.TypeOf(sdk.Message{}),
	sdk.KindAttachment:   reflect.TypeOf(sdk.Attachment{}),
}

// Check builds the plans and reports whether the schema uses anything this
// package does not understand.
func Check() error {
	plansOnce.Do(build)
	return plansErr
}

func build() {
	docs := map[string]map[string]any{}
	load := func(name string) (map[string]any, error) {
		if d, ok := docs[name]; ok {
			return d, nil
		}
		raw, err := schema.Raw(name)
		if err != nil {
			return nil, err
		}
		var d map[string]any
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("%s.schema.json: %w", name, err)
		}
		docs[name] = d
		return d, nil
	}
	plans = map[sdk.Kind]*node{}
	for kind, typ := range recordTypes {
		doc, err := load(string(kind))
		if err != nil {
			plansErr = err
			return
		}
		c := &compiler{load: load, doc: string(kind)}
		n, err := c.compile(doc, typ, "")
		if err != nil {
			plansErr = fmt.Errorf("validate: %s schema: %w", kind, err)
			return
		}
		plans[kind] = n
	}
}

type compiler struct {
	load func(string) (map[string]any, error)
	doc  string
}

// resolve follows a $ref of the forms used by the canonical schema:
// "other.schema.json#/json/pointer" or "#/json/pointer".
func (c *compiler) resolve(ref string) (map[string]any, error) {
	file, ptr, _ := strings.Cut(ref, "#")
	doc := c.doc
	if file != "" {
		doc = strings.TrimSuffix(file, ".schema.json")
	}
	d, err := c.load(doc)
	if err != nil {
		return nil, err
	}
	var cur any = d
	for _, part := range strings.Split(strings.Trim(ptr, "/"), "/") {
		if part == "" {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q does not resolve", ref)
		}
		cur = m[part]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %q does not resolve", ref)
	}
	return m, nil
}

var timeType = reflect.TypeOf(time.Time{})

func (c *compiler) compile(s map[string]any, typ reflect.Type, at string) (*node, error) {
	if ref, ok := s["$ref"].(string); ok {
		target, err := c.resolve(ref)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		return c.compile(target, typ, at)
	}
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	n := &node{minLen: -1, maxLen: -1}
	for key, v := range s {
		switch key {
		case "$schema", "$id", "title", "description", "$defs", "properties", "additionalProperties", "items":
			// handled below, or annotations
		case "type":
			n.kind, _ = v.(string)
		case "required":
			for _, r := range v.([]any) {
				n.required = append(n.required, r.(string))
			}
		case "minLength":
			n.minLen = int(v.(float64))
		case "maxLength":
			n.maxLen = int(v.(float64))
		case "minItems":
			n.minItems = int(v.(float64))
		case "minimum":
			f := v.(float64)
			n.minimum = &f
		case "pattern":
			re, err := regexp.Compile(v.(string))
			if err != nil {
				return nil, fmt.Errorf("%s: pattern: %w", at, err)
			}
			n.pattern = re
		case "format":
			n.format = v.(string)
			if n.format != "date-time" {
				return nil, fmt.Errorf("%s: format %q is not understood by the fast validator", at, n.format)
			}
		case "enum":
			for _, e := range v.([]any) {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("%s: only string enums are understood", at)
				}
				n.enum = append(n.enum, s)
			}
		case "const":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: only string consts are understood", at)
			}
			n.constVal = &s
		case "oneOf":
			for i, b := range v.([]any) {
				bn, err := c.compile(b.(map[string]any), typ, fmt.Sprintf("%s/oneOf/%d", at, i))
				if err != nil {
					return nil, err
				}
				n.oneOf = append(n.oneOf, bn)
			}
		case "not":
			bn, err := c.compile(v.(map[string]any), typ, at+"/not")
			if err != nil {
				return nil, err
			}
			n.not = bn
		case "propertyNames":
			pn := v.(map[string]any)
			for _, e := range pn["enum"].([]any) {
				n.keyEnum = append(n.keyEnum, e.(string))
			}
		default:
			return nil, fmt.Errorf("%s: keyword %q is not understood by the fast validator; teach core/validate about it", at, key)
		}
	}
	if err := compatible(n.kind, typ); err != nil {
		return nil, fmt.Errorf("%s: %w", at, err)
	}
	if items, ok := s["items"].(map[string]any); ok {
		if typ.Kind() != reflect.Slice {
			return nil, fmt.Errorf("%s: items on a Go %s", at, typ)
		}
		in, err := c.compile(items, typ.Elem(), at+"/items")
		if err != nil {
			return nil, err
		}
		n.items = in
	}
	props, _ := s["properties"].(map[string]any)
	switch ap := s["additionalProperties"].(type) {
	case map[string]any:
		if typ.Kind() != reflect.Map {
			return nil, fmt.Errorf("%s: additionalProperties schema on a Go %s", at, typ)
		}
		vn, err := c.compile(ap, typ.Elem(), at+"/*")
		if err != nil {
			return nil, err
		}
		n.values = vn
	case bool:
		if ap {
			return nil, fmt.Errorf("%s: additionalProperties true is not understood", at)
		}
	}
	if props != nil || (n.kind == "object" && typ.Kind() == reflect.Struct) {
		if typ.Kind() != reflect.Struct {
			return nil, fmt.Errorf("%s: properties on a Go %s", at, typ)
		}
		if s["additionalProperties"] != false {
			return nil, fmt.Errorf("%s: struct-backed objects must forbid additional properties", at)
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			ps, ok := props[name].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: field %s (%q) has no schema property", at, f.Name, name)
			}
			fn, err := c.compile(ps, f.Type, at+"/"+name)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{name: name, index: i, omitEmpty: strings.Contains(opts, "omitempty"), node: fn})
		}
		for name := range props {
			if !slices.ContainsFunc(n.fields, func(f field) bool { return f.name == name }) {
				return nil, fmt.Errorf("%s: schema property %q has no Go field", at, name)
			}
		}
	}
	return n, nil
}

// compatible reports whether a Go type always encodes to the JSON type a
// schema demands, which is what lets the plan skip type checks.
func compatible(kind string, typ reflect.Type) error {
	var ok bool
	switch kind {
	case "":
		return nil
	case "string":
		ok = typ.Kind() == reflect.String || typ == timeType
	case "boolean":
		ok = typ.Kind() == reflect.Bool
	case "integer":
		ok = typ.Kind() == reflect.Int || typ.Kind() == reflect.Int64
	case "array":
		ok = typ.Kind() == reflect.Slice
	case "object":
		ok = typ.Kind() == reflect.Struct || typ.Kind() == reflect.Map
	}
	if !ok {
		return fmt.Errorf("schema type %q does not match the Go type %s", kind, typ)
	}
	return nil
}

// Record checks one record against the canonical schema. It returns nil or
// a *schema.Error listing every violation, like schema.Validate.
func Record(rec sdk.Record) error {
	plansOnce.Do(build)
	if plansErr != nil {
		return plansErr
	}
	n := plans[rec.RecordKind()]
	if n == nil {
		return fmt.Errorf("validate: unknown record kind %q", rec.RecordKind())
	}
	rv := reflect.ValueOf(rec).Elem()
	// Nearly every record is valid: check without building JSON pointers
	// (which allocate) and only walk again to explain a failure.
	if n.ok(rv) {
		return nil
	}
	var v violations
	n.check(rv, "", &v)
	if len(v) == 0 {
		return nil
	}
	return &schema.Error{Kind: string(rec.RecordKind()), ID: rec.RecordID(), Violations: v}
}

type violations []schema.Violation

func (v *violations) add(at, format string, a ...any) {
	*v = append(*v, schema.Violation{Pointer: at, Message: fmt.Sprintf(format, a...)})
}

// present reports whether a struct field appears in the record's JSON.
func (f *field) present(sv reflect.Value) bool {
	if !f.omitEmpty {
		return true
	}
	fv := sv.Field(f.index)
	switch fv.Kind() {
	case reflect.Slice, reflect.Map:
		return fv.Len() > 0
	default:
		return !fv.IsZero()
	}
}

func (n *node) check(v reflect.Value, at string, out *violations) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			out.add(at, "must not be null")
			return
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == timeType:
		// time.Time encodes as RFC 3339, which is a valid date-time for
		// every year that it can encode at all.
		if y := timeOf(v).Year(); y < 0 || y > 9999 {
			out.add(at, "year %d is outside 0000–9999", y)
		}
		return
	case v.Kind() == reflect.Struct:
		n.checkStruct(v, at, out)
		return
	case v.Kind() == reflect.String:
		n.checkString(v.String(), at, out)
	case v.Kind() == reflect.Int, v.Kind() == reflect.Int64:
		if n.minimum != nil && float64(v.Int()) < *n.minimum {
			out.add(at, "must be >= %v but found %d", *n.minimum, v.Int())
		}
	case v.Kind() == reflect.Slice:
		if v.Len() < n.minItems {
			out.add(at, "minimum %d items required, but found %d items", n.minItems, v.Len())
		}
		if n.items != nil {
			for i := range v.Len() {
				n.items.check(v.Index(i), fmt.Sprintf("%s/%d", at, i), out)
			}
		}
	case v.Kind() == reflect.Map:
		if v.IsNil() {
			return
		}
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key().String()
			if n.keyEnum != nil && !slices.Contains(n.keyEnum, k) {
				out.add(at, "invalid propertyName %q", k)
			}
			if n.values != nil {
				n.values.check(iter.Value(), at+"/"+escape(k), out)
			}
		}
	}
}

// timeOf reads a time.Time without the allocation of Value.Interface.
func timeOf(v reflect.Value) *time.Time {
	if v.CanAddr() {
		return v.Addr().Interface().(*time.Time)
	}
	t := v.Interface().(time.Time)
	return &t
}

// ok is check without the explanations: true when v is valid.
func (n *node) ok(v reflect.Value) bool {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return false
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == timeType:
		y := timeOf(v).Year()
		return y >= 0 && y <= 9999
	case v.Kind() == reflect.Struct:
		for i := range n.fields {
			f := &n.fields[i]
			if !f.present(v) {
				if slices.Contains(n.required, f.name) {
					return false
				}
				continue
			}
			if !f.node.ok(v.Field(f.index)) {
				return false
			}
		}
		if n.oneOf != nil {
			matched := 0
			for _, b := range n.oneOf {
				if b.matches(v, n) {
					matched++
				}
			}
			return matched == 1
		}
		return true
	case v.Kind() == reflect.String:
		return n.stringOK(v.String())
	case v.Kind() == reflect.Int, v.Kind() == reflect.Int64:
		return n.minimum == nil || float64(v.Int()) >= *n.minimum
	case v.Kind() == reflect.Slice:
		if v.Len() < n.minItems {
			return false
		}
		if n.items != nil {
			for i := range v.Len() {
				if !n.items.ok(v.Index(i)) {
					return false
				}
			}
		}
		return true
	case v.Kind() == reflect.Map:
		if v.IsNil() || (n.keyEnum == nil && n.values == nil) {
			return true
		}
		var violated violations
		n.check(v, "", &violated)
		return len(violated) == 0
	}
	return true
}

func (n *node) stringOK(s string) bool {
	if n.minLen >= 0 || n.maxLen >= 0 {
		// Byte length bounds rune count from above, so short strings
		// skip the count.
		if n.minLen >= 0 && len(s) < n.minLen {
			return false
		}
		if n.maxLen >= 0 && len(s) > n.maxLen || n.minLen > 0 {
			l := utf8.RuneCountInString(s)
			if (n.minLen >= 0 && l < n.minLen) || (n.maxLen >= 0 && l > n.maxLen) {
				return false
			}
		}
	}
	if n.pattern != nil && !n.pattern.MatchString(s) {
		return false
	}
	if n.enum != nil && !slices.Contains(n.enum, s) {
		return false
	}
	return n.constVal == nil || s == *n.constVal
}

func (n *node) checkString(s string, at string, out *violations) {
	if n.minLen >= 0 || n.maxLen >= 0 {
		l := utf8.RuneCountInString(s)
		if n.minLen >= 0 && l < n.minLen {
			out.add(at, "length must be >= %d, but got %d", n.minLen, l)
		}
		if n.maxLen >= 0 && l > n.maxLen {
			out.add(at, "length must be <= %d, but got %d", n.maxLen, l)
		}
	}
	if n.pattern != nil && !n.pattern.MatchString(s) {
		out.add(at, "does not match pattern %q", n.pattern.String())
	}
	if n.enum != nil && !slices.Contains(n.enum, s) {
		out.add(at, "value must be one of %s", quoteAll(n.enum))
	}
	if n.constVal != nil && s != *n.constVal {
		out.add(at, "value must be %q", *n.constVal)
	}
}

func (n *node) checkStruct(v reflect.Value, at string, out *violations) {
	for i := range n.fields {
		f := &n.fields[i]
		if !f.present(v) {
			if slices.Contains(n.required, f.name) {
				out.add(at, "missing properties: %q", f.name)
			}
			continue
		}
		f.node.check(v.Field(f.index), at+"/"+f.name, out)
	}
	if n.oneOf != nil {
		matched := 0
		for _, b := range n.oneOf {
			if b.matches(v, n) {
				matched++
			}
		}
		if matched != 1 {
			// The canonical schema's only oneOf says "room xor
			// conversation"; say that rather than "oneOf failed".
			out.add(at, "a message needs exactly one of room and conversation")
		}
	}
}

// matches evaluates a oneOf/not branch, which in the canonical schema only
// constrains which properties are present.
func (n *node) matches(v reflect.Value, parent *node) bool {
	for _, r := range n.required {
		for i := range parent.fields {
			if parent.fields[i].name == r && !parent.fields[i].present(v) {
				return false
			}
		}
	}
	if n.not != nil && n.not.matches(v, parent) {
		return false
	}
	return true
}

func escape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

func quoteAll(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
