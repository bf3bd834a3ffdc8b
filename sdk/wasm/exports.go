package wasm

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ProtocolExportPrefix starts the name of the function a module exports
// for each protocol version it speaks: migrate_protocol_1, ….
const ProtocolExportPrefix = "migrate_protocol_"

// ModuleProtocols reads the protocol versions a WebAssembly binary
// declares, from the names in its export section, without compiling or
// running it. A binary that declares none is not a migrate adapter.
func ModuleProtocols(bin []byte) ([]int, error) {
	names, err := exportNames(bin)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, n := range names {
		if v, ok := strings.CutPrefix(n, ProtocolExportPrefix); ok {
			if i, err := strconv.Atoi(v); err == nil && i > 0 {
				out = append(out, i)
			}
		}
	}
	return out, nil
}

var wasmMagic = []byte{0, 'a', 's', 'm', 1, 0, 0, 0}

// exportNames walks a module's sections and returns the names in its
// export section. It reads only section headers and that one section, and
// checks every length against what is left, so a hostile file cannot make
// it read out of range or allocate much.
func exportNames(bin []byte) ([]string, error) {
	if !bytes.HasPrefix(bin, wasmMagic) {
		return nil, errors.New("not a WebAssembly module (bad magic number or version)")
	}
	r := reader{b: bin[len(wasmMagic):]}
	for len(r.b) > 0 {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		body, err := r.take(int(size))
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		if id != 7 { // the export section
			continue
		}
		s := reader{b: body}
		n, err := s.u32()
		if err != nil {
			return nil, fmt.Errorf("export section: %w", err)
		}
		if int(n) > len(body) {
			return nil, fmt.Errorf("export section: %d exports cannot fit in %d bytes", n, len(body))
		}
		names := make([]string, 0, n)
		for range n {
			l, err := s.u32()
			if err != nil {
				return nil, fmt.Errorf("export section: %w", err)
			}
			name, err := s.take(int(l))
			if err != nil {
				return nil, fmt.Errorf("export section: %w", err)
			}
			if _, err := s.byte(); err != nil { // kind
				return nil, fmt.Errorf("export section: %w", err)
			}
			if _, err := s.u32(); err != nil { // index
				return nil, fmt.Errorf("export section: %w", err)
			}
			names = append(names, string(name))
		}
		return names, nil
	}
	return nil, nil
}

type reader struct{ b []byte }

var errTruncated = errors.New("the module is truncated")

func (r *reader) byte() (byte, error) {
	if len(r.b) == 0 {
		return 0, errTruncated
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

// u32 reads an unsigned LEB128 number of at most five bytes.
func (r *reader) u32() (uint32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 4 && c > 0x0f {
			return 0, errors.New("a number in the module overflows 32 bits")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("a number in the module is longer than five bytes")
}

func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.b) {
		return nil, errTruncated
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b, nil
}
