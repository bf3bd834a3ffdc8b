//go:build !wasip1

package plugin

import (
	"os"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/internal/wire"
)

// Serve runs adapter a as a plugin for the migrate that started this
// process, until that migrate is done with it. Call it from main. Run by
// hand, the executable says that it is a plugin and exits.
func Serve(a sdk.Adapter) {
	if err := sdk.CheckManifest(a); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{
			wire.Version: {pluginName: &grpcPlugin{srv: &server{a: a}}},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage))
			return grpc.NewServer(opts...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn, JSONFormat: true}),
	})
}

type server struct{ a sdk.Adapter }

func (s *server) session(stream grpc.ServerStream) error {
	// Logs go to standard error, which go-plugin hands to the host.
	return wire.Serve(stream.Context(), s.a, &streamConn{s: stream}, os.Stderr)
}
