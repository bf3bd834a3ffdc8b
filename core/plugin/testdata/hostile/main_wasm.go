//go:build wasip1

package main

import "github.com/migrate-chat/migrate/sdk/wasm"

func main() { wasm.Serve(source{}) }
