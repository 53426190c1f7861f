package worker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writePair writes a self-signed certificate and its key as PEM files.
func writePair(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "temporal.test"},
		DNSNames: []string{"temporal.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestTLSOptions (issue 14 item 4): the Temporal client's TLS flags build a
// configuration with the CA and the client certificate, the zero value
// stays plaintext, and bad files fail naming the flag.
func TestTLSOptions(t *testing.T) {
	dir := t.TempDir()
	cert, key := writePair(t, dir)
	if cfg, err := (TLSOptions{}).Config(); cfg != nil || err != nil {
		t.Fatalf("zero options: %v, %v; want plaintext", cfg, err)
	}
	if cfg, err := (TLSOptions{Enabled: true}).Config(); err != nil || cfg == nil || cfg.RootCAs != nil {
		t.Fatalf("--tls alone: %+v, %v; want TLS with the system roots", cfg, err)
	}
	cfg, err := TLSOptions{CAFile: cert, CertFile: cert, KeyFile: key, ServerName: "temporal.test"}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs == nil || len(cfg.Certificates) != 1 || cfg.ServerName != "temporal.test" {
		t.Fatalf("mTLS config %+v lacks the CA, the client certificate or the server name", cfg)
	}
	leaf, _ := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: cfg.RootCAs, DNSName: "temporal.test"}); err != nil {
		t.Fatalf("the CA pool does not verify the certificate: %v", err)
	}
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		opts TLSOptions
		want string
	}{
		{TLSOptions{CAFile: filepath.Join(dir, "missing.pem")}, "--tls-ca"},
		{TLSOptions{CAFile: notPEM}, "no PEM certificate"},
		{TLSOptions{CertFile: cert}, "--tls-cert and --tls-key go together"},
		{TLSOptions{CertFile: cert, KeyFile: notPEM}, "--tls-cert/--tls-key"},
	} {
		if _, err := tt.opts.Config(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err %v, want %q", tt.opts, err, tt.want)
		}
	}
}
