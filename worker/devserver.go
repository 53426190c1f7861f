package worker

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver the server's plugin uses too
)

// ServerConfig configures the embedded Temporal server, the same single-process
// setup as the Temporal CLI's `server start-dev`, persisted in a SQLite file.
type ServerConfig struct {
	// DBPath is the SQLite database file; created with the schema when missing.
	DBPath string
	// IP is the frontend's listen address; the default 127.0.0.1 keeps it off the network.
	IP string
	// Port is the frontend gRPC port; 0 picks a free port.
	Port int
	// Namespaces are created at every start (creation is idempotent).
	Namespaces []string
	// Retention is how long closed workflow histories are kept; 0 means 30 days.
	Retention time.Duration
	// LogFile receives the server's own logs; empty discards them.
	LogFile string
	// LogLevel is the server log level (debug, info, warn, error); empty means warn.
	LogLevel string
}

// DevServer is a running embedded Temporal server.
type DevServer struct {
	server  temporal.Server
	address string
	lock    *os.File
}

// SearchAttributes are the custom search attributes mlmforge registers in its
// namespaces, so runs can be listed by task, kind and dataset version.
var SearchAttributes = map[string]enumspb.IndexedValueType{
	"MlmTask":           enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"MlmKind":           enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"MlmDatasetVersion": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"MlmSpecHash":       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

// StartDevServer starts an embedded Temporal server and returns once its
// frontend accepts connections.
func StartDevServer(cfg ServerConfig) (*DevServer, error) {
	if cfg.IP == "" {
		cfg.IP = "127.0.0.1"
	}
	if len(cfg.Namespaces) == 0 {
		return nil, errors.New("embedded temporal: no namespace to create")
	}
	if cfg.Port == 0 {
		p, err := ReservePort(cfg.IP)
		if err != nil {
			return nil, err
		}
		cfg.Port = p
	} else if err := portAvailable(cfg.IP, cfg.Port); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DBPath), 0o755); err != nil {
		return nil, fmt.Errorf("embedded temporal: create database dir: %w", err)
	}
	address := net.JoinHostPort(cfg.IP, strconv.Itoa(cfg.Port))
	lock, err := lockDB(cfg.DBPath, address)
	if err != nil {
		return nil, err
	}
	if err := forgetDeadMembers(cfg.DBPath); err != nil {
		closeLock(lock)
		return nil, err
	}
	srv, err := newServer(cfg)
	if err != nil {
		closeLock(lock)
		return nil, err
	}
	if err := srv.Start(); err != nil {
		closeLock(lock)
		return nil, fmt.Errorf("embedded temporal: start: %w", err)
	}
	return &DevServer{server: srv, address: address, lock: lock}, nil
}

// forgetDeadMembers clears the ring membership left by an earlier process on
// this database. Without it a restarted server tries to join its dead former
// self and serves "Not enough hosts" for ~40 s; holding the database lock
// proves no live server is among those rows.
func forgetDeadMembers(dbPath string) error {
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("embedded temporal: open %s: %w", dbPath, err)
	}
	defer db.Close()
	if _, err := db.Exec("DELETE FROM cluster_membership"); err != nil {
		return fmt.Errorf("embedded temporal: reset cluster membership in %s: %w", dbPath, err)
	}
	return nil
}

func closeLock(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// newServer builds the server from the config (without starting it).
func newServer(cfg ServerConfig) (temporal.Server, error) {
	conf, err := buildConfig(cfg)
	if err != nil {
		return nil, err
	}
	logger, err := buildLogger(cfg)
	if err != nil {
		return nil, err
	}
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("embedded temporal: authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("embedded temporal: claim mapper: %w", err)
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// One process serves everything: poll quickly and keep limits generous.
			dynamicconfig.FrontendRPS.Key():                         10000,
			dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
			dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("embedded temporal: %w", err)
	}
	return srv, nil
}

// Address is the frontend's host:port for clients and workers.
func (s *DevServer) Address() string { return s.address }

// Stop shuts the server down, flushes its database and releases its lock.
func (s *DevServer) Stop() error {
	defer closeLock(s.lock)
	return s.server.Stop()
}

func buildConfig(cfg ServerConfig) (*config.Config, error) {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = "127.0.0.1"
	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1
	sqlConf, err := sqlConfig(cfg)
	if err != nil {
		return nil, err
	}
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}
	const clusterName = "active"
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)),
				ClusterID:              "mlmforge-embedded",
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		svc, err := serviceConfig(cfg, name == "frontend")
		if err != nil {
			return nil, err
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = net.JoinHostPort(cfg.IP, strconv.Itoa(cfg.Port))
	return &conf, nil
}

func sqlConfig(cfg ServerConfig) (*config.SQL, error) {
	conf := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: cfg.DBPath,
		// WAL lets readers run beside the single writer, so more than one
		// connection is safe; see the sqlite plugin's connection pool notes.
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal"},
		MaxConns:          4,
		MaxIdleConns:      4,
	}
	if _, err := os.Stat(cfg.DBPath); errors.Is(err, os.ErrNotExist) {
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("embedded temporal: set up schema in %s: %w", cfg.DBPath, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("embedded temporal: database %s: %w", cfg.DBPath, err)
	}
	retention := cfg.Retention
	if retention <= 0 {
		retention = 30 * 24 * time.Hour
	}
	var nss []*sqliteschema.NamespaceConfig
	for _, ns := range cfg.Namespaces {
		nc, err := sqliteschema.NewNamespaceConfig("active", ns, false, SearchAttributes)
		if err != nil {
			return nil, fmt.Errorf("embedded temporal: namespace %s: %w", ns, err)
		}
		nc.Detail.Config.Retention = durationpb.New(retention)
		nss = append(nss, nc)
	}
	if err := sqliteschema.CreateNamespaces(conf, nss...); err != nil {
		return nil, fmt.Errorf("embedded temporal: create namespaces in %s: %w", cfg.DBPath, err)
	}
	return conf, nil
}

func serviceConfig(cfg ServerConfig, frontend bool) (config.Service, error) {
	var svc config.Service
	if frontend {
		svc.RPC.GRPCPort = cfg.Port
		svc.RPC.BindOnIP = cfg.IP
	} else {
		p, err := ReservePort("127.0.0.1")
		if err != nil {
			return svc, err
		}
		svc.RPC.GRPCPort = p
		svc.RPC.BindOnLocalHost = true
	}
	p, err := ReservePort("127.0.0.1")
	if err != nil {
		return svc, err
	}
	svc.RPC.MembershipPort = p
	return svc, nil
}

func buildLogger(cfg ServerConfig) (log.Logger, error) {
	if cfg.LogFile == "" {
		return fatalEcho{Logger: log.NewNoopLogger(), w: os.Stderr}, nil
	}
	if err := os.MkdirAll(filepath.Dir(cfg.LogFile), 0o755); err != nil {
		return nil, fmt.Errorf("embedded temporal: log dir: %w", err)
	}
	level := cfg.LogLevel
	if level == "" {
		level = "warn"
	}
	return fatalEcho{Logger: log.NewZapLogger(log.BuildZapLogger(log.Config{Level: level, OutputFile: cfg.LogFile, Format: "json"})), w: os.Stderr}, nil
}

// portAvailable fails with a clear message when another process (often a
// second `mlmforge dev`) already listens on the port.
func portAvailable(ip string, port int) error {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (is another mlmforge dev or Temporal server running? pick another --port): %w", addr, err)
	}
	return l.Close()
}
