package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/cyclecore/mlmforge/activities"
	"github.com/cyclecore/mlmforge/generator/ollama"
	"github.com/cyclecore/mlmforge/worker"
)

// embedded is a running embedded Temporal server with a client and, unless no
// queues were asked for, a worker in the same process.
type embedded struct {
	srv        *worker.DevServer
	client     client.Client
	stopWorker func()
	dbPath     string
}

// embeddedOptions configures startEmbedded.
type embeddedOptions struct {
	ip, namespace, logLevel string
	port                    int
	queues                  []string
}

// startEmbedded starts the server under the home, dials it and starts the
// worker; on error everything already started is stopped again.
func startEmbedded(ctx context.Context, a *app, o embeddedOptions) (*embedded, error) {
	e := &embedded{dbPath: filepath.Join(a.home, "temporal", "temporal.db")}
	srv, err := worker.StartDevServer(worker.ServerConfig{
		DBPath:     e.dbPath,
		IP:         o.ip,
		Port:       o.port,
		Namespaces: []string{o.namespace},
		LogFile:    filepath.Join(a.home, "logs", "temporal.log"),
		LogLevel:   o.logLevel,
	})
	if err != nil {
		return nil, err
	}
	e.srv = srv
	// In one process, pollers racing the server's own shutdown log warnings
	// that mean nothing to the user: keep only errors.
	quiet := slog.New(slog.NewTextHandler(a.err, &slog.HandlerOptions{Level: slog.LevelError}))
	// The server is this process's own and already listening: on a busy
	// machine its first answer can take longer than a remote cluster's
	// 10-second bound, so wait for it (Ctrl+C still ends the wait).
	c, err := worker.Dial(ctx, worker.DialConfig{Address: srv.Address(), Namespace: o.namespace, Logger: quiet,
		Timeout: 5 * time.Minute})
	if err != nil {
		e.stop()
		return nil, err
	}
	e.client = c
	if len(o.queues) > 0 {
		stop, err := worker.Start(c, worker.Config{
			Queues:     o.queues,
			Activities: &activities.Activities{Home: a.home, Identity: activities.DefaultIdentity(), Ollama: ollama.Config{Host: envOllamaHost()}},
		})
		if err != nil {
			e.stop()
			return nil, err
		}
		e.stopWorker = stop
	}
	return e, nil
}

// stop shuts down worker, client and server, in that order.
func (e *embedded) stop() {
	if e.stopWorker != nil {
		e.stopWorker()
	}
	if e.client != nil {
		e.client.Close()
	}
	if e.srv != nil {
		_ = e.srv.Stop()
	}
}
