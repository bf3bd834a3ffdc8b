// Command newproto is a plugin executable from a future migrate that
// speaks only protocol 99, for the host's version-mismatch test.
package main

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/migrate-chat/migrate/sdk/plugin"
)

type future struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (future) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error { return nil }
func (future) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

func main() {
	hs := plugin.Handshake
	hs.ProtocolVersion = 99
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  hs,
		VersionedPlugins: map[int]goplugin.PluginSet{99: {"adapter": future{}}},
		GRPCServer:       goplugin.DefaultGRPCServer,
	})
}
