package worker

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// UIServer is the embedded Temporal Web UI (the same server and assets the
// Temporal CLI's start-dev serves), pointed at a frontend.
type UIServer struct {
	srv     *uiserver.Server
	address string
}

// StartUI serves the Temporal Web UI on ip:port for the frontend at
// temporalAddr and returns once it answers HTTP.
func StartUI(ip string, port int, temporalAddr string) (*UIServer, error) {
	if port == 0 {
		p, err := ReservePort(ip)
		if err != nil {
			return nil, err
		}
		port = p
	} else if err := portAvailable(ip, port); err != nil {
		// The UI server's own Start calls log.Fatal on a busy port; check first.
		return nil, fmt.Errorf("web UI: %w", err)
	}
	srv := uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                ip,
		Port:                port,
		TemporalGRPCAddress: temporalAddr,
		EnableUI:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
	}))
	go func() { _ = srv.Start() }()
	u := &UIServer{srv: srv, address: net.JoinHostPort(ip, strconv.Itoa(port))}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + u.address + "/healthz")
		if err == nil {
			resp.Body.Close()
			return u, nil
		}
		if time.Now().After(deadline) {
			srv.Stop()
			return nil, fmt.Errorf("web UI on %s did not start: %w", u.address, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// URL is the UI's base URL.
func (u *UIServer) URL() string { return "http://" + u.address }

// Stop closes the UI server.
func (u *UIServer) Stop() { u.srv.Stop() }
