package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// jsonFloor times one streaming pass of encoding/json over every JSON and
// NDJSON file under path: each top-level value, each element of a
// top-level array and each member of a top-level object is decoded into a
// json.RawMessage, which scans and validates the bytes without building
// values. No conversion can read its input faster with this decoder.
func jsonFloor(ctx context.Context, path string) (float64, error) {
	var files []string
	err := filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".ndjson")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no .json or .ndjson files under %s", path)
	}
	start := time.Now()
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := decodeFile(f); err != nil {
			return 0, err
		}
	}
	return time.Since(start).Seconds(), nil
}

func decodeFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := decodeStream(bufio.NewReaderSize(f, 1<<20)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// decodeStream walks a stream of JSON values one level deep.
func decodeStream(r io.Reader) error {
	dec := json.NewDecoder(r)
	var raw json.RawMessage
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		d, ok := tok.(json.Delim)
		if !ok {
			continue // a scalar at the top level
		}
		switch d {
		case '[':
			for dec.More() {
				if err := dec.Decode(&raw); err != nil {
					return err
				}
			}
		case '{':
			for dec.More() {
				if _, err := dec.Token(); err != nil { // key
					return err
				}
				if err := dec.Decode(&raw); err != nil {
					return err
				}
			}
		}
		if _, err := dec.Token(); err != nil { // closing delimiter
			return err
		}
	}
}
