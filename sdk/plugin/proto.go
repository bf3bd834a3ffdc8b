package plugin

import (
	"context"
	"errors"
	"fmt"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"

	"github.com/migrate-chat/migrate/sdk/internal/wire"
)

// Handshake is what go-plugin checks when the host starts a plugin. The
// cookie only tells a person who runs the executable by hand what it is;
// it is not a security measure.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  wire.Version,
	MagicCookieKey:   "MIGRATE_ADAPTER_PLUGIN",
	MagicCookieValue: "7d1f6a0c-migrate-adapter",
}

// pluginName is the one plugin a migrate executable serves.
const pluginName = "adapter"

// codecName selects frameCodec for the session stream.
const codecName = "migrate-frame"

// frame is one wire frame as a gRPC message.
type frame struct {
	typ     byte
	payload []byte
}

// frameCodec sends frames as their bytes: a type byte then the payload.
// The adapter protocol has its own framing and encoding, so gRPC only has
// to carry bytes; this spares generated protobuf code and a copy into a
// bytes wrapper message.
type frameCodec struct{}

func (frameCodec) Name() string { return codecName }

func (frameCodec) Marshal(v any) ([]byte, error) {
	f, ok := v.(*frame)
	if !ok {
		return nil, fmt.Errorf("migrate-frame codec cannot marshal %T", v)
	}
	b := make([]byte, 1+len(f.payload))
	b[0] = f.typ
	copy(b[1:], f.payload)
	return b, nil
}

func (frameCodec) Unmarshal(data []byte, v any) error {
	f, ok := v.(*frame)
	if !ok {
		return fmt.Errorf("migrate-frame codec cannot unmarshal into %T", v)
	}
	if len(data) == 0 {
		return errors.New("empty frame")
	}
	f.typ = data[0]
	f.payload = append(f.payload[:0], data[1:]...)
	return nil
}

func init() { encoding.RegisterCodec(frameCodec{}) }

const (
	serviceName = "migrate.adapter.v1.Adapter"
	sessionPath = "/" + serviceName + "/Session"
)

// adapterServer is what the service descriptor's handler type asserts.
type adapterServer interface {
	session(grpc.ServerStream) error
}

var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*adapterServer)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    "Session",
		ServerStreams: true,
		ClientStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			return srv.(adapterServer).session(stream)
		},
	}},
}

// streamConn is a wire.Conn over a gRPC stream, on either side.
type streamConn struct {
	s interface {
		SendMsg(any) error
		RecvMsg(any) error
	}
	in frame
}

func (c *streamConn) Send(typ byte, payload []byte) error {
	return c.s.SendMsg(&frame{typ: typ, payload: payload})
}

func (c *streamConn) Recv() (byte, []byte, error) {
	if err := c.s.RecvMsg(&c.in); err != nil {
		return 0, nil, err
	}
	return c.in.typ, c.in.payload, nil
}

// grpcPlugin is the go-plugin glue on both sides.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	srv adapterServer
}

func (p *grpcPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	s.RegisterService(&serviceDesc, p.srv)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return c, nil
}

// maxMessage bounds one gRPC message: a frame and its type byte.
const maxMessage = wire.MaxFrame + 16
