package worker

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSOptions configure TLS (and mTLS) to a Temporal frontend, as a cluster
// protected by mutual TLS requires. The zero value dials in plaintext, which
// is what the embedded dev server speaks.
type TLSOptions struct {
	// CAFile is a PEM bundle of the CAs that sign the server's certificate;
	// empty uses the system roots.
	CAFile string
	// CertFile and KeyFile are this client's PEM certificate and key (mTLS).
	CertFile, KeyFile string
	// ServerName overrides the name checked in the server's certificate.
	ServerName string
	// Enabled turns TLS on with none of the files (system roots, no client cert).
	Enabled bool
}

// Config builds the client TLS configuration; nil when TLS is off. A bad or
// unreadable file gives an error naming the flag.
func (o TLSOptions) Config() (*tls.Config, error) {
	if !o.Enabled && o.CAFile == "" && o.CertFile == "" && o.KeyFile == "" && o.ServerName == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("--tls-cert and --tls-key go together (the client certificate and its key)")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
