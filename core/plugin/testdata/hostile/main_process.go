//go:build !wasip1

package main

import "github.com/migrate-chat/migrate/sdk/plugin"

func main() { plugin.Serve(source{}) }
