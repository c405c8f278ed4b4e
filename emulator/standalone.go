package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Standalone is the emulator as `jobsync emulator` serves it: a Server
// with its knobs, on an address of its own, until it is told to stop. Its
// messages name the command's flags, since that is where its settings come
// from.
type Standalone struct {
	Options
	// Addr is the HOST:PORT to listen on.
	Addr string
	// RateLimit is the requests per second allowed across all endpoints
	// (0: no limit); FailRate the fraction of requests that fail with a
	// random 500 or 503.
	RateLimit, FailRate float64
	// AllowRemote allows a non-loopback Addr.
	AllowRemote bool
}

// Check refuses settings the server cannot honour, and an address anyone
// else can reach: the emulator accepts any token.
func (s Standalone) Check() error {
	switch {
	case s.WorkspaceID < 0:
		return errors.New("--workspace-id must be a positive number")
	case s.Workspaces != "" && s.Workspaces != WorkspacesShared && s.Workspaces != WorkspacesPerToken:
		return fmt.Errorf("--workspaces %q: use shared or per-token", s.Workspaces)
	case s.Latency < 0:
		return errors.New("--latency must not be negative")
	case s.RateLimit < 0:
		return errors.New("--rate-limit must not be negative")
	case s.FailRate < 0 || s.FailRate > 1:
		return errors.New("--fail-rate must be between 0 and 1, e.g. 0.05")
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("--addr %q is not HOST:PORT, e.g. 127.0.0.1:8089", s.Addr)
	}
	if s.AllowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--addr %q is not a loopback address: the emulator accepts any token, so anyone who can reach it can change its jobs; use 127.0.0.1, or pass --allow-remote", s.Addr)
	}
	return nil
}

// Serve listens on Addr and serves until ctx ends, calling started with
// the server's URL once it listens; then it lets in-flight requests finish,
// so that their writes are saved, and saves the state (Options.DataFile).
func (s Standalone) Serve(ctx context.Context, started func(url string)) error {
	o := s.Options
	if o.RequestLogLimit == 0 {
		// A standalone server's request log is never read: keep it small.
		o.RequestLogLimit = 100
	}
	srv, err := New(o)
	if err != nil {
		return err
	}
	srv.SetRateLimit("", s.RateLimit)
	srv.SetFailRate(s.FailRate)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.Addr)
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("emulator: cannot listen on %s: %w (is another emulator running? choose another --addr)", s.Addr, err)
	}
	hs := srv.HTTPServer()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	if started != nil {
		started("http://" + ln.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if cerr := srv.Close(); cerr != nil {
		return cerr
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator: %w", err)
	}
	return nil
}

// DirectoryOf builds a principal directory from the command's flags: the
// file first (ReadDirectory), then each principal spec (AddPrincipal) and
// each token mapping (AddToken).
func DirectoryOf(file string, principals, tokens []string) (Directory, error) {
	var d Directory
	if file != "" {
		var err error
		if d, err = ReadDirectory(file); err != nil {
			return d, err
		}
	}
	for _, p := range principals {
		if err := d.AddPrincipal(p); err != nil {
			return d, errors.New("--principal " + err.Error())
		}
	}
	for _, t := range tokens {
		if err := d.AddToken(t); err != nil {
			return d, errors.New("--token: " + err.Error())
		}
	}
	return d, nil
}
