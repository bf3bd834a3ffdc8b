//go:build !wasip1

package plugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/migrate-chat/migrate/sdk"
	"github.com/migrate-chat/migrate/sdk/internal/wire"
)

// Options configure how a plugin process is started.
type Options struct {
	// Checksum, when set, is the SHA-256 the executable must have; it is
	// checked just before the process starts.
	Checksum []byte
	// StartTimeout bounds the handshake; 0 means a minute.
	StartTimeout time.Duration
	// Env is added to the plugin's environment; the host's own
	// environment is not passed on.
	Env []string
}

// Plugin is a running plugin process.
type Plugin struct {
	name     string
	client   *goplugin.Client
	conn     *grpc.ClientConn
	logs     *wire.LogWriter
	manifest sdk.Manifest
	adapter  sdk.Adapter
	mu       sync.Mutex // one session at a time: logs go to one logger
}

// Open starts the plugin executable at path and reads its manifest. log
// receives what the plugin logs outside calls; calls log to their
// request's logger.
func Open(ctx context.Context, path string, opts Options, log *slog.Logger) (*Plugin, error) {
	name := filepath.Base(path)
	if opts.StartTimeout == 0 {
		opts.StartTimeout = time.Minute
	}
	if len(opts.Checksum) > 0 {
		if err := verify(path, opts.Checksum); err != nil {
			return nil, err
		}
	}
	logs := wire.NewLogWriter(log)
	cmd := exec.Command(path)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir()}, opts.Env...)
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{wire.Version: {pluginName: &grpcPlugin{}}},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     opts.StartTimeout,
		Stderr:           logs,
		SyncStderr:       logs,
		SyncStdout:       logs,
		SkipHostEnv:      true,
		AutoMTLS:         false,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Off}),
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage))},
	}
	if len(opts.Checksum) > 0 {
		// Checked again by go-plugin right before it starts the process,
		// to narrow the window between check and use.
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: opts.Checksum, Hash: sha256.New()}
	}
	client := goplugin.NewClient(cfg)
	p := &Plugin{name: name, client: client, logs: logs}
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, p.startError(err)
	}
	raw, err := rpc.Dispense(pluginName)
	if err != nil {
		client.Kill()
		return nil, p.startError(err)
	}
	p.conn = raw.(*grpc.ClientConn)
	wp := &wire.Plugin{Name: name, Start: p.start}
	m, err := wp.Handshake(ctx, log)
	if err != nil {
		client.Kill()
		return nil, err
	}
	p.manifest, p.adapter = m, wire.NewAdapter(wp, m)
	return p, nil
}

// Manifest returns the adapter's manifest.
func (p *Plugin) Manifest() sdk.Manifest { return p.manifest }

// Adapter returns the adapter, an sdk.Source, sdk.Target or both.
func (p *Plugin) Adapter() sdk.Adapter { return p.adapter }

// Close stops the plugin process.
func (p *Plugin) Close() error {
	p.client.Kill()
	p.logs.Flush()
	return nil
}

// Exited reports whether the plugin process has ended.
func (p *Plugin) Exited() bool { return p.client.Exited() }

var versionMismatch = regexp.MustCompile(`Plugin version: (\d+)`)

func (p *Plugin) startError(err error) error {
	if m := versionMismatch.FindStringSubmatch(err.Error()); m != nil {
		v, _ := strconv.Atoi(m[1])
		return &wire.VersionError{Plugin: p.name, Theirs: []int{v}}
	}
	if errors.Is(err, goplugin.ErrChecksumsDoNotMatch) {
		return fmt.Errorf("plugin %s changed after its checksum was checked: refusing to run it", p.name)
	}
	p.logs.Flush()
	if tail := p.logs.Tail(); tail != "" {
		return fmt.Errorf("plugin %s did not start: %w; it said:\n%s", p.name, err, tail)
	}
	return fmt.Errorf("plugin %s did not start: %w", p.name, err)
}

// verify compares the executable's SHA-256 with the pinned one.
func verify(path string, want []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("plugin %s: %w", filepath.Base(path), err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		return fmt.Errorf("plugin %s has SHA-256 %s, but its checksum was pinned as %s: the file is not the one you trusted; refusing to run it",
			filepath.Base(path), hex.EncodeToString(got), hex.EncodeToString(want))
	}
	return nil
}

// start opens one session: a stream on the running process.
func (p *Plugin) start(ctx context.Context, log *slog.Logger) (wire.Conn, func() error, error) {
	p.mu.Lock()
	if p.client.Exited() {
		p.mu.Unlock()
		return nil, nil, fmt.Errorf("plugin %s is no longer running%s", p.name, p.said())
	}
	p.logs.SetLogger(log)
	sctx, cancel := context.WithCancel(ctx)
	stream, err := p.conn.NewStream(sctx, &serviceDesc.Streams[0], sessionPath, grpc.CallContentSubtype(codecName))
	if err != nil {
		cancel()
		p.mu.Unlock()
		return nil, nil, fmt.Errorf("plugin %s: %w", p.name, err)
	}
	var once sync.Once
	var result error
	stop := func() error {
		once.Do(func() {
			defer p.mu.Unlock()
			_ = stream.CloseSend()
			if ctx.Err() != nil {
				// A plugin that is cancelled may be stuck in a loop that
				// never looks at its context: stop it for good.
				cancel()
				p.client.Kill()
				result = wire.ErrKilled
				return
			}
			// Drain until the plugin ends the stream, briefly.
			done := make(chan error, 1)
			go func() {
				var f frame
				for {
					if err := stream.RecvMsg(&f); err != nil {
						done <- err
						return
					}
				}
			}()
			select {
			case err := <-done:
				if err != io.EOF && p.waitExited() {
					result = fmt.Errorf("the process exited%s", p.said())
				}
			case <-time.After(5 * time.Second):
				p.client.Kill()
				result = errors.New("the plugin did not end its session; it was stopped")
			}
			cancel()
			p.logs.SetLogger(nil)
		})
		return result
	}
	return &streamConn{s: stream}, stop, nil
}

// waitExited gives a crashing process a moment to be seen as exited.
func (p *Plugin) waitExited() bool {
	for i := 0; i < 20 && !p.client.Exited(); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	return p.client.Exited()
}

func (p *Plugin) said() string {
	p.logs.Flush()
	if tail := p.logs.Tail(); tail != "" {
		return "; it said:\n" + tail
	}
	return ""
}
