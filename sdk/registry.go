package sdk

import (
	"fmt"
	"regexp"
	"sort"
	"sync"
)

var (
	registryMu sync.RWMutex
	registry   = map[string]Adapter{}
	validName  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
)

// Register makes an adapter available under its manifest's name. Shipped
// adapters call it from init; it panics on a bad or duplicate name, or when
// the manifest's roles disagree with the interfaces the adapter implements,
// because those are programming errors that must fail at start-up.
func Register(a Adapter) {
	m := a.Manifest()
	if err := CheckManifest(a); err != nil {
		panic(err)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[m.Name]; dup {
		panic(fmt.Sprintf("sdk: adapter %q registered twice", m.Name))
	}
	registry[m.Name] = a
}

// CheckManifest reports whether an adapter's manifest is well formed and
// agrees with the interfaces the adapter implements.
func CheckManifest(a Adapter) error {
	m := a.Manifest()
	if !validName.MatchString(m.Name) {
		return fmt.Errorf("sdk: adapter name %q: use lower-case letters, digits and dashes", m.Name)
	}
	_, isSource := a.(Source)
	_, isTarget := a.(Target)
	if m.Source != isSource {
		return fmt.Errorf("sdk: adapter %q: manifest says source=%v but the type %s Source", m.Name, m.Source, implements(isSource))
	}
	if m.Target != isTarget {
		return fmt.Errorf("sdk: adapter %q: manifest says target=%v but the type %s Target", m.Name, m.Target, implements(isTarget))
	}
	if !m.Source && !m.Target {
		return fmt.Errorf("sdk: adapter %q is neither a source nor a target", m.Name)
	}
	seen := map[string]bool{}
	for _, o := range m.Options {
		if !validName.MatchString(o.Name) {
			return fmt.Errorf("sdk: adapter %q: option name %q: use lower-case letters, digits and dashes", m.Name, o.Name)
		}
		if seen[o.Name] {
			return fmt.Errorf("sdk: adapter %q: option %q declared twice", m.Name, o.Name)
		}
		seen[o.Name] = true
		switch o.Type {
		case OptionString, OptionBool, OptionInt, OptionStrings, OptionFile:
		default:
			return fmt.Errorf("sdk: adapter %q: option %q has unknown type %q", m.Name, o.Name, o.Type)
		}
	}
	return nil
}

func implements(yes bool) string {
	if yes {
		return "implements"
	}
	return "does not implement"
}

// Lookup returns the registered adapter with the given name.
func Lookup(name string) (Adapter, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	a, ok := registry[name]
	return a, ok
}

// Registered returns every registered adapter, sorted by name.
func Registered() []Adapter {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]Adapter, 0, len(registry))
	for _, a := range registry {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Manifest().Name < out[j].Manifest().Name })
	return out
}
