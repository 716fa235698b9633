package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// serverCert is a registry's HTTPS certificate for 127.0.0.1, issued by a
// CA of its own; with requireClient the registry also asks clients for a
// certificate from that CA.
type serverCert struct {
	certPEM, keyPEM, caPEM []byte
	roots                  *x509.CertPool
	requireClient          bool
	client                 ClientCert // a certificate the registry accepts
	clientTLS              tls.Certificate
}

// ClientCert is a client certificate and its key, in PEM.
type ClientCert struct {
	CertPEM, KeyPEM []byte
}

// tlsConfig is the registry configuration's lines under http: for HTTPS.
const tlsConfig = `  tls:
    certificate: %s
    key: %s
`

// clientCAsConfig follows tlsConfig when clients must show a certificate.
const clientCAsConfig = `    clientcas:
      - %s
`

// write puts the certificate and key into dir and returns the lines of
// the configuration that use them.
func (c *serverCert) write(dir string) (string, error) {
	certPath, keyPath, caPath := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"), filepath.Join(dir, "ca.crt")
	for path, data := range map[string][]byte{certPath: c.certPEM, keyPath: c.keyPEM, caPath: c.caPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return "", err
		}
	}
	section := fmt.Sprintf(tlsConfig, certPath, keyPath)
	if c.requireClient {
		section += fmt.Sprintf(clientCAsConfig, caPath)
	}
	return section, nil
}

// issue makes a certificate signed by ca for tmpl, and its key, in PEM.
func issue(tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// newServerCert makes a CA, a server certificate it signs for 127.0.0.1
// and a client certificate it signs.
func newServerCert() (*serverCert, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jbuild test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	c := &serverCert{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), roots: x509.NewCertPool()}
	c.roots.AddCert(ca)
	c.certPEM, c.keyPEM, err = issue(&x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}, ca, caKey)
	if err != nil {
		return nil, err
	}
	c.client.CertPEM, c.client.KeyPEM, err = issue(&x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "jbuild test client"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, caKey)
	if err != nil {
		return nil, err
	}
	if c.clientTLS, err = tls.X509KeyPair(c.client.CertPEM, c.client.KeyPEM); err != nil {
		return nil, err
	}
	return c, nil
}

// clientConfig is a TLS configuration that trusts the registry and shows
// the client certificate.
func (c *serverCert) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: c.roots, Certificates: []tls.Certificate{c.clientTLS}}
}

// TLSRegistryInfo is what a client needs to reach a TLS registry.
type TLSRegistryInfo struct {
	Addr string
	// CAPEM is the CA that signed the registry's certificate.
	CAPEM []byte
	// Client is a client certificate the registry accepts (it asks for
	// one when started with requireClient).
	Client ClientCert
	// Config trusts the registry and shows Client.
	Config *tls.Config
}

// StartTLSRegistry starts a registry that serves HTTPS only, with a
// certificate for 127.0.0.1 from a CA of its own, as on-premises
// registries with a private CA do; with requireClient it also asks clients
// for a certificate from that CA (mutual TLS).
func StartTLSRegistry(requireClient bool) (TLSRegistryInfo, func(), error) {
	bin, err := registryBinary()
	if err != nil {
		return TLSRegistryInfo{}, nil, err
	}
	cert, err := newServerCert()
	if err != nil {
		return TLSRegistryInfo{}, nil, fmt.Errorf("starting registry: making its certificate: %w", err)
	}
	cert.requireClient = requireClient
	addr, stop, err := startRegistry(bin, serverOptions{tls: cert})
	if err != nil {
		return TLSRegistryInfo{}, nil, err
	}
	return TLSRegistryInfo{Addr: addr, CAPEM: cert.caPEM, Client: cert.client, Config: cert.clientConfig()}, stop, nil
}
