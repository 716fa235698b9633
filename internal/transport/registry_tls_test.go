package transport

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

// selfSigned is a certificate and its key, in PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func writeCertsDir(t *testing.T, root, registry string, files map[string][]byte) {
	t.Helper()
	dir := filepath.Join(root, registry)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// certs.d folders are read as Docker reads them: host:port, the bare
// host for port 443, the first directory that names the registry, and
// every file checked.
func TestRegistryTLSFromCertsDirs(t *testing.T) {
	cert, key := selfSigned(t)
	user, system := t.TempDir(), t.TempDir()
	writeCertsDir(t, user, "reg.example:5000", map[string][]byte{"ca.crt": cert, "client.cert": cert, "client.key": key})
	writeCertsDir(t, system, "reg.example:5000", map[string][]byte{"ca.crt": []byte("not a certificate")})
	writeCertsDir(t, system, "secure.example", map[string][]byte{"ca.crt": cert})
	writeCertsDir(t, system, "lonely.example:443", map[string][]byte{"client.key": key})
	writeCertsDir(t, system, "junk.example:443", map[string][]byte{"ca.crt": []byte("junk")})
	dirs := []string{user, system}

	cfg, err := registryTLS(dirs, "reg.example:5000")
	if err != nil || cfg == nil || len(cfg.Certificates) != 1 || cfg.ServerName != "reg.example" {
		t.Errorf("reg.example:5000: %+v, %v; want the first folder (one client certificate, ServerName reg.example)", cfg, err)
	}
	if cfg, err := registryTLS(dirs, "secure.example:443"); err != nil || cfg == nil {
		t.Errorf("secure.example:443: %v, %v; want the bare host's folder", cfg, err)
	}
	if cfg, err := registryTLS(dirs, "other.example:5000"); err != nil || cfg != nil {
		t.Errorf("a registry no folder names: %v, %v; want no settings", cfg, err)
	}
	if _, err := registryTLS(dirs, "lonely.example:443"); err == nil || !strings.Contains(err.Error(), "client.key has no matching client.cert") {
		t.Errorf("a key without its certificate: %v", err)
	}
	if _, err := registryTLS(dirs, "junk.example:443"); err == nil || !strings.Contains(err.Error(), "ca.crt holds no PEM certificate") {
		t.Errorf("a .crt that is no certificate: %v", err)
	}
}
