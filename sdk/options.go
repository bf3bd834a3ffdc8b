package sdk

import "fmt"

// Options holds option values by name, typed as the option's declaration
// says: string, bool, int64, []string, or []byte for file options.
type Options map[string]any

// String returns a string option, or "" when unset.
func (o Options) String(name string) string {
	s, _ := o[name].(string)
	return s
}

// Bool returns a bool option, or false when unset.
func (o Options) Bool(name string) bool {
	b, _ := o[name].(bool)
	return b
}

// Int returns an integer option, or 0 when unset.
func (o Options) Int(name string) int64 {
	switch v := o[name].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case float64:
		return int64(v)
	}
	return 0
}

// Strings returns a list option, or nil when unset.
func (o Options) Strings(name string) []string {
	s, _ := o[name].([]string)
	return s
}

// File returns the content of a file option, or nil when unset.
func (o Options) File(name string) []byte {
	b, _ := o[name].([]byte)
	return b
}

// WithDefaults returns a copy of o with every declared option that o lacks
// set to its default.
func (o Options) WithDefaults(decl []Option) Options {
	out := make(Options, len(o)+len(decl))
	for k, v := range o {
		out[k] = v
	}
	for _, d := range decl {
		if _, ok := out[d.Name]; !ok && d.Default != nil {
			out[d.Name] = d.Default
		}
	}
	return out
}

// Check reports the first value in o whose Go type does not match its
// declaration, or an option that is not declared at all.
func (o Options) Check(decl []Option) error {
	byName := make(map[string]Option, len(decl))
	for _, d := range decl {
		byName[d.Name] = d
	}
	for k, v := range o {
		d, ok := byName[k]
		if !ok {
			return fmt.Errorf("unknown option %q", k)
		}
		var good bool
		switch d.Type {
		case OptionString:
			_, good = v.(string)
		case OptionBool:
			_, good = v.(bool)
		case OptionInt:
			_, good = v.(int64)
		case OptionStrings:
			_, good = v.([]string)
		case OptionFile:
			_, good = v.([]byte)
		}
		if !good {
			return fmt.Errorf("option %q: want a %s value, got %T", k, d.Type, v)
		}
	}
	return nil
}
