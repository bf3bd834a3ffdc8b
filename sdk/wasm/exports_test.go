package wasm

import (
	"slices"
	"testing"
)

// module builds a minimal binary with one export section.
func module(names ...string) []byte {
	sec := []byte{byte(len(names))}
	for _, n := range names {
		sec = append(sec, byte(len(n)))
		sec = append(sec, n...)
		sec = append(sec, 0, 0) // a function, index 0
	}
	b := append([]byte(nil), wasmMagic...)
	b = append(b, 1, 1, 0) // an empty type section
	b = append(b, 7, byte(len(sec)))
	return append(b, sec...)
}

func TestModuleProtocols(t *testing.T) {
	for _, tc := range []struct {
		name string
		bin  []byte
		want []int
		bad  bool
	}{
		{"one version", module("_start", "migrate_protocol_1"), []int{1}, false},
		{"several", module("migrate_protocol_2", "migrate_protocol_1", "migrate_protocol_x"), []int{2, 1}, false},
		{"none", module("_start"), nil, false},
		{"not wasm", []byte("#!/bin/sh\n"), nil, true},
		{"truncated section", module("migrate_protocol_1")[:14], nil, true},
		{"length past the end", append(append([]byte(nil), wasmMagic...), 7, 0xff, 0xff, 0xff, 0xff, 0x0f), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ModuleProtocols(tc.bin)
			if (err != nil) != tc.bad {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzModuleProtocols(f *testing.F) {
	f.Add(module("_start", "migrate_protocol_1"))
	f.Add(module())
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x07\x05\x01\x01a\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ModuleProtocols(b) // must not panic or hang
	})
}
